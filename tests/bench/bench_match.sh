#!/usr/bin/env bash
# bench_match: tandem's matching solvers against scipy on the same matrices.
#
#   bash tests/bench/bench_match.sh BUILD_DIR        (make bench runs it through run.sh)
#   BENCH_QUICK=1 ...                                 only the cases with n <= 2000
#   BENCH_CASES="sparse-50k-21 stable-2000" ...       only these (names: scipy_ref.py list)
#
# For each case, tests/bench/scipy_ref.py (run with /usr/bin/python3, which has
# numpy and scipy) generates the matrices with numpy.random.default_rng(20240501)
# as /work/shared/reference/matching-baseline.md describes and writes them as .npy
# files; it then times scipy's solver on them (median of 3, solver call only).
# BUILD_DIR/bench_match times tandem's solver on the same files (median of 3,
# solver call only; the matrix is mapped, not copied). Peak RSS of each process
# comes from /usr/bin/time -f %M (or the driver's getrusage without GNU time).
# Totals must agree exactly for integer scores and to 1e-9 (relative) for floats.
# Prints a Markdown table: case, scipy and tandem medians, ratio tandem/scipy,
# target, peak RSS of each, totals equal.
#
# Without scipy it says so and times tandem alone (on numpy-generated matrices if
# numpy is there, else on uniform matrices written by bench_match gen).
set -uo pipefail

BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
DRV=$BUILD/bench_match
PY=/usr/bin/python3
REF=$here/scipy_ref.py
if [ ! -x "$DRV" ]; then
  echo "bench_match: $DRV not built (cmake --build $BUILD --target bench_match)" >&2
  exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_match.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

HAVE_NUMPY=0 HAVE_SCIPY=0
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then HAVE_NUMPY=1; fi
if [ $HAVE_NUMPY = 1 ] && "$PY" -c 'import scipy.optimize, scipy.sparse.csgraph' 2>/dev/null; then HAVE_SCIPY=1; fi
GNU_TIME=""
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true 2>/dev/null; then GNU_TIME=/usr/bin/time; fi

if [ -n "${BENCH_CASES:-}" ]; then
  CASES=$BENCH_CASES
elif [ "${BENCH_QUICK:-0}" = 1 ]; then
  CASES="uniform-1000 uniform-1000-max uniform-2000 uniform-2000-max stable-2000"
else
  CASES="uniform-1000 uniform-1000-max uniform-2000 uniform-2000-max uniform-4000 uniform-4000-max
         uniform-8000 uniform-8000-max tall-8000x2000 wide-2000x8000 survey-4000 capacity-4000x1000-k4
         sparse-50k-21 sparse-50k-51 stable-2000"
fi

# tandem_args CASE DIR: the driver's command line for CASE.
tandem_args() {
  local c=$1 d=$2
  case $c in
    uniform-*-max) echo "dense $d/m.npy --maximize" ;;
    uniform-* | tall-* | wide-*) echo "dense $d/m.npy" ;;
    survey-*) echo "dense $d/m.npy --maximize" ;;
    capacity-*) echo "dense $d/m.npy --maximize --capacity 4" ;;
    sparse-*) echo "sparse $d/row_ptr.npy $d/cols.npy $d/scores.npy" ;;
    stable-*) echo "stable $d/rows.npy $d/cols.npy" ;;
  esac
}

target_of() {
  case $1 in
    sparse-*) echo "<= 1.0x" ;;
    stable-*) echo "< 0.020 s" ;;
    *) echo "<= 0.5x" ;;
  esac
}

# field NAME LINE: the value of NAME=... in LINE.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -n1; }

# timed OUTFILE CMD...: runs CMD with stdout in OUTFILE; prints the peak RSS in MiB
# (empty without GNU time).
timed() {
  local out=$1; shift
  if [ -n "$GNU_TIME" ]; then
    "$GNU_TIME" -f %M -o "$TMP/rss" "$@" >"$out" || return 1
    awk '{printf "%.1f", $1 / 1024}' "$TMP/rss"
  else
    "$@" >"$out" || return 1
  fi
}

# gen_case CASE DIR: writes the case's matrices.
gen_case() {
  if [ $HAVE_NUMPY = 1 ]; then
    "$PY" "$REF" gen "$1" "$2"
    return
  fi
  local n
  case $1 in
    uniform-*) n=${1#uniform-}; n=${n%-max}; "$DRV" gen "$n" "$n" 20240501 "$2/m.npy" ;;
    stable-*) "$DRV" gen 2000 2000 1 "$2/rows.npy" && "$DRV" gen 2000 2000 2 "$2/cols.npy" ;;
    *) return 2 ;;
  esac
}

if [ $HAVE_SCIPY = 0 ]; then
  echo "bench_match: scipy is not available for $PY: skipping the comparison, timing tandem alone"
fi
echo
echo "| case | scipy median s | tandem median s | ratio | target | scipy RSS MiB | tandem RSS MiB | totals equal |"
echo "|---|---|---|---|---|---|---|---|"
met=0 missed=0 failed=0
for c in $CASES; do
  d=$TMP/$c
  mkdir -p "$d"
  if ! gen_case "$c" "$d" 2>"$TMP/gen.err"; then
    if [ -s "$TMP/gen.err" ]; then
      failed=$((failed + 1))
      echo "| $c | generation failed: $(head -c 200 "$TMP/gen.err" | tr '\n' ' ') |"
    else
      echo "| $c | skipped (needs numpy) |"
    fi
    rm -rf "$d"
    continue
  fi
  s_med="-" s_tot="" s_rss="-"
  if [ $HAVE_SCIPY = 1 ]; then
    if s_rss=$(timed "$TMP/s.out" "$PY" "$REF" time "$c" "$d"); then
      s_med=$(field median_s "$(cat "$TMP/s.out")")
      s_tot=$(field total "$(cat "$TMP/s.out")")
    else
      s_med="failed"; s_rss="-"; failed=$((failed + 1))
    fi
  fi
  # shellcheck disable=SC2046
  if t_rss=$(timed "$TMP/t.out" "$DRV" $(tandem_args "$c" "$d") --runs 3); then
    line=$(cat "$TMP/t.out")
    t_med=$(field median_s "$line")
    t_tot=$(field total "$line")
    [ -z "$t_rss" ] && t_rss=$(field rss_mib "$line")
  else
    t_med="failed"; t_tot=""; t_rss="-"; failed=$((failed + 1))
    line=""
  fi
  # Totals: exact for integer scores, 1e-9 relative otherwise; stable: no blocking pair.
  eq="-"
  case $c in
    stable-*)
      b=$(field blocking "$line")
      [ "$b" = 0 ] && eq="blocking pairs 0" || eq="BLOCKING PAIRS ${b:-?}"
      eq="$eq; from two score matrices incl. sorting: $(field from_scores_s "$line") s"
      ;;
    survey-* | capacity-*)
      if [ -n "$s_tot" ] && [ -n "$t_tot" ]; then
        eq=$(awk -v a="$s_tot" -v b="$t_tot" 'BEGIN { print (a + 0 == b + 0) ? "yes (" a ")" : "NO: " a " vs " b }')
      fi
      ;;
    *)
      if [ -n "$s_tot" ] && [ -n "$t_tot" ]; then
        eq=$(awk -v a="$s_tot" -v b="$t_tot" 'BEGIN { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a;
          print (d <= 1e-9 * (m > 1 ? m : 1)) ? "yes (" a ")" : "NO: " a " vs " b }')
      fi
      ;;
  esac
  case $eq in NO* | BLOCK*) failed=$((failed + 1)) ;; esac
  ratio="-"
  if [[ $s_med =~ ^[0-9.]+$ && $t_med =~ ^[0-9.]+$ ]]; then
    ratio=$(awk -v a="$t_med" -v b="$s_med" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }')
  fi
  tgt=$(target_of "$c")
  ok=""
  case $c in
    stable-*) [[ $t_med =~ ^[0-9.]+$ ]] && ok=$(awk -v t="$t_med" 'BEGIN { print (t < 0.020) ? "met" : "missed" }') ;;
    *) [ "$ratio" != "-" ] && ok=$(awk -v r="$ratio" -v g="${tgt#<= }" 'BEGIN { sub(/x$/, "", g); print (r + 0 <= g + 0) ? "met" : "missed" }') ;;
  esac
  [ "$ok" = met ] && met=$((met + 1))
  [ "$ok" = missed ] && missed=$((missed + 1))
  echo "| $c | $s_med | $t_med | $ratio | $tgt${ok:+ ($ok)} | $s_rss | $t_rss | $eq |"
  rm -rf "$d"
done
echo
echo "targets met: $met, missed: $missed; failures: $failed"
[ "$failed" -eq 0 ]
