#!/usr/bin/env bash
# make install works, and a program built only from the installed header, library
# and pkg-config file (docs/examples/embed.c) can use libtandem.
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

export PKG_CONFIG_PATH="$libdir/pkgconfig"
run pkg-config --cflags --libs tandem
expect_rc "pkg-config knows tandem" 0
run cc -std=c11 -Wall -Wextra -Werror "$TANDEM_SRCDIR/docs/examples/embed.c" \
  $(pkg-config --cflags --libs tandem) -o "$E2E_TMP/embed"
expect_rc "example compiles against the installed header" 0

cat > "$E2E_TMP/people.csv" <<'CSV'
id,name,email,timezone,manager,level
E1,Ada Boss,ada@example.com,Europe/Paris,,9
E2,Bo Junior,bo@example.com,Asia/Kolkata,E1,2
CSV
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$E2E_TMP/embed.db" "$E2E_TMP/people.csv"
expect_rc "example runs" 0
expect_out "imported people" "imported 2 people (2 new, 0 updated, 0 unchanged)"
expect_out "capacitated assignment" "assignment total 22: 0->0 1->1 2->1"

printf 'id,name,email,timezone\nE3,Cy,not-an-email,UTC\n' > "$E2E_TMP/bad.csv"
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$E2E_TMP/embed.db" "$E2E_TMP/bad.csv"
expect_rc "bad file fails" 1
expect_err "error names file, line, column" "bad.csv:2:3: email"
LD_LIBRARY_PATH="$libdir" run "$E2E_TMP/embed" "$E2E_TMP/embed.db" "$E2E_TMP/people.csv"
expect_out "re-import through the library" "imported 2 people (0 new, 0 updated, 2 unchanged)"
finish
