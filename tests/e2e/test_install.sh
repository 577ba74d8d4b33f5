#!/usr/bin/env bash
# make install works; the installed libtandem.so exports the public API (core/tandem.h)
# and nothing else; a program built only from the installed header, library and
# pkg-config file (docs/examples/embed.c) imports people and enrollments, loads a
# policy from a string and runs a match.
source "$(dirname "$0")/lib.sh"

if [ "${TANDEM_ASAN:-}" = "1" ]; then
  echo "skipped under sanitizers (the installed library would need the ASan runtime)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
BUILD=$(dirname "$TANDEM")
PREFIX="$E2E_TMP/prefix"
run cmake --install "$BUILD" --prefix "$PREFIX"
expect_rc "install" 0
for f in bin/tandem include/tandem.h share/tandem/policies; do
  if [ -e "$PREFIX/$f" ]; then ok "$f"; else fail "installed $f" "missing"; fi
done
pc=$(find "$PREFIX" -name tandem.pc | head -n1)
[ -n "$pc" ] && ok "tandem.pc" || fail "installed tandem.pc" "missing"
# (dirname of an empty path is ".", so the check must be on $pc, not on $libdir)
libdir=$(dirname "${pc:-/nonexistent/x}")/..
[ -e "$libdir/libtandem.a" ] && ok "libraries" || fail "libraries" "libtandem.a missing"
[ -e "$libdir/libtandem.so" ] && ok "shared library" || fail "shared library" "libtandem.so missing"

# ---- exported symbols: only tandem_*, and every function the header declares ----
run nm -D --defined-only "$libdir/libtandem.so"
expect_rc "nm -D" 0
exported=$(awk 'NF >= 3 {print $3}' "$OUT" | sed 's/@.*//' | sort -u)
others=$(printf '%s\n' "$exported" | grep -v '^tandem_' | grep -v '^$')
if [ -z "$others" ]; then ok "only tandem_* exported"
else fail "only tandem_* exported" "$(printf '%s\n' "$others" | wc -l) others: $(printf '%s ' $others | head -c 800)"; fi
[ "$(printf '%s\n' "$exported" | grep -c '^tandem_')" -ge 20 ] && ok "the API is exported" \
  || fail "the API is exported" "$(printf '%s ' $exported)"
declared=$(grep -o 'tandem_[a-z_]*(' "$PREFIX/include/tandem.h" | tr -d '(' | sort -u)
missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
[ -z "$missing" ] && ok "every declared function is exported" \
  || fail "every declared function is exported" "missing (no TANDEM_API?): $(printf '%s ' $missing)"

# The example is built from a copy, outside the source tree, with nothing but what
# pkg-config says about the installed files.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
run pkg-config --cflags --libs tandem
expect_rc "pkg-config knows tandem" 0
case "$(cat "$OUT")" in *"$TANDEM_SRCDIR"*) fail "pkg-config flags" "name the source tree: $(cat "$OUT")" ;; *) ok "pkg-config flags" ;; esac
mkdir -p "$E2E_TMP/example"
cp "$TANDEM_SRCDIR/docs/examples/embed.c" "$E2E_TMP/example/"
run cc -std=c11 -Wall -Wextra -Werror "$E2E_TMP/example/embed.c" \
  $(pkg-config --cflags --libs tandem) -o "$E2E_TMP/embed"
expect_rc "example compiles against the installed header" 0
LD_LIBRARY_PATH="$libdir" run ldd "$E2E_TMP/embed"
lib=$(awk '$1 ~ /^libtandem\.so/ {print $3}' "$OUT")
case "$lib" in "$libdir"/*|"$PREFIX"/*) ok "example links the installed library" ;;
  *) fail "example links the installed library" "libtandem from '$lib'" ;; esac

cat > "$E2E_TMP/people.csv" <<'CSV'
id,name,email,timezone,manager,level
E1,Ada Boss,ada@example.com,Europe/Paris,,9
E2,Bo Junior,bo@example.com,Asia/Kolkata,E1,2
CSV
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$E2E_TMP/ws0" "$E2E_TMP/people.csv"
expect_rc "example runs" 0
expect_out "imported people" "imported 2 people (2 new, 0 updated, 0 unchanged)"
expect_out "capacitated assignment" "assignment total 22: 0->0 1->1 2->1"

printf 'id,name,email,timezone\nE3,Cy,not-an-email,UTC\n' > "$E2E_TMP/bad.csv"
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$E2E_TMP/ws0" "$E2E_TMP/bad.csv"
expect_rc "bad file fails" 1
expect_err "error names file, line, column" "bad.csv:2:3: email"
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$E2E_TMP/ws0" "$E2E_TMP/people.csv"
expect_out "re-import through the library" "imported 2 people (0 new, 0 updated, 2 unchanged)"
[ "$(pkg-config --modversion tandem)" = "$(sed -n 's/^tandem \([0-9.]*\): .*/\1/p' "$OUT")" ] \
  && ok "tandem_version() is the installed tandem.pc version" \
  || fail "tandem_version()" "pkg-config says $(pkg-config --modversion tandem); $(head -n1 "$OUT")"

# ---- a match through the library: policy from a string ---------------------------------
# X1 manages J1 and X2 manages J2, and the example's policy forbids the reporting
# chain, so the only allowed matching is J2 -> X1, J1 -> X2. J1 wants to learn
# leadership, which X2 offers: the policy's Lua score adds 0.5 to that pair.
WS="$E2E_TMP/ws"
run "$PREFIX/bin/tandem" init "$WS"
expect_rc "init with the installed tandem" 0
cat > "$E2E_TMP/org.csv" <<'CSV'
id,name,email,timezone,manager,level,department,languages
X1,Exec One,x1@example.com,Europe/Paris,,9,Finance,en
X2,Exec Two,x2@example.com,Europe/Paris,,9,Sales,en
J1,Junior One,j1@example.com,Europe/Paris,X1,2,Finance,en
J2,Junior Two,j2@example.com,Europe/Paris,X2,2,Sales,en
CSV
cat > "$E2E_TMP/survey.csv" <<'CSV'
person,role,capacity,topics_offered,topics_wanted,availability,consent
J1,mentor,1,ai_tools,leadership,mon-am,yes
J2,mentor,1,ai_tools,,mon-am,yes
X1,mentee,,,ai_tools,mon-am,yes
X2,mentee,,leadership,ai_tools,mon-am,yes
CSV
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$WS" "$E2E_TMP/org.csv" digital-2027 "$E2E_TMP/survey.csv"
expect_rc "example matches" 0
expect_out "enrollments from memory" "imported 4 enrollments in digital-2027 (2 mentors, 2 mentees)"
expect_out "policy from a string" "policy embedded 1.0.0 loaded from a string"
expect_out "dry run" "dry run: 2 pairs, total 8.5000"
expect_out "proposal J2 -> X1" "proposal J2 -> X1: score 4.0000 (built-in 4.0000 + lua 0.0000)"
expect_out "proposal J1 -> X2" "proposal J1 -> X2: score 4.5000 (built-in 4.0000 + lua 0.5000)"
expect_out "per-feature explanation" "  topic_fit              value 1.000 x weight 3 = +3.000"
expect_out "stored run" "stored 2 proposals (with a run id)"
expect_out "listing" '"mentee":{"id":"X2","name":"Exec Two"},"status":"proposed"'
ls -a "$WS" | grep -q '^\.tandem-policy' && fail "policy file removed" "$(ls -a "$WS")" || ok "policy file removed"
# The installed CLI sees what the library stored.
run "$PREFIX/bin/tandem" -C "$WS" match list --program digital-2027
expect_rc "list with the CLI" 0
if grep -Eq '^1 +J2 +X1 +proposed +4\.0000 +embedded' "$OUT" && grep -Eq '^2 +J1 +X2 +proposed +4\.5000 +embedded' "$OUT"; then
  ok "the CLI lists the stored proposals"
else fail "the CLI lists the stored proposals" "$(cat "$OUT")"; fi
# An unknown program: exit 1, the message names the program and the declared ones.
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$WS" "$E2E_TMP/org.csv" nope "$E2E_TMP/survey.csv"
expect_rc "unknown program fails" 1
expect_err "unknown program named" "no program named 'nope' (declared: digital-2027)"
finish
