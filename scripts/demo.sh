#!/usr/bin/env bash
# make demo: one reverse-mentoring program from scratch, on a synthetic org.
# Creates ./demo-workspace afresh, generates and imports 500 people and their
# sign-up survey, matches the program with its policy, approves the proposals,
# starts the program, plans its sessions, exports a calendar, simulates a
# month of it on a copy kept in the workspace's simulation/ folder (a simulated
# month of the demo's ~76 pairs costs about a minute of CPU today, see
# docs/performance.md, so six months are left to the reader: the last line says
# how), and ends with the program's HTML report, built from the simulated month,
# written to the workspace as report.html, with its path and a short summary.
set -euo pipefail
TANDEM=$(realpath "${1:-build/tandem}")
WS=${DEMO_WS:-demo-workspace}
PROGRAM=digital-2027

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "tandem $*"; "$TANDEM" "$@"; }

rm -rf "$WS"
step "Create a workspace for the client"
show init "$WS"
cd "$WS"

step "The program the config (tandem.lua) declares"
show programs list

step "Generate a synthetic org of 500 people and the program's sign-up survey"
show gen-org --people 500 --seed 2027 --out people.csv --survey "$PROGRAM" --survey-out survey.csv
printf '%s people rows, %s survey rows written\n' "$(($(wc -l < people.csv) - 1))" "$(($(wc -l < survey.csv) - 1))"

step "Validate, then import the HR export (all-or-nothing)"
show import people people.csv --dry-run
show import people people.csv
show people list | sed -n 1,8p
echo "..."

step "Import the sign-up survey"
show import enrollments survey.csv --program "$PROGRAM"

step "Propose matches with the program's policy (stored for review)"
# The summary, the unmatched counts and the first reasons (`match unmatched` lists them all).
show match run --program "$PROGRAM" | sed -n 1,8p
echo "..."

step "Three proposals, explained"
# Line 1 is the "$ tandem ..." that show prints, then the header and three rows.
show match list --program "$PROGRAM" --status proposed | sed -n 1,5p
for id in $("$TANDEM" match list --program "$PROGRAM" --status proposed --json |
            /usr/bin/python3 -c 'import json,sys; print(" ".join(str(m["id"]) for m in json.load(sys.stdin)[:3]))'); do
  show match explain "$id"
done

step "Compare two policies on the same cohort"
show match compare --program "$PROGRAM" --policy digital_upskilling --policy cross_department

step "Approve every proposal (one transaction)"
show match approve --all --program "$PROGRAM" | tail -n 1

step "Start the program today, so the approved pairs become active"
# The template's program starts on 2027-01-11; the demo moves its start to today.
sed -i "s/starts = \"[0-9-]*\"/starts = \"$(date -u +%F)\"/" tandem.lua
grep -n 'starts = ' tandem.lua
show match activate --program "$PROGRAM"

step "Plan the sessions by the program's cadence (8 weeks ahead)"
show sessions plan --program "$PROGRAM" | sed -n 1,4p
echo "..."
show sessions list --program "$PROGRAM" | sed -n 1,6p
echo "..."
first=$("$TANDEM" sessions list --program "$PROGRAM" --json |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
show sessions show "$first"

step "Export the program's calendar (RFC 5545)"
show calendar export --program "$PROGRAM" --out "$PROGRAM.ics"
printf '%s events in %s\n' "$(grep -c '^BEGIN:VEVENT' "$PROGRAM.ics")" "$PROGRAM.ics"

# DEMO_SIM_MONTHS=0 leaves the simulation out (tests/e2e/test_unmatched.sh runs this demo);
# the report is then built from the workspace itself (sessions planned, none held yet).
SIM_MONTHS=${DEMO_SIM_MONTHS:-1}
REPORT_WS=.
AS_OF=()
if [ "$SIM_MONTHS" != 0 ]; then
  step "Simulate a month on a copy (the service's jobs, synthetic participants), kept in simulation/"
  show simulate --program "$PROGRAM" --months "$SIM_MONTHS" --seed 1 --keep simulation | tee simulate.txt
  REPORT_WS=simulation
  # The copy's clock ran a month ahead: its report is taken as of the copy's last day.
  AS_OF=(--as-of "$(sed -n "s/^the copy's last day is \([0-9-]*\):.*/\1/p" simulate.txt)")
  rm -f simulate.txt
  # The service's monthly-reports job ran in the simulated month: the month it closed.
  find simulation/reports -name '*.html' 2>/dev/null | sort | sed 's/^/published by the monthly-reports job: /'
fi

step "The program's report for leadership (HTML, charts inline)"
show -C "$REPORT_WS" report --program "$PROGRAM" "${AS_OF[@]}" --format html --out "$(pwd)/report.html"
# A short summary: the Markdown form's title, date line and the "at a glance" sentence.
show -C "$REPORT_WS" report --program "$PROGRAM" "${AS_OF[@]}" --format md |
  grep -E '^(\$ |# |\*[^*(]|[0-9]+ people enrolled)'

step "Done"
echo "Workspace: $(pwd) (unchanged by the simulation: $("$TANDEM" sessions list --program "$PROGRAM" --json |
  /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') sessions planned)."
echo "Try: $TANDEM -C $(pwd) people show E000001"
echo "     $TANDEM -C $(pwd) simulate --program $PROGRAM --months 6 --seed 1   # about 10 s"
echo "     docs/tutorial.md: from an empty folder to the report of your own tailored program"
echo "The program's report: $(pwd)/report.html"
echo
echo "The program manager's dashboard (docs/dashboard.md): make a token, serve, sign in with it:"
echo "  $TANDEM -C $(pwd) tokens create manager --scope manage   # prints the token once"
echo "  $TANDEM -C $(pwd) serve --http 127.0.0.1:8080   # open http://127.0.0.1:8080/ and paste the token"
