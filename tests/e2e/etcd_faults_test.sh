#!/usr/bin/env bash
# Faults around a real 3-member etcd cluster (etcd_lib.sh), three controllers and
# `qfscale fake-qianfan --fencing`, with demand that changes every second so that the leader
# sends a ScaleService on nearly every tick (any interleaving of two leaders would show):
#   1. etcd not started yet: a controller starts, /readyz is 503 and says it cannot reach etcd,
#      it sends nothing; once etcd is up it becomes the leader and acts;
#   2. SIGSTOP the leader past its lease, another takes over, SIGCONT: the old leader steps down
#      and says so, and the fake's token log has no call of the old token after the new one's
#      first (nothing refused either: it did not even try);
#   3. SIGSTOP one etcd member (a hung member, the one listed first, which every controller tries
#      first): the calls go on under the quorum, still without any interleaving.
# Usage: etcd_faults_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=etcd_lib.sh
. "$(dirname "$0")/etcd_lib.sh"
fail_logs=(a.err b.err c.err fake.err fencing.json fencing.err readyz.out etcd1.err)

service=svco-faulttest001
instance=unit-gpue2e02
etcd_one_service_scenario "$tmp/scenario.yaml" "$service" "$instance" fault-test 0s 100
start_fake --scenario "$tmp/scenario.yaml" --fencing

# 5, 15, 25 QPS in turn: 1, 3, 5 replicas, a ScaleService every tick (no windows, no limits).
{
  echo "t_seconds,qps"
  for t in $(seq 0 299); do echo "$t,$((5 + 10 * (t % 3)))"; done
} >"$tmp/trace.csv"
etcd_test_policy "$tmp/follow.yaml" e2e-follow 20 20 0s
etcd_reserve_ports 3
for name in a b c; do
  cat >"$tmp/$name.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url"}
metrics: {trace: {file: $tmp/trace.csv}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance], policy: $tmp/follow.yaml}]
loop: {interval: 1s, listen: "127.0.0.1:0", auditLog: $tmp/audit-$name.jsonl}
coordination: {etcd: {endpoints: [$etcd_endpoint_yaml], prefix: /e2e, leaseTtl: 3s, name: ctl-$name}}
YAML
done

fencing() { curl -s "$fake_url/admin/fencing" >"$tmp/fencing.json"; }
calls() { fencing && grep -o '"token"' "$tmp/fencing.json" | wc -l; }
calls_with_token() { fencing && grep -q "\"token\":$1," "$tmp/fencing.json"; }
strict_fencing() {
  fencing
  fencing_check "$tmp/fencing.json" >/dev/null 2>"$tmp/fencing.err" || fail "$1: $(cat "$tmp/fencing.err")"
}

# --- 1. started before etcd -----------------------------------------------------------------
ctl_start a "$tmp/a.yaml"
cannot_reach() {
  curl -s -o "$tmp/readyz.out" -w '%{http_code}' "${ctl_url[a]}/readyz" >"$tmp/readyz.code"
  [ "$(cat "$tmp/readyz.code")" = 503 ] && grep -q "cannot reach etcd" "$tmp/readyz.out"
}
wait_until 15 "/readyz says it cannot reach etcd" cannot_reach
grep -q "^follower: cannot reach etcd, so it cannot take over: .*Connection refused" \
  "$tmp/readyz.out" || fail "the reason on /readyz: $(cat "$tmp/readyz.out")"
grep -q "Connection refused; starting anyway: standing by until etcd answers" "$tmp/a.err" ||
  fail "stderr does not say it starts without etcd"
[ "$(ctl_role a)" = follower ] || fail "a controller without etcd says it is $(ctl_role a)"
# It has ticked without etcd (the exporter got its role from a tick): nothing was sent.
[ "$(calls)" = 0 ] || fail "a controller without etcd sent calls: $(cat "$tmp/fencing.json")"
echo "ok: started without etcd: /readyz 503 \"$(head -c 60 "$tmp/readyz.out")...\", no calls"

for i in 1 2 3; do etcd_member_start "$i"; done
wait_until 30 "a healthy 3-member etcd cluster" etcd_healthy
a_leads() { [ "$(ctl_role a)" = leader ]; }
wait_until 15 "a becomes the leader once etcd is up" a_leads
first_token=$(ctl_token a)
wait_until 10 "a acts under token $first_token" calls_with_token "$first_token"
echo "ok: etcd up: a leads with token $first_token and acts"

ctl_start b "$tmp/b.yaml"
ctl_start c "$tmp/c.yaml"
followers_ready() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "${ctl_url[b]}/readyz")" = 200 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${ctl_url[c]}/readyz")" = 200 ]
}
wait_until 15 "b and c stand by" followers_ready

# --- 2. the leader paused past its lease ----------------------------------------------------
kill -STOP "${ctl_pid[a]}"
new_leader() { ctl_leader b c >"$tmp/leader.name"; }
wait_until 15 "b or c takes over from the paused a" new_leader
successor=$(cat "$tmp/leader.name")
second_token=$(ctl_token "$successor")
[ "$second_token" -gt "$first_token" ] || fail "the new token $second_token is not above $first_token"
wait_until 10 "$successor acts under token $second_token" calls_with_token "$second_token"
kill -CONT "${ctl_pid[a]}"
a_steps_down() { grep -q "no longer acting as leader (fencing token $first_token)" "$tmp/a.err"; }
wait_until 10 "a says it stepped down" a_steps_down
a_follows() { [ "$(ctl_role a)" = follower ]; }
wait_until 10 "a is a follower again" a_follows
# Two more ticks of the new leader after a woke up, so that any late call of a's is in the log.
more=$(($(calls) + 2))
enough() { [ "$(calls)" -ge "$more" ]; }
wait_until 10 "two more calls of $successor" enough
strict_fencing "after the pause of the leader"
echo "ok: a paused past its lease, $successor took over (token $second_token), a woke up and" \
  "stepped down ($(grep -o 'no longer acting as leader.*' "$tmp/a.err" | head -n1)); $(fencing_check "$tmp/fencing.json")"

# --- 3. one etcd member hangs ---------------------------------------------------------------
etcd_member_pause 1
paused_at=$(calls)
more=$((paused_at + 5))
wait_until 30 "five more calls with etcd member 1 hung" enough
etcd_member_resume 1
strict_fencing "with etcd member 1 hung"
echo "ok: etcd member 1 hung: $((more - paused_at)) more calls under the quorum; $(fencing_check "$tmp/fencing.json")"
wait_until 30 "member 1 back in the cluster" etcd_healthy
