#!/usr/bin/env bash
# bench_sim: planning and simulating a program of about 5,000 active pairs (issue 9's
# figure: "planning and simulating 6 months for 5,000 pairs under 2 s").
# Usage: tests/bench/bench_sim.sh BUILD_DIR [PEOPLE] [SMALL_PEOPLE]
#
# The fixture goes through the real commands: gen-org PEOPLE people (default 34,000; the
# template program's survey enrolls about 40% of them and its policy pairs about 38% of the
# enrolled, so about 5,000 pairs), import, match run, approve --all, the program's dates moved
# around now, match activate. Then, each a median of 3 runs on a fresh copy of the database:
#  - plan: `tandem sessions plan` of every pair, the first time (8 weeks of sessions);
#  - replan: the same again (nothing new: what the service's hourly plan-sessions job costs);
#  - simulate: `tandem simulate --months 1` on a small workspace of SMALL_PEOPLE people
#    (default 500, the demo's ~76 pairs): a whole simulated 6 months for 5,000 pairs is hours
#    at today's speed, so its time is ESTIMATED, and printed as such, as the small month's
#    cost x 6 plus the hourly replan of 5,000 pairs x the hours of 6 months.
# Prints wall and CPU (user + system) seconds; CPU is the steadier one on a shared machine.
# Exits 0 even when over target; non-zero only when something fails to run.
set -euo pipefail

BUILD=${1:?usage: bench_sim.sh BUILD_DIR [PEOPLE] [SMALL_PEOPLE]}
N=${2:-34000}
NS=${3:-500}
TANDEM=$(realpath "$BUILD/tandem")
P=digital-2027
[ -x "$TANDEM" ] || { echo "bench_sim: no tandem binary in $BUILD" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_sim.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export TMPDIR=$TMP

median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
# timed OUTVAR CMD...: wall seconds into OUTVAR, CPU seconds into OUTVAR_cpu.
timed() {
  local var=$1; shift
  if ! /usr/bin/time -f '%e %U %S' -o "$TMP/time" "$@" >"$TMP/out" 2>"$TMP/err"; then
    echo "bench_sim: failed: $*" >&2; cat "$TMP/err" >&2; exit 1
  fi
  read -r wall user sys <"$TMP/time"
  printf -v "$var" '%s' "$wall"
  printf -v "${var}_cpu" '%s' "$(echo "$user + $sys" | bc -l)"
}

# fixture WS PEOPLE: a workspace whose program has started, its pairs active.
fixture() {
  local ws=$1 n=$2
  "$TANDEM" init "$ws" >/dev/null
  sed -i -e "s/starts = \"[0-9-]*\"/starts = \"$(date -u -d '-1 day' +%F)\"/" \
         -e "s/ends = \"[0-9-]*\"/ends = \"$(date -u -d '+1 year' +%F)\"/" "$ws/tandem.lua"
  (cd "$ws" &&
    "$TANDEM" gen-org --people "$n" --seed 9 --out people.csv --survey $P --survey-out survey.csv &&
    "$TANDEM" import people people.csv &&
    "$TANDEM" import enrollments survey.csv --program $P &&
    { "$TANDEM" match run --program $P || "$TANDEM" match run --program $P --replace; } &&
    "$TANDEM" match approve --all --program $P &&
    "$TANDEM" match activate --program $P) >"$TMP/fixture.log" 2>&1 ||
    { echo "bench_sim: fixture failed" >&2; tail -20 "$TMP/fixture.log" >&2; exit 1; }
}

BIG=$TMP/big
fixture "$BIG" "$N"
pairs=$(sqlite3 "$BIG/tandem.db" "SELECT count(*) FROM matches WHERE status = 'active'")
echo "fixture: $N people, $pairs active pairs"

pl=() plc=() rp=() rpc=()
for i in 1 2 3; do
  cp "$BIG/tandem.db" "$TMP/run.db"
  timed a "$TANDEM" -C "$BIG" --db "$TMP/run.db" sessions plan --program $P
  pl+=("$a") plc+=("$a_cpu")
  sessions=$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM sessions")
  timed b "$TANDEM" -C "$BIG" --db "$TMP/run.db" sessions plan --program $P
  rp+=("$b") rpc+=("$b_cpu")
done
printf 'sessions plan, %s pairs (%s sessions):  median %.2f s wall, %.2f s cpu\n' "$pairs" \
  "$sessions" "$(median3 "${pl[@]}")" "$(median3 "${plc[@]}")"
printf 'sessions plan again (nothing new):        median %.2f s wall, %.2f s cpu\n' \
  "$(median3 "${rp[@]}")" "$(median3 "${rpc[@]}")"

SMALL=$TMP/small
fixture "$SMALL" "$NS"
spairs=$(sqlite3 "$SMALL/tandem.db" "SELECT count(*) FROM matches WHERE status = 'active'")
sm=() smc=()
for i in 1 2 3; do
  timed c "$TANDEM" -C "$SMALL" simulate --program $P --months 1 --seed 1
  sm+=("$c") smc+=("$c_cpu")
done
wakes=$(grep -o '^[0-9]* wakes' "$TMP/out" | cut -d' ' -f1)
printf 'simulate --months 1, %s pairs (%s wakes): median %.2f s wall, %.2f s cpu\n' "$spairs" \
  "$wakes" "$(median3 "${sm[@]}")" "$(median3 "${smc[@]}")"

# The estimate, in CPU seconds: six small months, plus the hourly replan of the big program.
est=$(echo "6 * $(median3 "${smc[@]}") + 6 * 730 * $(median3 "${rpc[@]}")" | bc -l)
total=$(echo "$(median3 "${plc[@]}") + $est" | bc -l)
printf 'ESTIMATED simulate --months 6, %s pairs: %.0f s cpu (6 x the small month + 4380 hourly replans)\n' \
  "$pairs" "$est"
printf 'plan + simulate 6 months, %s pairs: %.0f s cpu (estimated); target 2 s; ratio %.0f\n' \
  "$pairs" "$total" "$(echo "$total / 2" | bc -l)"
