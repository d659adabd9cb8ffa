#!/usr/bin/env bash
# grafana/rules: `promtool check rules` accepts every rule file and the `promtool test rules`
# unit tests (grafana/rules/tests/*.yaml: every alert firing and not firing) pass.
# $1 (the qfscale binary) is unused.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
promtool=${PROMTOOL:-promtool}
command -v "$promtool" >/dev/null || { echo "FAIL: promtool not found (Debian package prometheus)"; exit 1; }
shopt -s nullglob
rules=("$root"/grafana/rules/*.yaml)
tests=("$root"/grafana/rules/tests/*.yaml)
[ ${#rules[@]} -gt 0 ] || { echo "FAIL: no rule files in grafana/rules"; exit 1; }
[ ${#tests[@]} -gt 0 ] || { echo "FAIL: no rule tests in grafana/rules/tests"; exit 1; }
"$promtool" check rules "${rules[@]}" || { echo "FAIL: promtool check rules"; exit 1; }
# Every alert defined must appear in the unit tests (firing and not firing cases are asserted
# there; this catches an alert added without any test).
mapfile -t alerts < <(sed -n "s/^ *- alert: *//p" "${rules[@]}")
[ ${#alerts[@]} -gt 0 ] || { echo "FAIL: no alerts in grafana/rules"; exit 1; }
for alert in "${alerts[@]}"; do
  grep -q "alertname: $alert\$" "${tests[@]}" || { echo "FAIL: alert $alert has no promtool test"; exit 1; }
  # At least one case expecting it not to fire, and one expecting it to fire.
  grep -A1 "alertname: $alert\$" "${tests[@]}" | grep -q 'exp_alerts: \[\]' ||
    { echo "FAIL: alert $alert has no not-firing case"; exit 1; }
  grep -A2 "alertname: $alert\$" "${tests[@]}" | grep -q 'exp_labels' ||
    { echo "FAIL: alert $alert has no firing case"; exit 1; }
done
(cd "$root/grafana/rules/tests" && "$promtool" test rules "${tests[@]}") || { echo "FAIL: promtool test rules"; exit 1; }
echo "ok: rules check and unit tests pass"
