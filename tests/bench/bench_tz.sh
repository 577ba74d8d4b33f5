#!/usr/bin/env bash
# bench_tz: time zone conversions per second, tzfile against the old setenv("TZ") switch
# measured in the same run (tests/bench/bench_tz.c). Usage: bench_tz.sh BUILD_DIR [N]
set -euo pipefail
BUILD=${1:?usage: bench_tz.sh BUILD_DIR [N]}
DRV=$BUILD/bench_tz
[ -x "$DRV" ] || { echo "bench_tz: $DRV not built (cmake --build $BUILD --target bench_tz)" >&2; exit 1; }
"$DRV" "${2:-200000}"
