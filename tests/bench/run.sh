#!/usr/bin/env bash
# make bench: runs every benchmark in tests/bench/bench_*.sh against the build in $1.
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
for b in "$here"/bench_*.sh; do
  [ -e "$b" ] || continue
  bash "$b" "$BUILD"
done
