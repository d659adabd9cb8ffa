#!/usr/bin/env bash
# The fault matrix: `qfscale run` against the fake, with QPS from a real Prometheus scraping a
# demand gauge this script sets, through the faults an operator meets. Each case checks the
# ScaleService calls the fake recorded and what the operator sees (stderr, stdout, the audit
# log, /metrics, /readyz):
#   1. ScaleService throttled (429 RequestLimitExceeded): not applied, reported, then applied;
#   2. ScaleService connections dropped: reported as transport, then applied;
#   3. DescribeService slower than qianfan.timeout: no ScaleService at all while it lasts;
#   4. ScaleService refused for capacity (the config declares more units than the instance has):
#      refused, in the audit log and on stdout, the replicas unchanged, and not sent again;
#   5. a metrics outage (Prometheus stopped): no ScaleService while it lasts;
#   6. kill -9 inside the scale-down window: the restarted controller resumes that window (the
#      scale-down comes when the first window ends, not a window after the restart);
#   7. a restart without state: the scale-down waits a whole window from the restart;
#   8. a full disk (the state directory is a 64 KiB tmpfs, filled up): the save fails, /readyz
#      is 503 with the cause, and it recovers when space is freed;
#   9. a read-only state directory (the tmpfs remounted read-only): the same.
# Needs root (mount) and Debian's prometheus. Waits poll with a deadline; nothing sleeps a fixed
# time. Usage: fault_matrix_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
prometheus=${PROMETHEUS:-/usr/bin/prometheus}
for tool in "$prometheus" curl node mount; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (.ci/setup installs it)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root to mount a tmpfs (CI runs as root)"; exit 1; }

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=(fake.err 'run*.out' 'run*.err' prometheus.log demand.err)
statefs="$tmp/statefs"
# The processes hold files on the tmpfs: stop them before unmounting it, then clean up.
unmount_and_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  umount "$statefs" 2>/dev/null || true
  cleanup
}
trap unmount_and_cleanup EXIT

service=svco-faultmatrix1
instance=unit-faultmx1
# 12 units: room for 6 replicas of GPU-I-2 (2 units each), 5 QPS per replica.
cat >"$tmp/scenario.yaml" <<YAML
startupDelay: 1s
instances: [{id: $instance, capacity: 12}]
services:
  - {id: $service, name: faults, type: GPU-I-2, qps: 5, deployments: [{instanceId: $instance, replicas: 1}]}
YAML
start_fake --scenario "$tmp/scenario.yaml"

# The demand: a gauge in a file, served for Prometheus to scrape.
set_demand() {
  printf 'e2e_demand_qps{service="%s"} %s\n' "$service" "$1" >"$tmp/demand.prom.new"
  mv "$tmp/demand.prom.new" "$tmp/demand.prom"
}
set_demand 15
mkfifo "$tmp/demand.fifo"
node -e '
  const fs = require("fs");
  const s = require("http").createServer((req, res) => {
    res.writeHead(200, {"Content-Type": "text/plain; version=0.0.4"});
    res.end(fs.readFileSync(process.argv[1]));
  });
  s.listen(0, "127.0.0.1", () => console.log(s.address().port));' "$tmp/demand.prom" \
  >"$tmp/demand.fifo" 2>"$tmp/demand.err" &
pids+=($!)
exec 5<"$tmp/demand.fifo"
IFS= read -r -t 30 demand_port <&5 || fail "the demand server did not start"

cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: demand
    static_configs: [{targets: ["127.0.0.1:$demand_port"]}]
YAML
start_prometheus() {
  "$prometheus" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
    --web.listen-address="127.0.0.1:$prom_port" >>"$tmp/prometheus.log" 2>&1 &
  prometheus_pid=$!
  pids+=("$prometheus_pid")
  local deadline=$((SECONDS + 60))
  until curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null; do
    kill -0 "$prometheus_pid" 2>/dev/null || return 1
    [ "$SECONDS" -lt "$deadline" ] || fail "prometheus not ready"
    sleep 0.2
  done
}
prom_port=$(free_port)
# The port was free a moment ago; if it was taken meanwhile, take another (nothing names it yet).
start_prometheus || { prom_port=$(free_port) && start_prometheus; } || fail "prometheus exited"
has_demand() {
  curl -sf "http://127.0.0.1:$prom_port/api/v1/query?query=e2e_demand_qps" | grep -q "$service"
}
wait_until 30 "Prometheus to scrape the demand" has_demand

# Scale up at once; scale down only after 12 s of lower recommendations.
cat >"$tmp/policy.yaml" <<'YAML'
apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: fault-matrix}
spec:
  target: {utilization: 1.0, tolerance: 0.05}
  replicas: {min: 1, max: 10}
  metricWindow: 2s
  panic: {enabled: false}
  scaleUp: {stabilizationWindow: 0s, select: Max, policies: [{type: Percent, value: 900, period: 1s}]}
  scaleDown: {stabilizationWindow: 12s, select: Max, policies: [{type: Percent, value: 100, period: 1s}]}
YAML
mkdir "$statefs"
mount -t tmpfs -o size=64k tmpfs "$statefs"
# capacity: 40 declares more units than the instance has, so case 3 can ask for too many.
cat >"$tmp/qfscale.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url", timeout: 1s, maxAttempts: 1}
metrics:
  prometheus: {url: "http://127.0.0.1:$prom_port", query: e2e_demand_qps, label: service,
               timeout: 1s, staleness: 30s}
instances: [{id: $instance, capacity: 40}]
services: [{id: $service, policy: policy.yaml, instances: [$instance]}]
loop: {interval: 1s, listen: "127.0.0.1:0", stateFile: $statefs/state.json, auditLog: audit.jsonl}
YAML
"$qfscale" config check "$tmp/qfscale.yaml" >/dev/null || fail "config check rejected the config"

runs=0
start_run() { # `qfscale run` as run$runs.{out,err}; sets run_pid, url, out, err
  runs=$((runs + 1))
  out="$tmp/run$runs.out"
  err="$tmp/run$runs.err"
  "$qfscale" run --config "$tmp/qfscale.yaml" >"$out" 2>"$err" &
  run_pid=$!
  pids+=("$run_pid")
  wait_until 30 "the controller's address" grep -q "^listening on" "$out"
  url=$(sed -n 's/^listening on //p' "$out" | head -n1)
}
metric_sum() { # NAME-PREFIX [URL]: the sum of every series whose name and labels start so
  curl -sf "${2:-$url}/metrics" | awk -v p="$1" 'index($1, p) == 1 { n += $2 } END { print n + 0 }'
}
fake_calls() { # ACTION [CODE]
  metric_sum "qfscale_fake_api_requests_total{action=\"$1\"${2:+,code=\"$2\"}" "$fake_url"
}
replicas() {
  "$qfscale" describe "$service" -o json | sed -n 's/.*"replicasCount":\([0-9]*\).*/\1/p'
}
replicas_are() { [ "$(replicas)" = "$1" ]; }
ticks() { metric_sum qfscale_reconcile_runs_total; }
wait_ticks() { # N: until N more ticks ran
  local target=$(($(ticks) + $1))
  more() { [ "$(ticks)" -ge "$target" ]; }
  wait_until 30 "$1 more ticks" more
}
faults() { curl -sf -X "$1" "$fake_url/admin/faults" ${2:+-d "$2"} >/dev/null; }
tick_errors() { metric_sum "qfscale_tick_errors_total{code=\"$2\",stage=\"$1\"}"; }

start_run
wait_until 30 "3 replicas for 15 QPS" replicas_are 3
echo "ok: the controller scaled to 3 replicas for 15 QPS"

# 1. Throttled ScaleService.
faults POST '{"ScaleService":{"errors":{"RequestLimitExceeded":1}}}'
set_demand 20
wait_until 30 "the throttled call on stderr" grep -q "tick error: act RequestLimitExceeded: " "$err"
[ "$(fake_calls ScaleService RequestLimitExceeded)" -ge 1 ] || fail "the fake saw no throttled call"
replicas_are 3 || fail "a throttled call changed replicas"
[ "$(tick_errors act RequestLimitExceeded)" -ge 1 ] || fail "/metrics does not count it"
grep -q "\"type\":\"scale\",.*\"outcome\":\"failed\",.*RequestLimitExceeded" "$tmp/audit.jsonl" ||
  fail "the audit log has no failed scale line"
faults DELETE
wait_until 30 "4 replicas once the throttling ends" replicas_are 4
echo "ok: a throttled ScaleService is reported and applied when the throttling ends"

# 2. Dropped connections on ScaleService.
faults POST '{"ScaleService":{"dropRate":1}}'
set_demand 25
wait_until 30 "the dropped call on stderr" grep -q "tick error: act transport: " "$err"
replicas_are 4 || fail "a dropped call changed replicas"
[ "$(tick_errors act transport)" -ge 1 ] || fail "/metrics does not count the transport error"
faults DELETE
wait_until 30 "5 replicas once calls get through" replicas_are 5
echo "ok: a dropped ScaleService is reported as transport and applied when calls get through"

# 3. DescribeService slower than the 1 s timeout: nothing is scaled meanwhile, though 30 QPS
#    needs 6 replicas.
faults POST '{"DescribeService":{"latency":"3s"}}'
scales_before=$(fake_calls ScaleService)
set_demand 30
wait_until 30 "the timeout on stderr" grep -q "tick error: observe transport: DescribeService $service" "$err"
wait_ticks 3
[ "$(fake_calls ScaleService)" -eq "$scales_before" ] || fail "ScaleService sent while DescribeService timed out"
curl -s "$url/readyz" | grep -q "^observe transport: DescribeService $service" || fail "/readyz does not say why"
faults DELETE
wait_until 30 "6 replicas for 30 QPS once observed" replicas_are 6
echo "ok: a DescribeService timeout is reported and nothing is scaled while it lasts"

# 4. Refused for capacity: 40 QPS needs 8 replicas = 16 units; the instance has 12.
refused_before=$(fake_calls ScaleService InsufficientComputeUnits)
set_demand 40
refused() { [ "$(fake_calls ScaleService InsufficientComputeUnits)" -gt "$refused_before" ]; }
wait_until 30 "a ScaleService refused for capacity" refused
# The metric window ramps the demand up, so the refused call asks for 7 or 8. The refusal proves
# units the replies do not show: they count as used from then on, so it is not sent again.
wait_until 10 "the refusal in the audit log" grep -q "\"type\":\"scale\",.*\"outcome\":\"refused\"" "$tmp/audit.jsonl"
wait_until 10 "the refusal on stdout" grep -q "$service .* refused" "$out"
from=$(grep -o '"from":[0-9]*,"to":[0-9]*,"outcome":"refused"' "$tmp/audit.jsonl" | head -n1 | sed 's/"from":\([0-9]*\).*/\1/')
replicas_are "$from" || fail "a refused call changed replicas: $from -> $(replicas)"
[ "$from" -eq 6 ] || fail "refused from $from replicas, not the 6 that 30 QPS needed"
refused_once=$(fake_calls ScaleService InsufficientComputeUnits)
ticks_from=$(ticks)
ticks_past() { [ "$(ticks)" -ge "$1" ]; }
wait_until 15 "5 more ticks" ticks_past $((ticks_from + 5))
[ "$(fake_calls ScaleService InsufficientComputeUnits)" -eq "$refused_once" ] ||
  fail "the refused ScaleService was sent again: $refused_once -> $(fake_calls ScaleService InsufficientComputeUnits)"
set_demand 30
echo "ok: a ScaleService refused for capacity is on stdout and in the audit log, once; replicas kept"

# 5. Metrics outage: Prometheus stops, demand drops; no ScaleService until it is back.
scales_before=$(fake_calls ScaleService)
kill "$prometheus_pid"
wait "$prometheus_pid" 2>/dev/null || true
set_demand 2
wait_until 30 "the outage on stderr" grep -q "tick error: metrics unreachable: " "$err"
wait_ticks 4
[ "$(fake_calls ScaleService)" -eq "$scales_before" ] || fail "ScaleService sent without metrics"
replicas_are 6 || fail "replicas changed without metrics: 6 -> $(replicas)"
[ "$(tick_errors metrics unreachable)" -ge 1 ] || fail "/metrics does not count the outage"
start_prometheus || fail "prometheus did not restart on its port"
echo "ok: a metrics outage is reported and nothing is scaled while it lasts"

# 6. kill -9 inside the scale-down window; the restart resumes the window from the state file.
# Demand is 2 QPS (1 replica); the window started once Prometheus answered again.
wait_until 30 "a held scale-down in the audit log" grep -q "\"service\":\"$service\".*\"reason\":\"stabilized\"" "$tmp/audit.jsonl"
held_at=$SECONDS
wait_ticks 6
kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null || true
replicas_are 6 || fail "scaled down inside the window before the kill"
start_run
restarted_at=$SECONDS
wait_until 30 "the scale-down after the window" replicas_are 1
down_at=$SECONDS
[ $((down_at - held_at)) -ge 10 ] || fail "scaled down $((down_at - held_at)) s into a 12 s window"
[ $((down_at - restarted_at)) -le 9 ] ||
  fail "the restart did not resume the window: down $((down_at - restarted_at)) s after it"
echo "ok: after kill -9 the window resumed: down $((down_at - held_at)) s after it began, $((down_at - restarted_at)) s after the restart"

# 7. Restart without state: the first tick holds the current count for a whole window.
set_demand 15
wait_until 30 "3 replicas again" replicas_are 3
kill -TERM "$run_pid"
wait "$run_pid" || fail "exit status $? on SIGTERM"
rm "$statefs/state.json"
set_demand 2
# So that the very first tick already wants 1 replica.
demand_is_2() {
  curl -sf "http://127.0.0.1:$prom_port/api/v1/query?query=e2e_demand_qps" | grep -q '"2"\]'
}
wait_until 30 "Prometheus to see the lower demand" demand_is_2
start_run
restarted_at=$SECONDS
wait_until 30 "the scale-down a window after the restart" replicas_are 1
[ $((SECONDS - restarted_at)) -ge 10 ] || fail "a fresh start scaled down $((SECONDS - restarted_at)) s after it began"
grep -q "nothing recommended in the last 12s: current 3 seeds the down window" "$tmp/audit.jsonl" ||
  fail "the audit log does not explain the hold"
echo "ok: a fresh start waited $((SECONDS - restarted_at)) s (window 12 s) before scaling down"

# 8. A full disk: saves fail, /readyz says why; space freed, it recovers.
ready() { curl -sf "$url/readyz" >/dev/null; }
wait_until 30 "/readyz 200" ready
dd if=/dev/zero of="$statefs/filler" bs=4k 2>/dev/null || true
wait_until 30 "the failed save on stderr" grep -q "tick error: save io: saving the controller state to $statefs/state.json failed" "$err"
curl -s -w '\n%{http_code}\n' "$url/readyz" >"$tmp/readyz.txt"
[ "$(tail -n1 "$tmp/readyz.txt")" = 503 ] || fail "/readyz is not 503 on a full disk"
grep -q "No space left on device" "$tmp/readyz.txt" || fail "/readyz does not give the cause: $(cat "$tmp/readyz.txt")"
rm "$statefs/filler"
wait_until 30 "/readyz 200 once space is freed" ready
echo "ok: a full disk fails readiness with its cause, and it recovers"

# 9. A read-only state directory: the same.
mount -o remount,ro "$statefs" ||
  fail "cannot remount the state directory read-only: is a file on it open for writing?"
wait_until 30 "/readyz 503 on a read-only directory" bash -c "! curl -sf '$url/readyz' >/dev/null"
curl -s "$url/readyz" | grep -q "Read-only file system" || fail "/readyz: $(curl -s "$url/readyz")"
mount -o remount,rw "$statefs"
wait_until 30 "/readyz 200 once writable" ready
[ "$(tick_errors save io)" -ge 2 ] || fail "/metrics does not count the failed saves"
echo "ok: a read-only state directory fails readiness with its cause, and it recovers"

kill -TERM "$run_pid"
wait "$run_pid" || fail "exit status $? on SIGTERM"
