#!/usr/bin/env bash
# Sharding on a real 3-member etcd cluster (Debian etcd-server, loopback, free ports, temp dirs):
# three controllers with coordination.etcd.shards: 32 against `qfscale fake-qianfan --fencing`
# and 24 services, each on an instance of its own.
#   1. the three own disjoint sets of services covering all 24 (/api/v1/status), and each
#      service is scaled up by exactly one of them (the audit logs; the fake's token log shows
#      one token per service and nothing refused);
#   2. a fourth controller joins while the 24 s scale-down window holds 5 replicas: about a
#      quarter of the services move to it, with their state: none is scaled down early, and
#      they are scaled down when the old owners' window ends, not a fresh window later;
#   3. a fifth controller on shards: 16 (a rolling change): every controller stands down and says
#      so (/api/v1/status disagreeing_members, /readyz 200 "standing down", the gauge, stderr);
#      once it is gone the four share all services again.
# Usage: etcd_shards_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=(a.err b.err c.err d.err fake.err fencing.json status.json)
# shellcheck source=etcd_lib.sh
. "$(dirname "$0")/etcd_lib.sh"

# --- the etcd cluster -----------------------------------------------------------------------
etcd_start_cluster 3
echo "ok: etcd cluster of 3 on $etcd_all"

# --- the fake, 24 services, the configs -----------------------------------------------------
count=24
services=() instances=()
for i in $(seq -w 1 $count); do
  services+=("svco-shardtest0$i")
  instances+=("unit-shard0$i")
done
{
  echo "startupDelay: 1s"
  echo "instances:"
  for u in "${instances[@]}"; do echo "  - {id: $u, capacity: 40}"; done
  echo "services:"
  for i in "${!services[@]}"; do
    echo "  - {id: ${services[i]}, name: s$i, type: GPU-I-2, qps: 5,"
    echo "     deployments: [{instanceId: ${instances[i]}, replicas: 1}]}"
  done
} >"$tmp/scenario.yaml"
start_fake --scenario "$tmp/scenario.yaml" --fencing

# 2 QPS (1 replica, no call) while the members settle, 25 QPS (5 replicas) from 4 s to 10 s
# into each controller's run, then 2 QPS. The fourth controller sees only 2 QPS.
{
  echo "t_seconds,qps"
  for t in $(seq 0 599); do if [ "$t" -ge 4 ] && [ "$t" -lt 10 ]; then echo "$t,25"; else echo "$t,2"; fi; done
} >"$tmp/trace.csv"
{
  echo "t_seconds,qps"
  for t in $(seq 0 599); do echo "$t,2"; done
} >"$tmp/low.csv"
etcd_test_policy "$tmp/window.yaml" e2e-window 20 10 24s
for name in a b c d; do
  trace=trace.csv
  [ "$name" = d ] && trace=low.csv
  {
    echo "apiVersion: qfscale/v1"
    echo "kind: ControllerConfig"
    echo "qianfan: {baseUrl: \"$fake_url\"}"
    echo "metrics: {trace: {file: $trace}}"
    echo "instances:"
    for u in "${instances[@]}"; do echo "  - {id: $u}"; done
    echo "services:"
    for i in "${!services[@]}"; do
      echo "  - {id: ${services[i]}, instances: [${instances[i]}], policy: window.yaml}"
    done
    echo "loop: {interval: 1s, listen: \"127.0.0.1:0\", auditLog: audit-$name.jsonl}"
    echo "coordination: {etcd: {endpoints: [$etcd_endpoint_yaml], prefix: /shards, leaseTtl: 3s, shards: 32, name: ctl-$name}}"
  } >"$tmp/$name.yaml"
done
"$qfscale" config check "$tmp/a.yaml" >"$tmp/check.out" 2>"$tmp/check.err" || fail "config check: $(cat "$tmp/check.err")"

cd "$tmp"
declare -A pid url
start_controller() {
  "$qfscale" run --config "$tmp/$1.yaml" -q >"$tmp/$1.out" 2>"$tmp/$1.err" &
  pid[$1]=$!
  pids+=("$!")
  wait_until 20 "controller $1's address" grep -qs "^listening on" "$tmp/$1.out"
  url[$1]=$(sed -n 's/^listening on //p' "$tmp/$1.out" | head -n1)
}
started=$SECONDS
for name in a b c; do start_controller "$name"; done

# "members owned_services" of one controller.
status_of() {
  curl -s "${url[$1]}/api/v1/status" >"$tmp/status.json"
  node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(s.members+" "+s.owned_services)' "$tmp/status.json"
}
settled() { # every named controller sees $1 members; their owned services add up to all
  local want=$1 total=0 m o
  shift
  for name in "$@"; do
    read -r m o < <(status_of "$name")
    [ "$m" = "$want" ] || return 1
    [ "$o" -gt 0 ] || return 1
    total=$((total + o))
  done
  [ "$total" = "$count" ]
}
wait_until 10 "three members sharing all $count services" settled 3 a b c
echo "ok: three members own $(for n in a b c; do status_of $n | cut -d' ' -f2; done | paste -sd+) services"

replicas_of() { # "<service> <replicas>" lines, from DescribeServices
  "$qfscale" services -o json 2>"$tmp/services.err" >"$tmp/services.json" || return 0
  node -e '
    const walk = (v) => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (v && typeof v === "object") {
        if (typeof v.serviceId === "string" && v.resourceConfig && "replicasCount" in v.resourceConfig)
          console.log(v.serviceId + " " + v.resourceConfig.replicasCount);
        else if (typeof v.serviceId === "string" && "replicasCount" in v)
          console.log(v.serviceId + " " + v.replicasCount);
        Object.values(v).forEach(walk);
      }
    };
    walk(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")));' "$tmp/services.json"
}
all_at() {
  local lines
  lines=$(replicas_of)
  [ "$(echo "$lines" | grep -c .)" = "$count" ] && [ "$(echo "$lines" | awk -v n="$1" '$2 != n' | wc -l)" = 0 ]
}
wait_until 15 "every service scaled up to 5 replicas" all_at 5

# Each service was scaled by exactly one controller: its scale lines are in one audit log.
for s in "${services[@]}"; do
  owners=0
  for name in a b c; do grep -q "\"type\":\"scale\".*\"service\":\"$s\"\|\"service\":\"$s\".*\"type\":\"scale\"" "audit-$name.jsonl" && owners=$((owners + 1)); done
  [ "$owners" = 1 ] || fail "$s was scaled by $owners controllers"
done
echo "ok: each of the $count services scaled up by exactly one controller"

# --- a fourth controller joins inside the window ---------------------------------------------
# At 14 s into the run (a point in time, so a sleep): the high traffic ended at 10 s, so a window
# restarted by d would end 24 s after it took over, at 38 s or later, after the resumed one (34 s).
left=$((14 - (SECONDS - started)))
[ "$left" -le 0 ] || sleep "$left"
start_controller d
wait_until 10 "four members sharing all $count services" settled 4 a b c d
joined_at=$((SECONDS - started))
moved=$(grep -o '"type":"decision".*' audit-d.jsonl | grep -o '"service":"[^"]*"' | sort -u | wc -l)
[ "$moved" -ge 2 ] && [ "$moved" -le 12 ] || fail "$moved of $count services moved to the fourth controller"
grep -q "taken over with their state from etcd" d.err || fail "d did not say it took state over"
"$qfscale" status --controller "${url[d]}" >"$tmp/status.out" 2>&1 || fail "qfscale status: $(cat "$tmp/status.out")"
head -n1 "$tmp/status.out" | grep -q "^member ctl-d of 4: owns $moved services in [0-9]* of 32 shards$" ||
  fail "qfscale status does not say the shard: $(head -n1 "$tmp/status.out")"
echo "ok: the fourth controller took $moved of $count services (a quarter is $((count / 4))) ${joined_at}s into the run"

# The window ends about 34 s into the run (last high recommendation at 10 s, + 24 s). Nothing
# may scale down before 30 s; a fresh window on d would hold until at least $((joined_at + 24)) s.
check_held() { all_at 5 || fail "a service was scaled down inside the window $((SECONDS - started))s into the run"; }
check_held
# The event here is a point in time: traffic stays low, so a scale-down would not be undone and
# one look at 30 s sees any that happened before.
left=$((30 - (SECONDS - started)))
[ "$left" -le 0 ] || sleep "$left"
check_held
echo "ok: every service still at 5 replicas 30 s into the run (no early scale-down after the move)"
wait_until $((37 - (SECONDS - started))) "the scale-down when the resumed window ends" all_at 1
echo "ok: all scaled down $((SECONDS - started))s into the run (window end ~34 s; a fresh one on d: >= $((joined_at + 24)) s)"

# The fake's token log: nothing refused; per service the tokens never go backwards; the moved
# services' last calls carry d's tokens (larger than their previous owner's).
curl -s "$fake_url/admin/fencing" >"$tmp/fencing.json"
node -e '
  const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const last = {};
  for (const c of log.calls) {
    if (!c.accepted) { console.error("refused call", JSON.stringify(c)); process.exit(1); }
    if (c.token < (last[c.service] || 0)) { console.error("token went backwards for", c.service); process.exit(1); }
    last[c.service] = c.token;
  }
  if (Object.keys(last).length !== Number(process.argv[2])) { console.error("not every service was called"); process.exit(1); }
' "$tmp/fencing.json" "$count" || fail "the fake's fencing log"
echo "ok: the fake saw $(grep -o '"token"' "$tmp/fencing.json" | wc -l) fenced calls, none refused, tokens per service never backwards"

# --- a controller on another shard count stands everyone down ---------------------------------
sed -e 's/shards: 32, name: ctl-a/shards: 16, name: ctl-e/' -e 's/audit-a/audit-e/' \
  "$tmp/a.yaml" >"$tmp/e.yaml"
start_controller e
fail_logs+=(e.err)
disagreeing() { # $1 sees $2 among the members in its way
  curl -s "${url[$1]}/api/v1/status" >"$tmp/status.json"
  node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
    process.exit(s.disagreeing_members.some((d)=>d.startsWith(process.argv[2]+" ")) && s.owned_services===0 ? 0 : 1)' \
    "$tmp/status.json" "$2"
}
stood_down() { disagreeing a ctl-e && disagreeing d ctl-e && disagreeing e ctl-a; }
wait_until 10 "every controller standing down next to one on shards: 16" stood_down
curl -s -o "$tmp/readyz.out" -w '%{http_code}' "${url[a]}/readyz" >"$tmp/readyz.code"
[ "$(cat "$tmp/readyz.code")" = 200 ] && grep -q "^standing down: the controllers disagree on the config (ctl-e (another config))" "$tmp/readyz.out" ||
  fail "/readyz while standing down: $(cat "$tmp/readyz.code") $(head -n1 "$tmp/readyz.out")"
gauge_on_a() { curl -s "${url[a]}/metrics" | grep -q "^qfscale_coordination_disagreeing_members 1$"; }
# The status above and the gauge come from one report, but the scrape is a separate request.
wait_until 10 "the gauge on a counting the one that disagrees" gauge_on_a
grep -q "members disagree on the config: ctl-e (another config)" a.err || fail "a does not say why it stands down"
echo "ok: next to a controller on shards: 16 all five stand down and say why"
kill "${pid[e]}"
wait "${pid[e]}" 2>/dev/null || true
wait_until 10 "the four sharing all $count services again" settled 4 a b c d
grep -q "the members agree on the config again" a.err || fail "a does not say they agree again"
echo "ok: with it gone the four share all $count services again"
