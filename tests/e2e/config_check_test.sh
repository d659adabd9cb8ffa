#!/usr/bin/env bash
# `qfscale config check`: exit 0 valid / 1 invalid (diagnostics on stderr as
# file:line:col: path: message) / 2 usage or unreadable; --show prints a config that checks clean.
set -euo pipefail
qfscale=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="config_check_test: "
example=$root/tests/data/config/example.yaml

"$qfscale" config check "$example" >"$tmp/out" 2>"$tmp/err" || fail "example should pass: $(cat "$tmp/err")"
grep -q "example.yaml: ok (3 services, 2 instances, metrics from prometheus)" "$tmp/out" \
  || fail "missing ok line: $(cat "$tmp/out")"

# A bad value, an unknown key and a broken policy file, all reported in one run.
cat >"$tmp/bad-policy.yaml" <<'YAML'
apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: bad}
spec: {target: {utilization: 2}}
YAML
cat >"$tmp/bad.yaml" <<'YAML'
apiVersion: qfscale/v1
kind: ControllerConfig
metrics: {qianfan: {window: 60s}}
instances: [{id: unit-a}]
services:
  - {id: svco-1, instances: [unit-a], policy: bad-policy.yaml}
loop:
  interval: 0s
  listn: 127.0.0.1:9464
YAML
set +e
"$qfscale" config check "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "invalid file: want exit 1, got $rc"
[ ! -s "$tmp/out" ] || fail "diagnostics belong on stderr, stdout has: $(cat "$tmp/out")"
grep -qx "$tmp/bad.yaml:8:13: loop.interval: 0s is out of range, must be in \[1s, 1h\]" "$tmp/err" \
  || fail "missing interval diagnostic: $(cat "$tmp/err")"
grep -q "^$tmp/bad.yaml:9:3: loop.listn: unknown field, did you mean 'listen'?" "$tmp/err" \
  || fail "missing unknown-key diagnostic: $(cat "$tmp/err")"
grep -q "^$tmp/bad.yaml:6:47: services\[0\].policy: policy $tmp/bad-policy.yaml is invalid" "$tmp/err" \
  || fail "missing policy reference diagnostic: $(cat "$tmp/err")"
grep -q "^$tmp/bad-policy.yaml:4:30: spec.target.utilization: 2 is out of range" "$tmp/err" \
  || fail "the policy's own diagnostic should name its file: $(cat "$tmp/err")"

set +e
"$qfscale" config check "$tmp/missing.yaml" >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "unreadable file: want exit 2, got $rc"
set +e
"$qfscale" config check >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "no FILE: want exit 2 (usage), got $rc"
set +e
"$qfscale" config check --bogus "$example" >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown option: want exit 2 (usage), got $rc"

"$qfscale" config check --show "$example" >"$tmp/shown.yaml"
grep -q 'policy: latency-first  # shipped policy latency-first' "$tmp/shown.yaml" || fail "--show lacks the policy"
grep -q 'policy: "'"$root"'/tests/data/config/policies/batch-nightly.yaml"  # policy batch-nightly' "$tmp/shown.yaml" \
  || fail "--show lacks the resolved policy file"
grep -q 'maxAttempts: 4' "$tmp/shown.yaml" || fail "--show lacks values"
grep -q 'maxRetryAfter: 30s' "$tmp/shown.yaml" || fail "--show lacks maxRetryAfter"
grep -q '# unitsPerReplica: not set' "$tmp/shown.yaml" || fail "--show lacks the unset keys"
"$qfscale" config check "$tmp/shown.yaml" >/dev/null || fail "--show output does not check clean"
"$qfscale" config check --help | grep -q "Exit status: 0 valid, 1 invalid, 2 usage" || fail "help lacks exit codes"

# A recording rule's gauge has no range to read the values' span from: valid, but the services
# sizing for a service level (balanced, the default) are named on stderr; with span set, quiet.
cat >"$tmp/gauge.yaml" <<'YAML'
apiVersion: qfscale/v1
kind: ControllerConfig
metrics: {prometheus: {url: "http://127.0.0.1:9090", query: "sum by (service) (svc:requests:rate1m)"}}
instances: [{id: unit-a}]
services: [{id: svco-1, instances: [unit-a]}, {id: svco-2, instances: [unit-a], policy: hpa-default}]
YAML
"$qfscale" config check "$tmp/gauge.yaml" >"$tmp/out" 2>"$tmp/err" || fail "gauge config: $(cat "$tmp/err")"
grep -q "gauge.yaml: warning: metrics.prometheus: the span of the values .* of 1 service sizing for target.slo (svco-1)" \
  "$tmp/err" || fail "no span warning: $(cat "$tmp/err")"
"$qfscale" config check --show "$tmp/gauge.yaml" 2>/dev/null | grep -q "# span: not set: read from each service's query; where there is none to read, each value counts as one tick's mean" ||
  fail "--show hides that the span is unknown"
sed -i 's|rate1m)"}}|rate1m)", span: 1m}}|' "$tmp/gauge.yaml"
"$qfscale" config check "$tmp/gauge.yaml" >"$tmp/out" 2>"$tmp/err" || fail "gauge config with span: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "span set, yet: $(cat "$tmp/err")"
echo "config_check_test: ok"
