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

finish
