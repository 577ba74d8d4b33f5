#!/usr/bin/env bash
# Installs the Debian packages tandem needs to build, test, benchmark and fuzz.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

# Build, test and demo: the libraries, the sqlite3 shell (tests inspect databases with it)
# and python3 (the demo and some e2e checks parse JSON with it; python3-icalendar checks our .ics).
# libmicrohttpd serves the HTTP API on the service's loop; curl drives it in the e2e tests;
# libcurl (OpenSSL flavour) posts webhooks from the same loop through its multi interface.
# Debian's chromium renders the HTML report and the dashboard headless in the tests (the
# browser tests drive it with playwright-core from npm: tests/browser/setup.sh).
PKGS=(build-essential cmake pkg-config liblua5.4-dev libsqlite3-dev sqlite3
      libuv1-dev libjansson-dev libical-dev libmicrohttpd-dev libcurl4-openssl-dev
      libcmocka-dev tzdata python3 python3-icalendar curl chromium)
# `make bench` also compares against scipy, measures peak memory with GNU time and loads the
# HTTP API with wrk (keep-alive, latency percentiles; ab cannot keep MHD's connections alive).
# `make fuzz` builds with clang; libFuzzer and the sanitizer runtimes are in libclang-rt-dev,
# which clang only recommends. Only the fuzz target asks for them: `make test` does not pay.
case "${1:-}" in
  --bench) PKGS+=(python3-numpy python3-scipy time wrk) ;;
  --fuzz) PKGS+=(clang libclang-rt-dev) ;;
esac

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
