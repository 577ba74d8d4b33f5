#!/usr/bin/env bash
# End-to-end: a 30-day outage of `tandem serve`, then catch-up (issue 9, "Time zones").
# A workspace is seeded (gen-org, import, match run, approve, activate) with three daily
# Lua jobs (misfire once, all, skip; zones New York, Lord Howe Island, Kolkata), its
# sessions planned and reminders queued 72 h ahead; the service runs once on the real
# clock, then once on a clock 30 days ahead (--time-scale 2 --time-from NOW-30d puts the
# virtual now at NOW+30d). Checked afterwards: each job caught up by its misfire policy
# (once: one run covering the missed days, the rest skipped with the reason; all: every
# day; skip: none, each skipped) and none disabled; the built-in hourly jobs ran once
# each, covering the 720 hours; the queued reminders of sessions that started during the
# outage expired (not sent); the reminders then sent are for sessions after the virtual
# now; no session was planned before the moment it was planned; the sessions of the
# outage nobody checked in for are missed, the one checked in stays held; the months that
# ended during the outage are published after that marking (their monthly-pulse counts the
# missed sessions, not "still planned"). Also: the messages
# come from tandem.lua's mail_from; a stale temporary file in outbox/ is removed at start.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }

sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' \
  -e 's/^  cadence = "biweekly",/  cadence = "weekly",/' \
  -e 's|^  timezone = "Europe/Paris",|  timezone = "Europe/Paris",\n  mail_from = "mentoring@example.org",|' \
  "$WS/tandem.lua"
seed_pairs "$WS" $P 120 11

for spec in "once America/New_York 7" "all Australia/Lord_Howe 2" "skip Asia/Kolkata 2"; do
  read -r policy zone hour <<<"$spec"
  cat >"$WS/scripts/daily_$policy.lua" <<LUA
return tandem.job{ name = "daily-$policy", version = "1.0.0", api = 1,
  schedule = "FREQ=DAILY;BYHOUR=$hour;BYMINUTE=30", timezone = "$zone", misfire = "$policy",
  run = function(ctx)
    return { {event = {kind = "custom.daily", payload = {job = ctx.job, covers = ctx.covers}}} }
  end }
LUA
done

# Temporary files a killed writer left in the outbox folder: the stale one is removed at
# start, a fresh one (a live writer's, perhaps) is left alone.
mkdir -p "$WS/outbox"
echo torn >"$WS/outbox/.tmp-old123" && touch -d '-2 hours' "$WS/outbox/.tmp-old123"
echo live >"$WS/outbox/.tmp-new456"

# The service's first run, on the real clock: the jobs are registered from now.
run "$T" -C "$WS" serve --once
expect_rc "first serve" 0
[ ! -e "$WS/outbox/.tmp-old123" ] && [ -e "$WS/outbox/.tmp-new456" ] && ok "stale temporary file removed" ||
  fail "stale temporary file removed" "$(ls -A "$WS/outbox")"
expect_err "stale temporary file logged" "removed 1 temporary file(s) left by an interrupted write"
rm -f "$WS/outbox/.tmp-new456"
NOW=$(date -u +%s)
run "$T" -C "$WS" sessions plan --program $P
expect_rc plan 0
NS0=$(q "SELECT count(*) FROM sessions WHERE status = 'planned'")
[ "$NS0" -gt 0 ] && ok "sessions planned" || fail "sessions planned" "none"
run "$T" -C "$WS" outbox remind --lead 72
expect_rc remind 0
# The reminders queued now, with a 72-hour lead (their keys carry no lead): ids up to R72.
R72=$(q "SELECT coalesce(max(id), 0) FROM outbox")
NR=$(q "SELECT count(*) FROM outbox WHERE status = 'pending' AND kind = 'reminder' AND id <= $R72")
[ "$NR" -gt 0 ] && ok "reminders queued" || fail "reminders queued" "none (sessions: $NS0)"
# One pair met: its first session is held (both sides checked in).
HELD=$(q "SELECT id FROM sessions WHERE status = 'planned' ORDER BY starts_at LIMIT 1")
q "UPDATE sessions SET status = 'held' WHERE id = $HELD"

# 30 days later: the virtual clock runs twice as fast from NOW-30d, so it shows NOW+30d.
FROM=$((NOW - 30 * 86400))
run "$T" -C "$WS" serve --once --time-scale 2 --time-from "$FROM" --log-format json
expect_rc "catch-up serve" 0
grep -q '"level":"error"' "$ERR" && fail "catch-up no error" "$(grep '"level":"error"' "$ERR" | head -3)" ||
  ok "catch-up no error"
VNOW=$($PY -c '
import json, sys, datetime
last = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
print(int(datetime.datetime.strptime(last["now"], "%Y-%m-%dT%H:%M:%SZ")
          .replace(tzinfo=datetime.timezone.utc).timestamp()))' "$ERR")
[ $((VNOW - NOW - 30 * 86400)) -ge 0 ] && [ $((VNOW - NOW - 30 * 86400)) -lt 600 ] &&
  ok "virtual now" || fail "virtual now" "$VNOW vs $NOW"

$PY - "$DB" "$NOW" "$VNOW" "$HELD" "$R72" >"$E2E_TMP/checks" 2>&1 <<'PY'
import sqlite3, sys, datetime
db, now, vnow, held = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r72 = int(sys.argv[5])
c = sqlite3.connect(db)
def ts(s):
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())
def one(sql, *a):
    return c.execute(sql, a).fetchone()[0]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
# Jobs: never disabled; each daily job's owed days handled by its policy.
check(one("SELECT count(*) FROM jobs WHERE enabled = 0") == 0, "a job was disabled")
def occ(job, status):
    return one("SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id "
               "WHERE j.name = ? AND o.status = ?", job, status)
def owed(job):
    return one("SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id "
               "WHERE j.name = ? AND o.due_at <= ?", job,
               datetime.datetime.utcfromtimestamp(vnow).strftime("%Y-%m-%dT%H:%M:%SZ"))
for job in ("daily-once", "daily-all", "daily-skip"):
    n = owed(job)
    check(29 <= n <= 31, f"{job}: {n} days owed, want 30")
    check(occ(job, "failed") + occ(job, "missed") == 0, f"{job}: failed or missed runs")
    check(one("SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id WHERE "
              "j.name = ? AND o.status = 'pending' AND o.due_at > ?", job,
              datetime.datetime.utcfromtimestamp(vnow).strftime("%Y-%m-%dT%H:%M:%SZ")) == 1,
          f"{job}: no next run pending")
n = owed("daily-once")
# once: one run covers the days older than the grace (1 h); at most one more within it.
done = occ("daily-once", "done")
check(1 <= done <= 2, f"daily-once: {done} runs")
check(one("SELECT max(covers) FROM occurrences o JOIN jobs j ON j.id = o.job_id "
          "WHERE j.name = 'daily-once' AND o.status = 'done'") >= n - 1, "daily-once: covers")
check(occ("daily-once", "skipped") == n - done, "daily-once: skipped")
check(one("SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id WHERE "
          "j.name = 'daily-once' AND o.status = 'skipped' AND o.reason LIKE "
          "'coalesced into the run due at %'") == n - done, "daily-once: skip reason")
n = owed("daily-all")
check(occ("daily-all", "done") == n, f"daily-all: {occ('daily-all', 'done')} of {n} ran")
n = owed("daily-skip")
check(occ("daily-skip", "done") <= 1, "daily-skip: ran the backlog")
check(occ("daily-skip", "skipped") >= n - 1, "daily-skip: not skipped")
check(one("SELECT count(*) FROM occurrences o JOIN jobs j ON j.id = o.job_id WHERE "
          "j.name = 'daily-skip' AND o.status = 'skipped' AND o.reason LIKE "
          "'missed: not run within the grace of 1h%'") >= n - 1, "daily-skip: reason")
ev = one("SELECT count(*) FROM events WHERE kind = 'custom.daily'")
check(ev == occ("daily-once", "done") + occ("daily-all", "done") + occ("daily-skip", "done"),
      f"custom.daily events: {ev}")
# The built-in hourly jobs run at the hours where they have work: one run each after the
# outage for the jobs that had work during it, covering the hours since it appeared (a
# session ended a day ago, a reminder due, a pair to plan), never more than the outage's.
# The hours without work are neither runs nor skipped runs.
for job in ("plan-sessions", "send-reminders", "mark-missed"):
    cov = one("SELECT max(covers) FROM occurrences o JOIN jobs j ON j.id = o.job_id "
              "WHERE j.name = ? AND o.status = 'done' AND o.due_at > ?", job,
              datetime.datetime.utcfromtimestamp(now).strftime("%Y-%m-%dT%H:%M:%SZ"))
    check(cov is not None and 1 <= cov <= 721, f"{job}: covers {cov}")
for job in ("activate-matches", "plan-sessions", "send-reminders", "mark-missed"):
    cov = one("SELECT coalesce(sum(covers), 0) FROM occurrences o JOIN jobs j ON "
              "j.id = o.job_id WHERE j.name = ? AND o.status = 'done'", job)
    sk = one("SELECT coalesce(sum(covers), 0) FROM occurrences o JOIN jobs j ON "
             "j.id = o.job_id WHERE j.name = ? AND o.status IN ('skipped', 'missed')", job)
    check(sk < max(cov, 1), f"{job}: {sk} instants skipped, {cov} covered by runs")
# Reminders queued before the outage for sessions that started during it: expired.
exp = one("SELECT count(*) FROM outbox WHERE kind = 'reminder' AND id <= ? "
          "AND status = 'expired'", r72)
left = one("SELECT count(*) FROM outbox WHERE kind = 'reminder' AND id <= ? "
           "AND status <> 'expired'", r72)
check(exp > 0 and left == 0, f"72h reminders: {exp} expired, {left} not")
check(one("SELECT count(*) FROM events WHERE kind = 'message.expired'") == exp,
      "message.expired events")
# Reminders sent after the outage: for sessions after the virtual now only.
for key, start in c.execute("SELECT o.idempotency_key, s.starts_at FROM outbox o JOIN "
                            "sessions s ON s.id = o.session_id WHERE o.status = 'sent'"):
    check(ts(start) > vnow - 60, f"sent {key} for a session at {start}")
sent = one("SELECT count(*) FROM outbox WHERE status = 'sent'")
# Sessions: none planned in the past; the planner filled the new window.
for sid, start, created in c.execute("SELECT id, starts_at, created_at FROM sessions"):
    check(ts(start) >= ts(created) - 60, f"session {sid} at {start} planned at {created}")
check(one("SELECT count(*) FROM sessions WHERE starts_at > ?",
          datetime.datetime.utcfromtimestamp(vnow + 7 * 86400).strftime("%Y-%m-%dT%H:%M:%SZ")) > 0,
      "no session planned after the outage")
# Missed: every session of the outage that ended more than 24 h before the virtual now and
# nobody checked in for; the held one stays held.
for sid, start, dur, st in c.execute("SELECT id, starts_at, duration_min, status FROM sessions"):
    end = ts(start) + 60 * dur
    if sid == held:
        check(st == "held", f"held session {sid} is {st}")
    elif end + 24 * 3600 <= vnow - 60 and ts(start) >= now - 60:
        check(st == "missed", f"session {sid} at {start} is {st}, want missed")
    elif end + 24 * 3600 > vnow + 60:
        check(st == "planned", f"session {sid} at {start} is {st}, want planned")
nm = one("SELECT count(*) FROM sessions WHERE status = 'missed'")
check(nm > 0, "nothing missed")
check(one("SELECT count(*) FROM events WHERE kind = 'session.missed'") == nm, "missed events")
print("\n".join(bad) if bad else f"ok {nm} missed, {exp} expired, {sent} sent")
PY
echo "catch-up: $(cat "$E2E_TMP/checks")"
grep -q "^ok " "$E2E_TMP/checks" && ok "catch-up" || fail "catch-up" "$(head -20 "$E2E_TMP/checks")"

# The months that ended during the outage were published in the catch-up wake AFTER the
# sessions were marked (docs/service.md, "The built-in jobs"): each monthly-pulse counts the
# month's sessions as the database has them now (missed, not "still planned").
$PY - "$DB" "$WS/reports" "$P" >"$E2E_TMP/reports" 2>&1 <<'PY'
import sqlite3, sys, re, glob, collections
c = sqlite3.connect(sys.argv[1])
bad, months = [], []
for md in sorted(glob.glob(f"{sys.argv[2]}/*/{sys.argv[3]}/monthly-pulse.md")):
    month = md.split("/")[-3]
    months.append(month)
    m = re.search(r"(\d+) sessions in \S+: (\d+) held, (\d+) missed, (\d+) cancelled, "
                  r"(\d+) still planned", open(md).read())
    if not m:
        bad.append(f"{month}: no count line"); continue
    got = dict(zip(("total", "held", "missed", "cancelled", "planned"), map(int, m.groups())))
    st = collections.Counter(r[0] for r in c.execute(
        "SELECT status FROM sessions WHERE substr(starts_at, 1, 7) = ?", (month,)))
    want = {"total": sum(st.values()), "held": st["held"], "missed": st["missed"],
            "cancelled": st["cancelled"], "planned": st["planned"]}
    if got != want:
        bad.append(f"{month}: report {got}, database {want}")
print("\n".join(bad) if bad else "ok " + (" ".join(months) or "none"))
PY
echo "reports: $(cat "$E2E_TMP/reports")"
grep -q "^ok " "$E2E_TMP/reports" && ok "backfilled reports count the missed sessions" ||
  fail "backfilled reports count the missed sessions" "$(head -5 "$E2E_TMP/reports")"
[ "$(q "SELECT count(*) FROM events WHERE kind = 'report.published'")" -gt 0 ] ||
  echo "note: no month ended during this outage (started on a month's first day)"

# jobs list shows the skipped runs and why.
run "$T" -C "$WS" jobs list
expect_rc "jobs list" 0
expect_out "jobs list skipped reason" "coalesced into the run due at"

# The messages come from tandem.lua's mail_from.
EML=$(ls "$WS/outbox"/*.eml 2>/dev/null | head -1)
[ -n "$EML" ] && grep -q '^From: mentoring@example.org' "$EML" && ok "mail_from" ||
  fail "mail_from" "$( [ -n "$EML" ] && grep -m1 '^From:' "$EML" || echo 'no .eml')"

# A second catch-up run at about the same virtual time does nothing new.
D1=$(q "SELECT count(*) FROM occurrences WHERE status = 'done'")
run "$T" -C "$WS" serve --once --time-scale 2 --time-from "$FROM"
expect_rc "again" 0
D2=$(q "SELECT count(*) FROM occurrences WHERE status = 'done'")
[ $((D2 - D1)) -le 4 ] && ok "again little" || fail "again little" "$D1 -> $D2 runs"
[ "$(q "SELECT count(*) FROM outbox GROUP BY idempotency_key HAVING count(*) > 1")" = "" ] &&
  ok "keys unique" || fail "keys unique" "duplicate keys"

finish
