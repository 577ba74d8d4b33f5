#!/usr/bin/env bash
# make demo: a fresh workspace, a synthetic org of 500 people, imported and shown.
set -euo pipefail
TANDEM=${1:-build/tandem}
echo "demo: not assembled yet" >&2
