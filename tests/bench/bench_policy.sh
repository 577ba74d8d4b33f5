#!/usr/bin/env bash
# bench_policy: the matching pipeline's figures.
#  1. bench_policy (C driver): built-in features in pairs/s (target >= 50 M/s of
#     CPU), and the Lua stage of a typical policy (digital_upskilling's score)
#     through the pipeline versus a bare lua_call loop (target ratio >= 0.6).
#  2. `tandem match run --dry-run` end to end, 2,000 mentors x 2,000 mentees,
#     digital_upskilling (with its Lua score): target < 1.5 s.
#  3. The same for 20,000 x 20,000 with constraints and candidate lists (50 per
#     mentee): target < 30 s and < 2 GiB of RSS.
# Usage: tests/bench/bench_policy.sh BUILD_DIR [SMALL] [LARGE]  (defaults 2000 20000)
# Exits 0 even when over target; non-zero only when something fails to run.
set -euo pipefail

BUILD=${1:?usage: bench_policy.sh BUILD_DIR [SMALL] [LARGE]}
SMALL=${2:-2000}
LARGE=${3:-20000}
T="$BUILD/tandem"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$T" ] || { echo "bench_policy: no tandem binary in $BUILD" >&2; exit 1; }
PY=/usr/bin/python3

echo "== bench_policy: built-in features and the Lua stage (C driver)"
if [ -x "$BUILD/bench_policy" ]; then
  TANDEM_SRCDIR="$SRC" "$BUILD/bench_policy" 2000
else
  echo "(bench_policy driver not built in $BUILD)"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench_policy.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# enrollments N PEOPLE.csv OUT.csv: the N most junior people enroll as mentors
# (offering their skills), the N most senior as mentees (wanting their wants).
enrollments() {
  "$PY" - "$1" "$2" "$3" <<'EOF'
import csv, random, sys
n, src, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rows = [r for r in csv.DictReader(open(src, newline="")) if r["status"] == "active"]
if len(rows) < 2 * n:
    sys.exit("only %d active people for %d mentors and %d mentees" % (len(rows), n, n))
rows.sort(key=lambda r: (int(r["level"] or 0), r["id"]))
slots = [d + "-" + p for d in ("mon", "tue", "wed", "thu", "fri") for p in ("am", "pm")]
rnd = random.Random(7)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["person", "role", "capacity", "topics_offered", "topics_wanted", "availability", "consent"])
    for r in rows[:n]:
        w.writerow([r["id"], "mentor", 1, r["skills"], "", ";".join(rnd.sample(slots, 3)), "yes"])
    for r in rows[-n:]:
        w.writerow([r["id"], "mentee", "", "", r["topics_wanted"], ";".join(rnd.sample(slots, 3)), "yes"])
EOF
}

# cohort N: a workspace with 2N people, N mentors and N mentees in digital-2027.
cohort() {
  local n=$1 ws="$TMP/ws$1"
  "$T" init "$ws" >/dev/null
  local np=$((2 * n + 2 * n / 5)) # some people are on leave or have left
  "$T" gen-org --people $np --seed 5 --out "$ws/people.csv"
  /usr/bin/time -f '%e' -o "$TMP/t" "$T" -C "$ws" import people "$ws/people.csv" >/dev/null
  echo "import people ($np): $(cat "$TMP/t") s"
  enrollments "$n" "$ws/people.csv" "$ws/survey.csv"
  /usr/bin/time -f '%e' -o "$TMP/t" "$T" -C "$ws" import enrollments "$ws/survey.csv" \
    --program digital-2027 >/dev/null 2>"$TMP/warn" || { cat "$TMP/warn" >&2; exit 1; }
  echo "import enrollments ($((2 * n))): $(cat "$TMP/t") s"
}

# timed_run WS ARGS...: wall seconds and max RSS of `tandem match run`.
timed_run() {
  local ws=$1; shift
  /usr/bin/time -f '%e %M' -o "$TMP/t" "$T" -C "$ws" match run --program digital-2027 "$@" \
    --dry-run --json >"$TMP/out.json"
  read -r wall rss <"$TMP/t"
  "$PY" - "$TMP/out.json" "$wall" "$rss" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["seconds"]
print("  %d x %d: %.2f s wall, %.0f MiB max RSS; %d pairs, %d unmatched, %s candidate lists,"
      " %d allowed pairs, %d Lua calls; features %.2f s, Lua %.2f s, solve %.2f s"
      % (d["mentors"], d["mentees"], float(sys.argv[2]), int(sys.argv[3]) / 1024.0,
         len(d["pairs"]), len(d["unmatched"]), "with" if d["candidate_lists"] else "no",
         d["allowed_pairs"], d["lua_calls"], s["features"], s["lua"], s["solve"]))
EOF
}

echo "== match run --dry-run, $SMALL x $SMALL, digital_upskilling (Lua score), target < 1.5 s"
cohort "$SMALL"
timed_run "$TMP/ws$SMALL" --policy digital_upskilling
timed_run "$TMP/ws$SMALL" --policy digital_upskilling

if [ "$LARGE" -gt 0 ]; then
  echo "== match run --dry-run, $LARGE x $LARGE, constraints + 50 candidates, target < 30 s, < 2 GiB"
  cohort "$LARGE"
  sed -e 's/name = "digital_upskilling"/name = "digital_upskilling_large"/' \
      -e 's/method = "optimal",/method = "optimal", candidates = 50,/' \
      "$SRC/policies/digital_upskilling.lua" >"$TMP/ws$LARGE/policies/large.lua"
  timed_run "$TMP/ws$LARGE" --policy "$TMP/ws$LARGE/policies/large.lua"
fi
