#!/usr/bin/env bash
# End-to-end: `tandem outbox retry KEY|--all-failed [--json]`. A message that failed (here:
# its channel names no notifier, a permanent failure) is never sent again by `outbox send`;
# once the cause is fixed, retry puts it back to pending (attempts 0, event
# message.retried with the operator as actor) and the next send delivers it. One past its
# not_after expires instead (event message.expired), an expired one stays expired, each
# said; a KEY in another state or unknown is an error that changes nothing.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }
run "$T" gen-org --people 2 --seed 1 --out "$E2E_TMP/p.csv"
run "$T" -C "$WS" import people "$E2E_TMP/p.csv"
expect_rc people 0
# Three messages on a channel with no notifier; c may be sent until 2099.
q "INSERT INTO outbox (idempotency_key, kind, channel, recipient_id, body, not_before, not_after, created_at)
   VALUES ('job:t:a', 'job', 'nope', 1, 'hello', '2000-01-01T00:00:00Z', NULL, 'x'),
          ('job:t:b', 'job', 'nope', 1, 'hello', '2000-01-01T00:00:00Z', NULL, 'x'),
          ('job:t:c', 'job', 'nope', 1, 'hello', '2000-01-01T00:00:00Z', '2099-01-01T00:00:00Z', 'x')"
run "$T" -C "$WS" outbox send
expect_out "send fails them" "failed 3"
run "$T" -C "$WS" outbox send
expect_out "a failed one is not sent again" "sent 0, to retry 0, failed 0, expired 0"

# Errors: usage, unknown key, a key that did not fail; nothing changes.
D0=$(db_digest "$WS")
run "$T" -C "$WS" outbox retry
expect_rc "no key" 2
expect_err "no key: says" "give one message's KEY or --all-failed"
run "$T" -C "$WS" outbox retry job:t:a --all-failed
expect_rc "key and --all-failed" 2
run "$T" -C "$WS" outbox retry job:t:nope
expect_rc "unknown key" 1
expect_err "unknown key: says" "no message has the key 'job:t:nope'"
[ "$(db_digest "$WS")" = "$D0" ] && ok "errors change nothing" || fail "errors change nothing"

# The cause fixed (the channel now a built-in one); c's time has passed meanwhile.
q "UPDATE outbox SET channel = 'eml' WHERE idempotency_key LIKE 'job:t:%'"
q "UPDATE outbox SET not_after = '2001-01-01T00:00:00Z' WHERE idempotency_key = 'job:t:c'"
run "$T" -C "$WS" outbox retry job:t:a
expect_rc "retry a" 0
expect_out "retry a: says" "retried 'job:t:a' (eml): pending again"
expect_out "retry a: count" "retried 1, expired 0"
[ "$(q "SELECT status || ' ' || attempts FROM outbox WHERE idempotency_key = 'job:t:a'")" = "pending 0" ] &&
  ok "retry a: pending, attempts 0" || fail "retry a: pending" "$(q "SELECT status, attempts FROM outbox WHERE idempotency_key = 'job:t:a'")"
[ "$(q "SELECT actor FROM events WHERE kind = 'message.retried'")" = "${USER:-cli}" ] &&
  ok "retry a: event" || fail "retry a: event" "$(q "SELECT kind, actor FROM events WHERE kind = 'message.retried'")"
run "$T" -C "$WS" outbox retry job:t:a
expect_rc "retry a again: not failed" 1
expect_err "retry a again: says" "message 'job:t:a' is pending: only a failed message can be retried"

run "$T" -C "$WS" outbox retry --all-failed --json
expect_rc "retry all" 0
[ "$(jget "$OUT" '(d["retried"], d["expired"], [(m["key"], m["status"], m["changed"]) for m in d["messages"]])')" = \
  "(1, 1, [('job:t:b', 'pending', True), ('job:t:c', 'expired', True)])" ] && ok "retry all: json" ||
  fail "retry all: json" "$(cat "$OUT")"
[ "$(q "SELECT status FROM outbox WHERE idempotency_key = 'job:t:c'")" = expired ] &&
  [ "$(q "SELECT count(*) FROM events WHERE kind = 'message.expired'")" = 1 ] &&
  ok "retry all: c expired" || fail "retry all: c expired" "$(q "SELECT status FROM outbox WHERE idempotency_key = 'job:t:c'")"
run "$T" -C "$WS" outbox retry job:t:c
expect_rc "retry c: expired" 0
expect_out "retry c: stays expired" "not retried 'job:t:c' (eml): it is expired"
expect_out "retry c: count" "retried 0, expired 1"

run "$T" -C "$WS" outbox send
expect_out "the retried ones are sent" "sent 2, to retry 0, failed 0, expired 0"
[ "$(ls "$WS"/outbox/*.eml 2>/dev/null | wc -l)" = 2 ] && ok "two .eml files" || fail "two .eml files" "$(ls "$WS/outbox")"
run "$T" -C "$WS" outbox retry --all-failed
expect_out "nothing failed left" "retried 0, expired 0"

run "$T" outbox --help
expect_out "help names retry" "tandem outbox retry KEY|--all-failed [--json]"

finish
