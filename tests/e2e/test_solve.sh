#!/usr/bin/env bash
# End-to-end: `tandem solve` on small CSV and .npy matrices with known answers
# (square, rectangular both ways, forbidden cells, capacities, maximize, the
# sparse solver, stable matching from both sides), the exact --json shape,
# --timing, every input error (exit 1, message naming the file) and every usage
# error (exit 2).
. "$(dirname "$0")/lib.sh"

T=$TANDEM
D=$E2E_TMP

# json NAME WANT: stdout, without spaces and newlines, equals WANT.
json() {
  local got; got=$(tr -d ' \n' <"$OUT")
  if [ "$got" = "$2" ]; then ok "$1"; else fail "$1" "got $got, want $2"; fi
}

# le32 V: V as 4 little-endian bytes (two's complement).
le32() {
  local v=$(( $1 & 0xffffffff ))
  printf "\\x$(printf %02x $((v & 255)))\\x$(printf %02x $(((v >> 8) & 255)))"
  printf "\\x$(printf %02x $(((v >> 16) & 255)))\\x$(printf %02x $(((v >> 24) & 255)))"
}

# npy FILE DESCR NR NC [INT32 VALUES...]: a version 1.0 .npy file as numpy writes it
# (header padded with spaces to a 64-byte boundary). Values are written as int32.
npy() {
  local f=$1 descr=$2 nr=$3 nc=$4; shift 4
  local hdr="{'descr': '$descr', 'fortran_order': False, 'shape': ($nr, $nc), }"
  local pad=$(( (64 - (10 + ${#hdr} + 1) % 64) % 64 ))
  local hl=$(( ${#hdr} + pad + 1 ))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((hl & 255)))\\x$(printf %02x $((hl >> 8)))"
    printf '%s%*s\n' "$hdr" "$pad" ''
    for v in "$@"; do le32 "$v"; done
  } >"$f"
}

# ---- assignment on CSV ---------------------------------------------------------
printf '4,1,3\n2,0,5\n3,2,2\n' >"$D/sq.csv"
run "$T" solve "$D/sq.csv"
expect_rc square 0
[ "$(cat "$OUT")" = "$(printf '0 1 1\n1 0 2\n2 2 2\ntotal: 5')" ] && ok square-out || fail square-out "$(cat "$OUT")"
run "$T" solve "$D/sq.csv" --json
expect_rc square-json 0
json square-json-shape '{"total":5.0,"pairs":[[0,1],[1,0],[2,2]],"unmatched_rows":[],"matched":3}'
run "$T" solve "$D/sq.csv" --maximize --json
json square-max '{"total":11.0,"pairs":[[0,0],[1,2],[2,1]],"unmatched_rows":[],"matched":3}'
run "$T" solve "$D/sq.csv" --sparse --json
json square-sparse '{"total":5.0,"pairs":[[0,1],[1,0],[2,2]],"unmatched_rows":[],"matched":3}'
[ ! -s "$ERR" ] && ok square-quiet || fail square-quiet "stderr: $(cat "$ERR")"

# Wide (2 x 3): every row matched; an empty cell forbids the pair.
printf '4,,3\n2,0,\n' >"$D/wide.csv"
run "$T" solve "$D/wide.csv" --json
json wide-forbidden '{"total":3.0,"pairs":[[0,2],[1,1]],"unmatched_rows":[],"matched":2}'
run "$T" solve "$D/wide.csv" --sparse --maximize --json
json wide-forbidden-sparse-max '{"total":5.0,"pairs":[[0,2],[1,0]],"unmatched_rows":[],"matched":2}'

# Tall (3 x 2): one row stays unmatched; the cheapest two rows take the columns.
printf '1,9\n9,1\n5,5\n' >"$D/tall.csv"
run "$T" solve "$D/tall.csv"
expect_rc tall 0
expect_out tall-total "total: 2"
expect_out tall-unmatched "unmatched: 2"
run "$T" solve "$D/tall.csv" --maximize --json
json tall-max '{"total":18.0,"pairs":[[0,1],[1,0]],"unmatched_rows":[2],"matched":2}'

# Forbidden cells that cap the cardinality: rows 0 and 1 both only accept column 0.
printf '1,\n2,\n3,4\n' >"$D/card.csv"
for mode in "" --sparse; do
  run "$T" solve "$D/card.csv" $mode --json
  json "cardinality$mode" '{"total":5.0,"pairs":[[0,0],[2,1]],"unmatched_rows":[1],"matched":2}'
done

# Capacities: column 0 takes two rows.
printf '1,5\n2,6\n9,3\n' >"$D/cap.csv"
printf '2\n1\n' >"$D/cap.txt"
printf '2,1\n' >"$D/cap2.csv"
for mode in "" --sparse; do
  run "$T" solve "$D/cap.csv" --capacities "$D/cap.txt" $mode --json
  json "capacities$mode" '{"total":6.0,"pairs":[[0,0],[1,0],[2,1]],"unmatched_rows":[],"matched":3}'
  run "$T" solve "$D/cap.csv" --capacities "$D/cap2.csv" $mode --json
  json "capacities-csv$mode" '{"total":6.0,"pairs":[[0,0],[1,0],[2,1]],"unmatched_rows":[],"matched":3}'
done
run "$T" solve "$D/cap.csv" --capacity 3 --maximize --json
json capacity-all '{"total":20.0,"pairs":[[0,1],[1,1],[2,0]],"unmatched_rows":[],"matched":3}'
run "$T" solve "$D/cap.csv" --capacity 0 --json
json capacity-zero '{"total":0.0,"pairs":[],"unmatched_rows":[0,1,2],"matched":0}'

# ---- .npy input ------------------------------------------------------------------
npy "$D/sq.npy" '<i4' 3 3 4 1 3 2 0 5 3 2 2
run "$T" solve "$D/sq.npy" --json
expect_rc npy 0
json npy-int-total '{"total":5,"pairs":[[0,1],[1,0],[2,2]],"unmatched_rows":[],"matched":3}'
run "$T" solve "$D/sq.npy" --maximize --sparse
expect_out npy-sparse-max "total: 11"
npy "$D/neg.npy" '<i4' 2 2 -5 -1 -2 -7
run "$T" solve "$D/neg.npy"
expect_out npy-negative "total: -12"
run "$T" solve "$D/sq.npy" --timing
expect_rc timing 0
if grep -Eq '^solve: [0-9]+\.[0-9]{3} s$' "$ERR"; then ok timing-line; else fail timing-line "$(cat "$ERR")"; fi

# ---- stable matching -----------------------------------------------------------------
# Rows: r0 c0>c1>c2, r1 c1>c0>c2, r2 c0>c1>c2 (lower is better). Columns: c0 r1>r0>r2,
# c1 r0>r1>r2, c2 r2>r0>r1. Rows proposing get (0,0),(1,1),(2,2); columns proposing
# get (0,1),(1,0),(2,2): both stable, each best for its proposing side.
printf '1,2,3\n2,1,3\n1,2,3\n' >"$D/rows.csv"
printf '2,1,2\n1,2,3\n3,3,1\n' >"$D/cols.csv"
run "$T" solve "$D/cols.csv" --stable --rows-prefer "$D/rows.csv"
expect_rc stable 0
[ "$(cat "$OUT")" = "$(printf '0 0 2\n1 1 2\n2 2 1\ntotal: 5\nblocking pairs: 0')" ] && ok stable-out ||
  fail stable-out "$(cat "$OUT")"
run "$T" solve "$D/cols.csv" --stable --rows-prefer "$D/rows.csv" --cols-propose --json
json stable-cols-propose '{"total":3.0,"pairs":[[0,1],[1,0],[2,2]],"unmatched_rows":[],"matched":3,"blocking_pairs":0}'
# The same preferences as scores where higher is better.
printf '9,8,7\n8,9,7\n9,8,7\n' >"$D/rows-max.csv"
printf '8,9,8\n9,8,7\n7,7,9\n' >"$D/cols-max.csv"
run "$T" solve "$D/cols-max.csv" --stable --rows-prefer "$D/rows-max.csv" --maximize --json
json stable-max '{"total":25.0,"pairs":[[0,0],[1,1],[2,2]],"unmatched_rows":[],"matched":3,"blocking_pairs":0}'
# Incomplete lists: row 0 does not accept column 1; column 0 prefers row 1.
printf '2,1\n1,2\n' >"$D/cv.csv"
printf '1,\n1,2\n' >"$D/rv.csv"
run "$T" solve "$D/cv.csv" --stable --rows-prefer "$D/rv.csv" --json
json stable-incomplete '{"total":1.0,"pairs":[[1,0]],"unmatched_rows":[0],"matched":1,"blocking_pairs":0}'
# Capacity: column 0 takes both rows that want it.
printf '1,2\n1,2\n' >"$D/rv2.csv"
run "$T" solve "$D/cv.csv" --stable --rows-prefer "$D/rv2.csv" --capacity 2 --json
json stable-capacity '{"total":3.0,"pairs":[[0,0],[1,0]],"unmatched_rows":[],"matched":2,"blocking_pairs":0}'
npy "$D/rows.npy" '<i4' 3 3 1 2 3 2 1 3 1 2 3
npy "$D/cols.npy" '<i4' 3 3 2 1 2 1 2 3 3 3 1
run "$T" solve "$D/cols.npy" --stable --rows-prefer "$D/rows.npy" --json
json stable-npy '{"total":5,"pairs":[[0,0],[1,1],[2,2]],"unmatched_rows":[],"matched":3,"blocking_pairs":0}'

# ---- input errors: exit 1, message names the file ------------------------------------
bad() { # bad NAME TEXT ARGS...
  local name=$1 text=$2; shift 2
  run "$T" solve "$@"
  expect_rc "$name" 1
  expect_err "$name-msg" "$text"
  [ ! -s "$OUT" ] && ok "$name-no-output" || fail "$name-no-output" "$(cat "$OUT")"
}
printf '1,2\n3\n' >"$D/ragged.csv"
printf '1,x\n' >"$D/word.csv"
printf '1,nan\n' >"$D/nan.csv"
printf '1 x\n' >"$D/badcap.txt"
printf '1 2 3\n' >"$D/longcap.txt"
mkdir -p "$D/dir.csv"
printf 'not numpy at all' >"$D/junk.npy"
npy "$D/big-endian.npy" '>i4' 1 1 1
npy "$D/short.npy" '<i4' 2 2 1 2 3
npy "$D/vec.npy" '<i4' 1 1 1
sed -i "s/(1, 1), }/(1,),   }/" "$D/vec.npy"
bad unknown-ext "x.xlsx: unknown file type (expected .npy or .csv)" "$D/x.xlsx"
bad missing "missing.csv: cannot open" "$D/missing.csv"
bad missing-npy "missing.npy: No such file" "$D/missing.npy"
bad directory "dir.csv:1: read error" "$D/dir.csv"
bad ragged "ragged.csv:2:2: row has 1 value, the first row has 2" "$D/ragged.csv"
: >"$D/empty.csv"
bad empty-csv "empty.csv: no rows: the file holds no matrix" "$D/empty.csv"
bad not-number "word.csv:1:2: not a finite number: 'x'" "$D/word.csv"
bad nan "nan.csv:1:2: not a finite number: 'nan'" "$D/nan.csv"
# A score beyond the solvers' bound (MATCH_SCORE_MAX, 1e290: sums and differences of
# scores must fit a double) is refused by name; the fuzzer's input, whose sparse duals
# used to fail their certificate.
OVF="$TANDEM_SRCDIR/tests/fuzz/regressions/solve-sparse-dual-overflow.csv"
BEYOND="score at row 1, column 1 is 9e+307, beyond the largest magnitude allowed (1e+290)"
bad score-bound "$BEYOND" "$OVF"
bad score-bound-sparse "score of row 1, column 1 is 9e+307, beyond" "$OVF" --sparse --maximize
printf '1,2\n5,-1e290\n' >"$D/at-bound.csv"
for mode in "" --sparse; do # accepted at the bound (1 + -1e290 is -1e290, printed at 17 digits)
  run "$T" solve "$D/at-bound.csv" $mode --json
  json "at-bound$mode" '{"total":-1.0000000000000001e290,"pairs":[[0,0],[1,1]],"unmatched_rows":[],"matched":2}'
done
bad npy-magic "junk.npy: not a .npy file (bad magic)" "$D/junk.npy"
bad npy-big-endian "big-endian.npy: big-endian data ('>i4') is not supported" "$D/big-endian.npy"
bad npy-short "short.npy: data is truncated" "$D/short.npy"
bad npy-1d "vec.npy: expected a 2-D matrix, got 1 dimension" "$D/vec.npy"
bad cap-count "cap.txt: 2 capacities for 3 columns" "$D/sq.csv" --capacities "$D/cap.txt"
bad cap-more "longcap.txt: more capacities than the 2 columns" "$D/tall.csv" --capacities "$D/longcap.txt"
bad cap-value "badcap.txt:1: bad capacity 'x'" "$D/tall.csv" --capacities "$D/badcap.txt"
bad cap-missing "nocap.txt: cannot open" "$D/tall.csv" --capacities "$D/nocap.txt"
bad stable-shape "tall.csv is 3 x 2 but" "$D/sq.csv" --stable --rows-prefer "$D/tall.csv"
bad stable-rows-missing "nothere.csv: cannot open" "$D/sq.csv" --stable --rows-prefer "$D/nothere.csv"

# ---- usage errors: exit 2 ---------------------------------------------------------------
usage() { # usage NAME TEXT ARGS...
  local name=$1 text=$2; shift 2
  run "$T" solve "$@"
  expect_rc "$name" 2
  expect_err "$name-msg" "$text"
}
usage no-file "missing FILE"
usage two-files "expected one FILE" "$D/sq.csv" "$D/sq.csv"
usage unknown-option "unknown option" "$D/sq.csv" --bogus
usage capacity-missing-arg "missing argument" "$D/sq.csv" --capacity
usage capacity-negative "--capacity expects a whole number" "$D/sq.csv" --capacity -1
usage capacity-word "--capacity expects a whole number" "$D/sq.csv" --capacity two
usage capacity-both "--capacity and --capacities exclude each other" "$D/sq.csv" --capacity 1 --capacities "$D/cap.txt"
usage stable-alone "--stable and --rows-prefer go together" "$D/sq.csv" --stable
usage rows-prefer-alone "--stable and --rows-prefer go together" "$D/sq.csv" --rows-prefer "$D/sq.csv"
usage cols-propose-alone "--cols-propose needs --stable" "$D/sq.csv" --cols-propose
usage stable-sparse "--sparse applies to assignment" "$D/sq.csv" --stable --rows-prefer "$D/sq.csv" --sparse

run "$T" solve --help
expect_rc help 0
for opt in --maximize --capacity --capacities --stable --rows-prefer --cols-propose --sparse --json --timing; do
  expect_out "help$opt" "$opt"
done

finish
