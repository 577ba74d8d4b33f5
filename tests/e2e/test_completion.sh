#!/usr/bin/env bash
# End-to-end: one definition of a completed pair (walk2 #8). Pairs end in every way: with the
# program (held sessions, and none), early with a reason starting with "completed" (held, and
# none), early for another reason, early with "Completed" (another reason: byte for byte).
# After `rewards dispatch`, the people holding the program's completion certificates are
# exactly the people the metrics funnel counts as completed, and ev.match.completed is what
# the built-in rule grants on.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
DB=$WS/tandem.db
q() { sqlite3 "$DB" "$1"; }

sed -i -e 's/starts = "[0-9-]*"/starts = "2020-01-06"/' -e 's/ends = "[0-9-]*"/ends = "2099-06-30"/' "$WS/tandem.lua"
seed_pairs "$WS" $P 120 11 || { finish; exit 1; }

# Six active pairs with no person in two of them, in match id order.
mapfile -t M < <(q "SELECT id FROM matches m WHERE status = 'active' AND NOT EXISTS (
  SELECT 1 FROM matches o WHERE o.id <> m.id AND o.status = 'active'
  AND (o.mentor_id IN (m.mentor_id, m.mentee_id) OR o.mentee_id IN (m.mentor_id, m.mentee_id)))
  ORDER BY id LIMIT 6")
[ "${#M[@]}" -eq 6 ] && ok six-pairs || { fail six-pairs "${#M[@]} disjoint pairs"; finish; exit 1; }
# Every other active pair ends early for another reason, so only the six matter.
for id in $(q "SELECT id FROM matches WHERE status = 'active' AND id NOT IN (${M[0]},${M[1]},${M[2]},${M[3]},${M[4]},${M[5]})"); do
  "$T" -C "$WS" match end "$id" --reason "moved teams" >/dev/null 2>&1 || fail "end $id"
done
# A held session in the past for M0, M1, M3, M4 (M2 and M5 never met).
for i in 0 1 3 4; do
  q "INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, status, created_at, updated_at)
     VALUES (${M[$i]}, '2024-03-04T10:00:00Z', 45, 'UTC', 'test', 'held', 'x', 'x')"
done
end() { run "$T" -C "$WS" match end "$1" --reason "$2"; expect_rc "end $1 $2" 0; }
end "${M[1]}" "completed early, goals met" # completed
end "${M[2]}" "completed early, goals met" # not: no held session
end "${M[3]}" "moved teams"                # not: another reason
end "${M[4]}" "Completed"                  # not: another reason (byte for byte)
# M0 and M5 end with the program: its end passes.
sed -i -e 's/ends = "[0-9-]*"/ends = "2021-06-30"/' "$WS/tandem.lua"
run "$T" -C "$WS" match activate --program $P
expect_rc program-over 0
[ "$(q "SELECT end_reason FROM matches WHERE id IN (${M[0]}, ${M[5]}) GROUP BY end_reason")" = "program ended" ] \
  && ok program-ended || fail program-ended "$(q "SELECT id, status, end_reason FROM matches WHERE id IN (${M[0]}, ${M[5]})")"

run "$T" -C "$WS" rewards dispatch
expect_rc dispatch 0
WANT=$(q "SELECT group_concat(x, ' ') FROM (SELECT p.external_id AS x FROM matches m JOIN people p
  ON p.id IN (m.mentor_id, m.mentee_id) WHERE m.id IN (${M[0]}, ${M[1]}) ORDER BY 1)")
CERT=$(q "SELECT group_concat(x, ' ') FROM (SELECT DISTINCT p.external_id AS x FROM rewards r
  JOIN people p ON p.id = r.person_id JOIN programs g ON g.id = r.program_id
  WHERE g.name = '$P' AND r.badge = 'certificate' AND r.revokes IS NULL ORDER BY 1)")
[ "$CERT" = "$WANT" ] && ok certificates || fail certificates "holders '$CERT', want '$WANT'"
run "$T" -C "$WS" metrics --program $P --json
expect_rc metrics 0
FUNNEL=$(jget "$OUT" 'd["funnel"]["completed"]')
NCERT=$(q "SELECT count(DISTINCT r.person_id) FROM rewards r JOIN programs g ON g.id = r.program_id
  WHERE g.name = '$P' AND r.badge = 'certificate' AND r.revokes IS NULL")
[ "$FUNNEL" = 4 ] && [ "$FUNNEL" = "$NCERT" ] && ok funnel-equals-certificates \
  || fail funnel-equals-certificates "funnel completed $FUNNEL, certificate holders $NCERT, want 4"
# active counts the completed ones too (nothing else is active any more).
[ "$(jget "$OUT" 'd["funnel"]["active"]')" = 4 ] && ok funnel-active || fail funnel-active "$(jget "$OUT" 'd["funnel"]')"

# A rule sees the core's verdict as ev.match.completed.
mkdir -p "$WS/plugins/rewards"
cat >"$WS/plugins/rewards/seen.lua" <<'LUA'
return tandem.reward{
  name = "seen", version = "1.0.0", api = 1, description = "records ev.match.completed",
  on = { ["match.ended"] = function(ev, ctx)
    local m = ev.match
    if not m or not m.mentor_id then return nil end
    return { { person_id = m.mentor_id, points = 1, reason = tostring(m.completed),
               key = "seen:" .. m.id } }
  end },
}
LUA
run "$T" -C "$WS" rewards dispatch --rule seen
expect_rc dispatch-seen 0
SEEN=$(for i in 0 1 2 3 4 5; do q "SELECT reason FROM rewards WHERE award_key = 'seen:seen:${M[$i]}'"; done | tr '\n' ' ')
[ "$SEEN" = "true true false false false false " ] && ok ev-match-completed || fail ev-match-completed "got '$SEEN'"
finish
