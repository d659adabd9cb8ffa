#!/usr/bin/env bash
# Failover time distribution: two controllers on a real 3-member etcd cluster (Debian
# etcd-server, loopback) and `qfscale fake-qianfan --fencing`; N times (default 50): kill -9 the
# leader, measure until the other says leader on /api/v1/status and until the fake gets its first
# call with the new fencing token (demand changes every second, so every tick calls), then
# restart the killed one. Prints p50/p90/p99/max of both, in seconds.
# The lease TTL is the config's minimum, 2 s (default 10 s; the failover scales with it: expiry
# after at most the TTL from the last renewal, then a campaign every 1 s and a 1 s tick).
# Usage: bench/etcd_failover_bench.sh path/to/qfscale [N] [leaseTtl seconds]
# shellcheck disable=SC2016 # the node program is single-quoted on purpose
set -euo pipefail
qfscale=$(realpath "$1")
rounds=${2:-50}
ttl=${3:-2}
# shellcheck source=../tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck source=../tests/e2e/etcd_lib.sh
. "$(dirname "$0")/../tests/e2e/etcd_lib.sh"
fail_logs=(a.err b.err fake.err)

etcd_start_cluster 3
service=svco-failbench001
instance=unit-failbn01
etcd_one_service_scenario "$tmp/scenario.yaml" "$service" "$instance" failover-bench 0s 100
start_fake --scenario "$tmp/scenario.yaml" --fencing
{
  echo "t_seconds,qps"
  for t in $(seq 0 3599); do echo "$t,$((5 + 10 * (t % 3)))"; done
} >"$tmp/trace.csv"
etcd_test_policy "$tmp/follow.yaml" bench-follow 20 20 0s
for name in a b; do
  cat >"$tmp/$name.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url"}
metrics: {trace: {file: $tmp/trace.csv}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance], policy: $tmp/follow.yaml}]
loop: {interval: 1s, listen: "127.0.0.1:0"}
coordination: {etcd: {endpoints: [$etcd_endpoint_yaml], prefix: /bench, leaseTtl: ${ttl}s, name: ctl-$name}}
YAML
  ctl_start "$name" "$tmp/$name.yaml"
done
one_leader() { ctl_leader a b >"$tmp/leader.name"; }
wait_until 20 "a first leader" one_leader

now_ms() { date +%s%3N; }
# (Into files: grep -q closing a pipe early would fail curl under pipefail.)
says_leader() {
  curl -s -m 1 "${ctl_url[$1]}/api/v1/status" >"$tmp/status.json" || true
  grep -q '"role":"leader"' "$tmp/status.json"
}
fenced_with() {
  curl -s "$fake_url/admin/fencing" >"$tmp/fencing.json" || true
  grep -q "\"token\":$1," "$tmp/fencing.json"
}
: >"$tmp/times"
for round in $(seq 1 "$rounds"); do
  wait_until 20 "one leader" one_leader
  leader=$(cat "$tmp/leader.name")
  if [ "$leader" = a ]; then other=b; else other=a; fi
  killed=$(now_ms)
  kill -9 "${ctl_pid[$leader]}"
  until says_leader "$other"; do
    [ $(($(now_ms) - killed)) -lt 30000 ] || fail "round $round: no takeover in 30 s; $other says $(cat "$tmp/status.json")"
    sleep 0.05
  done
  elected=$(now_ms)
  token=$(ctl_token "$other")
  until fenced_with "$token"; do
    [ $(($(now_ms) - killed)) -lt 30000 ] || fail "round $round: no call with token $token"
    sleep 0.05
  done
  acted=$(now_ms)
  echo "$((elected - killed)) $((acted - killed))" >>"$tmp/times"
  echo "round $round: $leader killed; $other leader after $((elected - killed)) ms, first call after $((acted - killed)) ms"
  ctl_start "$leader" "$tmp/$leader.yaml"
done
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(l => l.split(" ").map(Number));
  const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] / 1000; };
  for (const [i, what] of [[0, "kill -9 -> new leader"], [1, "kill -9 -> its first fenced call"]]) {
    const xs = rows.map(r => r[i]);
    console.log(`${what}: n=${xs.length} p50=${q(xs, 0.5)}s p90=${q(xs, 0.9)}s p99=${q(xs, 0.99)}s max=${q(xs, 1)}s`);
  }
' "$tmp/times"
curl -s "$fake_url/admin/fencing" >"$tmp/fencing.json"
echo "fencing log: $(fencing_check "$tmp/fencing.json")"
