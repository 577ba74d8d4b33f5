#!/usr/bin/env bash
# ctest's entry for one browser test: run.sh test_NAME.mjs. Skips (exit 77, with the reason)
# where Debian's chromium, node or the npm packages are missing; otherwise installs the
# packages if needed (setup.sh) and runs the test with node, its screenshots going to
# $TANDEM_ARTIFACTS (the build tree's test-artifacts/browser/).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
  echo "SKIP: chromium is not installed (scripts/deps.sh installs Debian's chromium): no browser test" >&2
  exit 77
fi
export CHROMIUM
bash "$here/setup.sh" || exit $?
exec timeout -k 10 "${BROWSER_TEST_TIMEOUT:-280}" node "$here/$1"
