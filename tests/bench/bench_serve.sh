#!/usr/bin/env bash
# bench_serve: the idle service. Usage: tests/bench/bench_serve.sh BUILD_DIR [SECONDS]
#
# Two workspaces, each served by `tandem serve` on the real clock, side by side:
#   pairs:   a started program with 50 active pairs, their sessions planned (one
#            `serve --once` before), messages as .eml files;
#   nothing: `tandem init` only (the template program, nobody enrolled).
# Once each service has settled (its first wake is over: the log says when it wakes next),
# the quiet window starts (default 60 s). /proc/PID/status gives VmRSS and VmHWM at its
# end, and the wakeups: the increase of voluntary_ctxt_switches summed over the process's
# threads (a thread blocked in epoll_wait that wakes and sleeps again switches once;
# preemption by a busy machine is involuntary and not counted). A service that polls
# would wake every poll; tandem's sleeps in one timer armed for the next due thing, so the
# quiet minute shows ~0 wakeups unless due work fell inside it. The built-in jobs are on an
# hourly grid but run only at the hours where they have work (docs/service.md, "When the
# service wakes"), so an HH:00 inside the window is no wake unless work is due then: the
# bench prints the next wake each service announced, and whether the window held one.
# Targets: RSS < 20 MiB; no wakeup beyond due work. Exits 0 even when over target;
# non-zero only when something fails to run.
set -euo pipefail

BUILD=${1:?usage: bench_serve.sh BUILD_DIR [SECONDS]}
QUIET=${2:-60}
TANDEM=$(cd "$BUILD" && pwd)/tandem
[ -x "$TANDEM" ] || { echo "bench_serve: no tandem binary in $BUILD" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_serve.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

P=digital-2027
ws_init() {
  "$TANDEM" init "$1" >/dev/null
  sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$1/tandem.lua"
}
ws_init "$TMP/pairs"
ws_init "$TMP/nothing"
(
  cd "$TMP/pairs"
  "$TANDEM" gen-org --people 400 --seed 11 --out people.csv --survey $P --survey-out survey.csv
  "$TANDEM" import people people.csv
  "$TANDEM" import enrollments survey.csv --program $P
  "$TANDEM" match run --program $P
  "$TANDEM" match approve $(sqlite3 tandem.db "SELECT id FROM matches WHERE status = 'proposed' ORDER BY id LIMIT 50")
  "$TANDEM" match activate --program $P
  "$TANDEM" sessions plan --program $P
) >/dev/null 2>"$TMP/setup.err" || { echo "bench_serve: setup failed" >&2; cat "$TMP/setup.err" >&2; exit 1; }

# switches PID: voluntary context switches of all its threads.
switches() {
  local n=0 f v
  for f in /proc/"$1"/task/*/status; do
    v=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$f" 2>/dev/null || echo 0)
    n=$((n + ${v:-0}))
  done
  echo "$n"
}
kib() { awk -v k="$2" '$1 == k":" {print $2}' /proc/"$1"/status; }

declare -A PID S0
for w in pairs nothing; do
  "$TANDEM" -C "$TMP/$w" serve 2>"$TMP/$w.log" &
  PID[$w]=$!
  PIDS+=("$!")
done
# Settled: the first wake is over (the log names the next wake, or says nothing is due).
for w in pairs nothing; do
  for ((i = 0; i < 600; i++)); do
    grep -qE 'next wake at|nothing is due' "$TMP/$w.log" && break
    sleep 0.1
  done
  grep -qE 'next wake at|nothing is due' "$TMP/$w.log" || { echo "bench_serve: $w did not settle" >&2; cat "$TMP/$w.log" >&2; exit 1; }
done
sleep 1
T0=$(date -u +%s)
for w in pairs nothing; do S0[$w]=$(switches "${PID[$w]}"); done
sleep "$QUIET"
T1=$(date -u +%s)
echo "bench_serve: idle tandem serve over a quiet window of $((T1 - T0)) s ($(date -u -d "@$T0" +%H:%M:%S)-$(date -u -d "@$T1" +%H:%M:%S) UTC)"
printf '%-8s %10s %10s %8s  %-22s %s\n' workspace "RSS MiB" "HWM MiB" wakeups "due work in the window" \
  "next wake announced"
for w in pairs nothing; do
  p=${PID[$w]}
  s1=$(switches "$p")
  rss=$(kib "$p" VmRSS) hwm=$(kib "$p" VmHWM)
  wakes=$(grep -c 'next wake at\|nothing is due' "$TMP/$w.log" || true)
  # Due work in the window: a wake the log announced for an instant inside it.
  due=$(grep -o 'next wake at [0-9T:Z-]*' "$TMP/$w.log" | awk '{print $4}' | while read -r t; do
    s=$(date -u -d "$t" +%s)
    if [ "$s" -ge "$T0" ] && [ "$s" -le "$T1" ]; then echo "$t"; fi
  done | sort -u | tr '\n' ' ' || true)
  next=$(grep -oE 'next wake at [0-9TZ:-]+|nothing is due' "$TMP/$w.log" | tail -1 | sed 's/next wake at //')
  printf '%-8s %10.1f %10.1f %8d  %-22s %s\n' "$w" "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" \
    $((s1 - S0[$w])) "${due:-none}" "${next:-?}"
  [ "$rss" -lt $((20 * 1024)) ] || echo "  $w: RSS over the 20 MiB target"
  [ "$wakes" -ge 1 ] || echo "  $w: no wake logged"
done
