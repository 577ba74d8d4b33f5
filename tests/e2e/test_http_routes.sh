#!/usr/bin/env bash
# tandem serve --http, the routes beyond people/programs/sessions (test_http.sh has those,
# the auth rules, the limits and the OpenAPI check): match runs (dry and stored, the actor,
# the proposals with their ids), bulk approval of a run, pins, vetoes, explanations,
# feedback (posted by a side, listed, ratings hidden until both sides rated, paged), a
# person's rewards and the leaderboard (the same documents as the CLI's --json, only
# people who opted in), health (the CLI's pairs; the status filter), reports in every
# format with their Content-Type, the event log (paged, since, kind), the event stream
# (Server-Sent Events: order, a write seen live, heartbeat, resume with Last-Event-ID,
# the cap of open streams), a kept answer with the built one's headers (Link, ETag), and
# writes answered 503 + Retry-After at once while another process holds the write lock; a
# slowloris client cut off at the request head's deadline. Scopes on every new route.
# Loopback only, every curl bounded in time.
source "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 -cmd ".timeout 10000" "$DB" "$1"; }
SERVE_PID=
PIDS=()
LOG=$E2E_TMP/serve.log
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null
  rm -rf "$E2E_TMP"
}
trap cleanup EXIT

run "$T" gen-org --people 60 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
run "$T" -C "$WS" import people "$WS/people.csv"
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import 0
run "$T" -C "$WS" tokens create reader --scope read --json
READ=$(jget "$OUT" 'd["token"]')
run "$T" -C "$WS" tokens create ops --scope manage --json
MANAGE=$(jget "$OUT" 'd["token"]')

"$T" -C "$WS" serve --http 127.0.0.1:0 2>"$LOG" &
SERVE_PID=$!
wait_for "$LOG" "next wake at" 20 || fail serve-start "$(head -c 800 "$LOG")"
PORT=$(sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$LOG" | head -1)
B=http://127.0.0.1:$PORT
HDR=$E2E_TMP/hdr
call() { # NAME WANT_STATUS CURL_ARGS...: body in $OUT, headers in $HDR
  local name=$1 want=$2; shift 2
  OUT=$E2E_TMP/body
  : >"$OUT"
  CODE=$(curl -s --max-time 30 -D "$HDR" -o "$OUT" -w '%{http_code}' "$@")
  [ "$CODE" = "$want" ] && ok "$name" || fail "$name" "status $CODE, want $want: $(head -c 400 "$OUT")"
}
AR=(-H "Authorization: Bearer $READ")
AM=(-H "Authorization: Bearer $MANAGE")
JSON=(-H "Content-Type: application/json")
errcode() { jget "$OUT" 'd["error"]["code"]'; }
nmatches() { q "SELECT count(*) FROM matches WHERE status != 'superseded'"; }

# ---- match runs ---------------------------------------------------------------------
call run-read-403 403 "${AR[@]}" -X POST "$B/api/v1/programs/$P/runs"
call run-unknown-program 404 "${AM[@]}" -X POST "$B/api/v1/programs/nope/runs"
call run-bad-field 422 "${AM[@]}" "${JSON[@]}" -d '{"dry_run":"yes"}' "$B/api/v1/programs/$P/runs"
call run-unknown-policy 404 "${AM[@]}" "${JSON[@]}" -d '{"policy":"no_such_policy"}' "$B/api/v1/programs/$P/runs"
call run-dry 200 "${AM[@]}" "${JSON[@]}" -d '{"dry_run":true,"explain":true}' "$B/api/v1/programs/$P/runs"
[ "$(jget "$OUT" 'str(d["proposals"]) + " " + str(d["stored"]) + " " + str(len(d["pairs"]) > 0) + " " + str("explanation" in d["pairs"][0])')" = "None 0 True True" ] &&
  [ "$(nmatches)" = 0 ] && ok run-dry-stores-nothing || fail run-dry-stores-nothing "$(head -c 300 "$OUT"); $(nmatches) matches"
call run 201 "${AM[@]}" -X POST "$B/api/v1/programs/$P/runs"
RUN=$(jget "$OUT" 'd["run_id"]')
NPROP=$(q "SELECT count(*) FROM matches WHERE run_id = '$RUN' AND status = 'proposed'")
[ "$NPROP" -gt 2 ] && [ "$(jget "$OUT" 'len(d["proposals"])')" = "$NPROP" ] && [ "$(jget "$OUT" 'd["stored"]')" = "$NPROP" ] &&
  [ "$(jget "$OUT" 'sorted(m["id"] for m in d["proposals"]) == sorted(int(x) for x in "'"$(q "SELECT group_concat(id, ' ') FROM matches WHERE run_id='$RUN'")"'".split())')" = True ] &&
  ok run-proposals || fail run-proposals "$NPROP proposals in the database: $(head -c 300 "$OUT")"
[ "$(q "SELECT actor FROM events WHERE kind = 'match.proposed' ORDER BY id DESC LIMIT 1")" = ops ] && ok run-actor || fail run-actor "$(q "SELECT kind, actor FROM events ORDER BY id DESC LIMIT 2")"
jget "$OUT" 'd["unmatched_reasons"]["mentees"]["total"] >= 0' | grep -q True && ok run-unmatched-reasons || fail run-unmatched-reasons "$(head -c 300 "$OUT")"

# Pin the first proposal's pair, veto the second's; explain the third.
read -r M1 A1 B1 <<<"$(q "SELECT m.id, a.external_id, b.external_id FROM matches m JOIN people a ON a.id = m.mentor_id JOIN people b ON b.id = m.mentee_id WHERE run_id = '$RUN' ORDER BY m.id LIMIT 1" | tr '|' ' ')"
read -r M2 A2 B2 <<<"$(q "SELECT m.id, a.external_id, b.external_id FROM matches m JOIN people a ON a.id = m.mentor_id JOIN people b ON b.id = m.mentee_id WHERE run_id = '$RUN' ORDER BY m.id LIMIT 1 OFFSET 1" | tr '|' ' ')"
read -r A3 B3 <<<"$(q "SELECT a.external_id, b.external_id FROM matches m JOIN people a ON a.id = m.mentor_id JOIN people b ON b.id = m.mentee_id WHERE run_id = '$RUN' ORDER BY m.id LIMIT 1 OFFSET 2" | tr '|' ' ')"
call pin-read-403 403 "${AR[@]}" "${JSON[@]}" -d "{\"mentor\":\"$A1\",\"mentee\":\"$B1\"}" "$B/api/v1/programs/$P/pins"
call pin-missing-mentee 422 "${AM[@]}" "${JSON[@]}" -d "{\"mentor\":\"$A1\"}" "$B/api/v1/programs/$P/pins"
call pin-unknown-person 404 "${AM[@]}" "${JSON[@]}" -d "{\"mentor\":\"$A1\",\"mentee\":\"NOPE\"}" "$B/api/v1/programs/$P/pins"
call pin 200 "${AM[@]}" "${JSON[@]}" -d "{\"mentor\":\"$A1\",\"mentee\":\"$B1\"}" "$B/api/v1/programs/$P/pins"
[ "$(jget "$OUT" 'str(d["id"]) + " " + str(d["pinned"]) + " " + d["status"]')" = "$M1 True approved" ] &&
  [ "$(q "SELECT pinned || ' ' || decided_by FROM matches WHERE id = $M1")" = "1 ops" ] && ok pin-stored || fail pin-stored "$(head -c 300 "$OUT")"
call veto-read-403 403 "${AR[@]}" "${JSON[@]}" -d "{\"mentor\":\"$A2\",\"mentee\":\"$B2\"}" "$B/api/v1/programs/$P/vetoes"
call veto 200 "${AM[@]}" "${JSON[@]}" -d "{\"mentor\":\"$A2\",\"mentee\":\"$B2\",\"reason\":\"same team\"}" "$B/api/v1/programs/$P/vetoes"
[ "$(jget "$OUT" 'd["action"] + " " + str(d["rejected"]) + " " + d["reason"]')" = "vetoed 1 same team" ] &&
  [ "$(q "SELECT status FROM matches WHERE id = $M2")" = rejected ] && [ "$(q "SELECT count(*) FROM vetoes")" = 1 ] &&
  ok veto-stored || fail veto-stored "$(head -c 300 "$OUT")"
call explain 200 "${AR[@]}" "$B/api/v1/programs/$P/explain?mentor=$A3&mentee=$B3"
[ "$(jget "$OUT" 'str(d["chosen"]) + " " + str("features" in d)')" = "True True" ] && ok explain-doc || fail explain-doc "$(head -c 300 "$OUT")"
call explain-vetoed 200 "${AR[@]}" "$B/api/v1/programs/$P/explain?mentor=$A2&mentee=$B2"
[ "$(jget "$OUT" 'd["chosen"]')" = False ] && ok explain-not-chosen || fail explain-not-chosen "$(head -c 300 "$OUT")"
call explain-no-mentee 400 "${AR[@]}" "$B/api/v1/programs/$P/explain?mentor=$A3"

# Bulk approval of the run: every remaining proposal, one transaction, the actor.
call run-approve-read-403 403 "${AR[@]}" -X POST "$B/api/v1/runs/$RUN/approve"
call run-approve-unknown 404 "${AM[@]}" -X POST "$B/api/v1/runs/run-nope/approve"
LEFT=$(q "SELECT count(*) FROM matches WHERE run_id = '$RUN' AND status = 'proposed'")
call run-approve 200 "${AM[@]}" -X POST "$B/api/v1/runs/$RUN/approve"
[ "$(jget "$OUT" 'd["action"] + " " + str(d["count"])')" = "approved $LEFT" ] &&
  [ "$(q "SELECT count(*) FROM matches WHERE run_id = '$RUN' AND status = 'proposed'")" = 0 ] &&
  [ "$(q "SELECT count(DISTINCT decided_by) || decided_by FROM matches WHERE run_id = '$RUN' AND status = 'approved'")" = 1ops ] &&
  ok run-approved || fail run-approved "$(head -c 300 "$OUT"), $LEFT were left"

# Matches list, paged in SQL: pages of 2 cover the program's matches once, by id.
URL="$B/api/v1/matches?program=$P&limit=2"; SEEN=$E2E_TMP/seen; : >"$SEEN"; PAGES=0
while [ -n "$URL" ] && [ $PAGES -lt 100 ]; do
  call "matches page $PAGES" 200 "${AR[@]}" "$URL"
  jget "$OUT" '"\n".join(str(m["id"]) for m in d["data"])' >>"$SEEN"
  NEXT=$(jget "$OUT" 'd["next"] or ""'); URL=${NEXT:+$B$NEXT}; PAGES=$((PAGES + 1))
done
[ "$(grep -c . "$SEEN")" = "$(nmatches)" ] && sort -n -c "$SEEN" && ok matches-sql-pages || fail matches-sql-pages "$(grep -c . "$SEEN") of $(nmatches)"
call matches-bad-status 400 "${AR[@]}" "$B/api/v1/matches?program=$P&status=done"

# ---- feedback -----------------------------------------------------------------------
# A session of the pinned pair that started two hours ago (its ratings are not revealed
# until both sides rated: the window closes 7 days after it ends).
START=$(date -u -d '-2 hours' +%Y-%m-%dT%H:00:00Z)
q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda, created_at, updated_at)
   VALUES ($M1, '$START', 45, 'UTC', 'manual', '[]', 'x', 'x'),
          ($M1, '2099-01-05T10:00:00Z', 45, 'UTC', 'manual', '[]', 'x', 'x')"
S1=$(q "SELECT id FROM sessions WHERE match_id = $M1 AND starts_at = '$START'")
S2=$(q "SELECT id FROM sessions WHERE match_id = $M1 AND starts_at LIKE '2099%'")
call feedback-read-403 403 "${AR[@]}" "${JSON[@]}" -d "{\"session\":$S1,\"person\":\"$A1\",\"outcome\":\"held\"}" "$B/api/v1/feedback"
call feedback-no-person 422 "${AM[@]}" "${JSON[@]}" -d "{\"session\":$S1,\"outcome\":\"held\"}" "$B/api/v1/feedback"
call feedback-no-session 422 "${AM[@]}" "${JSON[@]}" -d "{\"person\":\"$A1\",\"outcome\":\"held\"}" "$B/api/v1/feedback"
call feedback-unknown-session 404 "${AM[@]}" "${JSON[@]}" -d "{\"session\":999999,\"person\":\"$A1\",\"outcome\":\"held\"}" "$B/api/v1/feedback"
call feedback-future 409 "${AM[@]}" "${JSON[@]}" -d "{\"session\":$S2,\"person\":\"$A1\",\"outcome\":\"held\"}" "$B/api/v1/feedback"
call feedback-mentor 201 "${AM[@]}" "${JSON[@]}" -d "{\"session\":$S1,\"person\":\"$A1\",\"outcome\":\"held\",\"rating\":4,\"notes\":\"we built a dashboard\"}" "$B/api/v1/feedback"
[ "$(jget "$OUT" 'd["side"] + " " + d["outcome"] + " " + str(d["changed"]) + " " + d["actor"]')" = "mentor held True ops" ] &&
  [ "$(q "SELECT status FROM sessions WHERE id = $S1")" = held ] && ok feedback-stored || fail feedback-stored "$(head -c 300 "$OUT")"
call feedback-repeat 200 "${AM[@]}" "${JSON[@]}" -d "{\"session\":$S1,\"person\":\"$A1\",\"outcome\":\"held\",\"rating\":4,\"notes\":\"we built a dashboard\"}" "$B/api/v1/feedback"
[ "$(jget "$OUT" 'd["changed"]')" = False ] && ok feedback-repeat-unchanged || fail feedback-repeat-unchanged "$(head -c 300 "$OUT")"
call feedback-other 409 "${AM[@]}" "${JSON[@]}" -d "{\"session\":$S1,\"person\":\"$A1\",\"outcome\":\"held\",\"rating\":2}" "$B/api/v1/feedback"
call feedback-list-hidden 200 "${AR[@]}" "$B/api/v1/feedback?session=$S1"
[ "$(jget "$OUT" 'str(len(d["data"])) + " " + str(d["data"][0]["rating"]) + " " + str(d["data"][0]["notes"]) + " " + str(d["data"][0]["rating_hidden"])')" = "1 None None True" ] &&
  ok feedback-hidden || fail feedback-hidden "$(head -c 400 "$OUT")"
call feedback-mentee 201 "${AM[@]}" "${JSON[@]}" -d "{\"session\":$S1,\"person\":\"$B1\",\"outcome\":\"held\",\"rating\":5,\"share_story\":true}" "$B/api/v1/feedback"
call feedback-list-revealed 200 "${AR[@]}" "$B/api/v1/feedback?program=$P"
[ "$(jget "$OUT" '" ".join(str(f["rating"]) for f in d["data"]) + " " + d["data"][0]["notes"]')" = "4 5 we built a dashboard" ] &&
  ok feedback-revealed || fail feedback-revealed "$(head -c 400 "$OUT")"
call feedback-person 200 "${AR[@]}" "$B/api/v1/feedback?person=$B1"
[ "$(jget "$OUT" '" ".join(f["side"] + ":" + str(f["share_story"]) for f in d["data"])')" = "mentee:True" ] && ok feedback-person-filter || fail feedback-person-filter "$(head -c 300 "$OUT")"
call feedback-page1 200 "${AR[@]}" "$B/api/v1/feedback?limit=1"
NEXT=$(jget "$OUT" 'd["next"]')
call feedback-page2 200 "${AR[@]}" "$B$NEXT"
[ "$(jget "$OUT" 'str(len(d["data"])) + " " + d["data"][0]["side"] + " " + str(d["next"])')" = "1 mentee None" ] && ok feedback-pages || fail feedback-pages "$(head -c 300 "$OUT")"
call feedback-bad-session 400 "${AR[@]}" "$B/api/v1/feedback?session=x"

# ---- rewards, leaderboard, health: the CLI's own documents -------------------------
run "$T" -C "$WS" rewards dispatch
expect_rc rewards-dispatch 0
NLEDGER=$(q "SELECT count(*) FROM rewards r JOIN people p ON p.id = r.person_id WHERE p.external_id = '$A1'")
call person-rewards 200 "${AR[@]}" "$B/api/v1/people/$A1/rewards"
run "$T" -C "$WS" rewards list --person "$A1" --json
[ "$NLEDGER" -gt 0 ] && [ "$(jget "$E2E_TMP/body" 'json.dumps(d["data"], sort_keys=True)')" = "$(jget "$OUT" 'json.dumps(d, sort_keys=True)')" ] &&
  ok person-rewards-as-cli || fail person-rewards-as-cli "$NLEDGER rows; $(head -c 300 "$E2E_TMP/body")"
call person-rewards-missing 404 "${AR[@]}" "$B/api/v1/people/NOPE/rewards"
q "UPDATE enrollments SET leaderboard = 1 WHERE person_id = (SELECT id FROM people WHERE external_id = '$A1')"
call leaderboard 200 "${AR[@]}" "$B/api/v1/leaderboard?program=$P&as=$B1"
cp "$E2E_TMP/body" "$E2E_TMP/board"
run "$T" -C "$WS" rewards leaderboard --program $P --as "$B1" --json
[ "$(jget "$E2E_TMP/board" 'json.dumps(d, sort_keys=True)')" = "$(jget "$OUT" 'json.dumps(d, sort_keys=True)')" ] &&
  [ "$(jget "$E2E_TMP/board" '[e["person"] for e in d["entries"]]')" = "['$A1']" ] &&
  ok leaderboard-opt-in || fail leaderboard-opt-in "$(head -c 400 "$E2E_TMP/board")"
call leaderboard-unknown-program 404 "${AR[@]}" "$B/api/v1/leaderboard?program=nope"

call health 200 "${AR[@]}" "$B/api/v1/programs/$P/health"
cp "$E2E_TMP/body" "$E2E_TMP/health"
run "$T" -C "$WS" health --program $P --json
[ "$(jget "$E2E_TMP/health" '[(p["match_id"], p["status"], [r["code"] for r in p["reasons"]]) for p in d["pairs"]]')" = \
  "$(jget "$OUT" '[(p["match_id"], p["status"], [r["code"] for r in p["reasons"]]) for p in d["pairs"]]')" ] &&
  [ "$(jget "$E2E_TMP/health" 'd["counts"]')" = "$(jget "$OUT" 'd["counts"]')" ] && ok health-as-cli || fail health-as-cli "$(head -c 300 "$E2E_TMP/health")"
call health-status 200 "${AR[@]}" "$B/api/v1/programs/$P/health?status=too_early"
[ "$(jget "$OUT" 'all(p["status"] == "too_early" for p in d["pairs"])')" = True ] && ok health-filter || fail health-filter "$(head -c 300 "$OUT")"
call health-bad-status 400 "${AR[@]}" "$B/api/v1/programs/$P/health?status=fine"
call health-unknown-program 404 "${AR[@]}" "$B/api/v1/programs/nope/health"

# ---- reports in every format --------------------------------------------------------
ctype() { sed -n 's/^Content-Type: \(.*\)\r$/\1/Ip' "$HDR"; }
call report-json 200 "${AR[@]}" "$B/api/v1/programs/$P/reports/program-overview"
[ "$(ctype)" = application/json ] && [ "$(jget "$OUT" 'd["format"]')" = tandem-report/1 ] && ok report-json-type || fail report-json-type "$(ctype): $(head -c 200 "$OUT")"
call report-md 200 "${AR[@]}" "$B/api/v1/programs/$P/reports/program-overview?format=md"
[ "$(ctype)" = "text/markdown; charset=utf-8" ] && grep -q '^# ' "$OUT" && ok report-md-type || fail report-md-type "$(ctype): $(head -c 200 "$OUT")"
call report-csv 200 "${AR[@]}" "$B/api/v1/programs/$P/reports/monthly-pulse?format=csv"
[ "$(ctype)" = "text/csv; charset=utf-8" ] && ok report-csv-type || fail report-csv-type "$(ctype)"
call report-html 200 "${AR[@]}" "$B/api/v1/programs/$P/reports/mentor-recognition?format=html"
[ "$(ctype)" = "text/html; charset=utf-8" ] && grep -qi '<html' "$OUT" && grep -qi '</html>' "$OUT" && ok report-html-type || fail report-html-type "$(ctype)"
ETAG=$(sed -n 's/^ETag: \(.*\)\r$/\1/Ip' "$HDR")
call report-304 304 "${AR[@]}" -H "If-None-Match: $ETAG" "$B/api/v1/programs/$P/reports/mentor-recognition?format=html"
run "$T" -C "$WS" report --program $P --plugin program-overview --format md
call report-md-again 200 "${AR[@]}" "$B/api/v1/programs/$P/reports/program-overview?format=md"
diff -q <(grep -v -i 'generated\|20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T' "$OUT") <(grep -v -i 'generated\|20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T' "$E2E_TMP/out") >/dev/null &&
  ok report-as-cli || fail report-as-cli "the API's Markdown differs from tandem report's"
call report-bad-format 400 "${AR[@]}" "$B/api/v1/programs/$P/reports/program-overview?format=pdf"
call report-unknown-plugin 404 "${AR[@]}" "$B/api/v1/programs/$P/reports/no-such-report"
call report-path-plugin 404 "${AR[@]}" "$B/api/v1/programs/$P/reports/..%2F..%2Fetc"
call report-no-token 401 "$B/api/v1/programs/$P/reports/program-overview"

# ---- a slow client (slowloris) in the background: cut off at the head's 10 s deadline --
$PY - "$PORT" >"$E2E_TMP/slow" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
t0 = time.monotonic()
closed = None
while time.monotonic() - t0 < 25:
    time.sleep(0.5)
    try:
        s.sendall(b"a")
        s.settimeout(0.01)
        if s.recv(1) == b"":
            closed = time.monotonic() - t0
            break
    except socket.timeout:
        pass
    except OSError:
        closed = time.monotonic() - t0
        break
print("closed after %.1f s" % closed if closed is not None else "still open after 25 s")
PY
SLOW_PID=$!

# ---- the event log ------------------------------------------------------------------
NEV=$(q "SELECT count(*) FROM events")
URL="$B/api/v1/events?limit=7"; : >"$SEEN"; PAGES=0
while [ -n "$URL" ] && [ $PAGES -lt 200 ]; do
  call "events page $PAGES" 200 "${AR[@]}" "$URL"
  jget "$OUT" '"\n".join(str(e["id"]) for e in d["data"])' >>"$SEEN"
  NEXT=$(jget "$OUT" 'd["next"] or ""'); URL=${NEXT:+$B$NEXT}; PAGES=$((PAGES + 1))
done
[ "$(grep -c . "$SEEN")" = "$NEV" ] && sort -n -c "$SEEN" && ok events-pages || fail events-pages "$(grep -c . "$SEEN") of $NEV"
call events-since 200 "${AR[@]}" "$B/api/v1/events?since=5&limit=1"
[ "$(jget "$OUT" 'd["data"][0]["id"]')" = 6 ] && ok events-since-id || fail events-since-id "$(head -c 200 "$OUT")"
call events-kind 200 "${AR[@]}" "$B/api/v1/events?kind=match&limit=500"
[ "$(jget "$OUT" 'len(d["data"]) > 0 and all(e["kind"].startswith("match.") for e in d["data"])')" = True ] && ok events-kind-filter || fail events-kind-filter "$(head -c 200 "$OUT")"
# A kept answer (the same target again while nothing is written, http/cache) is the whole
# answer: a page's Link and its ETag too, not the body alone.
for i in 1 2 3; do
  call "people-again-$i" 200 "${AR[@]}" "$B/api/v1/people?limit=7"
  grep -i '^\(Link\|ETag\|Content-Type\):' "$HDR" | sort >"$E2E_TMP/kept.$i"
done
[ "$(grep -ci '^Link: <' "$E2E_TMP/kept.1")" = 1 ] && cmp -s "$E2E_TMP/kept.1" "$E2E_TMP/kept.2" &&
  cmp -s "$E2E_TMP/kept.1" "$E2E_TMP/kept.3" && ok kept-answer-headers ||
  fail kept-answer-headers "$(cat "$E2E_TMP"/kept.[123])"
call events-bad-since 400 "${AR[@]}" "$B/api/v1/events?since=-1"
call events-no-token 401 "$B/api/v1/events"

# ---- the event stream ---------------------------------------------------------------
LAST=$(q "SELECT max(id) FROM events")
K=$((LAST - 3))
call stream-no-token 401 --max-time 2 "$B/api/v1/events/stream"
call stream-bad-id 400 "${AR[@]}" -H "Last-Event-ID: x" "$B/api/v1/events/stream"
call stream-bad-heartbeat 400 "${AR[@]}" "$B/api/v1/events/stream?heartbeat=99"
# A stream from K with a heartbeat every second; a write while it is open.
curl -sN --max-time 4 -D "$E2E_TMP/sse.hdr" "${AR[@]}" "$B/api/v1/events/stream?since=$K&heartbeat=1" >"$E2E_TMP/sse" &
SSE_PID=$!
sleep 1
call cancel-live 200 "${AM[@]}" "${JSON[@]}" -d '{"reason":"moved"}' "$B/api/v1/sessions/$S2/cancel"
CANCEL_ID=$(q "SELECT max(id) FROM events WHERE kind = 'session.cancelled'")
wait $SSE_PID
grep -qi '^Content-Type: text/event-stream' "$E2E_TMP/sse.hdr" && ok stream-type || fail stream-type "$(cat "$E2E_TMP/sse.hdr")"
IDS=$(sed -n 's/^id: //p' "$E2E_TMP/sse" | tr '\n' ' ')
WANT=$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM events WHERE id > $K ORDER BY id)")
[ "$IDS" = "$WANT " ] && ok stream-order || fail stream-order "got '$IDS', want '$WANT'"
grep -q "^event: session.cancelled" "$E2E_TMP/sse" && grep -q "^id: $CANCEL_ID$" "$E2E_TMP/sse" && ok stream-live-write || fail stream-live-write "$(tail -c 400 "$E2E_TMP/sse")"
grep -q '^: heartbeat$' "$E2E_TMP/sse" && ok stream-heartbeat || fail stream-heartbeat "$(cat "$E2E_TMP/sse" | head -c 300)"
$PY - "$E2E_TMP/sse" >"$E2E_TMP/sse.check" 2>&1 <<'PY'
import json, sys
ev = [b for b in open(sys.argv[1]).read().split("\n\n") if b.startswith("id: ")]
for b in ev:
    f = dict(l.split(": ", 1) for l in b.split("\n"))
    d = json.loads(f["data"])
    assert d["id"] == int(f["id"]) and d["kind"] == f["event"], b
print(len(ev))
PY
[ $? = 0 ] && ok stream-data-json || fail stream-data-json "$(cat "$E2E_TMP/sse.check")"
# Resume: Last-Event-ID wins over since.
curl -sN --max-time 2 "${AR[@]}" -H "Last-Event-ID: $((CANCEL_ID - 1))" "$B/api/v1/events/stream?since=0" >"$E2E_TMP/sse2"
[ "$(sed -n 's/^id: //p' "$E2E_TMP/sse2" | tr '\n' ' ')" = "$CANCEL_ID " ] && ok stream-resume || fail stream-resume "$(head -c 400 "$E2E_TMP/sse2")"
# Without either: only what happens next (nothing here).
curl -sN --max-time 1 "${AR[@]}" "$B/api/v1/events/stream" >"$E2E_TMP/sse3"
grep -q '^retry:' "$E2E_TMP/sse3" && ! grep -q '^id:' "$E2E_TMP/sse3" && ok stream-from-now || fail stream-from-now "$(head -c 300 "$E2E_TMP/sse3")"
# The cap: 64 open streams, the 65th is refused with Retry-After; the others still work.
for i in $(seq 1 64); do
  curl -sN --max-time 8 "${AR[@]}" "$B/api/v1/events/stream" -o /dev/null &
  PIDS+=($!)
done
for _ in $(seq 1 100); do
  n=$(curl -s --max-time 2 "${AR[@]}" -o /dev/null -w '%{http_code}' "$B/api/v1/events/stream?heartbeat=1" --max-time 0.5)
  [ "$n" = 503 ] && break
  sleep 0.1
done
call stream-cap 503 --max-time 2 "${AR[@]}" "$B/api/v1/events/stream"
grep -qi '^Retry-After:' "$HDR" && ok stream-cap-retry-after || fail stream-cap-retry-after "$(cat "$HDR")"
call healthz-during-streams 200 "$B/healthz"
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
wait "${PIDS[@]}" 2>/dev/null; PIDS=()

# ---- a write while another process holds the write lock: 503 at once -----------------
S3=$(q "SELECT id FROM sessions WHERE match_id = $M1 AND status = 'planned' LIMIT 1")
[ -z "$S3" ] && { q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda, created_at, updated_at) VALUES ($M1, '2099-02-05T10:00:00Z', 45, 'UTC', 'manual', '[]', 'x', 'x')"; S3=$(q "SELECT id FROM sessions WHERE starts_at = '2099-02-05T10:00:00Z'"); }
$PY - "$DB" >"$E2E_TMP/lock" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(3)
c.execute("ROLLBACK")
PY
LOCK_PID=$!
wait_for "$E2E_TMP/lock" locked 10 || fail lock-held "the lock was not taken"
t0=$(date +%s%N)
call busy-503 503 "${AM[@]}" "${JSON[@]}" -d '{"reason":"x"}' "$B/api/v1/sessions/$S3/cancel"
t1=$(date +%s%N)
[ "$(errcode)" = unavailable ] && grep -qi '^Retry-After: 1' "$HDR" && ok busy-retry-after || fail busy-retry-after "$(cat "$HDR")"
[ $(((t1 - t0) / 1000000)) -lt 2000 ] && ok busy-fast || fail busy-fast "$(((t1 - t0) / 1000000)) ms"
call busy-read-ok 200 "${AR[@]}" "$B/api/v1/sessions/$S3"
wait $LOCK_PID
[ "$(q "SELECT status FROM sessions WHERE id = $S3")" = planned ] && ok busy-changed-nothing || fail busy-changed-nothing "session $S3 changed"
call after-busy 200 "${AM[@]}" "${JSON[@]}" -d '{"reason":"x"}' "$B/api/v1/sessions/$S3/cancel"

wait $SLOW_PID
SLOW=$(sed -n 's/^closed after \([0-9]*\)\..*/\1/p' "$E2E_TMP/slow")
[ -n "$SLOW" ] && [ "$SLOW" -ge 9 ] && [ "$SLOW" -le 14 ] && ok slowloris-cut || fail slowloris-cut "$(cat "$E2E_TMP/slow")"

# ---- SIGTERM with a stream open: both end, exit 0 -----------------------------------
curl -sN --max-time 10 "${AR[@]}" "$B/api/v1/events/stream" -o /dev/null &
SSE_PID=$!
sleep 0.5
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; RC=$?; SERVE_PID=
[ "$RC" = 0 ] && ok sigterm-with-stream || fail sigterm-with-stream "exit $RC: $(tail -3 "$LOG")"
wait $SSE_PID 2>/dev/null
grep -q "http: 1 writes answered 503" "$LOG" && ok busy-logged || fail busy-logged "$(tail -4 "$LOG")"
grep -q "http: 1 requests cut off at the 10 s deadline of their head" "$LOG" && ok head-cut-logged || fail head-cut-logged "$(tail -4 "$LOG")"
grep -q " error: " "$LOG" && fail no-errors "$(grep ' error: ' "$LOG" | head -3)" || ok no-errors
finish
