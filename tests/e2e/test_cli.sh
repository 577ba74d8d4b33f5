#!/usr/bin/env bash
# CLI conventions across every command: --help prints usage on stdout and exits 0,
# a bare group or a missing argument is a usage error (exit 2, message on stderr,
# nothing on stdout), and every command and subcommand is documented in docs/cli.md.
# The commands are read from the binary's --help, so new ones are checked too.
source "$(dirname "$0")/lib.sh"

cd "$E2E_TMP" || exit 1
run "$TANDEM" --version
expect_rc "--version" 0
expect_out "--version text" "tandem "

# Every command and subcommand the binary has, from its own --help texts (the
# commands after "Commands:", the subcommands from each command's usage lines
# "tandem CMD SUB"), so a new command is covered without editing this list.
COMMANDS=$("$TANDEM" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
subcommands() { # CMD: the distinct SUB of its usage lines, in order
  "$TANDEM" "$1" --help 2>/dev/null | sed -n "s/^\(usage:\)\{0,1\} *tandem $1 \([a-z][a-z-]*\).*/\2/p" | awk '!seen[$0]++'
}
HELP_CMDS=("")
CMD_GROUPS=()
for c in $COMMANDS; do
  HELP_CMDS+=("$c")
  subs=$(subcommands "$c")
  [ -n "$subs" ] && CMD_GROUPS+=("$c")
  for s in $subs; do HELP_CMDS+=("$c $s"); done
done
# The derivation must find at least the commands of issue 8 (a broken parse would
# otherwise check nothing).
for c in init programs "programs list" "programs show" "programs check" import "import people" \
  "import enrollments" people "people list" "people show" "people export" "people erase" gen-org \
  solve plugins "plugins list" "plugins check" "plugins new" match "match run" "match list" \
  "match export" "match approve" "match reject" "match pin" "match veto" "match explain" \
  "match compare" "match unmatched" help; do
  found=0
  for h in "${HELP_CMDS[@]}"; do [ "$h" = "$c" ] && found=1; done
  [ "$found" = 1 ] && ok "derived: $c" || fail "derived: $c" "not found in --help texts"
done
for c in "${HELP_CMDS[@]}"; do
  # shellcheck disable=SC2086
  run "$TANDEM" $c --help
  expect_rc "'$c --help' exit" 0
  if grep -qi "usage" "$OUT"; then ok "'$c --help' usage"; else fail "'$c --help' usage" "$(head -c 200 "$OUT")"; fi
  [ -s "$ERR" ] && fail "'$c --help' stderr" "$(head -c 200 "$ERR")" || ok "'$c --help' stderr"
done

# A group of subcommands run bare is a usage error, whichever group.
for g in "${CMD_GROUPS[@]}"; do
  run "$TANDEM" "$g"
  expect_rc "'$g' bare usage error" 2
  [ -s "$OUT" ] && fail "'$g' bare stdout" "$(head -c 200 "$OUT")" || ok "'$g' bare stdout empty"
done

USAGE_CMDS=("programs" "import" "import people" "people" "people show" "gen-org" "solve"
  "plugins" "plugins check" "match" "match run" "match approve" "match pin" "bogus-command")
for c in "${USAGE_CMDS[@]}"; do
  # shellcheck disable=SC2086
  run "$TANDEM" $c
  expect_rc "'$c' usage error" 2
  [ -s "$OUT" ] && fail "'$c' stdout" "$(head -c 200 "$OUT")" || ok "'$c' stdout empty"
  [ -s "$ERR" ] && ok "'$c' stderr" || fail "'$c' stderr" "empty"
done

# docs/cli.md: a section for every command, and every subcommand mentioned as
# "tandem CMD SUB" (tandem help is the --help text itself).
DOC=$TANDEM_SRCDIR/docs/cli.md
for c in $COMMANDS; do
  [ "$c" = help ] && continue
  if grep -q "^## .*tandem $c\( \|\$\)" "$DOC"; then ok "docs: $c"; else fail "docs: $c" "no heading in docs/cli.md"; fi
done
for h in "${HELP_CMDS[@]}"; do
  case $h in *" "*) ;; *) continue ;; esac
  if grep -q "tandem $h\( \|\$\|\`\)" "$DOC"; then ok "docs mention: $h"; else fail "docs mention: $h" "'tandem $h' not in docs/cli.md"; fi
done
# ... and every option a --help text lists is named in docs/cli.md.
for h in "${HELP_CMDS[@]}"; do
  # shellcheck disable=SC2086
  for o in $("$TANDEM" $h --help | grep -oE -- '(^|[^a-zA-Z0-9-])--[a-z][a-z-]*' | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    if grep -qF -- "$o" "$DOC"; then ok "docs option: $h $o"; else fail "docs option: ${h:-tandem} $o" "not in docs/cli.md"; fi
  done
done
for g in init programs "import people" "import enrollments" people gen-org solve plugins match; do
  if grep -q "^## .*tandem $g" "$DOC"; then ok "docs: $g"; else fail "docs: $g" "no heading in docs/cli.md"; fi
done
# An unknown --program: every command names the declared programs (walk3 #13), and a
# program the database keeps but tandem.lua no longer declares stays readable.
WS=$(new_ws) || exit 1
for cmd in "sessions list" "metrics" "events" "calendar export" "rewards list" "rewards leaderboard" \
  "match list" "health"; do
  # shellcheck disable=SC2086 # the command is words
  run "$TANDEM" -C "$WS" $cmd --program nope
  expect_rc "unknown program: $cmd" 1
  expect_err "unknown program msg: $cmd" "tandem.lua: no program named 'nope' (declared: digital-2027)"
done
sed -i 's/name = "digital-2027"/name = "digital-2028"/' "$WS/tandem.lua"
run "$TANDEM" -C "$WS" sessions list --program digital-2027
expect_rc "removed program still listed" 0
run "$TANDEM" -C "$WS" events --program digital-2027
expect_rc "removed program events" 0
finish
