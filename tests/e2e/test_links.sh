#!/usr/bin/env bash
# Participants' check-in links (sched/links.h, http/checkin_page.h) over loopback with curl:
# reminders say how to check in by CLI without a public URL and carry each side's link with
# one; the link's page (no JavaScript, escaped names), a no-JS form post that records the
# check-in (actor link:mentor) and shows held in `tandem sessions show`; reuse shows
# "already recorded" and changes nothing; tampered, forged, expired and incomplete tokens get
# 403/400/410 and change nothing; the other side's link still works; cross-site posts,
# bad forms, oversized bodies and other methods are refused. Tokens made by Python from the
# documented format (docs/http.md) are accepted: the format is what the docs say.
# Every curl is bounded in time; the server runs on a port the system picks.
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

# ---- a workspace with one pair and a session starting in two hours ------------------
run "$T" gen-org --people 60 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
run "$T" -C "$WS" import people "$WS/people.csv"
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
run "$T" -C "$WS" match run --program $P
run "$T" -C "$WS" match approve --all --program $P
expect_rc approve 0
M=$(q "SELECT id FROM matches WHERE status='approved' ORDER BY id LIMIT 1")
SOON=$($PY -c 'import time; print(time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() + 7200)))')
q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda, created_at, updated_at)
   VALUES ($M, '$SOON', 45, 'Europe/Paris', 'manual', '[]', 'x', 'x')"
S=$(q "SELECT id FROM sessions WHERE match_id=$M")
MENTOR=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.id=$M")
MENTOR_ID=$(q "SELECT mentor_id FROM matches WHERE id=$M")
MENTEE_ID=$(q "SELECT mentee_id FROM matches WHERE id=$M")
# A name that must be escaped on the page.
q "UPDATE people SET name='Ana <script>alert(1)</script> & Co' WHERE id=$MENTEE_ID"

# ---- without a public URL: the CLI way, no link, no key ------------------------------
run "$T" -C "$WS" outbox remind --lead 3
expect_rc remind-no-url 0
BODY=$(q "SELECT body FROM outbox WHERE idempotency_key='reminder:$S:$MENTOR_ID'")
grep -qF "tandem sessions checkin $S --held --as $MENTOR" <<<"$BODY" && ok cli-way || fail cli-way "$BODY"
grep -qF "/c/" <<<"$BODY" && fail no-link "$BODY" || ok no-link
[ "$(q "SELECT count(*) FROM secrets WHERE name='link_key'")" = 0 ] && ok no-key || fail no-key "a key was made"

# ---- tandem.lua's public_url: each side's link -------------------------------------
run "$T" -C "$WS" programs list
sed -i 's|^workspace {|workspace {\n  public_url = "https://mentoring.example.org/tandem",|' "$WS/tandem.lua"
# One reminder per session and side whatever the lead: --lead 4 alone queues nothing new.
run "$T" -C "$WS" outbox remind --lead 4
expect_rc remind-again 0
[ "$(q "SELECT count(*) FROM outbox WHERE session_id=$S AND kind='reminder'")" = 2 ] &&
  ok "one reminder per side, whatever the lead" ||
  fail "one reminder per side, whatever the lead" "$(q "SELECT group_concat(idempotency_key) FROM outbox")"
q "DELETE FROM outbox WHERE session_id=$S AND kind='reminder'"
run "$T" -C "$WS" outbox remind --lead 4
expect_rc remind-url 0
link_of() { q "SELECT body FROM outbox WHERE idempotency_key='reminder:$S:$1'" |
  sed -n 's|.*https://mentoring.example.org/tandem/c/\([A-Za-z0-9_-]*\).*|\1|p' | head -1; }
TOK_MR=$(link_of "$MENTOR_ID")
TOK_ME=$(link_of "$MENTEE_ID")
[ ${#TOK_MR} = 78 ] && [ ${#TOK_ME} = 78 ] && [ "$TOK_MR" != "$TOK_ME" ] && ok link-tokens ||
  fail link-tokens "'$TOK_MR' '$TOK_ME'"
KEY=$(q "SELECT value FROM secrets WHERE name='link_key'")
[ ${#KEY} = 64 ] && ok link-key || fail link-key "${#KEY}"
# A bad public_url is refused with file, line and field.
cp "$WS/tandem.lua" "$E2E_TMP/good.lua"
sed -i 's|https://mentoring.example.org/tandem|ftp://x?y|' "$WS/tandem.lua"
run "$T" -C "$WS" programs list
expect_rc bad-public-url 1
expect_err bad-public-url-msg "field 'public_url'"
cp "$E2E_TMP/good.lua" "$WS/tandem.lua"
run "$T" -C "$WS" serve --public-url "javascript:alert(1)" --routes
expect_rc bad-public-url-flag 2

# The session is over now (the token names the session, not its time).
q "UPDATE sessions SET starts_at=strftime('%Y-%m-%dT%H:%M:00Z', 'now', '-2 hours') WHERE id=$S"

# ---- the server, with --public-url replacing tandem.lua's --------------------------
"$T" -C "$WS" serve --http 127.0.0.1:0 --public-url https://other.example/m >"$LOG" 2>&1 &
SERVE_PID=$!
wait_for "$LOG" "http: listening on" || fail serve-start "$(head -c 800 "$LOG")"
PORT=$(sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$LOG" | head -1)
B=http://127.0.0.1:$PORT
# page URL [curl args...]: body in $E2E_TMP/page, status in $CODE
page() {
  local u=$1; shift
  CODE=$(curl -sS -m 10 -o "$E2E_TMP/page" -w '%{http_code}' "$@" "$B$u")
}
has() { grep -qF -- "$2" "$E2E_TMP/page" && ok "$1" || fail "$1" "page lacks '$2' ($CODE): $(head -c 400 "$E2E_TMP/page")"; }
code() { [ "$CODE" = "$2" ] && ok "$1" || fail "$1" "status $CODE, want $2: $(head -c 300 "$E2E_TMP/page")"; }
form() { # URL DATA [curl args]
  local u=$1 data=$2; shift 2
  page "$u" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$data" "$@"
}
# What a check-in changes (the service itself writes other rows: jobs, planned sessions).
state() { q "SELECT * FROM feedback; SELECT * FROM sessions WHERE id=$S;
  SELECT count(*) FROM events WHERE kind IN ('session.held', 'session.missed', 'feedback.given')" | sha256sum; }
DIGEST0=$(state)

# ---- the page: no JavaScript, escaped ---------------------------------------------
page "/c/$TOK_MR" -D "$E2E_TMP/headers"
code get-200 200
has get-form '<form method="post">'
has get-held 'value="held"'
has get-rating '<option value="5">'
has get-consent 'name="share_story"'
has get-escaped 'Ana &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co'
has get-zone '(Europe/Paris)'
grep -qi '<script' "$E2E_TMP/page" && fail no-script "a <script> on the page" || ok no-script
grep -qi '^content-type: text/html; charset=utf-8' "$E2E_TMP/headers" && ok html-type || fail html-type "$(cat "$E2E_TMP/headers")"
grep -qi '^cache-control: no-store' "$E2E_TMP/headers" && ok no-store || fail no-store ""
grep -qi "^content-security-policy: default-src 'none'" "$E2E_TMP/headers" && ok csp || fail csp ""
grep -qi '^referrer-policy: same-origin' "$E2E_TMP/headers" && ok same-origin-referrer || fail same-origin-referrer ""
page "/c/$TOK_MR" -I
code head-200 200

# ---- refusals that change nothing --------------------------------------------------
flip() { $PY -c 'import sys; t=sys.argv[1]; i=int(sys.argv[2]); c="A" if t[i]!="A" else "B"; print(t[:i]+c+t[i+1:])' "$1" "$2"; }
page "/c/$(flip "$TOK_MR" 40)"
code tampered-403 403
has tampered-msg "altered"
page "/c/$(flip "$TOK_MR" 1)"
[ "$CODE" = 403 ] || [ "$CODE" = 400 ] && ok tampered-head || fail tampered-head "$CODE"
page "/c/${TOK_MR:0:70}"
code incomplete-400 400
has incomplete-msg "not a whole check-in link"
page "/c/"
code empty-404 404
# Tokens made here from docs/http.md's format: the key, session, side, expiry.
mint() { $PY - "$KEY" "$1" "$2" "$3" <<'PY'
import base64, hashlib, hmac, struct, sys
key = bytes.fromhex(sys.argv[1]); sid, side, exp = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body = struct.pack(">BQBqQ", 1, sid, side, exp, 424242)
mac = hmac.new(key, b"tandem-link-v1\n" + body, hashlib.sha256).digest()
print(base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode())
PY
}
NOW=$(date +%s)
EXPIRED=$(mint "$S" 0 $((NOW - 60)))
page "/c/$EXPIRED"
code expired-410 410
has expired-msg "expired on"
form "/c/$EXPIRED" "outcome=held"
code expired-post-410 410
page "/c/$(mint 999999 0 $((NOW + 3600)))"
code unknown-session-404 404
OTHERKEY=$($PY - "$S" $((NOW + 3600)) <<'PY'
import base64, hashlib, hmac, struct, sys
body = struct.pack(">BQBqQ", 1, int(sys.argv[1]), 0, int(sys.argv[2]), 1)
mac = hmac.new(b"\x00" * 32, b"tandem-link-v1\n" + body, hashlib.sha256).digest()
print(base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode())
PY
)
form "/c/$OTHERKEY" "outcome=held"
code forged-post-403 403
# Cross-site posting.
form "/c/$TOK_MR" "outcome=held" -H "Origin: https://evil.example"
code cross-origin-403 403
form "/c/$TOK_MR" "outcome=held" -H "Origin: null"
code null-origin-403 403
form "/c/$TOK_MR" "outcome=held" -H "Sec-Fetch-Site: cross-site"
code cross-site-403 403
form "/c/$TOK_MR" "outcome=held" -H "Origin: https://mentoring.example.org"
code old-public-url-403 403 # --public-url replaced tandem.lua's
# Bad forms.
form "/c/$TOK_MR" "outcome=maybe"
code bad-outcome-422 422
form "/c/$TOK_MR" "outcome=held&rating=9"
code bad-rating-422 422
form "/c/$TOK_MR" "outcome=missed&rating=3"
code missed-rating-422 422
form "/c/$TOK_MR" "outcome=held&outcome=missed"
code twice-400 400
form "/c/$TOK_MR" "outcome=held&notes=%zz"
code bad-escape-400 400
form "/c/$TOK_MR" "outcome=held&notes=$(head -c 9000 /dev/zero | tr '\0' a)"
code too-long-413 413
page "/c/$TOK_MR" -X POST -H 'Content-Type: application/json' --data '{"outcome":"held"}'
code json-415 415
page "/c/$TOK_MR" -X PUT
code put-405 405
[ "$(state)" = "$DIGEST0" ] && ok refusals-change-nothing || fail refusals-change-nothing "the database changed"

# ---- the mentor checks in: a plain form post (what a browser without JS sends) -----
[ "$(q "SELECT count(*) FROM feedback WHERE session_id=$S")" = 0 ] && ok nothing-yet || fail nothing-yet "feedback rows"
form "/c/$TOK_MR" "outcome=held&rating=4&notes=We+automated+a+%3Creport%3E&share_story=yes" \
  -H "Origin: https://other.example"
code post-200 200
has post-recorded "Recorded: the session was held."
[ "$(q "SELECT outcome||','||rating||','||share_story||','||actor||','||comment FROM feedback WHERE session_id=$S AND author_id=$MENTOR_ID")" = \
  "held,4,1,link:mentor,We automated a <report>" ] && ok feedback-row || fail feedback-row "$(q "SELECT * FROM feedback")"
run "$T" -C "$WS" sessions show "$S" --json
expect_rc show 0
[ "$(jget "$OUT" 'd["status"]')" = held ] && ok show-held || fail show-held "$(cat "$OUT")"
[ "$(jget "$OUT" 'd["mentor"]["checked_in"]')" = True ] && ok show-mentor || fail show-mentor "$(cat "$OUT")"
[ "$(jget "$OUT" 'd["mentee"]["checked_in"]')" = False ] && ok show-mentee-open || fail show-mentee-open "$(cat "$OUT")"

# ---- reused: says so, changes nothing ----------------------------------------------
DIGEST1=$(state)
page "/c/$TOK_MR"
code reuse-get-200 200
has reuse-get-msg "Already recorded on"
grep -qF '<form' "$E2E_TMP/page" && fail reuse-no-form "a form" || ok reuse-no-form
form "/c/$TOK_MR" "outcome=missed"
code reuse-post-409 409
has reuse-post-msg "Already recorded on"
# Another link of the same side (another nonce) is spent too.
form "/c/$(mint "$S" 0 $((NOW + 3600)))" "outcome=held"
code other-nonce-409 409
[ "$(state)" = "$DIGEST1" ] && ok reuse-changes-nothing || fail reuse-changes-nothing "the database changed"

# ---- the other side's link still works ---------------------------------------------
page "/c/$TOK_ME"
code mentee-get 200
has mentee-form '<form method="post">'
form "/c/$TOK_ME" "outcome=held&rating=5" -H "Origin: http://127.0.0.1:$PORT"
code mentee-post-200 200
[ "$(q "SELECT actor||','||rating||','||share_story FROM feedback WHERE session_id=$S AND author_id=$MENTEE_ID")" = "link:mentee,5,0" ] &&
  ok mentee-row || fail mentee-row "$(q "SELECT * FROM feedback")"
run "$T" -C "$WS" sessions show "$S" --json
[ "$(jget "$OUT" 'd["mentee"]["checked_in"]')" = True ] && [ "$(jget "$OUT" 'd["mentor"]["rating"]')" = 4 ] &&
  ok show-both || fail show-both "$(cat "$OUT")"
[ "$(q "SELECT count(*) FROM events WHERE kind='session.held' AND actor='link:mentor'")" = 1 ] && ok held-event ||
  fail held-event "$(q "SELECT kind, actor FROM events WHERE kind LIKE 'session.%' OR kind LIKE 'feedback%'")"
grep -qF "$TOK_MR" "$LOG" && fail token-not-logged "the log has a token" || ok token-not-logged
grep -qF "$KEY" "$LOG" && fail key-not-logged "the log has the key" || ok key-not-logged

kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; RC=$?; SERVE_PID=
expect_rc serve-stop 0
finish
