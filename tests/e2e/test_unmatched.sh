#!/usr/bin/env bash
# End-to-end: every person a match run leaves unmatched has one reason (no consent,
# no allowed partner, lost to a better use of capacity), in `match run` (text and
# JSON) and `match unmatched`; the reasons add up to the unmatched count and the
# counts agree with the enrollment import.
. "$(dirname "$0")/lib.sh"

T=$TANDEM
P=digital-2027
WS=$(new_ws) || exit 1
PY=/usr/bin/python3

run "$T" gen-org --people 200 --seed 11 --out "$WS/people.csv" --survey $P --survey-out "$WS/survey.csv"
expect_rc gen-org 0
run "$T" -C "$WS" import people "$WS/people.csv"
expect_rc import-people 0
# One more mentee without consent than the generator makes, so the case is always there.
LAST=$(awk -F, 'NR == FNR { if (FNR > 1) in_survey[$1] = 1; next }
  FNR > 1 && $14 == "active" && !($1 in in_survey) { id = $1 } END { print id }' \
  "$WS/survey.csv" "$WS/people.csv")
[ -n "$LAST" ] && ok extra-person || fail extra-person "every person is enrolled"
echo "$LAST,mentee,,,ai_tools,mon-am,no" >>"$WS/survey.csv"
run "$T" -C "$WS" import enrollments "$WS/survey.csv" --program $P
expect_rc import-enrollments 0
IMPORTED=$(sed -n 's/.*, \([0-9]*\) mentees).*/\1/p' "$OUT")
[ -n "$IMPORTED" ] && ok import-count || fail import-count "no mentee count in: $(cat "$OUT")"
# Mentees without consent in the file (role mentee or both, consent no).
NOCONSENT=$(awk -F, 'NR > 1 && ($2 == "mentee" || $2 == "both") && $7 == "no"' "$WS/survey.csv" | wc -l)
[ "$NOCONSENT" -ge 1 ] && ok has-no-consent || fail has-no-consent "$NOCONSENT"

# JSON of a dry run: the reasons add up.
run "$T" -C "$WS" match run --program $P --dry-run --json
expect_rc run-json 0
cp "$OUT" "$E2E_TMP/run.json"
if $PY - "$E2E_TMP/run.json" "$IMPORTED" "$NOCONSENT" <<'PYEOF'; then ok run-json-adds-up; else fail run-json-adds-up "see above"; fi
import json, sys
d = json.load(open(sys.argv[1]))
imported, noconsent = int(sys.argv[2]), int(sys.argv[3])
r = d["unmatched_reasons"]
m = r["mentees"]
people = [p for p in r["people"] if p["side"] == "mentee"]
assert m["no_consent"] + m["no_allowed_partner"] + m["lost_to_better_use"] == m["total"], m
assert m["total"] == len(people), (m, len(people))
assert m["total"] == len(d["unmatched"]) + m["no_consent"], (m, len(d["unmatched"]))
assert m["no_consent"] == noconsent, (m, noconsent)
assert len(d["pairs"]) + len(d["unmatched"]) + m["no_consent"] == imported, (len(d["pairs"]), imported)
assert {p["id"] for p in people if p["reason"] != "no_consent"} == set(d["unmatched"])
for p in people:
    assert p["reason"] in ("no_consent", "no_allowed_partner", "lost_to_better_use"), p
    if p["reason"] == "no_allowed_partner":
        assert sum(p["removed"].values()) == d["mentors"], p
    if p["reason"] == "lost_to_better_use":
        assert p["best"]["id"] and isinstance(p["taken_by"], list), p
n = r["mentors"]
ment = [p for p in r["people"] if p["side"] == "mentor"]
assert n["no_consent"] + n["no_allowed_partner"] + n["lost_to_better_use"] == n["total"] == len(ment), n
for p in ment:
    if p["reason"] != "no_consent":
        assert p["used"] < p["capacity"], p
PYEOF

# Text of a real run lists each unmatched mentee with its reason.
run "$T" -C "$WS" match run --program $P
expect_rc run 0
expect_out run-proposed "mentees unmatched"
expect_out run-no-consent-line "more enrolled mentees without consent were not matched"
expect_out run-lists "unmatched mentees: "
expect_out run-lists-mentors "mentors with unused capacity: "
expect_out run-no-consent "$LAST ("
LISTED=$(grep -c '^  mentee ' "$OUT")
WANT=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["unmatched_reasons"]["mentees"]["total"])' "$E2E_TMP/run.json")
[ "$LISTED" = "$WANT" ] && ok run-text-lists-all || fail run-text-lists-all "listed $LISTED, want $WANT"
grep -q '^  mentee .*: no allowed partner (.* removed [0-9]' "$OUT" && ok run-text-removed ||
  fail run-text-removed "$(grep '^  mentee' "$OUT" | head -5)"

# match unmatched: the same counts, text and JSON.
run "$T" -C "$WS" match unmatched --program $P
expect_rc unmatched 0
expect_out unmatched-head "unmatched mentees: $WANT ("
[ "$(grep -c '^  mentee ' "$OUT")" = "$WANT" ] && ok unmatched-text-count || fail unmatched-text-count "$(cat "$OUT")"
run "$T" -C "$WS" match unmatched --program $P --json
expect_rc unmatched-json 0
GOT=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["mentees"]["total"])' "$OUT")
[ "$GOT" = "$WANT" ] && ok unmatched-json-count || fail unmatched-json-count "$GOT vs $WANT"

# A policy that allows no pair: everyone has no allowed partner, with the constraint named.
cat >"$WS/policies/nobody.lua" <<'LUA'
return tandem.policy{
  name = "nobody",
  version = "1.0.0",
  api = 1,
  require = {topic_fit = {min = 2}},
  weights = {topic_fit = 1},
}
LUA
run "$T" -C "$WS" match unmatched --program $P --policy nobody --json
if [ "$RC" -eq 0 ] && $PY - "$OUT" <<'PYEOF'; then ok nobody-all-no-partner; else fail nobody-all-no-partner "$(head -c 400 "$ERR")"; fi
import json, sys
d = json.load(open(sys.argv[1]))
m = d["mentees"]
assert m["lost_to_better_use"] == 0 and m["no_allowed_partner"] > 0, m
for p in d["people"]:
    if p["side"] == "mentee" and p["reason"] == "no_allowed_partner":
        assert any("topic_fit" in k for k in p["removed"]), p
PYEOF

# Progress: phases and counts on stderr when it is a terminal, nothing otherwise.
run "$T" -C "$WS" match run --program $P --dry-run
expect_rc progress-not-tty 0
[ ! -s "$ERR" ] && ok progress-not-tty-silent || fail progress-not-tty-silent "$(head -c 300 "$ERR")"
if command -v script >/dev/null 2>&1; then
  # script(1) gives the command a terminal; stdout goes to a file, stderr to the terminal.
  script -qec "'$T' -C '$WS' match run --program $P --dry-run >'$E2E_TMP/tty-out'" /dev/null \
    >"$E2E_TMP/tty" 2>&1
  for phase in "cohort (mentees): " "cohort (mentors): " "constraints and built-in scores (mentees): " \
               "solving (mentees): "; do
    grep -qF -- "$phase" "$E2E_TMP/tty" && ok "progress-tty-$phase" ||
      fail "progress-tty-$phase" "$(head -c 300 "$E2E_TMP/tty")"
  done
  grep -q "solving (mentees): \([0-9]*\)/\1 (100%)" "$E2E_TMP/tty" && ok progress-tty-done ||
    fail progress-tty-done "$(head -c 300 "$E2E_TMP/tty")"
  grep -qF "unmatched mentees: " "$E2E_TMP/tty-out" && ok progress-tty-stdout-intact ||
    fail progress-tty-stdout-intact "$(head -c 300 "$E2E_TMP/tty-out")"
  grep -qF "unmatched mentees: " "$E2E_TMP/tty" && fail progress-tty-only-stderr "stdout on the tty" ||
    ok progress-tty-only-stderr
fi

# compare: two or more policies, normalized scores beside each policy's own totals.
run "$T" -C "$WS" match compare --program $P --policy digital_upskilling --policy reciprocal \
  --policy inclusion_listening --json
expect_rc compare3-json 0
if $PY - "$OUT" <<'PYEOF'; then ok compare3-json-ok; else fail compare3-json-ok "$(head -c 300 "$OUT")"; fi
import json, sys
d = json.load(open(sys.argv[1]))
pols = d["policies"]
assert [p["policy"] for p in pols] == ["digital_upskilling", "reciprocal", "inclusion_listening"]
for p in pols:
    assert 0 <= p["normalized_mean"] <= 1, p
    assert 0 <= p["normalized_total"] <= p["matched"] + 1e-9, p
    assert p["score_range"]["min"] <= p["score_range"]["max"], p
    assert abs(p["normalized_mean"] * p["matched"] - p["normalized_total"]) < 1e-6, p
    assert "by_department" in p and "feature_means" in p and "total" in p
bp = d["pairs_in_common_by_pair"]
assert len(bp) == 3 and all(d["pairs_in_common"] <= x["pairs"] for x in bp), bp
assert bp[0]["policies"] == ["digital_upskilling", "reciprocal"], bp
PYEOF
cp "$OUT" "$E2E_TMP/compare3.json"
run "$T" -C "$WS" match compare --program $P --policy digital_upskilling --policy reciprocal \
  --policy inclusion_listening
expect_rc compare3 0
expect_out compare3-normalized "normalized_mean"
expect_out compare3-by-pair "pairs in common reciprocal / inclusion_listening: "
expect_out compare3-scale "rescaled to 0..1"
# The text shows the JSON's numbers, one column per policy.
if $PY - "$OUT" "$E2E_TMP/compare3.json" <<'PYEOF'; then ok compare3-text-numbers; else fail compare3-text-numbers "$(head -8 "$OUT")"; fi
import json, sys
rows = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1]) if len(l.split()) == 4}
d = json.load(open(sys.argv[2]))["policies"]
for j in range(3):
    assert rows["matched"][j] == "%d" % d[j]["matched"], rows["matched"]
    assert rows["normalized_mean"][j] == "%.4f" % d[j]["normalized_mean"], rows["normalized_mean"]
    assert rows["total"][j] == "%.4f" % d[j]["total"], rows["total"]
PYEOF
run "$T" -C "$WS" match compare --program $P --policy digital_upskilling
expect_rc compare-one-policy 2
expect_err compare-one-policy-msg "--policy A --policy B"

# The demo shows its three proposals: three rows and three explanations.
# DEMO_SIM_MONTHS=0: the demo without its simulated month (a minute of CPU; test_simulate
# covers simulate).
DEMO_WS="$E2E_TMP/demo-ws" DEMO_SIM_MONTHS=0 run bash "$TANDEM_SRCDIR/scripts/demo.sh" "$T"
expect_rc demo 0
# It ends with how to serve its dashboard and sign in (issue 12).
expect_out demo-dashboard-token "tokens create manager --scope manage"
expect_out demo-dashboard-serve "serve --http 127.0.0.1:8080"
sed -n '/^== Three proposals/,/^== Compare/p' "$OUT" >"$E2E_TMP/three"
[ "$(grep -c '^[0-9][0-9]* *E[0-9]* *E[0-9]* *proposed' "$E2E_TMP/three")" = 3 ] && ok demo-three-rows ||
  fail demo-three-rows "$(head -6 "$E2E_TMP/three")"
[ "$(grep -c '^\$ tandem match explain ' "$E2E_TMP/three")" = 3 ] && ok demo-three-explained ||
  fail demo-three-explained "$(grep -c 'match explain' "$E2E_TMP/three")"
expect_out demo-run-summary "unmatched mentees: "
# The demo names the program's HTML report (a whole page there), then ends with how to serve
# the workspace's dashboard: its last line is the command.
last=$(grep "^The program's report: " "$OUT" | tail -n 1)
[ "$last" = "The program's report: $(cd "$E2E_TMP/demo-ws" && pwd)/report.html" ] && ok demo-report-path ||
  fail demo-report-path "$last"
case $(tail -n 1 "$OUT") in
  *" -C $(cd "$E2E_TMP/demo-ws" && pwd) serve --http 127.0.0.1:8080 "*) ok demo-ends-with-serve ;;
  *) fail demo-ends-with-serve "$(tail -n 1 "$OUT")" ;;
esac
tail -c 200 "$E2E_TMP/demo-ws/report.html" 2>/dev/null | grep -q '</html>' && ok demo-report-page ||
  fail demo-report-page "no whole page at $E2E_TMP/demo-ws/report.html"
expect_out demo-report-summary "people enrolled"

run "$T" -C "$WS" match unmatched
expect_rc unmatched-no-program 2
run "$T" -C "$WS" match --help
expect_out help-unmatched "match unmatched --program P"

finish
