#!/usr/bin/env bash
# High availability on a real 3-member etcd cluster (Debian etcd-server, loopback, free ports,
# data in a temp dir): two controllers against `qfscale fake-qianfan --fencing`.
#   1. exactly one is the leader (/api/v1/status), the other says follower on /readyz;
#   2. the leader scales the service up, and every call carries its fencing token;
#   3. traffic drops: the 20 s scale-down window holds the replicas;
#   4. kill -9 the leader: the other takes over within the lease TTL (3 s) plus a campaign,
#      resumes the window from the state in etcd (no scale-down before it ends, the scale-down
#      when it ends, not 20 s after the takeover), and the fake saw no token go
#      backwards and no refused (stale) call: the two never acted at once.
# Usage: etcd_failover_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=(a.err b.err fake.err check.err fencing.json describe.json describe.err decision.json)
command -v etcd >/dev/null || fail "etcd is not installed (Debian package etcd-server; .ci/setup)"

# --- the etcd cluster -----------------------------------------------------------------------
cluster="" endpoints=()
declare -a client_ports peer_ports
for i in 1 2 3; do
  client_ports[i]=$(free_port)
  peer_ports[i]=$(free_port)
  cluster+="${cluster:+,}e$i=http://127.0.0.1:${peer_ports[i]}"
  endpoints+=("http://127.0.0.1:${client_ports[i]}")
done
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$tmp/etcd$i" \
    --listen-client-urls "http://127.0.0.1:${client_ports[i]}" \
    --advertise-client-urls "http://127.0.0.1:${client_ports[i]}" \
    --listen-peer-urls "http://127.0.0.1:${peer_ports[i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${peer_ports[i]}" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token "qfscale-e2e-$$" >"$tmp/etcd$i.out" 2>"$tmp/etcd$i.err" &
  pids+=("$!")
done
all_endpoints=$(IFS=,; echo "${endpoints[*]}")
healthy() { ETCDCTL_API=3 etcdctl --endpoints "$all_endpoints" endpoint health >/dev/null 2>&1; }
wait_until 30 "a healthy 3-member etcd cluster" healthy
echo "ok: etcd cluster of 3 on $all_endpoints"

# --- the fake and the config ----------------------------------------------------------------
service=svco-windowtest01
instance=unit-gpue2e01
cat >"$tmp/scenario.yaml" <<YAML
startupDelay: 1s
instances: [{id: $instance, capacity: 40}]
services:
  - {id: $service, name: window-test, type: GPU-I-2, qps: 5,
     deployments: [{instanceId: $instance, replicas: 1}]}
YAML
start_fake --scenario "$tmp/scenario.yaml" --fencing

# 25 QPS (5 replicas of 5) for the first 12 s of each controller's run, then 2 QPS (1 replica).
{
  echo "t_seconds,qps"
  for t in $(seq 0 599); do if [ "$t" -lt 12 ]; then echo "$t,25"; else echo "$t,2"; fi; done
} >"$tmp/trace.csv"
cat >"$tmp/window.yaml" <<'YAML'
apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: e2e-window}
spec:
  target: {utilization: 1.0, tolerance: 0}
  replicas: {min: 1, max: 20}
  metricWindow: 1s
  panic: {enabled: false}
  forecast: {enabled: false}
  scaleUp:
    stabilizationWindow: 0s
    policies: [{type: Replicas, value: 10, period: 1s}]
  scaleDown:
    stabilizationWindow: 20s
    policies: [{type: Percent, value: 100, period: 1s}]
YAML
endpoint_list=$(printf '"%s", ' "${endpoints[@]}")
for name in a b; do
  cat >"$tmp/$name.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url"}
metrics: {trace: {file: trace.csv}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance], policy: window.yaml}]
loop: {interval: 1s, listen: "127.0.0.1:0", auditLog: audit-$name.jsonl}
coordination: {etcd: {endpoints: [${endpoint_list%, }], prefix: /e2e, leaseTtl: 3s, name: ctl-$name}}
YAML
done
"$qfscale" config check "$tmp/a.yaml" >"$tmp/check.out" 2>"$tmp/check.err" || fail "config check"

cd "$tmp"
declare -A pid url
for name in a b; do
  "$qfscale" run --config "$tmp/$name.yaml" -q >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid[$name]=$!
  pids+=("$!")
done
for name in a b; do
  wait_until 20 "controller $name's address" grep -qs "^listening on" "$tmp/$name.out"
  url[$name]=$(sed -n 's/^listening on //p' "$tmp/$name.out" | head -n1)
done

role() { curl -s "${url[$1]}/api/v1/status" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).role)}catch(e){console.log("none")}})'; }
token() { curl -s "${url[$1]}/api/v1/status" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).fencing_token))'; }
one_leader() {
  local ra rb
  ra=$(role a)
  rb=$(role b)
  [ "$ra:$rb" = "leader:follower" ] || [ "$ra:$rb" = "follower:leader" ]
}
wait_until 15 "exactly one leader" one_leader
if [ "$(role a)" = leader ]; then leader=a follower=b; else leader=b follower=a; fi
# (Into files first: grep -q closing a pipe early would fail curl under pipefail.)
curl -s "${url[$follower]}/readyz" >"$tmp/readyz.out"
grep -q "^follower: standing by" "$tmp/readyz.out" || fail "the follower's /readyz: $(cat "$tmp/readyz.out")"
curl -s "${url[$follower]}/metrics" >"$tmp/follower.metrics"
curl -s "${url[$leader]}/metrics" >"$tmp/leader.metrics"
grep -q "^qfscale_leader 0" "$tmp/follower.metrics" || fail "the follower's qfscale_leader is not 0"
grep -q "^qfscale_leader 1" "$tmp/leader.metrics" || fail "the leader's qfscale_leader is not 1"
grep -q "^qfscale_leader_fencing_token [1-9]" "$tmp/leader.metrics" || fail "no fencing token gauge"
first_token=$(token "$leader")
echo "ok: one leader ($leader, fencing token $first_token), one follower ($follower)"

replicas() {
  "$qfscale" describe "$service" -o json 2>"$tmp/describe.err" >"$tmp/describe.json" || return 0
  sed -n 's/.*"replicasCount": *\([0-9]*\).*/\1/p' "$tmp/describe.json"
}
at_five() { [ "$(replicas)" = 5 ]; }
wait_until 20 "the leader scales up to 5 replicas" at_five
grep -q "\"fencingToken\":$first_token" "$tmp/audit-$leader.jsonl" || fail "the audit log has no fencingToken"
echo "ok: scaled to 5 replicas under token $first_token; the audit log carries it"

# Traffic drops at 12 s: the leader decides 1 replica but the 20 s window holds 5.
low_seen() {
  curl -s "${url[$1]}/api/v1/decisions/$service" >"$tmp/decision.json"
  grep -q '"qps":2[,}]' "$tmp/decision.json"
}
wait_until 20 "the leader sees the low traffic" low_seen "$leader"
wait_until 5 "a second tick at low traffic" low_seen "$leader"
[ "$(replicas)" = 5 ] || fail "the leader scaled down inside its window"

# --- failover -------------------------------------------------------------------------------
kill -9 "${pid[$leader]}"
killed_at=$SECONDS
wait_until 10 "the follower takes over" bash -c "[ \"\$(curl -s ${url[$follower]}/api/v1/status | grep -o '\"role\":\"leader\"')\" != '' ]"
took=$((SECONDS - killed_at))
# Lease TTL 3 s, then at most one campaign (1 s), plus this script's polling.
[ "$took" -le 7 ] || fail "the takeover took ${took}s"
second_token=$(token "$follower")
[ "$second_token" -gt "$first_token" ] || fail "the new token $second_token is not above $first_token"
echo "ok: $follower took over in ${took}s (lease TTL 3s) with token $second_token"
grep -q "leader with fencing token $second_token: resuming from the engine states in etcd" \
  "$tmp/$follower.err" || fail "the new leader did not say it resumed from etcd"
# The window is the old leader's, resumed from etcd: it ends 20 s after the last high
# recommendation (about 12 s into the run), so about 32 s into the run, some 13-15 s after the
# takeover. A new leader that had forgotten it would start a fresh window at the takeover (the
# engine seeds an empty history with the current replicas) and scale down only 20 s after it.
# So: still 5 replicas over its first two ticks (nothing early), and 1 replica within 18 s of
# the takeover (not late).
took_over_at=$SECONDS
wait_until 10 "the new leader decides" low_seen "$follower"
ticks_before=$(grep -c '"type":"decision"' "$tmp/audit-$follower.jsonl")
two_more() { [ "$(grep -c '"type":"decision"' "$tmp/audit-$follower.jsonl")" -ge $((ticks_before + 2)) ]; }
wait_until 10 "two more ticks of the new leader" two_more
[ "$(replicas)" = 5 ] || fail "the new leader scaled down inside the window it should have resumed"
at_one() { [ "$(replicas)" = 1 ]; }
wait_until $((took_over_at + 18 - SECONDS)) "the scale-down when the resumed window ends" at_one
echo "ok: the new leader held 5 replicas, then scaled down $((SECONDS - took_over_at))s after the takeover: the window survived"
grep -q "\"fencingToken\":$second_token" "$tmp/audit-$follower.jsonl" ||
  fail "the new leader's audit lines lack its token"

# The fake's token log: never backwards, nothing refused.
curl -s "$fake_url/admin/fencing" >"$tmp/fencing.json"
node -e '
  const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  let last = 0;
  for (const c of log.calls) {
    if (!c.accepted) { console.error("refused call", JSON.stringify(c)); process.exit(1); }
    if (c.token < last) { console.error("token went backwards", last, "->", c.token); process.exit(1); }
    last = c.token;
  }
  if (log.calls.length === 0) { console.error("no calls"); process.exit(1); }
' "$tmp/fencing.json" || fail "the fake's fencing log: $(cat "$tmp/fencing.json")"
echo "ok: the fake saw $(grep -o '"token"' "$tmp/fencing.json" | wc -l) fenced calls, tokens never backwards, none refused"
