#!/usr/bin/env bash
# bench_import: `tandem import people` of 100k people versus the sqlite3 shell's `.import`
# of the same file into a plain table. Usage: tests/bench/bench_import.sh BUILD_DIR [PEOPLE]
# Prints the median of 3 runs of each (wall seconds) and their ratio; the target is <= 3.0.
# Also times a re-import of the same file (every person unchanged) and prints the import's
# phases (wall/cpu seconds, from its TANDEM_DEBUG log). Exits 0 even when over target;
# non-zero only when something fails to run.
set -euo pipefail

BUILD=${1:?usage: bench_import.sh BUILD_DIR [PEOPLE]}
N=${2:-100000}
TANDEM="$BUILD/tandem"
[ -x "$TANDEM" ] || { echo "bench_import: no tandem binary in $BUILD" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench_import: sqlite3 shell not found" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_import.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
F="$TMP/people.csv"
"$TANDEM" gen-org --people "$N" --seed 1 --out "$F"
echo "file: $N people, $(wc -c <"$F") bytes"

median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
# timed OUTVAR CMD...: wall seconds into OUTVAR, CPU seconds (user + system) into OUTVAR_cpu;
# the command's stderr goes to $TMP/err.
timed() {
  local var=$1; shift
  if ! /usr/bin/time -f '%e %U %S' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err"; then
    echo "bench_import: failed: $*" >&2; cat "$TMP/err" >&2; exit 1
  fi
  read -r wall user sys <"$TMP/time"
  printf -v "$var" '%s' "$wall"
  printf -v "${var}_cpu" '%s' "$(echo "$user + $sys" | bc -l)"
}

sq=() tn=() sqc=() tnc=() re=() rec=() phases=()
for i in 1 2 3; do
  rm -f "$TMP/raw.db"
  timed a sqlite3 "$TMP/raw.db" -cmd '.mode csv' '.import '"$F"' people_raw'
  sq+=("$a") sqc+=("$a_cpu")

  rm -rf "$TMP/ws"
  "$TANDEM" init "$TMP/ws" >/dev/null
  TANDEM_DEBUG=1 timed b "$TANDEM" -C "$TMP/ws" import people "$F"
  tn+=("$b") tnc+=("$b_cpu")
  phases+=("$(grep -o 'phases.*' "$TMP/err" || true)")

  timed c "$TANDEM" -C "$TMP/ws" import people "$F"
  re+=("$c") rec+=("$c_cpu")
done
rows=$(sqlite3 "$TMP/ws/tandem.db" 'SELECT count(*) FROM people')
[ "$rows" = "$N" ] || { echo "bench_import: imported $rows people, expected $N" >&2; exit 1; }

ms=$(median3 "${sq[@]}")
mt=$(median3 "${tn[@]}")
printf 'sqlite3 .import (plain table):   median %.3f s  (runs: %s)\n' "$ms" "$(printf '%.3f ' "${sq[@]}")"
printf 'tandem import people:            median %.3f s  (runs: %s)\n' "$mt" "$(printf '%.3f ' "${tn[@]}")"
printf 'ratio: %.2f\n' "$(echo "$mt / $ms" | bc -l)"
# On a shared machine wall time also measures the neighbours; CPU time is steadier.
printf 'cpu (user+sys) medians: sqlite3 %.3f s, tandem %.3f s, ratio %.2f\n' "$(median3 "${sqc[@]}")" \
  "$(median3 "${tnc[@]}")" "$(echo "$(median3 "${tnc[@]}") / $(median3 "${sqc[@]}")" | bc -l)"
printf 'tandem re-import, all unchanged: median %.3f s wall, %.3f s cpu\n' "$(median3 "${re[@]}")" \
  "$(median3 "${rec[@]}")"
for i in 0 1 2; do echo "import run $((i + 1)) ${phases[$i]}"; done
echo "target: ratio <= 3.0"
