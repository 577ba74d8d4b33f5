#!/usr/bin/env bash
# make bench: runs every benchmark in tests/bench/bench_*.sh against the build in $1.
# bench_soak.sh (the HTTP server under 10 minutes of mixed load) is the long one: it runs
# for SOAK_SECONDS (default 600); `SOAK_SECONDS=60 make bench` shortens it, SOAK_SECONDS=0
# leaves it out.
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
for b in "$here"/bench_*.sh; do
  [ -e "$b" ] || continue
  if [ "$(basename "$b")" = bench_soak.sh ] && [ "${SOAK_SECONDS:-600}" = 0 ]; then
    echo "bench_soak: skipped (SOAK_SECONDS=0)"
    continue
  fi
  bash "$b" "$BUILD"
done
