#!/usr/bin/env bash
# tandem serve --http: the JSON API over loopback with curl, on a port the system picks.
# Tokens (create/list/revoke, only hashes stored), 401/403 by scope, every route's status
# codes, pagination (people, sessions, matches, enrollments: pages cover the set once, in
# order), the sessions listing's summaries against the session's URL, ETag/If-None-Match
# -> 304, 404/405/413/415/400/422/409, malformed HTTP through a raw socket, writes recorded
# with the token's name as actor, a Lua job still running on the scaled clock while
# requests are served, address refusals, docs/openapi.yaml against `serve --routes`,
# SIGTERM stopping server and loop. Every curl is bounded in time.
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

# ---- routes vs docs/openapi.yaml (no workspace needed) ------------------------------
run "$T" serve --routes
expect_rc routes 0
$PY - "$OUT" "$TANDEM_SRCDIR/docs/openapi.yaml" >"$E2E_TMP/oa" 2>&1 <<'PY'
import re, sys
routes = set()
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3:
        routes.add((f[0].lower(), f[1]))
doc, path = set(), None
for line in open(sys.argv[2]):
    m = re.match(r"^  (/\S*):\s*$", line)
    if m:
        path = m.group(1); continue
    m = re.match(r"^    (get|post|put|patch|delete):\s*$", line)
    if m and path:
        doc.add((m.group(1), path))
    if re.match(r"^\S", line):
        path = None
missing = sorted(routes - doc); extra = sorted(doc - routes)
for r in missing: print("undocumented:", r[0].upper(), r[1])
for r in extra: print("documented but not served:", r[0].upper(), r[1])
print("routes", len(routes), "documented", len(doc))
sys.exit(1 if missing or extra or not routes else 0)
PY
[ $? -eq 0 ] && ok openapi-matches-routes || fail openapi-matches-routes "$(cat "$E2E_TMP/oa")"
grep -q '^openapi: 3.1' "$TANDEM_SRCDIR/docs/openapi.yaml" && ok openapi-3.1 || fail openapi-3.1 "no openapi: 3.1 line"

# ---- option errors ------------------------------------------------------------------
run "$T" -C "$WS" serve --http nope:80
expect_rc bad-addr 2
expect_err bad-addr-msg "not a numeric IPv4 or IPv6 address"
run "$T" -C "$WS" serve --http 127.0.0.1:70000
expect_rc bad-port 2
run "$T" -C "$WS" serve --http-public
expect_rc public-alone 2
run "$T" -C "$WS" serve --http 0 --once
expect_rc http-once 2
run timeout 10 "$T" -C "$WS" serve --http 0.0.0.0:0
expect_rc non-loopback-refused 1
expect_err non-loopback-msg "is not a loopback address"
grep -q "unfinalized" "$ERR" && fail non-loopback-clean "$(cat "$ERR")" || ok non-loopback-clean

# ---- a workspace with people, matches and sessions ----------------------------------
# The sessions below are in 2099: the program runs until then (a reschedule stays inside it).
sed -i -e 's/ends = "[0-9-]*"/ends = "2099-12-31"/' "$WS/tandem.lua"
run "$T" gen-org --people 60 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
run "$T" -C "$WS" import people "$WS/people.csv"
expect_rc import-people 0
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import-enrollments 0
run "$T" -C "$WS" match run --program $P
expect_rc match-run 0
read -r MA MB <<<"$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM matches WHERE status='proposed' ORDER BY id LIMIT 2)")"
run "$T" -C "$WS" match approve --all --program $P
q "UPDATE matches SET status='proposed', decided_at=NULL, decided_by=NULL WHERE id IN ($MA, $MB)"
NMATCH=$(q "SELECT count(*) FROM matches WHERE program_id=(SELECT id FROM programs WHERE name='$P') AND status!='superseded'")
M1=$(q "SELECT id FROM matches WHERE status='approved' ORDER BY id LIMIT 1")
# 7 sessions per approved match: one in the past, six ahead.
q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda, created_at, updated_at)
   SELECT m.id, s.at, 45, 'Europe/Paris', 'weekly', '[]', 'x', 'x' FROM matches m,
     (SELECT '2020-03-10T14:00:00Z' AS at UNION ALL SELECT '2099-03-10T14:00:00Z'
      UNION ALL SELECT '2099-03-17T14:00:00Z' UNION ALL SELECT '2099-03-24T14:00:00Z'
      UNION ALL SELECT '2099-03-31T14:00:00Z' UNION ALL SELECT '2099-04-07T14:00:00Z'
      UNION ALL SELECT '2099-04-14T14:00:00Z') s WHERE m.status='approved'"
NSESS=$(q "SELECT count(*) FROM sessions")
[ "$NSESS" -ge 14 ] && ok sessions-seeded || fail sessions-seeded "$NSESS sessions"
S_PAST=$(q "SELECT id FROM sessions WHERE match_id=$M1 AND starts_at LIKE '2020%'")
S_F1=$(q "SELECT id FROM sessions WHERE match_id=$M1 AND starts_at='2099-03-10T14:00:00Z'")
S_F2=$(q "SELECT id FROM sessions WHERE match_id=$M1 AND starts_at='2099-03-17T14:00:00Z'")
MENTOR1=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.id=$M1")

# ---- tokens -------------------------------------------------------------------------
run "$T" -C "$WS" tokens create reader --scope read
expect_rc token-read 0
READ=$(grep '^tdm_' "$OUT")
expect_err token-shown-once "only time the token is shown"
run "$T" -C "$WS" tokens create ops --scope manage --json
MANAGE=$(jget "$OUT" 'd["token"]')
run "$T" -C "$WS" tokens create gone --scope admin
GONE=$(grep '^tdm_' "$OUT")
[ ${#READ} = 47 ] && [ ${#MANAGE} = 47 ] && ok token-format || fail token-format "'$READ' '$MANAGE'"
run "$T" -C "$WS" tokens create reader --scope read
expect_rc token-dup 1
expect_err token-dup-msg "a token named 'reader' exists already"
run "$T" -C "$WS" tokens create x --scope root
expect_rc token-bad-scope 2
run "$T" -C "$WS" tokens create "a b" --scope read
expect_rc token-bad-name 1
[ "$(q "SELECT count(*) FROM api_tokens WHERE hash LIKE '%${READ#tdm_}%'")" = 0 ] &&
  [ "$(q "SELECT count(*) FROM api_tokens")" = 3 ] && ok token-hash-only || fail token-hash-only "$(q 'select * from api_tokens')"
grep -rqF "${READ#tdm_}" "$DB" "$DB-wal" 2>/dev/null && fail token-not-in-db "token text found in the database" || ok token-not-in-db

# ---- the server, with a Lua job on a scaled clock ----------------------------------
cat >"$WS/scripts/tick.lua" <<'LUA'
return tandem.job{ name = "tick", version = "1.0.0", api = 1, schedule = "every 15m",
  run = function(ctx) return { {event = {kind = "custom.tick", payload = {v = 1}}} } end }
LUA
# 900x: the tick job every second of real time, the hourly built-ins every 4 s (faster, and
# their transactions would keep the CLI's writes below waiting past its busy timeout).
"$T" -C "$WS" serve --http 127.0.0.1:0 --time-scale 900 2>"$LOG" &
SERVE_PID=$!
wait_for "$LOG" "http: listening on" || fail serve-start "$(head -c 800 "$LOG")"
PORT=$(sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$LOG" | head -1)
B=http://127.0.0.1:$PORT
[ -n "$PORT" ] && ok port || fail port "$(head -c 800 "$LOG")"

# call NAME WANT_STATUS CURL_ARGS...: body in $OUT, headers in $HDR, status in $CODE.
HDR=$E2E_TMP/hdr
call() {
  local name=$1 want=$2; shift 2
  OUT=$E2E_TMP/body
  : >"$OUT"
  CODE=$(curl -s --max-time 5 -D "$HDR" -o "$OUT" -w '%{http_code}' "$@")
  [ "$CODE" = "$want" ] && ok "$name" || fail "$name" "status $CODE, want $want: $(head -c 400 "$OUT")"
}
AR=(-H "Authorization: Bearer $READ")
AM=(-H "Authorization: Bearer $MANAGE")
JSON=(-H "Content-Type: application/json")
errcode() { jget "$OUT" 'd["error"]["code"]'; }

call healthz 200 "$B/healthz"
[ "$(jget "$OUT" 'd["ok"]')" = True ] && ok healthz-ok || fail healthz-ok "$(cat "$OUT")"
grep -qi '^Content-Type: application/json' "$HDR" && ok json-type || fail json-type "$(cat "$HDR")"
# Keep-alive: two requests on one connection (curl reuses it and says so).
curl -sv --max-time 5 "$B/healthz" "$B/healthz" -o /dev/null -o /dev/null 2>"$E2E_TMP/kv"
grep -q "Re-using existing connection" "$E2E_TMP/kv" && ok keep-alive || fail keep-alive "$(grep -i 'connection' "$E2E_TMP/kv")"

# Auth.
call no-token 401 "$B/api/v1/people"
[ "$(errcode)" = unauthorized ] && ok no-token-code || fail no-token-code "$(cat "$OUT")"
grep -qi '^WWW-Authenticate: Bearer' "$HDR" && ok www-authenticate || fail www-authenticate "$(cat "$HDR")"
call bad-token 401 -H "Authorization: Bearer tdm_nope" "$B/api/v1/people"
call basic-auth 401 -H "Authorization: Basic $READ" "$B/api/v1/people"
call revoked-before 200 -H "Authorization: Bearer $GONE" "$B/api/v1/programs"
run "$T" -C "$WS" tokens revoke gone
expect_rc revoke 0
call revoked-after 401 -H "Authorization: Bearer $GONE" "$B/api/v1/programs"
run "$T" -C "$WS" tokens revoke gone
expect_rc revoke-twice 1
call read-cannot-write 403 "${AR[@]}" -X POST "$B/api/v1/matches/$MA/approve"
[ "$(errcode)" = forbidden ] && ok forbidden-code || fail forbidden-code "$(cat "$OUT")"
[ "$(q "SELECT status FROM matches WHERE id=$MA")" = proposed ] && ok forbidden-changes-nothing || fail forbidden-changes-nothing "match $MA changed"

# Routing errors.
call unknown-path 404 "${AR[@]}" "$B/api/v1/nothing"
[ "$(errcode)" = not_found ] && ok not-found-code || fail not-found-code "$(cat "$OUT")"
call wrong-method 405 "${AR[@]}" -X DELETE "$B/api/v1/people"
grep -qi '^Allow: GET, HEAD' "$HDR" && ok allow-header || fail allow-header "$(cat "$HDR")"
call wrong-method-post 405 "${AM[@]}" "$B/api/v1/matches/$MA/approve"
grep -qi '^Allow: POST' "$HDR" && ok allow-post || fail allow-post "$(cat "$HDR")"

# People: pages of 7 cover everyone once, in order; ETag and 304.
NPEOPLE=$(q "SELECT count(*) FROM people")
URL="$B/api/v1/people?limit=7"; SEEN=$E2E_TMP/seen; : >"$SEEN"; PAGES=0
while [ -n "$URL" ] && [ $PAGES -lt 50 ]; do
  call "people page $PAGES" 200 "${AR[@]}" "$URL"
  jget "$OUT" '"\n".join(p["id"] for p in d["data"])' >>"$SEEN"
  NEXT=$(jget "$OUT" 'd["next"] or ""'); URL=${NEXT:+$B$NEXT}; PAGES=$((PAGES + 1))
done
[ "$(grep -c . "$SEEN")" = "$NPEOPLE" ] && [ "$(sort -u "$SEEN" | grep -c .)" = "$NPEOPLE" ] &&
  sort -c "$SEEN" 2>/dev/null && ok people-pages || fail people-pages "$(grep -c . "$SEEN") of $NPEOPLE in $PAGES pages"
[ $PAGES = $(((NPEOPLE + 6) / 7)) ] && ok people-page-count || fail people-page-count "$PAGES pages"
P1=$(q "SELECT external_id FROM people ORDER BY external_id LIMIT 1")
call person 200 "${AR[@]}" "$B/api/v1/people/$P1"
[ "$(jget "$OUT" 'd["id"]')" = "$P1" ] && ok person-id || fail person-id "$(head -c 300 "$OUT")"
ETAG=$(sed -n 's/^ETag: \(.*\)\r$/\1/Ip' "$HDR")
[ -n "$ETAG" ] && ok etag || fail etag "$(cat "$HDR")"
call person-304 304 "${AR[@]}" -H "If-None-Match: $ETAG" "$B/api/v1/people/$P1"
[ ! -s "$OUT" ] && ok 304-no-body || fail 304-no-body "$(cat "$OUT")"
call person-other-etag 200 "${AR[@]}" -H 'If-None-Match: "0000"' "$B/api/v1/people/$P1"
call person-head 200 "${AR[@]}" -I "$B/api/v1/people/$P1"
call person-missing 404 "${AR[@]}" "$B/api/v1/people/NOPE"
call person-export 200 "${AR[@]}" "$B/api/v1/people/$P1/export"
call bad-limit 400 "${AR[@]}" "$B/api/v1/people?limit=0"
call big-limit 400 "${AR[@]}" "$B/api/v1/people?limit=501"
call bad-cursor 400 "${AR[@]}" "$B/api/v1/people?cursor=@@"

# Programs and enrollments.
call programs 200 "${AR[@]}" "$B/api/v1/programs"
[ "$(jget "$OUT" 'd["data"][0]["name"]')" = $P ] && ok programs-name || fail programs-name "$(head -c 300 "$OUT")"
call program 200 "${AR[@]}" "$B/api/v1/programs/$P"
call program-missing 404 "${AR[@]}" "$B/api/v1/programs/nope"
NENR=$(q "SELECT count(*) FROM enrollments")
URL="$B/api/v1/programs/$P/enrollments?limit=200"; N=0; PAGES=0
while [ -n "$URL" ] && [ $PAGES -lt 20 ]; do
  call "enrollments page $PAGES" 200 "${AR[@]}" "$URL"
  N=$((N + $(jget "$OUT" 'len(d["data"])'))); NEXT=$(jget "$OUT" 'd["next"] or ""'); URL=${NEXT:+$B$NEXT}; PAGES=$((PAGES + 1))
done
[ "$N" = "$NENR" ] && ok enrollments-all || fail enrollments-all "$N of $NENR"

# Matches: pages by id, filters, show, approve/reject with the token's name as actor.
call matches-no-program 400 "${AR[@]}" "$B/api/v1/matches"
URL="$B/api/v1/matches?program=$P&limit=5"; : >"$SEEN"; PAGES=0
while [ -n "$URL" ] && [ $PAGES -lt 200 ]; do
  call "matches page $PAGES" 200 "${AR[@]}" "$URL"
  jget "$OUT" '"\n".join(str(m["id"]) for m in d["data"])' >>"$SEEN"
  NEXT=$(jget "$OUT" 'd["next"] or ""'); URL=${NEXT:+$B$NEXT}; PAGES=$((PAGES + 1))
done
[ "$(grep -c . "$SEEN")" = "$NMATCH" ] && sort -n -c "$SEEN" && ok matches-pages || fail matches-pages "$(grep -c . "$SEEN") of $NMATCH"
call matches-proposed 200 "${AR[@]}" "$B/api/v1/matches?program=$P&status=proposed"
[ "$(jget "$OUT" 'len(d["data"])')" = 2 ] && ok matches-status || fail matches-status "$(head -c 300 "$OUT")"
call match 200 "${AR[@]}" "$B/api/v1/matches/$MA"
call match-cached 200 "${AR[@]}" "$B/api/v1/matches/$MA"
call match-missing 404 "${AR[@]}" "$B/api/v1/matches/999999"
call match-bad-id 404 "${AR[@]}" "$B/api/v1/matches/abc"
call approve 200 "${AM[@]}" -X POST "$B/api/v1/matches/$MA/approve"
[ "$(jget "$OUT" 'd["status"]')" = approved ] && ok approve-status || fail approve-status "$(head -c 300 "$OUT")"
[ "$(q "SELECT decided_by FROM matches WHERE id=$MA")" = ops ] && ok approve-actor || fail approve-actor "$(q "SELECT decided_by FROM matches WHERE id=$MA")"
call approve-again 409 "${AM[@]}" -X POST "$B/api/v1/matches/$MA/approve"
[ "$(errcode)" = conflict ] && ok conflict-code || fail conflict-code "$(cat "$OUT")"
call reject 200 "${AM[@]}" -X POST "$B/api/v1/matches/$MB/reject"
[ "$(q "SELECT status || ' ' || decided_by FROM matches WHERE id=$MB")" = "rejected ops" ] && ok reject-actor || fail reject-actor "$(q "SELECT status, decided_by FROM matches WHERE id=$MB")"
# Kept answers never outlive a change: the server's own write, then another process's.
call matches-proposed-after 200 "${AR[@]}" "$B/api/v1/matches?program=$P&status=proposed"
[ "$(jget "$OUT" 'len(d["data"])')" = 0 ] && ok cache-own-write || fail cache-own-write "$(head -c 300 "$OUT")"
call match-after 200 "${AR[@]}" "$B/api/v1/matches/$MA"
[ "$(jget "$OUT" 'd["status"]')" = approved ] && ok cache-own-write-2 || fail cache-own-write-2 "$(head -c 300 "$OUT")"
call person-before 200 "${AR[@]}" "$B/api/v1/people/$P1"
q "UPDATE people SET title = 'Chief Listener' WHERE external_id = '$P1'"
call person-after 200 "${AR[@]}" "$B/api/v1/people/$P1"
[ "$(jget "$OUT" 'd["title"]')" = "Chief Listener" ] && ok cache-other-write || fail cache-other-write "$(head -c 300 "$OUT")"

# Sessions: pages by start then id, filters, show.
URL="$B/api/v1/sessions?program=$P&limit=4"; : >"$SEEN"; PAGES=0
while [ -n "$URL" ] && [ $PAGES -lt 400 ]; do
  call "sessions page $PAGES" 200 "${AR[@]}" "$URL"
  jget "$OUT" '"\n".join("%s %08d" % (s["start"], s["id"]) for s in d["data"])' >>"$SEEN"
  NEXT=$(jget "$OUT" 'd["next"] or ""'); URL=${NEXT:+$B$NEXT}; PAGES=$((PAGES + 1))
done
[ "$(grep -c . "$SEEN")" = "$NSESS" ] && sort -c "$SEEN" && [ "$(sort -u "$SEEN" | grep -c .)" = "$NSESS" ] &&
  ok sessions-pages || fail sessions-pages "$(grep -c . "$SEEN") of $NSESS in $PAGES pages"
grep -qi '^Link: <.*>; rel="next"' "$HDR" || [ "$(jget "$OUT" 'd["next"]')" = None ] && ok link-or-last || fail link-or-last "$(cat "$HDR")"
# The listing gives summaries; the session's URL the whole session, with the same values.
call sessions-summary 200 "${AR[@]}" "$B/api/v1/sessions?program=$P&limit=1"
cp "$OUT" "$E2E_TMP/summary"
[ "$(jget "$OUT" '" ".join(sorted(d["data"][0])) + " / " + " ".join(sorted(d["data"][0]["mentor"]))')" = \
  "duration_min id local match mentee mentor program start status topic zone / checked_in external_id id name" ] &&
  ok sessions-summary-fields || fail sessions-summary-fields "$(head -c 400 "$OUT")"
call session-details 200 "${AR[@]}" "$B/api/v1/sessions/$(jget "$E2E_TMP/summary" 'd["data"][0]["id"]')"
$PY - "$E2E_TMP/summary" "$OUT" <<'PY' && ok sessions-summary-values || fail sessions-summary-values "$(head -c 400 "$OUT")"
import json, sys
s = json.load(open(sys.argv[1]))["data"][0]; f = json.load(open(sys.argv[2]))
same = all(f[k] == v for k, v in s.items() if k not in ("mentor", "mentee"))
sides = all(f[k][x] == s[k][x] for k in ("mentor", "mentee") for x in s[k])
sys.exit(0 if same and sides and "agenda" in f and "status_reason" in f else 1)
PY
call sessions-range 200 "${AR[@]}" "$B/api/v1/sessions?from=2099-03-17&to=2099-03-17&limit=500"
[ "$(jget "$OUT" 'len(d["data"])')" = "$(q "SELECT count(*) FROM sessions WHERE starts_at LIKE '2099-03-17%'")" ] &&
  ok sessions-range-count || fail sessions-range-count "$(head -c 300 "$OUT")"
call sessions-person 200 "${AR[@]}" "$B/api/v1/sessions?person=$MENTOR1&limit=500"
[ "$(jget "$OUT" 'all(s["mentor"]["external_id"] == "'"$MENTOR1"'" or s["mentee"]["external_id"] == "'"$MENTOR1"'" for s in d["data"]) and len(d["data"]) > 0')" = True ] &&
  ok sessions-person-filter || fail sessions-person-filter "$(head -c 300 "$OUT")"
call sessions-bad-from 400 "${AR[@]}" "$B/api/v1/sessions?from=tomorrow"
call sessions-bad-status 400 "${AR[@]}" "$B/api/v1/sessions?status=done"
call sessions-bad-cursor 400 "${AR[@]}" "$B/api/v1/sessions?cursor=YWJj"
call sessions-unknown-person 404 "${AR[@]}" "$B/api/v1/sessions?person=NOPE"
call session 200 "${AR[@]}" "$B/api/v1/sessions/$S_F1"
[ "$(jget "$OUT" 'd["id"]')" = "$S_F1" ] && ok session-id || fail session-id "$(head -c 300 "$OUT")"

# Session writes: content type, JSON, validation, conflicts, actor.
call checkin-no-json-type 415 "${AM[@]}" -H 'Content-Type: text/plain' -d 'outcome=held' "$B/api/v1/sessions/$S_PAST/checkin"
[ "$(errcode)" = unsupported_media_type ] && ok 415-code || fail 415-code "$(cat "$OUT")"
call checkin-bad-json 400 "${AM[@]}" "${JSON[@]}" -d '{"outcome":' "$B/api/v1/sessions/$S_PAST/checkin"
call checkin-not-object 400 "${AM[@]}" "${JSON[@]}" -d '[1]' "$B/api/v1/sessions/$S_PAST/checkin"
call checkin-bad-outcome 422 "${AM[@]}" "${JSON[@]}" -d '{"outcome":"maybe"}' "$B/api/v1/sessions/$S_PAST/checkin"
call checkin-bad-rating 422 "${AM[@]}" "${JSON[@]}" -d "{\"outcome\":\"held\",\"person\":\"$MENTOR1\",\"rating\":9}" "$B/api/v1/sessions/$S_PAST/checkin"
call checkin-future 409 "${AM[@]}" "${JSON[@]}" -d '{"outcome":"held"}' "$B/api/v1/sessions/$S_F1/checkin"
[ "$(q "SELECT status FROM sessions WHERE id=$S_F1")" = planned ] && ok refused-changes-nothing || fail refused-changes-nothing "session changed"
call checkin 200 "${AM[@]}" "${JSON[@]}" -d "{\"outcome\":\"held\",\"person\":\"$MENTOR1\",\"rating\":4,\"notes\":\"good\"}" "$B/api/v1/sessions/$S_PAST/checkin"
[ "$(jget "$OUT" 'd["status"] + " " + str(d["changed"])')" = "held True" ] && ok checkin-held || fail checkin-held "$(head -c 300 "$OUT")"
[ "$(q "SELECT actor FROM events WHERE kind='session.held' ORDER BY id DESC LIMIT 1")" = ops ] && ok checkin-actor || fail checkin-actor "$(q "SELECT kind, actor FROM events ORDER BY id DESC LIMIT 3")"
call cancel 200 "${AM[@]}" "${JSON[@]}" -d '{"reason":"holiday"}' "$B/api/v1/sessions/$S_F2/cancel"
[ "$(jget "$OUT" 'd["status"] + " " + d["status_reason"]')" = "cancelled holiday" ] && ok cancel-status || fail cancel-status "$(head -c 300 "$OUT")"
call cancel-again 409 "${AM[@]}" -X POST "$B/api/v1/sessions/$S_F2/cancel"
call reschedule-missing-to 422 "${AM[@]}" "${JSON[@]}" -d '{}' "$B/api/v1/sessions/$S_F1/reschedule"
# An unknown zone is named; a zone with a UTC time is contradictory (walk3 #7).
call reschedule-bad-zone 422 "${AM[@]}" "${JSON[@]}" -d '{"to":"2099-05-05T10:00Z","zone":"Mars/X"}' "$B/api/v1/sessions/$S_F1/reschedule"
grep -qF "field 'zone': unknown time zone 'Mars/X'" "$OUT" && ok reschedule-bad-zone-msg || fail reschedule-bad-zone-msg "$(head -c 300 "$OUT")"
call reschedule-zone-utc 422 "${AM[@]}" "${JSON[@]}" -d '{"to":"2099-05-05T10:00Z","zone":"Europe/Paris"}' "$B/api/v1/sessions/$S_F1/reschedule"
call reschedule 200 "${AM[@]}" "${JSON[@]}" -d '{"to":"2099-05-05T10:00"}' "$B/api/v1/sessions/$S_F1/reschedule"
[ "$(jget "$OUT" 'str(d["rescheduled_from_id"]) + " " + d["local"] + " " + d["status"]')" = "$S_F1 2099-05-05T10:00 planned" ] &&
  ok reschedule-new || fail reschedule-new "$(head -c 400 "$OUT")"
[ "$(q "SELECT status FROM sessions WHERE id=$S_F1")" = rescheduled ] && ok reschedule-old || fail reschedule-old "$(q "SELECT status FROM sessions WHERE id=$S_F1")"
call session-missing 404 "${AR[@]}" "$B/api/v1/sessions/999999"

# Jobs, and the scheduler running beside the server.
call jobs 200 "${AR[@]}" "$B/api/v1/jobs"
[ "$(jget "$OUT" '"tick" in [j["name"] for j in d["data"]]')" = True ] && ok jobs-tick || fail jobs-tick "$(head -c 400 "$OUT")"
ticks() { q "SELECT count(*) FROM events WHERE kind = 'custom.tick'"; }
n0=$(ticks)
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ]; do
  curl -s --max-time 5 "${AR[@]}" "$B/api/v1/sessions?limit=50" -o /dev/null
  [ "$(ticks)" -ge $((n0 + 3)) ] && break
done
[ "$(ticks)" -ge $((n0 + 3)) ] && ok jobs-run-while-serving || fail jobs-run-while-serving "$(ticks) ticks after $n0"

# Limits and malformed HTTP.
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$E2E_TMP/big"
call too-large 413 "${AM[@]}" "${JSON[@]}" --data-binary @"$E2E_TMP/big" "$B/api/v1/sessions/$S_PAST/cancel"
[ "$(errcode)" = payload_too_large ] && ok 413-code || fail 413-code "$(cat "$OUT")"
call too-large-chunked 413 "${AM[@]}" "${JSON[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$E2E_TMP/big" "$B/api/v1/sessions/$S_PAST/cancel"
call long-url 414 "$B/healthz?x=$(head -c 100000 /dev/zero | tr '\0' a)"
raw() { # BYTES: sends them on a fresh connection, prints the status line
  $PY - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
except socket.timeout:
    pass
print(data.split(b"\r\n")[0].decode("latin-1", "replace"))
PY
}
# A line MHD cannot split closes the connection unanswered; one it can split but not parse: 400.
[ -z "$(raw 'GARBAGE\r\n\r\n')" ] && ok garbage-closed || fail garbage-closed "$(raw 'GARBAGE\r\n\r\n')"
[ "$(raw 'HELLO WORLD FOO\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] && ok garbage-400 || fail garbage-400 "$(raw 'HELLO WORLD FOO\r\n\r\n')"
case "$(raw 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n')" in
  "HTTP/1.1 505"*) ok version-505 ;; *) fail version-505 "HTTP/9.9 must be 505" ;; esac
case "$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')" in
  "HTTP/1.1 400"*) ok bad-header-400 ;; *) fail bad-header-400 "$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')" ;; esac
case "$(raw 'GET /healthz HTTP/1.1\r\n\r\n')" in
  "HTTP/1.1 400"*) ok no-host-400 ;; *) fail no-host-400 "HTTP/1.1 without Host must be 400" ;; esac
[ "$(raw 'GET /healthz HTTP/1.0\r\n\r\n')" = "HTTP/1.1 200 OK" ] && ok http10 || fail http10 "HTTP/1.0 request"
call still-alive 200 "$B/healthz"

# SIGTERM: the server and the loop stop, exit 0.
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; RC=$?; SERVE_PID=
[ "$RC" = 0 ] && ok sigterm-exit || fail sigterm-exit "exit $RC"
grep -q "http: [0-9]* requests; reads: [0-9]* answered from the cache" "$LOG" && ok served-count || fail served-count "$(tail -5 "$LOG")"
curl -s --max-time 2 "$B/healthz" >/dev/null && fail port-closed "still answering" || ok port-closed
grep -q " error: " "$LOG" && fail no-errors "$(grep ' error: ' "$LOG" | head -3)" || ok no-errors
run "$T" -C "$WS" tokens list --json
[ "$(jget "$OUT" '[t["name"] for t in d if t["last_used_at"]]')" = "['gone', 'ops', 'reader']" ] && ok last-used || fail last-used "$(cat "$OUT")"
[ "$(jget "$OUT" '[t["name"] for t in d if t["revoked_at"]]')" = "['gone']" ] && ok list-revoked || fail list-revoked "$(cat "$OUT")"
finish
