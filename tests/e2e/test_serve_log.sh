#!/usr/bin/env bash
# tandem serve's log on a virtual clock: a plugin's print() line carries the service's virtual
# time of the moment ("now"), not the time its worker started (walk2 #13: five runs an hour
# apart all printed the worker's start), and the exit line's "E errors" counts the job runs
# that failed and the report plugins that failed in a monthly-reports run (docs/service.md,
# "Logs"). Loopback only, no network; --time-scale 3600 for
# about 6 s.
source "$(dirname "$0")/lib.sh"

WS=$(new_ws) || exit 1
LOG="$E2E_TMP/serve.log"
cat >"$WS/scripts/p.lua" <<'LUA'
return tandem.job{ name = "p", version = "1.0.0", api = 1, schedule = "every 1h",
  run = function(ctx) print("due " .. ctx.due) return {} end }
LUA
cat >"$WS/scripts/f.lua" <<'LUA'
return tandem.job{ name = "f", version = "1.0.0", api = 1, schedule = "every 1h",
  run = function(ctx) error("boom") end }
LUA
q() { sqlite3 "$WS/tandem.db" "$1"; }
runs() { q "select count(*) from occurrences o join jobs j on j.id = o.job_id where j.name = 'p' and o.status = 'done'"; }
"$TANDEM" -C "$WS" serve --time-scale 3600 --log-format json 2>"$LOG" &
SERVE_PID=$!
wait_for "$LOG" "tandem serve started" 30 || fail "serve start" "$(head -c 600 "$LOG")"
for _ in $(seq 1 300); do [ "$(runs)" -ge 4 ] && break; sleep 0.1; done
[ "$(runs)" -ge 4 ] && ok "job p ran 4 times" || fail "job p ran 4 times" "$(runs) runs; $(tail -c 600 "$LOG")"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
RC=$?
[ "$RC" -eq 0 ] && ok "sigterm exit 0" || fail "sigterm exit 0" "exit $RC"

# Each print line: its "now" is at or after the run's due instant (a run starts at its
# instant or later; on a loaded machine an hour of this clock is one real second, so no upper
# bound), and the runs print increasing times.
"${PY:-/usr/bin/python3}" - "$LOG" >"$E2E_TMP/check" 2>&1 <<'PY'
import json, sys
from datetime import datetime
def t(s): return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
seen, bad = [], []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if not o["msg"].startswith("p: due "):
        continue
    due, now = t(o["msg"][len("p: due "):]), t(o["now"])
    seen.append(now)
    if not due <= now:
        bad.append("due %s printed at now %s" % (due, now))
if len(seen) < 4:
    bad.append("%d print lines" % len(seen))
if any(b <= a for a, b in zip(seen, seen[1:])):
    bad.append("not increasing: %s" % [str(s) for s in seen])
print("\n".join(bad) if bad else "ok")
PY
[ "$(cat "$E2E_TMP/check")" = ok ] && ok "print lines carry the service's virtual now" ||
  fail "print lines carry the service's virtual now" "$(cat "$E2E_TMP/check"); $(grep -F '"p: due' "$LOG" | head -5)"

# The exit line counts the failed runs of f (nothing else failed).
failed=$(q "select count(*) from occurrences o join jobs j on j.id = o.job_id where j.name = 'f' and o.status = 'failed'")
[ "$failed" -ge 4 ] && ok "job f failed at each run" || fail "job f failed at each run" "$failed"
grep -F "tandem serve stopped" "$LOG" | grep -qF ", $failed errors" && ok "exit line counts failed runs" ||
  fail "exit line counts failed runs" "$failed failed runs; $(grep -F 'tandem serve stopped' "$LOG")"

# A monthly-reports run that is done but recorded a report.failed (a report plugin that
# raises) counts in the exit line too (walk4 #2: it said "0 errors"), with a warning line.
# Two wakes of `serve --once` on a virtual clock (--time-scale 2 --time-from 2r - V reads V):
# the jobs are created at the real now, then one wake just after the next 1st, 00:00 Paris.
WS2=$(new_ws) || exit 1
LOG2="$E2E_TMP/serve2.log"
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS2/tandem.lua"
mkdir -p "$WS2/plugins/reports"
cat >"$WS2/plugins/reports/monthly-pulse.lua" <<'LUA'
return tandem.report{ name = "monthly-pulse", version = "1.0.0", api = 1, publish = "monthly",
  build = function() error("boom") end }
LUA
"$TANDEM" -C "$WS2" serve --once 2>>"$LOG2" || fail "first wake" "$(tail -c 600 "$LOG2")"
R=$(date -u +%s)
V=$(($(TZ=Europe/Paris date -d "$(TZ=Europe/Paris date -d "@$R" +%Y-%m-01) +1 month" +%s) + 120))
"$TANDEM" -C "$WS2" serve --once --time-scale 2 --time-from $((2 * R - V)) 2>"$LOG2"
nfailed=$(sqlite3 "$WS2/tandem.db" "select count(*) from events where kind = 'report.failed'")
[ "$nfailed" = 1 ] && ok "report plugin failed once" || fail "report plugin failed once" "$nfailed; $(tail -c 600 "$LOG2")"
grep -F "tandem serve stopped" "$LOG2" | grep -qF ", 1 errors" && ok "exit line counts report.failed" ||
  fail "exit line counts report.failed" "$(grep -F 'tandem serve stopped' "$LOG2")"
grep -q "warning: .*job monthly-reports (due " "$LOG2" && grep -qF "done with 1 failure(s)" "$LOG2" &&
  ok "report.failed logged as a warning" || fail "report.failed logged as a warning" "$(cat "$LOG2")"
finish
