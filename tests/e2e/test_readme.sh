#!/usr/bin/env bash
# README.md's tour runs as written: every command of the ```sh block under "## A
# short tour" is run, in order, in a fresh folder, and each must succeed (exit 0),
# so the README cannot show a command that does not work. Two lines are the build
# itself and are taken as done: `make` (this test runs the built binary) and
# `T=build/tandem`, which becomes T=$TANDEM. `| less` reads like `| cat` here
# (no terminal), and a listing cut short by `| head` may end by SIGPIPE (141).
# The two top commands, `make demo` and `make test`, stay as they are.
source "$(dirname "$0")/lib.sh"

README=$TANDEM_SRCDIR/README.md

# The tour: the lines of the first ```sh block after the heading.
TOUR=$E2E_TMP/tour.txt
awk '/^## A short tour/ { on = 1; next }
     on && /^```sh/ { inb = 1; next }
     inb && /^```/ { exit }
     inb { print }' "$README" >"$TOUR"
n=$(grep -cvE '^[[:space:]]*(#|$)' "$TOUR")
[ "$n" -ge 20 ] && ok "tour found ($n commands)" || fail "tour found" "only $n commands in README.md's tour"

# The two top commands, exactly.
grep -qE '^make demo   # ' "$README" && ok "make demo line" || fail "make demo line" "missing or changed"
grep -qE '^make test   # ' "$README" && ok "make test line" || fail "make test line" "missing or changed"

DIR=$E2E_TMP/tour
mkdir -p "$DIR"
cd "$DIR" || exit 1
# `less` at the end of a pipeline, as a reader without a terminal would see it.
less() { cat >/dev/null; }
export -f less

i=0
while IFS= read -r line; do
  i=$((i + 1))
  case $line in
    '' | '#'*) continue ;;
    'make' | 'make '*) ok "tour $i: built already"; continue ;;
    'T=build/tandem'*) line="T=\"\$TANDEM\"" ;;
  esac
  name="tour $i: ${line%%#*}"
  name=${name%"${name##*[![:space:]]}"}
  # Each line runs in this shell (T carries over), its output kept for a failure.
  eval "$line" >"$E2E_TMP/tour.out" 2>"$E2E_TMP/tour.err" </dev/null
  st=("${PIPESTATUS[@]}")
  rc=0
  for k in "${!st[@]}"; do
    s=${st[$k]}
    # A producer stopped by `| head` having read enough: not a failure.
    if [ "$s" = 141 ] && [[ $line == *"| head"* ]]; then s=0; fi
    [ "$s" != 0 ] && rc=$s
  done
  if [ "$rc" = 0 ]; then ok "$name"; else
    fail "$name" "exit $rc: $(head -c 600 "$E2E_TMP/tour.err")"
  fi
done <"$TOUR"

# What the tour says it leaves behind is there.
[ -f "$DIR/acme/tandem.lua" ] && ok "tour made acme" || fail "tour made acme" "no acme/tandem.lua"
[ -f "$DIR/acme/policies/mine.lua" ] && ok "tour made mine.lua" || fail "tour made mine.lua" "missing"
[ -s "$DIR/acme/matches.csv" ] && ok "tour exported matches" || fail "tour exported matches" "no acme/matches.csv"
[ -f "$DIR/scores.csv" ] && ok "tour made scores.csv" || fail "tour made scores.csv" "missing"
finish
