#!/usr/bin/env bash
# The dashboard (http/dash*.c, docs/dashboard.md) over loopback with curl and a cookie jar:
# every page 303s to /signin without a session; sign-in with a token (wrong token 401, a
# cross-site sign-in 403), the cookie's flags (Secure behind https); the pages and the ids
# the browser tests use; static files with ETag and 304; actions (approve, reject, pin,
# veto, bulk approve, nudge, end, rematch; a refused rematch changes nothing) recorded with the token's name as actor; forged posts
# (no csrf, another session's csrf, a foreign Origin or Referer, Sec-Fetch-Site
# cross-site) get 403 and change nothing; a read-scope session sees no action form and its
# posts get 403; the API takes the cookie for reads but not for writes; names escaped;
# sign-out and a revoked token end sessions. Every curl is bounded in time; the server
# runs on a port the system picks and is stopped at the end.
source "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 -cmd ".timeout 10000" "$DB" "$1"; }
SERVE_PID=
LOG=$E2E_TMP/serve.log
cleanup() { [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null; rm -rf "$E2E_TMP"; }
trap cleanup EXIT

# ---- a workspace: a running program, active pairs, a second run of proposals ------------
sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-06-30"/' "$WS/tandem.lua"
seed_pairs "$WS" $P 90 7 || { finish; exit 1; }
# Proposals to review: the unmatched people's, by a rematch-free second run.
q "UPDATE matches SET status='proposed', decided_at=NULL, decided_by=NULL, activated_at=NULL
   WHERE id IN (SELECT id FROM matches WHERE status='active' ORDER BY id DESC LIMIT 4)"
RUN=$(q "SELECT run_id FROM matches WHERE status='proposed' LIMIT 1")
read -r M1 M2 M3 M4 <<<"$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM matches WHERE status='proposed' ORDER BY id)")"
A1=$(q "SELECT id FROM matches WHERE status='active' ORDER BY id LIMIT 1")
A2=$(q "SELECT id FROM matches WHERE status='active' ORDER BY id LIMIT 1 OFFSET 1")
q "UPDATE matches SET activated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-60 days') WHERE status='active'"
MENTEE_ID=$(q "SELECT mentee_id FROM matches WHERE id=$M1")
q "UPDATE people SET name='Zoë <script>alert(1)</script> & Co' WHERE id=$MENTEE_ID"
# Sessions this month: one held, one missed, one cancelled, one planned.
MONTH=$(date -u +%Y-%m)
ses() { q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, status, created_at, updated_at)
  VALUES ($1, '$MONTH-0$2T10:00:00Z', 45, 'UTC', 'manual', '$3', 'x', 'x'); SELECT last_insert_rowid();"; }
S_HELD=$(ses "$A1" 1 held); S_MISSED=$(ses "$A1" 2 missed); S_CANC=$(ses "$A2" 3 cancelled); S_PLAN=$(ses "$A2" 4 planned)
A1_MENTOR=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.id=$A1")

run "$T" -C "$WS" tokens create mgr --scope manage
expect_rc token-manage 0
TOK=$(sed -n 's/^\(tdm_[A-Za-z0-9_-]*\)$/\1/p' "$OUT")
run "$T" -C "$WS" tokens create viewer --scope read
TOK_RO=$(sed -n 's/^\(tdm_[A-Za-z0-9_-]*\)$/\1/p' "$OUT")
[ ${#TOK} = 47 ] && [ ${#TOK_RO} = 47 ] && ok tokens || fail tokens "'$TOK' '$TOK_RO'"

"$T" -C "$WS" serve --http 127.0.0.1:0 >"$LOG" 2>&1 &
SERVE_PID=$!
wait_for "$LOG" "http: listening on" || fail serve-start "$(head -c 800 "$LOG")"
PORT=$(sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$LOG" | head -1)
B=http://127.0.0.1:$PORT
JAR=$E2E_TMP/jar
JAR_RO=$E2E_TMP/jar_ro
# page URL [curl args...]: body in $E2E_TMP/page, headers in $E2E_TMP/h, status in $CODE
page() {
  local u=$1; shift
  CODE=$(curl -sS -m 20 -o "$E2E_TMP/page" -D "$E2E_TMP/h" -w '%{http_code}' "$@" "$B$u")
}
has() { grep -qF -- "$2" "$E2E_TMP/page" && ok "$1" || fail "$1" "page lacks '$2' ($CODE): $(head -c 300 "$E2E_TMP/page")"; }
lacks() { grep -qF -- "$2" "$E2E_TMP/page" && fail "$1" "page has '$2'" || ok "$1"; }
hdr() { grep -qi -- "$2" "$E2E_TMP/h" && ok "$1" || fail "$1" "headers lack '$2': $(cat "$E2E_TMP/h")"; }
code() { [ "$CODE" = "$2" ] && ok "$1" || fail "$1" "status $CODE, want $2: $(head -c 300 "$E2E_TMP/page")"; }
post() { # URL DATA [curl args]: a form post with the manager's jar
  local u=$1 data=$2; shift 2
  page "$u" -b "$JAR" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$data" "$@"
}
# What the forged posts must not change.
# (Not every event: the service's own hourly jobs may append theirs meanwhile.)
state() { q "SELECT id, status, decided_by, pinned FROM matches ORDER BY id;
  SELECT count(*) FROM events WHERE kind LIKE 'match.%';
  SELECT count(*) FROM outbox WHERE kind='nudge'; SELECT count(*) FROM vetoes" | sha256sum; }

# ---- without a session: sign-in --------------------------------------------------------
for u in / /p/$P /p/$P/review /events /nothing/here; do
  page "$u"
  code "anon-303 $u" 303
done
page "/p/$P/review?x=1"
hdr anon-next "^location: /signin?next=/p/$P/review%3Fx%3D1"
page /signin
code signin-get 200
has signin-form '<form method="post" action="/signin">'
has signin-input '<input name="token" type="password" id="token"'
has signin-label '<label for="token">'
page /signin -X POST --data-urlencode "token=tdm_wrong"
code signin-wrong 401
has signin-wrong-msg 'id="signin-error"'
page /signin -X POST --data-urlencode "token=$TOK" -H "Origin: http://evil.example"
code signin-cross-site 403
[ "$(q "SELECT count(*) FROM dash_sessions")" = 0 ] && ok no-session-yet || fail no-session-yet ""
page /signin -c "$JAR" -X POST --data-urlencode "token=$TOK" --data-urlencode "next=/p/$P/review"
code signin 303
hdr signin-location "^location: /p/$P/review"
hdr cookie-flags "^set-cookie: tandem_session=[A-Za-z0-9_-]\{43\}; HttpOnly; SameSite=Strict; Path=/"
grep -qi '^set-cookie:.*Secure' "$E2E_TMP/h" && fail cookie-not-secure "" || ok cookie-not-secure
page /signin -c "$JAR_RO" -X POST --data-urlencode "token=$TOK_RO" -H 'X-Forwarded-Proto: https'
hdr cookie-secure "^set-cookie: tandem_session=.*; Secure"
# An open redirect is not followed.
page /signin -X POST --data-urlencode "token=$TOK_RO" --data-urlencode "next=//evil.example/x"
hdr next-local "^location: /$(printf '\r')"
[ "$(q "SELECT count(*) FROM dash_sessions WHERE length(hash)=64")" = 3 ] && ok sessions-hashed || fail sessions-hashed ""
grep -q "$TOK" "$DB" && fail token-not-stored "" || ok token-not-stored

# ---- static files ------------------------------------------------------------------------
page /static/dashboard.css
code css 200
hdr css-type '^content-type: text/css'
hdr css-cache '^cache-control: public, max-age=31536000, immutable'
ETAG=$(sed -n 's/^[Ee][Tt][Aa][Gg]: \(.*\)\r$/\1/p' "$E2E_TMP/h")
page /static/dashboard.css -H "If-None-Match: $ETAG"
code css-304 304
page /static/dashboard.js
code js 200
page /static/nope.css
code static-404 404

# ---- pages -------------------------------------------------------------------------------
page / -b "$JAR"
code overview 200
has overview-programs 'id="programs"'
has overview-card "data-program=\"$P\""
has overview-health 'data-health="at_risk"'
has overview-skip '<a class="skip" href="#main">'
has overview-main '<main id="main">'
has overview-css '/static/dashboard.css?v='
has overview-icon '<link rel="icon" href="data:,">'
has overview-whoami 'id="whoami">mgr (manage)'
grep -qE 'https?://' "$E2E_TMP/page" && fail no-external-url "$(grep -oE 'https?://[^"]*' "$E2E_TMP/page" | head -3)" || ok no-external-url
hdr page-no-store '^cache-control: no-store'
hdr page-csp "^content-security-policy: default-src 'none'"
page /p/$P -b "$JAR"
code program 200
has program-svg '<svg'
has program-subnav 'class="subnav"'
page /p/nope -b "$JAR"
code program-404 404

page /p/$P/review -b "$JAR"
code review 200
has review-table 'id="proposals"'
has review-row "data-match=\"$M1\""
has review-why '<details><summary>Why</summary>'
has review-approve-form "action=\"/p/$P/matches/$M1/approve\""
has review-bulk "action=\"/p/$P/runs/$RUN/approve\""
has review-unmatched 'id="unmatched"'
has review-escaped 'Zoë &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co'
lacks review-no-raw '<script>alert(1)'
SIZE=$(stat -c %s "$E2E_TMP/page")
[ "$SIZE" -lt 150000 ] && ok review-size || fail review-size "$SIZE bytes"
CSRF=$(sed -n 's/.*name="csrf" value="\([0-9a-f]\{64\}\)".*/\1/p' "$E2E_TMP/page" | head -1)
[ ${#CSRF} = 64 ] && ok csrf-field || fail csrf-field "'$CSRF'"

# ---- forged posts change nothing -------------------------------------------------------
S0=$(state)
post "/p/$P/matches/$M1/approve" ""
code forged-no-csrf 403
has forged-no-csrf-msg 'id="error"'
post "/p/$P/matches/$M1/approve" "csrf=$(printf '%064d' 0)"
code forged-wrong-csrf 403
RO_CSRF=$(curl -sS -m 10 -b "$JAR_RO" "$B/" | sed -n 's/.*name="csrf" value="\([0-9a-f]\{64\}\)".*/\1/p' | head -1)
post "/p/$P/matches/$M1/approve" "csrf=$RO_CSRF"
code forged-other-session-csrf 403
post "/p/$P/matches/$M1/approve" "csrf=$CSRF" -H "Origin: http://evil.example"
code forged-origin 403
post "/p/$P/matches/$M1/approve" "csrf=$CSRF" -H "Origin: null"
code forged-origin-null 403
post "/p/$P/matches/$M1/approve" "csrf=$CSRF" -H "Referer: http://evil.example/x.html"
code forged-referer 403
post "/p/$P/matches/$M1/approve" "csrf=$CSRF" -H "Sec-Fetch-Site: cross-site"
code forged-fetch-site 403
page "/p/$P/matches/$M1/approve" -X POST --data-binary "csrf=$CSRF" -H 'Content-Type: application/x-www-form-urlencoded'
code forged-no-cookie 403
# The API does not take the cookie for writes.
page "/api/v1/matches/$M1/approve" -b "$JAR" -X POST
code api-cookie-write 401
[ "$(state)" = "$S0" ] && ok forged-unchanged || fail forged-unchanged "a forged post changed something"

# ---- read scope ---------------------------------------------------------------------------
page /p/$P/review -b "$JAR_RO"
code ro-review 200
has ro-rows "data-match=\"$M1\""
lacks ro-no-approve "/approve\""
lacks ro-no-veto 'class="veto"'
page /p/$P/health -b "$JAR_RO"
lacks ro-no-nudge '/nudge"'
page "/p/$P/matches/$M1/approve" -b "$JAR_RO" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "csrf=$RO_CSRF"
code ro-post-403 403
[ "$(state)" = "$S0" ] && ok ro-unchanged || fail ro-unchanged ""
# The API reads with the cookie (what EventSource needs).
page /api/v1/programs -b "$JAR_RO"
code api-cookie-read 200
has api-cookie-read-body "\"name\":\"$P\""
page /api/v1/programs
code api-no-cookie 401

# ---- actions ----------------------------------------------------------------------------
post "/p/$P/matches/$M1/approve" "csrf=$CSRF"
code approve 303
hdr approve-back "^location: /p/$P/review?done=approved"
[ "$(q "SELECT status || ' ' || decided_by FROM matches WHERE id=$M1")" = "approved mgr" ] && ok approved || fail approved "$(q "SELECT status, decided_by FROM matches WHERE id=$M1")"
[ "$(q "SELECT actor FROM events WHERE kind='match.approved' ORDER BY id DESC LIMIT 1")" = mgr ] && ok approve-actor || fail approve-actor ""
page "/p/$P/review?done=approved" -b "$JAR"
has flash 'id="flash" role="status">Done: approved.'
post "/p/$P/matches/$M1/approve" "csrf=$CSRF"
code approve-again-409 409
post "/p/$P/matches/$M2/reject" "csrf=$CSRF"
code reject 303
[ "$(q "SELECT status FROM matches WHERE id=$M2")" = rejected ] && ok rejected || fail rejected ""
post "/p/$P/matches/$M3/veto" "csrf=$CSRF&reason=same+team"
code veto 303
[ "$(q "SELECT count(*) FROM vetoes WHERE reason='same team'")" = 1 ] && ok vetoed || fail vetoed "$(q 'SELECT * FROM vetoes')"
post "/p/$P/runs/$RUN/approve" "csrf=$CSRF"
code bulk-approve 303
[ "$(q "SELECT status FROM matches WHERE id=$M4")" = approved ] && ok bulk-approved || fail bulk-approved "$(q "SELECT status FROM matches WHERE id=$M4")"
post "/p/$P/matches/999999/approve" "csrf=$CSRF"
code approve-unknown 404
post "/p/$P/matches/$M4/frobnicate" "csrf=$CSRF"
code unknown-action 404

# ---- sessions, health, rewards, reports, events, compare -------------------------------------
page "/p/$P/sessions?month=$MONTH" -b "$JAR"
code calendar 200
has calendar-id 'id="calendar"'
has cal-held "data-session=\"$S_HELD\" data-state=\"held\""
has cal-missed "data-session=\"$S_MISSED\" data-state=\"missed\""
has cal-cancelled "data-session=\"$S_CANC\" data-state=\"cancelled\""
has cal-planned "data-session=\"$S_PLAN\" data-state=\"planned\""
page "/p/$P/sessions?view=list&month=$MONTH&person=$A1_MENTOR" -b "$JAR"
code calendar-person 200
has cal-person-own "data-session=\"$S_HELD\""
lacks cal-person-other "data-session=\"$S_CANC\""
page "/p/$P/sessions?month=2027-13" -b "$JAR"
code calendar-bad-month 400
# The grid's days are a zone's: the workspace's by default, ?tz= (the script passes the
# viewer's) otherwise. S_HELD starts on the 1st at 10:00 UTC: the 2nd at 00:00 in Kiritimati
# (UTC+14), the last day of the month before at 23:00 in Pago Pago (UTC-11).
# day_of ID: the day number of the grid cell holding session ID in $E2E_TMP/page.
day_of() { $PY -c 'import re,sys; h=open(sys.argv[1]).read()
for c in re.findall(r"<li class=\"day\">(.*?)</li>\n", h, re.S):
    if "data-session=\"%s\"" % sys.argv[2] in c: print(re.search(r"</span> (\d+)</h3>", c).group(1))' "$E2E_TMP/page" "$1"; }
page "/p/$P/sessions?month=$MONTH" -b "$JAR"
has cal-zone-default "data-zone=\"$(sed -n 's/^ *timezone = "\([^"]*\)".*/\1/p' "$WS/tandem.lua" | head -1)\""
page "/p/$P/sessions?month=$MONTH&tz=UTC" -b "$JAR"
[ "$(day_of "$S_HELD")" = 1 ] && ok cal-day-utc || fail cal-day-utc "day '$(day_of "$S_HELD")'"
page "/p/$P/sessions?month=$MONTH&tz=Pacific/Kiritimati" -b "$JAR"
[ "$(day_of "$S_HELD")" = 2 ] && ok cal-day-east || fail cal-day-east "day '$(day_of "$S_HELD")'"
has cal-zone-kept-in-links "tz=Pacific/Kiritimati\">Next month"
page "/p/$P/sessions?month=$MONTH&tz=Pacific/Pago_Pago" -b "$JAR"
lacks cal-west-not-this-month "data-session=\"$S_HELD\""
PREV=$(date -u -d "$MONTH-01 -1 day" +%Y-%m)
page "/p/$P/sessions?month=$PREV&tz=Pacific/Pago_Pago" -b "$JAR"
[ "$(day_of "$S_HELD")" = "$(date -u -d "$MONTH-01 -1 day" +%-d)" ] && ok cal-day-west ||
  fail cal-day-west "day '$(day_of "$S_HELD")'"
page "/p/$P/sessions?month=$MONTH&tz=Mars/Olympus" -b "$JAR"
code calendar-bad-zone 400

page /p/$P/health -b "$JAR"
code health 200
has health-pairs 'id="pairs"'
has health-row 'data-pair="'
PAIR=$(sed -n 's/.*data-pair="\([0-9]*\)".*/\1/p' "$E2E_TMP/page" | head -1)
[ -n "$PAIR" ] && ok health-pair || fail health-pair "no pair row"
N0=$(q "SELECT count(*) FROM outbox WHERE kind='nudge'")
post "/p/$P/pairs/$PAIR/nudge" "csrf=$CSRF"
code nudge 303
[ "$(q "SELECT count(*) FROM outbox WHERE kind='nudge'")" = $((N0 + 2)) ] && ok nudged || fail nudged "$(q "SELECT count(*) FROM outbox WHERE kind='nudge'")"
post "/p/$P/pairs/$PAIR/nudge" "csrf=$CSRF"
hdr nudge-once-a-day "^location: /p/$P/health?done=nudged_today_already"
[ "$(q "SELECT count(*) FROM outbox WHERE kind='nudge'")" = $((N0 + 2)) ] && ok nudged-once || fail nudged-once ""
post "/p/$P/pairs/$PAIR/end" "csrf=$CSRF&reason="
code end-no-reason 422
post "/p/$P/pairs/$PAIR/end" "csrf=$CSRF&reason=moved+team"
code end 303
[ "$(q "SELECT status FROM matches WHERE id=$PAIR")" = ended ] && ok ended || fail ended "$(q "SELECT status FROM matches WHERE id=$PAIR")"
# Rematch: the end and the new proposals are one transaction. Refused first: the pair's
# mentee has eight unreviewed proposals, and a run proposing fewer than half as many is
# refused (409), so the match stays active, its sessions planned, no event written.
PAIR3=$(q "SELECT id FROM matches WHERE status='active' AND id NOT IN ($PAIR, $A1, $A2) ORDER BY id DESC LIMIT 1")
q "INSERT INTO matches (program_id, mentor_id, mentee_id, status, run_id, created_at)
   SELECT m.program_id, o.mentor_id, m.mentee_id, 'proposed', 'run-test', 'x' FROM matches m,
     (SELECT DISTINCT mentor_id FROM matches WHERE status = 'active' AND id <> $PAIR3 LIMIT 8) o
   WHERE m.id = $PAIR3"
E0=$(q "SELECT max(id) FROM events")
post "/p/$P/pairs/$PAIR3/rematch" "csrf=$CSRF"
code rematch-refused 409
has rematch-refused-why 'fewer than half'
[ "$(q "SELECT status FROM matches WHERE id=$PAIR3")" = active ] && ok rematch-refused-active ||
  fail rematch-refused-active "$(q "SELECT status, end_reason FROM matches WHERE id=$PAIR3")"
[ "$(q "SELECT max(id) FROM events")" = "$E0" ] && ok rematch-refused-no-event ||
  fail rematch-refused-no-event "$(q "SELECT kind FROM events WHERE id > $E0")"
q "DELETE FROM matches WHERE run_id = 'run-test'"
post "/p/$P/pairs/$PAIR3/rematch" "csrf=$CSRF"
code rematch 303
hdr rematch-to-review "^location: /p/$P/review?done=ended_and_proposed_new_partners"
[ "$(q "SELECT status FROM matches WHERE id=$PAIR3")" = ended ] && ok rematch-ended || fail rematch-ended "$(q "SELECT status FROM matches WHERE id=$PAIR3")"
[ "$(q "SELECT count(*) FROM matches m JOIN events e ON e.kind = 'match.proposed' AND json_extract(e.payload, '$.rematch') = 1
       WHERE m.status = 'proposed' AND m.mentee_id = (SELECT mentee_id FROM matches WHERE id=$PAIR3)")" -ge 1 ] &&
  ok rematch-proposed || fail rematch-proposed "$(q "SELECT id, mentor_id, status, run_id FROM matches WHERE mentee_id = (SELECT mentee_id FROM matches WHERE id=$PAIR3)")"
page /p/$P/rewards -b "$JAR"
code rewards 200
has rewards-board 'id="leaderboard"'
has rewards-ledger 'id="ledger"'
page /p/$P/reports -b "$JAR"
code reports 200
has reports-list 'id="reports"'
for f in html md csv json; do has "reports-$f" "/p/$P/reports/program-overview.$f\""; done
page /p/$P/reports/program-overview.md -b "$JAR"
code report-md 200
hdr report-attachment '^content-disposition: attachment'
page /p/$P/reports/..%2Fx.md -b "$JAR"
code report-path-404 404

page /events -b "$JAR"
code events 200
has events-list 'id="events"'
FIRST=$(sed -n 's/.*<li data-event="\([0-9]*\)".*/\1/p' "$E2E_TMP/page" | head -1)
[ "$FIRST" = "$(q 'SELECT max(id) FROM events')" ] && ok events-newest-first || fail events-newest-first "$FIRST"

page "/p/$P/compare?a=digital_upskilling&b=reciprocal" -b "$JAR"
code compare 200
has compare-table 'id="compare"'

# Every page under 150 KB.
for u in / /p/$P /p/$P/review /p/$P/sessions /p/$P/health /p/$P/rewards /p/$P/reports /events; do
  page "$u" -b "$JAR"
  SIZE=$(stat -c %s "$E2E_TMP/page")
  [ "$CODE" = 200 ] && [ "$SIZE" -lt 150000 ] && ok "size $u" || fail "size $u" "$CODE $SIZE"
done

# ---- sign-out, revocation -------------------------------------------------------------
post /signout "csrf=$CSRF"
code signout 303
hdr signout-location '^location: /signin'
hdr signout-clear '^set-cookie: tandem_session=;.*Max-Age=0'
page / -b "$JAR"
code signed-out 303
page / -b "$JAR_RO"
code ro-alive 200
run "$T" -C "$WS" tokens revoke viewer
expect_rc revoke 0
page / -b "$JAR_RO"
code revoked-303 303
page /api/v1/programs -b "$JAR_RO"
code revoked-api-401 401

kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
finish
