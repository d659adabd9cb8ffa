#!/usr/bin/env bash
# The official Qianfan Node SDK (npm @baiducloud/qianfan 0.2.4, consoleAction) as a real client of
# `qfscale fake-qianfan`: the fake must accept the SDK's bce-auth-v1 signatures for the three
# actions qfscale drives, reject a wrong secret, and answer in the shapes the SDK returns.
# Usage: qianfan_sdk_test.sh path/to/qfscale
set -euo pipefail
qfscale=$1
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@baiducloud/qianfan" ]; then
  echo "the Node SDK is not installed: run 'bash .ci/setup' (npm ci in tests/interop)"
  exit 1
fi

tmp=$(mktemp -d)
fake_pid=
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

service=svco-interop00001
instance=unit-interop1
cat >"$tmp/scenario.yaml" <<YAML
startupDelay: 30s
modelUpdateDuration: 60s
instances:
  - {id: $instance, capacity: 8}
services:
  - id: $service
    name: interop-chat
    type: GPU-I-2
    qps: 5
    modelSetId: am-set001
    modelId: amv-ver001
    deployments: [{instanceId: $instance, replicas: 1}]
YAML

export QIANFAN_ACCESS_KEY=ak-interop-0123456789
export QIANFAN_SECRET_KEY=sk-interop-9876543210
# The fake prints its address on its first line; wait for that line (bounded), not for a time.
exec 3< <(exec "$qfscale" fake-qianfan --scenario "$tmp/scenario.yaml" --listen 127.0.0.1:0 2>&1)
fake_pid=$!
read -r -t 30 -u 3 first_line || { echo "FAIL: the fake did not start within 30 s"; exit 1; }
base_url=${first_line#listening on }
[[ $base_url == http://127.0.0.1:* ]] || { echo "FAIL: unexpected first line '$first_line'"; exit 1; }
export QIANFAN_CONSOLE_API_BASE_URL=$base_url

failures=0
call() {  # route action json -> one JSON line from sdk_call.cjs
  (cd "$here" && node sdk_call.cjs "$@")
}
field() {  # json_line js_expression_over_r -> value
  node -e 'const r = JSON.parse(process.argv[1]); console.log(eval(process.argv[2]))' "$1" "$2"
}
expect() {  # name got want
  if [ "$2" != "$3" ]; then
    echo "FAIL $1: got '$2', want '$3'"
    failures=$((failures + 1))
  else
    echo "ok   $1"
  fi
}

out=$(call /v2/service DescribeService "{\"serviceId\":\"$service\"}")
expect "DescribeService accepted" "$(field "$out" 'r.ok')" true
expect "DescribeService serviceId" "$(field "$out" 'r.response.result.serviceId')" "$service"
expect "DescribeService resource type" "$(field "$out" 'r.response.result.resourceConfig.type')" GPU-I-2
expect "DescribeService replicas" "$(field "$out" 'r.response.result.resourceConfig.replicasCount')" 1
expect "DescribeService requestId" "$(field "$out" 'typeof r.response.requestId')" string

out=$(call /v2/service ScaleService \
  "{\"serviceId\":\"$service\",\"instanceId\":\"$instance\",\"deploymentReplicasCount\":3}")
expect "ScaleService accepted" "$(field "$out" 'r.ok')" true
expect "ScaleService result" "$(field "$out" 'r.response.result')" true
out=$(call /v2/service DescribeService "{\"serviceId\":\"$service\"}")
expect "ScaleService took effect" "$(field "$out" 'r.response.result.resourceConfig.replicasCount')" 3

# 5 replicas x 2 units = 10 > 8: the SDK throws on the non-2xx reply, carrying status and body.
out=$(call /v2/service ScaleService \
  "{\"serviceId\":\"$service\",\"instanceId\":\"$instance\",\"deploymentReplicasCount\":5}")
expect "ScaleService over capacity refused" "$(field "$out" 'r.ok')" false
expect "refusal is HTTP 400" "$(field "$out" '/status = 400/.test(r.error)')" true
expect "refusal code" "$(field "$out" '/InsufficientComputeUnits/.test(r.error)')" true

out=$(call /v2/service ModifyService \
  "{\"serviceId\":\"$service\",\"modelSetId\":\"am-set001\",\"modelId\":\"amv-ver002\"}")
expect "ModifyService accepted" "$(field "$out" 'r.ok')" true
expect "ModifyService result" "$(field "$out" 'r.response.result')" true
out=$(call /v2/service DescribeService "{\"serviceId\":\"$service\"}")
expect "model update in progress" "$(field "$out" 'r.response.result.isModelUpdating')" true

out=$(QIANFAN_SECRET_KEY=sk-wrong-secret call /v2/service DescribeService \
  "{\"serviceId\":\"$service\"}")
expect "wrong secret refused" "$(field "$out" 'r.ok')" false
expect "wrong secret is SignatureDoesNotMatch" \
  "$(field "$out" '/SignatureDoesNotMatch/.test(r.error) && /status = 400/.test(r.error)')" true
expect "secret not echoed" "$(field "$out" '/sk-wrong-secret|sk-interop/.test(r.error)')" false

out=$(QIANFAN_ACCESS_KEY=ak-unknown call /v2/service DescribeService "{\"serviceId\":\"$service\"}")
expect "unknown access key is InvalidAccessKeyId" \
  "$(field "$out" '/InvalidAccessKeyId/.test(r.error) && /status = 403/.test(r.error)')" true

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "interop: the official Node SDK and the fake agree"
