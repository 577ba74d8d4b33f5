#!/usr/bin/env bash
# End-to-end tests for `tandem gen-org`: options and usage errors, output to
# stdout and to files, determinism (sha256), the survey file, failures that must
# leave no file behind, and that generated orgs import cleanly with
# `tandem import people`.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T=$TANDEM
D=$E2E_TMP/genorg
mkdir -p "$D"
HEADER='id,name,email,title,level,department,team,location,timezone,manager,birth_year,generation,hire_date,status,skills,topics_wanted,languages'
SURVEY_HEADER='person,role,capacity,topics_offered,topics_wanted,availability,consent'

sha() { sha256sum "$1" | cut -d' ' -f1; }

# --help, on stdout, exit 0
run "$T" gen-org --help
expect_rc help 0
expect_out help "--people N"
expect_out help "--survey-out FILE"
expect_out help "$HEADER"
run "$T" gen-org --people 5 -h
expect_rc help-anywhere 0

# Usage errors: exit 2, a message naming the problem, nothing on stdout
usage_case() { # NAME TEXT ARGS...
  local name=$1 text=$2; shift 2
  run "$T" gen-org "$@"
  expect_rc "$name" 2
  expect_err "$name" "$text"
  if [ -s "$OUT" ]; then fail "$name" "stdout not empty"; else ok "$name"; fi
}
usage_case missing-people "--people N is required"
usage_case zero-people "--people expects a whole number from 1 to 1000000" --people 0
usage_case not-a-number "got 'abc'" --people abc
usage_case trailing-junk "got '12x'" --people 12x
usage_case too-many "got '1000001'" --people 1000001
usage_case negative-seed "--seed expects" --people 10 --seed -1
usage_case unknown-option "unknown option '--bogus'" --people 10 --bogus
usage_case stray-argument "unexpected argument 'extra'" --people 10 extra
usage_case no-value "--people needs a value" --people
usage_case survey-without-out "--survey needs --survey-out" --people 10 --survey pilot
usage_case survey-out-alone "need --survey PROGRAM" --people 10 --survey-out "$D/s.csv"
usage_case survey-too-big "--survey-size 11 is more than the 10 people" \
  --people 10 --survey pilot --survey-out "$D/s.csv" --survey-size 11
usage_case survey-size-zero "--survey-size expects" \
  --people 10 --survey pilot --survey-out "$D/s.csv" --survey-size 0
usage_case same-file "name the same file" \
  --people 10 --out "$D/x.csv" --survey pilot --survey-out "$D/x.csv"
[ ! -e "$D/s.csv" ] && [ ! -e "$D/x.csv" ] && ok no-file-on-usage || fail no-file-on-usage "a file was written"

# To stdout: the header and one line per person, nothing on stderr
run "$T" gen-org --people 50 --seed 3
expect_rc stdout 0
cp "$OUT" "$D/stdout.csv"
[ "$(head -n1 "$D/stdout.csv")" = "$HEADER" ] && ok header || fail header "$(head -n1 "$D/stdout.csv")"
[ "$(wc -l <"$D/stdout.csv")" -eq 51 ] && ok line-count || fail line-count "$(wc -l <"$D/stdout.csv")"
[ ! -s "$ERR" ] && ok quiet || fail quiet "stderr: $(cat "$ERR")"
[ "$(sed -n 2p "$D/stdout.csv" | cut -d, -f1)" = E000001 ] && ok first-id || fail first-id "$(sed -n 2p "$D/stdout.csv")"

# To a file: same bytes, nothing on stdout; --opt=value works too
run "$T" gen-org --people=50 --seed=3 --out "$D/file.csv"
expect_rc out-file 0
[ ! -s "$OUT" ] && ok out-file-quiet || fail out-file-quiet "stdout not empty"
[ "$(sha "$D/file.csv")" = "$(sha "$D/stdout.csv")" ] && ok file-equals-stdout || fail file-equals-stdout "differ"
ls "$D"/file.csv.tmp* >/dev/null 2>&1 && fail no-temp-left "temporary file left" || ok no-temp-left

# Determinism: same N and seed, same bytes; another seed or N, other bytes
"$T" gen-org --people 2000 --seed 42 --out "$D/a.csv"
"$T" gen-org --people 2000 --seed 42 --out "$D/b.csv"
"$T" gen-org --people 2000 --seed 43 --out "$D/c.csv"
[ "$(sha "$D/a.csv")" = "$(sha "$D/b.csv")" ] && ok same-seed || fail same-seed "outputs differ"
[ "$(sha "$D/a.csv")" != "$(sha "$D/c.csv")" ] && ok other-seed || fail other-seed "outputs equal"
# The default seed is 1.
"$T" gen-org --people 100 --out "$D/d1.csv"
"$T" gen-org --people 100 --seed 1 --out "$D/s1.csv"
[ "$(sha "$D/d1.csv")" = "$(sha "$D/s1.csv")" ] && ok default-seed || fail default-seed "differ"
# Pinned digest: the output must not change across machines or builds unnoticed.
PINNED=$(sha "$D/s1.csv")
WANT=d71e729b6251c49e65074624af6ac3aeff23aa54a246d3e6466cdda49fd4690e
[ "$PINNED" = "$WANT" ] && ok pinned-digest || fail pinned-digest "sha256 of --people 100 --seed 1 is $PINNED"

# Unique ids and e-mails, every manager exists (awk over the CSV; names have no commas)
awk -F, 'NR > 1 { if (seen[$1]++) bad = "dup id " $1; if (mail[$3]++) bad = "dup email " $3;
  ids[$1] = 1; mgr[NR] = $10 }
  END { for (r in mgr) if (mgr[r] != "" && !(mgr[r] in ids)) bad = "unknown manager " mgr[r];
  if (bad != "") { print bad; exit 1 } }' "$D/a.csv" >"$D/awk.out"
[ $? -eq 0 ] && ok csv-consistent || fail csv-consistent "$(cat "$D/awk.out")"

# The survey: header, ~40% of the org, people from the org, deterministic per program
run "$T" gen-org --people 500 --seed 9 --out "$D/p500.csv" --survey pilot --survey-out "$D/s500.csv"
expect_rc survey 0
[ "$(head -n1 "$D/s500.csv")" = "$SURVEY_HEADER" ] && ok survey-header || fail survey-header "$(head -n1 "$D/s500.csv")"
[ "$(wc -l <"$D/s500.csv")" -eq 201 ] && ok survey-size || fail survey-size "$(wc -l <"$D/s500.csv")"
awk -F, 'NR == FNR { ids[$1] = 1; next } FNR > 1 && !($1 in ids) { print "unknown " $1; exit 1 }
  FNR > 1 && $2 != "mentor" && $2 != "mentee" && $2 != "both" { print "role " $2; exit 1 }
  FNR > 1 && $7 != "yes" && $7 != "no" { print "consent " $7; exit 1 }' \
  "$D/p500.csv" "$D/s500.csv" >"$D/awk.out"
[ $? -eq 0 ] && ok survey-consistent || fail survey-consistent "$(cat "$D/awk.out")"
"$T" gen-org --people 500 --seed 9 --out "$D/p500b.csv" --survey pilot --survey-out "$D/s500b.csv"
"$T" gen-org --people 500 --seed 9 --out "$D/p500c.csv" --survey other --survey-out "$D/s500c.csv" --survey-size 50
[ "$(sha "$D/s500.csv")" = "$(sha "$D/s500b.csv")" ] && ok survey-deterministic || fail survey-deterministic "differ"
[ "$(sha "$D/p500.csv")" = "$(sha "$D/p500c.csv")" ] && ok survey-keeps-org || fail survey-keeps-org "the org changed"
[ "$(wc -l <"$D/s500c.csv")" -eq 51 ] && ok survey-size-option || fail survey-size-option "$(wc -l <"$D/s500c.csv")"

# Failures: exit 1 with a message, and no file (not even the other one) left behind
run "$T" gen-org --people 10 --out "$D/no/such/dir/x.csv"
expect_rc unwritable 1
expect_err unwritable "cannot write '$D/no/such/dir/x.csv'"
run "$T" gen-org --people 10 --out "$D/half.csv" --survey pilot --survey-out "$D/no/such/s.csv"
expect_rc unwritable-survey 1
[ ! -e "$D/half.csv" ] && ok no-half-output || fail no-half-output "people file written anyway"
ls "$D"/half.csv.tmp* >/dev/null 2>&1 && fail no-temp-after-failure "temporary file left" || ok no-temp-after-failure
if [ -w /dev/full ]; then
  run "$T" gen-org --people 1000 --out /dev/full
  [ "$RC" -eq 1 ] && ok disk-full || fail disk-full "exit $RC"
  expect_err disk-full "cannot write '/dev/full'"
  [ -c /dev/full ] && ok device-kept || fail device-kept "/dev/full was replaced"
  run sh -c "\"$T\" gen-org --people 1000 >/dev/full"
  [ "$RC" -eq 1 ] && ok stdout-full || fail stdout-full "exit $RC"
  expect_err stdout-full "cannot write 'standard output'"
fi

# Generated orgs import cleanly (needs `tandem init` and `tandem import people`)
import_case() { # N
  local n=$1 ws
  "$T" gen-org --people "$n" --seed 5 --out "$D/imp$n.csv"
  ws=$(new_ws) || { fail "import-$n" "tandem init failed"; return; }
  run "$T" -C "$ws" import people "$D/imp$n.csv"
  expect_rc "import-$n" 0
  expect_out "import-$n" "imported $n people"
  local count managers
  count=$(sqlite3 "$ws/tandem.db" 'SELECT count(*) FROM people')
  managers=$(sqlite3 "$ws/tandem.db" 'SELECT count(*) FROM people WHERE manager_id IS NOT NULL')
  [ "$count" = "$n" ] && ok "import-$n-count" || fail "import-$n-count" "$count rows"
  [ "$managers" = "$((n - 1))" ] && ok "import-$n-managers" || fail "import-$n-managers" "$managers"
}
import_case 500
import_case 5000

# The survey imports as enrollments of the program `tandem init` declares
ws=$(new_ws) || fail survey-import "tandem init failed"
if [ -n "${ws:-}" ]; then
  prog=digital-2027
  "$T" gen-org --people 1000 --seed 8 --out "$D/p1000.csv" --survey "$prog" --survey-out "$D/s1000.csv"
  run "$T" -C "$ws" import people "$D/p1000.csv"
  expect_rc survey-import-people 0
  run "$T" -C "$ws" import enrollments --program "$prog" "$D/s1000.csv"
  expect_rc survey-import 0
  expect_out survey-import "imported 400 enrollments"
  got=$(sqlite3 "$ws/tandem.db" "SELECT count(*) FROM enrollments")
  [ "$got" = 400 ] && ok survey-import-count || fail survey-import-count "$got rows"
fi

finish
