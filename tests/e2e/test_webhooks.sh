#!/usr/bin/env bash
# Webhooks (serve/webhook.h) against a local Python receiver on loopback
# (tests/e2e/webhook_receiver.py, which checks every signature as docs/http.md says):
# tandem.lua's webhook{} refused with file, line and field when wrong; a check-in made with
# the CLI beside the running service reaches every hook that wants it, signed, with the
# outbox key as Idempotency-Key; a 500 then 200 shows a retry (delivery 2, row sent after 2
# attempts); a dead receiver ends failed after its attempts with the transport error; a 410
# fails at once; a slow backoff leaves the row pending with its next attempt and last error;
# events filtered by kind; webhook rows' own message.* events never delivered; the signature
# verified in shell with openssl as the docs show. Bounded: the receiver stops after 120 s,
# every wait has a deadline.
source "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
PY=/usr/bin/python3
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 -cmd ".timeout 10000" "$DB" "$1"; }
SECRET=test-secret-0123456789
SERVE_PID= RECV_PID=
LOG=$E2E_TMP/serve.log
HOOKS=$E2E_TMP/hooks.log
cleanup() {
  [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null
  [ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
  rm -rf "$E2E_TMP"
}
trap cleanup EXIT
# until_true SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 at the deadline.
until_true() {
  local i n=$(($1 * 10)); shift
  for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# ---- a workspace with a pair and a session that is over -----------------------------
run "$T" gen-org --people 60 --seed 5 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
run "$T" -C "$WS" import people "$WS/people.csv"
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
run "$T" -C "$WS" match run --program $P
run "$T" -C "$WS" match approve --all --program $P
expect_rc approve 0
M=$(q "SELECT id FROM matches WHERE status='approved' ORDER BY id LIMIT 1")
q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda, created_at, updated_at)
   VALUES ($M, strftime('%Y-%m-%dT%H:%M:00Z', 'now', '-3 hours'), 45, 'Europe/Paris', 'manual', '[]', 'x', 'x')"
S=$(q "SELECT id FROM sessions WHERE match_id=$M")
MENTOR=$(q "SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.id=$M")

# ---- the receiver, and a port where nothing listens ---------------------------------
$PY "$(dirname "$0")/webhook_receiver.py" "$SECRET" "$HOOKS" 120 >"$E2E_TMP/port" &
RECV_PID=$!
until_true 10 test -s "$E2E_TMP/port" || fail receiver-start "no port"
RP=$(head -1 "$E2E_TMP/port")
DEAD=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

# ---- configuration errors -----------------------------------------------------------
cp "$WS/tandem.lua" "$E2E_TMP/base.lua"
printf '\nwebhook { name = "x", url = "http://127.0.0.1:1/x" }\n' >>"$WS/tandem.lua"
run "$T" -C "$WS" programs list
expect_rc no-secret 1
expect_err no-secret-msg "webhook 'x': field 'secret' is required"
cp "$E2E_TMP/base.lua" "$WS/tandem.lua"
printf '\nwebhook { name = "x", url = "ftp://h/x", secret = "%s", events = { "Bad kind" }, attempts = 0 }\n' "$SECRET" >>"$WS/tandem.lua"
run "$T" -C "$WS" programs list
expect_rc bad-hook 1
expect_err bad-url "field 'url': 'ftp://h/x' is not an http:// or https:// URL"
expect_err bad-events "field 'events': item Bad kind is not an event kind"
expect_err bad-attempts "field 'attempts' must be an integer from 1 to 20"
expect_err bad-hook-line "tandem.lua:"
cp "$E2E_TMP/base.lua" "$WS/tandem.lua"
KINDS=$(for i in $(seq 1 65); do printf '"custom.k%d", ' "$i"; done)
printf '\nwebhook { name = "many", url = "http://127.0.0.1:1/x", secret = "%s", events = { %s } }\n' \
  "$SECRET" "$KINDS" >>"$WS/tandem.lua"
run "$T" -C "$WS" programs list
expect_rc too-many-events 1
expect_err too-many-events-msg "field 'events': at most 64 event kinds (got 65)"
# A kind no event has (a typo) would never fire: an error listing the kinds (walk3 #3).
cp "$E2E_TMP/base.lua" "$WS/tandem.lua"
printf '\nwebhook { name = "typo", url = "http://127.0.0.1:1/x", secret = "%s", events = { "session.canceled" } }\n' \
  "$SECRET" >>"$WS/tandem.lua"
run "$T" -C "$WS" programs list
expect_rc typo-event 1
expect_err typo-event-msg "field 'events': no event has the kind 'session.canceled' (valid kinds: people.imported,"
cp "$E2E_TMP/base.lua" "$WS/tandem.lua"
printf '\nwebhook { name = "typo", url = "http://127.0.0.1:1/x", secret = "%s", events = { "sesion.*" } }\n' \
  "$SECRET" >>"$WS/tandem.lua"
run "$T" -C "$WS" programs list
expect_rc typo-prefix 1
cp "$E2E_TMP/base.lua" "$WS/tandem.lua"
printf '\nwebhook { name = "fine", url = "http://127.0.0.1:1/x", secret = "%s", events = { "custom.x", "custom.*", "reward.*", "*" } }\n' \
  "$SECRET" >>"$WS/tandem.lua"
run "$T" -C "$WS" programs list
expect_rc known-events 0

cp "$E2E_TMP/base.lua" "$WS/tandem.lua"
cat >>"$WS/tandem.lua" <<LUA

webhook { name = "ok", url = "http://127.0.0.1:$RP/ok", secret = "$SECRET", events = { "session.*" } }
webhook { name = "flaky", url = "http://127.0.0.1:$RP/flaky", secret = "$SECRET",
          events = { "session.held" }, backoff = 1, attempts = 3 }
webhook { name = "dead", url = "http://127.0.0.1:$DEAD/x", secret = "$SECRET",
          events = { "session.held" }, backoff = 1, attempts = 3 }
webhook { name = "slow", url = "http://127.0.0.1:$DEAD/x", secret = "$SECRET",
          events = { "session.held" }, backoff = 3600, attempts = 2 }
webhook { name = "gone", url = "http://127.0.0.1:$RP/gone", secret = "$SECRET",
          events = { "session.held" }, backoff = 1 }
webhook { name = "feedback", url = "http://127.0.0.1:$RP/ok", secret = "$SECRET",
          events = { "feedback.given" } }
LUA
run "$T" -C "$WS" programs list
expect_rc hooks-ok 0

# ---- the service; the hooks start at the newest event --------------------------------
"$T" -C "$WS" serve >"$LOG" 2>&1 &
SERVE_PID=$!
ncursors() { [ "$(q "SELECT count(*) FROM webhook_cursors")" = "$1" ]; }
until_true 20 ncursors 6 && ok cursors ||
  fail cursors "$(q "SELECT * FROM webhook_cursors"); $(tail -5 "$LOG")"
[ "$(q "SELECT count(*) FROM outbox WHERE channel='webhook'")" = 0 ] && ok no-history || fail no-history "history replayed"

# A check-in by the CLI beside the service: the hooks see it within about a second.
run "$T" -C "$WS" sessions checkin "$S" --held --as "$MENTOR" --rating 5
expect_rc checkin 0
HELD=$(q "SELECT id FROM events WHERE kind='session.held' ORDER BY id DESC LIMIT 1")
row() { q "SELECT status||','||attempts FROM outbox WHERE idempotency_key='webhook:$1:$HELD'"; }
row_is() { [ "$(row "$1")" = "$2" ]; }
until_true 30 row_is ok "sent,1" && ok ok-sent || fail ok-sent "$(row ok)"
until_true 30 row_is flaky "sent,2" && ok flaky-retried || fail flaky-retried "$(row flaky)"
until_true 30 row_is dead "failed,3" && ok dead-failed || fail dead-failed "$(row dead)"
until_true 10 row_is gone "failed,1" && ok gone-failed || fail gone-failed "$(row gone)"
until_true 10 row_is slow "pending,1" && ok slow-pending || fail slow-pending "$(row slow)"

grep -q "^/ok webhook:ok:$HELD 1 valid session.held$" "$HOOKS" && ok ok-delivered || fail ok-delivered "$(cat "$HOOKS")"
grep -q "^/flaky webhook:flaky:$HELD 1 valid session.held$" "$HOOKS" &&
  grep -q "^/flaky webhook:flaky:$HELD 2 valid session.held$" "$HOOKS" && ok flaky-500-then-200 ||
  fail flaky-500-then-200 "$(cat "$HOOKS")"
grep -q "invalid" "$HOOKS" && fail signatures "$(grep invalid "$HOOKS")" || ok signatures
grep -q "^/gone webhook:gone:$HELD 1 valid" "$HOOKS" && ok gone-delivered-once || fail gone-delivered-once "$(cat "$HOOKS")"
[ "$(grep -c "^/gone " "$HOOKS")" = 1 ] && ok gone-no-retry || fail gone-no-retry "$(grep "^/gone" "$HOOKS")"
FB=$(q "SELECT id FROM events WHERE kind='feedback.given' ORDER BY id DESC LIMIT 1")
until_true 10 grep -q "^/ok webhook:feedback:$FB 1 valid feedback.given$" "$HOOKS" && ok filter-feedback ||
  fail filter-feedback "$(cat "$HOOKS")"
grep -q "^/ok webhook:ok:[0-9]* [0-9]* valid feedback" "$HOOKS" && fail filter-kinds "ok got feedback" || ok filter-kinds
# The states say which: failed with the transport error, retrying with the next attempt.
q "SELECT last_error FROM outbox WHERE idempotency_key='webhook:dead:$HELD'" | grep -qi "connect" &&
  ok dead-error || fail dead-error "$(q "SELECT last_error FROM outbox WHERE idempotency_key='webhook:dead:$HELD'")"
[ "$(q "SELECT last_error FROM outbox WHERE idempotency_key='webhook:gone:$HELD'")" = "HTTP 410" ] && ok gone-error ||
  fail gone-error "$(q "SELECT last_error FROM outbox WHERE idempotency_key='webhook:gone:$HELD'")"
[ "$(q "SELECT CAST(strftime('%s', not_before) AS INTEGER) - CAST(strftime('%s', 'now') AS INTEGER) > 3000
        AND last_error IS NOT NULL FROM outbox WHERE idempotency_key='webhook:slow:$HELD'")" = 1 ] &&
  ok slow-next-attempt || fail slow-next-attempt "$(q "SELECT * FROM outbox WHERE idempotency_key='webhook:slow:$HELD'")"
run "$T" -C "$WS" outbox list
expect_rc outbox-list 0
# No feedback loop: the webhook rows' own events are never delivered.
sleep 1.5
[ "$(q "SELECT count(*) FROM outbox WHERE channel='webhook' AND body LIKE '%\"kind\":\"message.%'")" = 0 ] &&
  ok no-loop || fail no-loop "$(q "SELECT idempotency_key FROM outbox WHERE channel='webhook'")"
# tandem outbox send (the notifiers) never takes webhook rows.
q "UPDATE outbox SET not_before='2000-01-01T00:00:00Z' WHERE idempotency_key='webhook:slow:$HELD'"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; RC=$?; SERVE_PID=
expect_rc serve-stop 0
run "$T" -C "$WS" outbox send
expect_rc outbox-send 0
[ "$(row slow | cut -d, -f1)" = pending ] && ok notifiers-skip-webhooks || fail notifiers-skip-webhooks "$(row slow)"

# ---- the signature in shell, as docs/http.md shows -----------------------------------
SIG=$(cat "$HOOKS.sig")
TS=${SIG#t=}; TS=${TS%%,*}
V1=${SIG##*v1=}
MAC=$( (printf '%s.' "$TS"; cat "$HOOKS.body") | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //')
[ -n "$V1" ] && [ "$MAC" = "$V1" ] && ok openssl-verify || fail openssl-verify "'$MAC' vs '$V1' ($SIG)"
finish
