#!/usr/bin/env bash
# make demo: one reverse-mentoring program from scratch, on a synthetic org.
# Creates ./demo-workspace afresh, generates and imports 500 people and their
# sign-up survey, matches the program with its policy, and shows the result.
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

step "Done"
echo "Workspace: $(pwd). Try: $TANDEM -C $(pwd) people show E000001"
