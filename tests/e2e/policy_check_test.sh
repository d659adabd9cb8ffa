#!/usr/bin/env bash
# `qfscale policy check`: exit 0 all valid / 1 any invalid / 2 any unreadable; diagnostics as
# file:line:col: path: message; --show prints the effective policy, which checks clean again.
set -euo pipefail
qfscale=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="policy_check_test: "

"$qfscale" policy check "$root"/policies/*.yaml >"$tmp/out" || fail "shipped policies should pass"
grep -q "balanced.yaml: ok (policy balanced)" "$tmp/out" || fail "missing ok line"

printf 'apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: bad}\nspec:\n  target: {utilization: 1.5}\n  metricWindow: 60\n' >"$tmp/bad.yaml"
set +e
"$qfscale" policy check "$tmp/bad.yaml" >"$tmp/out" 2>&1; rc=$?
set -e
[ $rc -eq 1 ] || fail "invalid file: want exit 1, got $rc"
grep -qx "$tmp/bad.yaml:5:25: spec.target.utilization: 1.5 is out of range, must be in (0, 1\]" "$tmp/out" \
  || fail "missing utilization diagnostic: $(cat "$tmp/out")"
grep -q "^$tmp/bad.yaml:6:17: spec.metricWindow: 60 has no unit" "$tmp/out" || fail "missing duration diagnostic"

set +e
"$qfscale" policy check "$tmp/bad.yaml" "$tmp/missing.yaml" >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "unreadable file: want exit 2, got $rc"

"$qfscale" policy check --show "$root/policies/business-hours.yaml" >"$tmp/shown.yaml"
grep -q 'timezone: "Asia/Shanghai"' "$tmp/shown.yaml" || fail "--show lacks the schedule"
grep -q 'activationQps: 0.5' "$tmp/shown.yaml" || fail "--show lacks defaults"
"$qfscale" policy check "$tmp/shown.yaml" >/dev/null || fail "--show output does not check clean"
echo "policy_check_test: ok"
