#!/usr/bin/env bash
# The golden /metrics exposition (tests/data/golden/metrics.txt, written by the telemetry unit
# tests) passes `promtool check metrics`: valid text format 0.0.4 and Prometheus naming lint
# (base units, `_total` on counters, HELP on every family). $1 (the qfscale binary) is unused.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
golden=$root/tests/data/golden/metrics.txt
promtool=${PROMTOOL:-promtool}
if ! command -v "$promtool" >/dev/null; then
  echo "FAIL: promtool not found (install the Debian package prometheus, or set PROMTOOL)"
  exit 1
fi
[ -s "$golden" ] || { echo "FAIL: $golden is missing or empty"; exit 1; }
# promtool prints lint problems and exits non-zero on any of them.
if ! out=$("$promtool" check metrics <"$golden" 2>&1); then
  echo "FAIL: promtool check metrics $golden"
  echo "$out"
  exit 1
fi
# A lint problem printed without a failing exit status still fails here.
if [ -n "$out" ]; then
  echo "FAIL: promtool reported:"
  echo "$out"
  exit 1
fi
echo "promtool: $golden ok"
