#!/usr/bin/env bash
# CLI conventions across every command: --help prints usage on stdout and exits 0,
# a bare group or a missing argument is a usage error (exit 2, message on stderr,
# nothing on stdout), and every command is documented in docs/cli.md.
source "$(dirname "$0")/lib.sh"

cd "$E2E_TMP" || exit 1
run "$TANDEM" --version
expect_rc "--version" 0
expect_out "--version text" "tandem "

HELP_CMDS=("" "init" "programs" "programs list" "programs show" "import" "import people"
  "import enrollments" "people" "people list" "people show" "people export" "people erase"
  "gen-org" "solve" "plugins" "plugins list" "plugins check" "match" "match run" "match list"
  "match approve" "match reject" "match pin" "match veto" "match explain" "match compare")
for c in "${HELP_CMDS[@]}"; do
  # shellcheck disable=SC2086
  run "$TANDEM" $c --help
  expect_rc "'$c --help' exit" 0
  if grep -qi "usage" "$OUT"; then ok "'$c --help' usage"; else fail "'$c --help' usage" "$(head -c 200 "$OUT")"; fi
  [ -s "$ERR" ] && fail "'$c --help' stderr" "$(head -c 200 "$ERR")" || ok "'$c --help' stderr"
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

for g in init programs "import people" "import enrollments" people gen-org solve plugins match; do
  if grep -q "^## .*tandem $g" "$TANDEM_SRCDIR/docs/cli.md"; then ok "docs: $g"; else fail "docs: $g" "no heading in docs/cli.md"; fi
done
finish
