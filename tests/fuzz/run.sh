#!/usr/bin/env bash
# Runs the libFuzzer harnesses built in BUILD (make fuzz): each for SECONDS, one after the
# other, on a working copy of its seed corpus, and prints one summary line per harness.
#
#   tests/fuzz/run.sh BUILD SECONDS [TARGET...]      (default: every BUILD/fuzz_* harness)
#
# For a harness fuzz_T:
#   seeds          tests/fuzz/corpus/T/ (copied into the working corpus, never written)
#   dictionary     tests/fuzz/T.dict, when there is one
#   working corpus BUILD/corpus/T/ (kept between runs, so a later run starts where the last
#                  one stopped)
#   log            BUILD/fuzz-logs/T.log
#   findings       BUILD/crashes/T/ (crash-*, leak-*, timeout-*, oom-*: the input that failed)
# Exits 1 when any harness failed, after running all of them.
#
# Environment: FUZZ_RSS_MB (default 2048), FUZZ_TIMEOUT (seconds one input may take; 25),
# FUZZ_ARGS (more libFuzzer flags).
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD SECONDS [TARGET...]" >&2
  exit 2
fi
BUILD=$1
SECONDS_EACH=$2
shift 2
SRC=$(cd "$(dirname "$0")" && pwd)
RSS=${FUZZ_RSS_MB:-2048}
TIMEOUT=${FUZZ_TIMEOUT:-25}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for exe in "$BUILD"/fuzz_*; do
    [ -x "$exe" ] && [ -f "$exe" ] && targets+=("${exe##*/fuzz_}")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no harnesses in $BUILD (configure with -DTANDEM_FUZZ=ON and CC=clang)" >&2
  exit 2
fi

failed=0
for t in "${targets[@]}"; do
  exe="$BUILD/fuzz_$t"
  if [ ! -x "$exe" ]; then
    echo "fuzz $t: no harness $exe" >&2
    failed=1
    continue
  fi
  corpus="$BUILD/corpus/$t"
  crashes="$BUILD/crashes/$t"
  log="$BUILD/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  if [ -d "$SRC/corpus/$t" ]; then
    cp -n "$SRC/corpus/$t"/* "$corpus"/ 2>/dev/null || true
  fi
  dict=()
  [ -f "$SRC/$t.dict" ] && dict=("-dict=$SRC/$t.dict")
  before=$(ls "$crashes" | wc -l)
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  "$exe" -max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS" -timeout="$TIMEOUT" \
    -artifact_prefix="$crashes/" -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} \
    "$corpus" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  line="fuzz $t: ${runs:-?} runs in ${SECONDS_EACH} s, coverage ${cov:-?} edges, ${ft:-?} features, corpus ${corp:-?}"
  after=$(ls "$crashes" | wc -l)
  if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
    echo "$line: ok"
  else
    failed=1
    echo "$line: FAILED (exit $rc), log $log"
    grep -m1 -E '^(SUMMARY|==[0-9]+== ?ERROR)' "$log" | sed 's/^/    /'
    grep -E 'invariant failed' "$log" | head -3 | sed 's/^/    /'
    sed -n 's/.*Test unit written to \(.*\)/    input: \1/p' "$log"
  fi
done
exit $failed
