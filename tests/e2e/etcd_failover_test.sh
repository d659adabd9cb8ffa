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
# shellcheck source=etcd_lib.sh
. "$(dirname "$0")/etcd_lib.sh"

# --- the etcd cluster -----------------------------------------------------------------------
etcd_start_cluster 3
echo "ok: etcd cluster of 3 on $etcd_all"

# --- the fake and the config ----------------------------------------------------------------
service=svco-windowtest01
instance=unit-gpue2e01
etcd_one_service_scenario "$tmp/scenario.yaml" "$service" "$instance" window-test 1s 40
start_fake --scenario "$tmp/scenario.yaml" --fencing

# 25 QPS (5 replicas of 5) for the first 12 s of each controller's run, then 2 QPS (1 replica).
{
  echo "t_seconds,qps"
  for t in $(seq 0 599); do if [ "$t" -lt 12 ]; then echo "$t,25"; else echo "$t,2"; fi; done
} >"$tmp/trace.csv"
etcd_test_policy "$tmp/window.yaml" e2e-window 20 10 20s
for name in a b; do
  cat >"$tmp/$name.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url"}
metrics: {trace: {file: trace.csv}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance], policy: window.yaml}]
loop: {interval: 1s, listen: "127.0.0.1:0", auditLog: audit-$name.jsonl}
coordination: {etcd: {endpoints: [$etcd_endpoint_yaml], prefix: /e2e, leaseTtl: 3s, name: ctl-$name}}
YAML
done
"$qfscale" config check "$tmp/a.yaml" >"$tmp/check.out" 2>"$tmp/check.err" || fail "config check"

cd "$tmp"
for name in a b; do ctl_start "$name" "$tmp/$name.yaml"; done
role() { ctl_role "$1"; }
token() { ctl_token "$1"; }
one_leader() {
  local ra rb
  ra=$(role a)
  rb=$(role b)
  [ "$ra:$rb" = "leader:follower" ] || [ "$ra:$rb" = "follower:leader" ]
}
wait_until 15 "exactly one leader" one_leader
if [ "$(role a)" = leader ]; then leader=a follower=b; else leader=b follower=a; fi
# (Into files first: grep -q closing a pipe early would fail curl under pipefail.)
curl -s "${ctl_url[$follower]}/readyz" >"$tmp/readyz.out"
grep -q "^follower: standing by" "$tmp/readyz.out" || fail "the follower's /readyz: $(cat "$tmp/readyz.out")"
curl -s "${ctl_url[$follower]}/metrics" >"$tmp/follower.metrics"
curl -s "${ctl_url[$leader]}/metrics" >"$tmp/leader.metrics"
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
  curl -s "${ctl_url[$1]}/api/v1/decisions/$service" >"$tmp/decision.json"
  grep -q '"qps":2[,}]' "$tmp/decision.json"
}
wait_until 20 "the leader sees the low traffic" low_seen "$leader"
wait_until 5 "a second tick at low traffic" low_seen "$leader"
[ "$(replicas)" = 5 ] || fail "the leader scaled down inside its window"

# --- failover -------------------------------------------------------------------------------
kill -9 "${ctl_pid[$leader]}"
killed_at=$SECONDS
wait_until 10 "the follower takes over" bash -c "[ \"\$(curl -s ${ctl_url[$follower]}/api/v1/status | grep -o '\"role\":\"leader\"')\" != '' ]"
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

# The times in the audit logs: the scale-down (a "scale" record to 1 replica, by the new leader)
# comes no earlier than 20 s after the old leader's last decision whose input to the
# stabilization stage was 5 (the window's last high entry), and not much later: the window was
# carried over, not restarted.
node -e '
  const fs = require("fs");
  const lines = f => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l));
  const old = lines(process.argv[1]), now = lines(process.argv[2]);
  const intoWindow = r => r.steps[r.steps.findIndex(s => s.stage === "stabilization") - 1].output;
  const highs = old.filter(r => r.type === "decision" && intoWindow(r) >= 5).map(r => Date.parse(r.at));
  const downs = now.filter(r => r.type === "scale" && r.to === 1).map(r => Date.parse(r.at));
  if (!highs.length || !downs.length) { console.error("no high decision or no scale-down"); process.exit(1); }
  const after = (Math.min(...downs) - Math.max(...highs)) / 1000;
  console.log(after.toFixed(1));
  if (after < 20 || after > 23) { console.error("scale-down " + after + " s after the last high recommendation"); process.exit(1); }
' "$tmp/audit-$leader.jsonl" "$tmp/audit-$follower.jsonl" >"$tmp/window.out" 2>"$tmp/window.err" ||
  fail "the window in the audit logs: $(cat "$tmp/window.err")"
echo "ok: the audit logs show the scale-down $(cat "$tmp/window.out")s after the old leader's last high recommendation (window 20s)"

# The fake's token log: never backwards, nothing refused.
curl -s "$fake_url/admin/fencing" >"$tmp/fencing.json"
grep -q "\"token\"" "$tmp/fencing.json" || fail "the fake saw no fenced calls"
summary=$(fencing_check "$tmp/fencing.json" 2>"$tmp/fencing.err") ||
  fail "the fake's fencing log: $(cat "$tmp/fencing.err")"
echo "ok: the fake's fencing log ($summary): tokens never backwards, none refused"
