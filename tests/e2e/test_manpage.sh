#!/usr/bin/env bash
# What a command-line user expects around the commands themselves: `tandem help
# [COMMAND [SUB]]` prints the same text as --help; gen-org says what it wrote;
# --db used from another folder names the path and what is missing (not a bare
# "run tandem init"); the man page lists every command and option --help lists and
# renders without warnings; bash completion completes commands, subcommands,
# options, program names and plugin names.
source "$(dirname "$0")/lib.sh"

cd "$E2E_TMP" || exit 1
T=$TANDEM

# --- tandem help ----------------------------------------------------------------
run "$T" help
expect_rc help 0
"$T" --help >"$E2E_TMP/main.help"
cmp -s "$OUT" "$E2E_TMP/main.help" && ok help-same-as-dash-help || fail help-same-as-dash-help "differs"
expect_out help-lists-help "help       print this help"
[ -s "$ERR" ] && fail help-stderr "$(head -c 200 "$ERR")" || ok help-stderr
for c in init programs "programs show" import "import people" people gen-org solve plugins \
  "plugins check" match "match run" "match explain"; do
  # shellcheck disable=SC2086
  run "$T" help $c
  expect_rc "help $c" 0
  # shellcheck disable=SC2086
  "$T" $c --help >"$E2E_TMP/cmd.help"
  cmp -s "$OUT" "$E2E_TMP/cmd.help" && ok "help $c same" || fail "help $c same" "differs from '$c --help'"
done
run "$T" help bogus
expect_rc help-unknown 2
expect_err help-unknown-msg "tandem help: unknown command 'bogus'"
[ -s "$OUT" ] && fail help-unknown-stdout "$(head -c 200 "$OUT")" || ok help-unknown-stdout
# -C and --db before help are accepted and ignored, as for --help
run "$T" -C "$E2E_TMP/nowhere" help people
expect_rc help-with-C 0

# --- gen-org says what it wrote (stderr; stdout stays empty) -----------------------
run "$T" gen-org --people 40 --seed 2 --out "$E2E_TMP/p.csv"
expect_rc genorg-out 0
[ -s "$OUT" ] && fail genorg-out-stdout "$(head -c 200 "$OUT")" || ok genorg-out-stdout
expect_err genorg-summary "gen-org: 40 people to $E2E_TMP/p.csv (seed 2)"
run "$T" gen-org --people 40 --out "$E2E_TMP/p2.csv" --survey pilot --survey-out "$E2E_TMP/s2.csv"
expect_rc genorg-survey 0
rows=$(($(wc -l <"$E2E_TMP/s2.csv") - 1))
expect_err genorg-survey-summary \
  "gen-org: 40 people to $E2E_TMP/p2.csv, survey of program 'pilot': $rows rows to $E2E_TMP/s2.csv (seed 1)"
run "$T" gen-org --people 5
[ -s "$ERR" ] && fail genorg-stdout-quiet "$(head -c 200 "$ERR")" || ok genorg-stdout-quiet
run "$T" gen-org --people 5 --out "$E2E_TMP/no/such/x.csv"
expect_rc genorg-fail 1
grep -q "people to" "$ERR" && fail genorg-no-summary-on-failure "$(cat "$ERR")" || ok genorg-no-summary-on-failure

# --- --db from another folder ---------------------------------------------------
WS=$(new_ws)
mkdir -p "$E2E_TMP/elsewhere" && cd "$E2E_TMP/elsewhere" || exit 1
run "$T" --db "$WS/tandem.db" programs list
expect_rc db-elsewhere 1
expect_err db-elsewhere-msg "--db $WS/tandem.db names only the database"
grep -q "run 'tandem init" "$ERR" && fail db-elsewhere-no-init "$(cat "$ERR")" || ok db-elsewhere-no-init
run "$T" --db "$WS/tandem.db" match list --program pilot
expect_rc db-elsewhere-match 1
expect_err db-elsewhere-match-msg "names only the database"
run "$T" --db "$E2E_TMP/none.db" people list
expect_rc db-missing 1
expect_err db-missing-msg "no database at $E2E_TMP/none.db (no such file)"
grep -q "run 'tandem init" "$ERR" && fail db-missing-no-init "$(cat "$ERR")" || ok db-missing-no-init
# with -C the config is found and --db still works
run "$T" -C "$WS" --db "$WS/tandem.db" programs list
expect_rc db-with-C 0
# without --db, a folder without workspace still says to run init
run "$T" programs list
expect_rc no-ws 1
expect_err no-ws-msg "run 'tandem init ."
cd "$E2E_TMP" || exit 1

# --- the man page ---------------------------------------------------------------
# Built next to the binary (target tandem_man); generated here when it is not.
PAGE=$(dirname "$TANDEM")/tandem.1
if [ ! -s "$PAGE" ]; then
  PAGE=$E2E_TMP/tandem.1
  bash "$TANDEM_SRCDIR/scripts/gen-manpage.sh" "$T" "$PAGE"
fi
[ -s "$PAGE" ] && ok man-exists || fail man-exists "no $PAGE"
grep -q '^\.TH TANDEM 1 ' "$PAGE" && ok man-th || fail man-th "no .TH line"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" FILES ENVIRONMENT EXAMPLES "SEE ALSO"; do
  grep -q "^\.SH \"\{0,1\}$s\"\{0,1\}\$" "$PAGE" && ok "man section $s" || fail "man section $s" "missing"
done
# Rendered as a reader sees it (wide, so no option is split), and checked for warnings.
TEXT=$E2E_TMP/man.txt
if command -v groff >/dev/null; then
  groff -man -Tascii -P-cbou -rLL=250n -ww "$PAGE" >"$TEXT" 2>"$E2E_TMP/groff.err"
  [ -s "$E2E_TMP/groff.err" ] && fail man-groff-warnings "$(head -c 600 "$E2E_TMP/groff.err")" || ok man-groff-warnings
  groff -man -Tutf8 -ww -z "$PAGE" 2>"$E2E_TMP/groff80.err"
  [ -s "$E2E_TMP/groff80.err" ] && fail man-groff-80-warnings "$(head -c 600 "$E2E_TMP/groff80.err")" || ok man-groff-80-warnings
  if command -v man >/dev/null; then
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$PAGE" >/dev/null 2>"$E2E_TMP/man.err"
    [ -s "$E2E_TMP/man.err" ] && fail man-warnings "$(head -c 600 "$E2E_TMP/man.err")" || ok man-warnings
  fi
elif command -v mandoc >/dev/null; then
  mandoc -Tascii -W warning "$PAGE" 2>"$E2E_TMP/mandoc.err" | col -b >"$TEXT"
  [ -s "$E2E_TMP/mandoc.err" ] && fail man-mandoc-warnings "$(head -c 600 "$E2E_TMP/mandoc.err")" || ok man-mandoc-warnings
else
  # No formatter: every request is one the page is meant to use, no-fill blocks are
  # balanced, and the text is the roff with its escapes undone.
  bad=$(grep -n '^\.' "$PAGE" | grep -vE '^[0-9]+:\.(TH|SH|SS|PP|TP|RS|RE|nf|fi|B|I|BR|IR)( |$)')
  [ -z "$bad" ] && ok man-requests || fail man-requests "$bad"
  [ "$(grep -c '^\.nf' "$PAGE")" -eq "$(grep -c '^\.fi' "$PAGE")" ] && ok man-nf-fi || fail man-nf-fi "unbalanced"
  sed -e '/^\./d' -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' "$PAGE" >"$TEXT"
fi
# Every command, subcommand and option that --help lists is in the page.
cmds=$("$T" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$cmds" ] && ok man-commands-found || fail man-commands-found "no commands in --help"
missing=""
check_opts() { # HELP-TEXT WHERE
  local o
  for o in $(grep -oE -- '(^|[^a-zA-Z0-9-])--?[a-zA-Z][a-z-]*' <<<"$1" | grep -oE -- '--?[a-zA-Z][a-z-]*' | sort -u); do
    grep -qF -- "$o" "$TEXT" || missing="$missing $2:$o"
  done
}
check_opts "$("$T" --help)" tandem
for c in $cmds; do
  grep -qE "tandem $c( |\$)" "$TEXT" || missing="$missing command:$c"
  [ "$c" = help ] && continue
  h=$("$T" "$c" --help)
  check_opts "$h" "$c"
  for s in $(sed -n "s/^\(usage:\)\{0,1\} *tandem $c \([a-z][a-z-]*\).*/\2/p" <<<"$h" | sort -u); do
    grep -qE "tandem $c $s( |\$)" "$TEXT" || missing="$missing command:$c-$s"
    check_opts "$("$T" "$c" "$s" --help)" "$c-$s"
  done
done
[ -z "$missing" ] && ok man-lists-everything || fail man-lists-everything "not in the man page:$missing"
# The commands and options of issue 8 by name (the derivation above must not find less).
for w in "tandem match export --program P --format csv|json" "tandem match unmatched --program P" \
  "--policy A --policy B [--policy C ...]" "--run RUN | --all --program P" "[--status S] [--out FILE]" \
  "tandem plugins new KIND NAME" "tandem programs check" "[--dry-run] [--explain] [--replace]"; do
  grep -qF -- "$w" "$TEXT" && ok "man has: $w" || fail "man has: $w" "missing"
done
# The page follows the binary: generating it again gives the same bytes.
bash "$TANDEM_SRCDIR/scripts/gen-manpage.sh" "$T" "$E2E_TMP/again.1"
cmp -s "$PAGE" "$E2E_TMP/again.1" && ok man-up-to-date || fail man-up-to-date "differs from a fresh generation"

# --- bash completion --------------------------------------------------------------
COMPL=$TANDEM_SRCDIR/scripts/completion/tandem.bash
WS2=$(new_ws)
cat >"$E2E_TMP/compl.sh" <<'SH'
set -u  # completion must also work in a shell with nounset
source "$COMPL"
c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _tandem; echo "${COMPREPLY[*]}"; }
echo "cmds|$(c tandem '')"
echo "global|$(c tandem -)"
echo "prefix|$(c tandem ma)"
echo "match-subs|$(c tandem match '')"
echo "people-subs|$(c tandem people '')"
echo "run-opts|$(c tandem match run --)"
echo "list-opts|$(c tandem match list --)"
echo "import-opts|$(c tandem import people --)"
echo "genorg-opts|$(c tandem gen-org --s)"
echo "programs|$(cd "$WS2" && c tandem match run --program '')"
echo "programs-C|$(c tandem -C "$WS2" match list --program d)"
echo "programs-none|$(cd "$E2E_TMP/elsewhere" && c tandem match run --program '')"
echo "show|$(c tandem -C "$WS2" programs show '')"
echo "policies|$(c tandem -C "$WS2" match run --policy '')"
echo "policy-ws|$(c tandem -C "$WS2" match run --policy m)"
echo "kinds|$(c tandem plugins list --kind c)"
echo "new-kind|$(c tandem plugins new '')"
echo "help|$(c tandem help pe)"
echo "help-sub|$(c tandem help plugins '')"
echo "dir|$(cd "$E2E_TMP" && c tandem -C elsew)"
echo "programs-subs|$(c tandem programs '')"
echo "plugins-subs|$(c tandem plugins '')"
echo "approve-opts|$(c tandem match approve --)"
echo "export-opts|$(c tandem match export --)"
echo "compare-opts|$(c tandem match compare --)"
echo "compare-policy|$(c tandem -C "$WS2" match compare --policy reciprocal --policy m)"
echo "unmatched-opts|$(c tandem match unmatched --)"
SH
mkdir -p "$WS2/policies"
cp "$TANDEM_SRCDIR/policies/reciprocal.lua" "$WS2/policies/mine.lua"
sed -i 's/name *= *"reciprocal"/name = "mine"/' "$WS2/policies/mine.lua"
export COMPL WS2 E2E_TMP
PATH=$(dirname "$T"):$PATH bash "$E2E_TMP/compl.sh" >"$E2E_TMP/compl.out" 2>"$E2E_TMP/compl.err"
[ -s "$E2E_TMP/compl.err" ] && fail compl-stderr "$(head -c 600 "$E2E_TMP/compl.err")" || ok compl-stderr
got() { sed -n "s/^$1|//p" "$E2E_TMP/compl.out"; }
want() { # NAME EXPECTED (exact, space separated)
  local g; g=$(got "$1")
  [ "$g" = "$2" ] && ok "compl $1" || fail "compl $1" "got '$g', want '$2'"
}
has() { # NAME WORD...: each WORD is among the completions
  local n=$1 g w; g=" $(got "$1") "; shift
  for w in "$@"; do
    [[ $g == *" $w "* ]] || { fail "compl $n" "'$w' missing from '$g'"; return; }
  done
  ok "compl $n"
}
want cmds "$(echo $cmds)"
want global "-C --db --version --help"
want prefix "match"
has match-subs run list export approve reject pin veto explain compare unmatched
has programs-subs list show check
has plugins-subs list check new
has approve-opts --run --all --program --json
has export-opts --program --format --status --out
has compare-opts --program --policy --json
want compare-policy "mine"
has unmatched-opts --program --policy --json
has people-subs list show export erase
has run-opts --program --policy --dry-run --replace --json --help
g=" $(got list-opts) "; [[ $g == *" --status "* && $g != *" --explain "* ]] && ok compl-list-own-options || fail compl-list-own-options "$g"
has import-opts --dry-run --map --help
want genorg-opts "--seed --survey --survey-out --survey-size"
want programs "digital-2027"
want programs-C "digital-2027"
want programs-none ""
want show "digital-2027"
has policies digital_upskilling reciprocal cross_department inclusion_listening mine
want policy-ws "mine"
want kinds "cadence"
want new-kind "policy cadence reward report job"
want help "people"
has help-sub list check
want dir "elsewhere"

# --- make install puts both where man and bash-completion look --------------------
BUILD=$(dirname "$TANDEM")
if [ -f "$BUILD/cmake_install.cmake" ]; then
  run cmake --install "$BUILD" --prefix "$E2E_TMP/prefix"
  expect_rc install 0
  [ -s "$E2E_TMP/prefix/share/man/man1/tandem.1" ] && ok man-installed || fail man-installed "missing"
  [ -s "$E2E_TMP/prefix/share/bash-completion/completions/tandem" ] && ok completion-installed \
    || fail completion-installed "missing"
  if command -v man >/dev/null; then
    got=$(MANPATH="$E2E_TMP/prefix/share/man" man -w tandem 2>/dev/null)
    [ "$got" = "$E2E_TMP/prefix/share/man/man1/tandem.1" ] && ok man-finds-it || fail man-finds-it "man -w: '$got'"
  fi
fi

finish
