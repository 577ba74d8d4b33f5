#!/usr/bin/env bash
# Installs the browser tests' npm packages (package.json's exact versions of playwright-core
# and axe-core) into tests/browser/node_modules. Idempotent and quick: nothing is fetched when
# the pinned versions are there already. No lockfile is written (.npmrc), so no download
# address lands in the repository. Exits 0 when ready, 77 (the tests' skip code) with a
# message saying why when node, npm or the packages cannot be had.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "SKIP: node is not installed: no browser tests" >&2; exit 77; }

installed() {
  node -e '
    const fs = require("fs"), p = require(process.argv[1] + "/package.json");
    for (const [name, want] of Object.entries(p.dependencies)) {
      let have = null;
      try { have = JSON.parse(fs.readFileSync(`${process.argv[1]}/node_modules/${name}/package.json`, "utf8")).version; } catch {}
      if (have !== want) process.exit(1);
    }' "$here"
}
installed && exit 0
command -v npm >/dev/null || { echo "SKIP: npm is not installed: cannot install the browser tests' packages" >&2; exit 77; }
# One install at a time (ctest runs tests in parallel, and two build trees share this folder).
exec 9>"$here/.setup.lock"
flock -w 300 9 || { echo "SKIP: another setup held tests/browser/.setup.lock for 5 min" >&2; exit 77; }
installed && exit 0
echo "browser tests: npm install in tests/browser (playwright-core, axe-core)" >&2
if ! (cd "$here" && timeout 300 npm install --no-package-lock --ignore-scripts --no-audit --no-fund >&2); then
  echo "SKIP: npm install failed in tests/browser (no registry?): no browser tests" >&2
  exit 77
fi
installed || { echo "SKIP: tests/browser/node_modules lacks the pinned versions after npm install" >&2; exit 77; }
