# Shared helpers for the end-to-end tests (sourced by tests/e2e/test_*.sh).
# Each test file runs the built binary ($TANDEM) in temporary workspaces and
# ends with a "N passed, N failed" line; it exits non-zero if anything failed.
set -uo pipefail

: "${TANDEM:?TANDEM must point to the built tandem binary}"
: "${TANDEM_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
E2E_PASS=0
E2E_FAIL=0
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tandem-e2e.XXXXXX")
trap 'rm -rf "$E2E_TMP"' EXIT

# ok NAME: record a pass. fail NAME WHY: record a failure.
ok() { E2E_PASS=$((E2E_PASS + 1)); }
fail() { E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL: $1: ${2:-}" >&2; }

# run CMD...: runs with stdout/stderr captured into $OUT / $ERR and exit code in $RC.
run() {
  OUT="$E2E_TMP/out"; ERR="$E2E_TMP/err"
  "$@" >"$OUT" 2>"$ERR"
  RC=$?
}

# expect_rc NAME WANT: checks $RC.
expect_rc() {
  if [ "$RC" -eq "$2" ]; then ok "$1"; else fail "$1" "exit $RC, want $2; stderr: $(head -c 600 "$ERR")"; fi
}

# expect_err NAME TEXT: stderr contains TEXT (fixed string).
expect_err() {
  if grep -qF -- "$2" "$ERR"; then ok "$1"; else fail "$1" "stderr lacks '$2': $(head -c 600 "$ERR")"; fi
}

# expect_out NAME TEXT: stdout contains TEXT (fixed string).
expect_out() {
  if grep -qF -- "$2" "$OUT"; then ok "$1"; else fail "$1" "stdout lacks '$2': $(head -c 600 "$OUT")"; fi
}

# new_ws: creates a fresh workspace with `tandem init` and prints its path.
new_ws() {
  local d; d=$(mktemp -d "$E2E_TMP/ws.XXXXXX")
  "$TANDEM" init "$d" >/dev/null 2>"$E2E_TMP/init.err" || { cat "$E2E_TMP/init.err" >&2; return 1; }
  echo "$d"
}

# seed_pairs WS PROGRAM PEOPLE SEED: fills workspace WS with active pairs of PROGRAM (whose
# tandem.lua dates must have started): gen-org with a survey, import people and enrollments,
# match run, approve all, activate. Records one check per step; stops at the first failure.
seed_pairs() {
  local ws=$1 p=$2 step
  run "$TANDEM" gen-org --people "$3" --seed "$4" --out "$ws/people.csv" --survey "$p" \
    --survey-out "$ws/survey.csv"
  for step in "import people people.csv" "import enrollments survey.csv --program $p" \
    "match run --program $p" "match approve --all --program $p" "match activate --program $p"; do
    [ "$RC" -eq 0 ] || { fail "seed: before $step" "exit $RC: $(head -c 400 "$ERR")"; return 1; }
    # shellcheck disable=SC2086 # the step is words
    run "$TANDEM" -C "$ws" $step
  done
  expect_rc "seed: activate" 0
}

# db_digest WS: a digest of the database's logical content (schema and rows).
db_digest() { sqlite3 "$1/tandem.db" .dump | sha256sum | cut -d' ' -f1; }

# jget FILE EXPR: a value of the JSON document in FILE, EXPR in Python over `d`.
jget() { "${PY:-/usr/bin/python3}" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# wait_for FILE TEXT [SECONDS]: waits until FILE contains TEXT (fixed string); 1 after SECONDS (10).
wait_for() {
  local i
  for ((i = 0; i < ${3:-10} * 20; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# finish: prints the summary line and sets the exit status.
finish() {
  echo "$E2E_PASS passed, $E2E_FAIL failed"
  [ "$E2E_FAIL" -eq 0 ]
}
