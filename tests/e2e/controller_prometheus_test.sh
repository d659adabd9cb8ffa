#!/usr/bin/env bash
# The whole product on loopback with real processes: `qfscale fake-qianfan` (API + traffic
# endpoint + /metrics), `qfscale loadgen` replaying a step trace at the traffic endpoint, a real
# Prometheus (Debian package) scraping the fake and the controller, and `qfscale run` reading QPS
# from that Prometheus and scaling the fake. Load rises -> replicas rise; load falls -> replicas
# fall after the scale-down window; /metrics passes `promtool check metrics`; Prometheus scraped
# the controller; the audit log and state file record what happened; SIGTERM exits 0.
# Waits poll the observed state with a deadline; nothing waits a fixed time.
# Usage: controller_prometheus_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
prometheus=${PROMETHEUS:-/usr/bin/prometheus}
promtool=${PROMTOOL:-promtool}
for tool in "$prometheus" "$promtool" curl node; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (.ci/setup installs it)"; exit 1; }
done

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=(fake.err controller.out controller.err prometheus.log loadgen.out)

service=svco-e2etestsvc01
instance=unit-e2etst01
cat >"$tmp/scenario.yaml" <<YAML
startupDelay: 1s
instances: [{id: $instance, capacity: 40}]
services:
  - id: $service
    name: e2e
    type: GPU-I-2
    qps: 5
    deployments: [{instanceId: $instance, replicas: 1}]
YAML

# 1. The fake. Its stdout: address, then export lines with throwaway credentials.
start_fake --scenario "$tmp/scenario.yaml"

# 2. The controller, reading QPS from that Prometheus. Short windows keep the test quick. It
#    sizes for a service level as `balanced` does: 30 qps at 5 qps per replica needs more than
#    6 replicas. The burstiness comes from the query's values, each a 6 s rate ([6s]), and the
#    fit over the last 60 s; after the fall the step leaves that window within a minute.
cat >"$tmp/policy.yaml" <<'YAML'
apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: e2e}
spec:
  target: {slo: {wait: 5s, attainment: 99%}, tolerance: 0.1}
  forecast: {enabled: false, window: 60s}
  replicas: {min: 1, max: 12}
  metricWindow: 4s
  panic: {enabled: false}
  scaleUp: {stabilizationWindow: 0s, select: Max, policies: [{type: Percent, value: 900, period: 4s}]}
  scaleDown: {stabilizationWindow: 10s, select: Max, policies: [{type: Percent, value: 100, period: 4s}]}
YAML
# A free port for Prometheus (it cannot report a port 0 choice); retried below if taken.
prom_port=$(free_port)
cat >"$tmp/qfscale.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url", timeout: 5s, maxAttempts: 2}
metrics:
  prometheus:
    url: http://127.0.0.1:$prom_port
    query: sum by (service) (rate(qfscale_fake_requests_total[6s]))
    timeout: 2s
    staleness: 30s
instances: [{id: $instance}]
services: [{id: $service, policy: policy.yaml, instances: [$instance]}]
loop: {interval: 2s, listen: "127.0.0.1:0", stateFile: state.json, auditLog: audit.jsonl}
YAML
"$qfscale" config check "$tmp/qfscale.yaml" || fail "config check rejected the test config"
mkfifo "$tmp/controller.fifo"
"$qfscale" run --config "$tmp/qfscale.yaml" >"$tmp/controller.fifo" 2>"$tmp/controller.err" &
controller_pid=$!
pids+=($controller_pid)
exec 4<"$tmp/controller.fifo"
IFS= read -r -t 30 first <&4 || fail "the controller did not start"
controller_url=${first#listening on }
cat <&4 >"$tmp/controller.out" &
pids+=($!)

# 3. Prometheus scraping both, every second.
start_prometheus() {
  cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: fake
    static_configs: [{targets: ["${fake_url#http://}"]}]
  - job_name: qfscale
    static_configs: [{targets: ["${controller_url#http://}"]}]
YAML
  "$prometheus" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
  prometheus_pid=$!
  pids+=($prometheus_pid)
}
prometheus_ready() { curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null; }
start_prometheus
deadline=$((SECONDS + 60))
until prometheus_ready; do
  if ! kill -0 "$prometheus_pid" 2>/dev/null; then
    # The port was taken between choosing and binding: choose again (the controller's config
    # names the port, so it is rewritten and reloaded with SIGHUP).
    grep -q "address already in use" "$tmp/prometheus.log" || fail "prometheus exited"
    prom_port=$(free_port)
    sed -i "s|url: http://127.0.0.1:[0-9]*|url: http://127.0.0.1:$prom_port|" "$tmp/qfscale.yaml"
    kill -HUP "$controller_pid"
    start_prometheus
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "prometheus not ready"
  sleep 0.5
done

# 4. Load: 2 qps for 10 s, 30 qps for 30 s, then 2 qps for 60 s.
{
  echo "t_seconds,qps"
  for t in $(seq 0 99); do
    if [ "$t" -ge 10 ] && [ "$t" -lt 40 ]; then echo "$t,30"; else echo "$t,2"; fi
  done
} >"$tmp/step.csv"
"$qfscale" loadgen --target "$fake_url/traffic/$service" --trace "$tmp/step.csv" \
  --report-every 10s >"$tmp/loadgen.out" 2>&1 &
pids+=($!)

fake_replicas() {
  curl -sf "$fake_url/metrics" |
    awk -v s="qfscale_fake_replicas{service=\"$service\"}" '$1 == s { print $2 }'
}
replicas_at_least() { local r; r=$(fake_replicas) && [ "${r:-0}" -ge "$1" ]; }
replicas_at_most() { local r; r=$(fake_replicas) && [ -n "$r" ] && [ "$r" -le "$1" ]; }

wait_until 45 "replicas >= 7 under 30 qps" replicas_at_least 7
echo "ok: load rose, replicas rose to $(fake_replicas) (t=${SECONDS}s)"
# The engine was told the span of Prometheus' values, read from the query's [6s].
curl -sf "$controller_url/api/v1/decisions/$service" >"$tmp/decision.json" ||
  fail "GET /api/v1/decisions/$service"
grep -q 'variance [0-9.e+]*/s from 6s means' "$tmp/decision.json" ||
  fail "the decision does not size from 6 s means: $(head -c 2000 "$tmp/decision.json")"
echo "ok: SLO sizing read the burstiness of 6 s rates, as the query's [6s] says"
wait_until 110 "replicas <= 2 after the load fell" replicas_at_most 2
echo "ok: load fell, replicas fell to $(fake_replicas) (t=${SECONDS}s)"

# 5. The controller's /metrics is valid exposition and Prometheus scraped it.
curl -sf "$controller_url/metrics" >"$tmp/metrics.txt" || fail "GET /metrics"
out=$("$promtool" check metrics <"$tmp/metrics.txt" 2>&1) || fail "promtool check metrics: $out"
[ -z "$out" ] || fail "promtool check metrics reported: $out"
grep -qE "^qfscale_scale_operations_total\{direction=\"up\",result=\"applied\",service=\"$service\"\} [1-9]" \
  "$tmp/metrics.txt" || fail "no applied scale-up of $service counted in /metrics"
query="qfscale_service_desired_replicas{service=\"$service\"}"
curl -sfG "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$query" \
  >"$tmp/query.json" || fail "querying prometheus"
grep -q '"result":\[{' "$tmp/query.json" || fail "prometheus has no controller series: $(cat "$tmp/query.json")"
curl -sf "$controller_url/readyz" >/dev/null || fail "/readyz not ready"
curl -sf "$controller_url/api/v1/decisions/$service" | grep -q "\"service\":\"$service\"" ||
  fail "/api/v1/decisions/$service"
echo "ok: /metrics passes promtool, Prometheus scraped the controller, decisions served"

# 6. SIGTERM: exit 0 with the state saved; the audit log has decisions and applied scale calls.
kill -TERM "$controller_pid"
wait "$controller_pid" || fail "the controller exited with $? on SIGTERM"
[ -s "$tmp/state.json" ] || fail "no state file"
grep -q "\"$service\"" "$tmp/state.json" || fail "state file lacks the service"
grep -q '"type":"decision"' "$tmp/audit.jsonl" || fail "audit log has no decision lines"
grep -q '"type":"scale".*"outcome":"applied"' "$tmp/audit.jsonl" || fail "audit log has no applied scale"
if grep -qi "$QIANFAN_SECRET_KEY" "$tmp/audit.jsonl" "$tmp/controller.err" "$tmp/controller.out" \
  "$tmp/metrics.txt"; then
  fail "the secret key leaked into the controller's output"
fi
echo "ok: SIGTERM exit 0, state saved, audit log complete, no secret in any output"
