# shellcheck shell=bash
# Helpers for the scripts that run controllers on a real etcd cluster (Debian etcd-server 3.4).
# Source it right after lib.sh: `. "$(dirname "$0")/etcd_lib.sh"`.
#
# The cluster (loopback, free ports, data in $tmp/etcdI):
#   etcd_start_cluster N     starts members 1..N and waits (bounded) until the cluster is healthy;
#                            sets etcd_endpoints (array of URLs), etcd_all (comma-separated) and
#                            etcd_endpoint_yaml ("url", "url", ... for a config's endpoints list)
#   etcd_reserve_ports N     only picks the ports and sets those variables (start members later)
#   etcd_member_start I      (re)starts member I with its data dir: a killed member rejoins
#   etcd_member_kill I       kill -9
#   etcd_member_pause I / etcd_member_resume I   SIGSTOP / SIGCONT: a member that hangs
#   etcd_quorum              succeeds when a write through the cluster commits (a majority is up)
# Controllers (`qfscale run`; stderr appends to $tmp/NAME.err across restarts):
#   ctl_start NAME CONFIG    starts one and waits for its address; sets ctl_pid[NAME] and
#                            ctl_url[NAME]
#   ctl_role NAME            prints leader, follower or none (no answer within 3 s: dead or paused)
#   ctl_token NAME           prints the fencing token on its /api/v1/status
#   ctl_leader NAMES...      prints the one that says leader, and fails when not exactly one does;
#                            $tmp/roles.txt has what each said, with its token
# The fake's fencing log (GET /admin/fencing):
#   etcd_one_service_scenario FILE SERVICE INSTANCE NAME STARTUP_DELAY CAPACITY
#                            writes a fake scenario: one GPU-I-2 service of 5 QPS a replica with
#                            1 replica on one instance of CAPACITY units
#   fencing_check FILE [--allow-refused]   prints "calls=N tokens=T1,T2,... refused=R" and fails
#                            when a token went backwards among accepted calls, or (unless
#                            --allow-refused) when any call was refused or came with a token
#                            older than one already seen: two leaders' calls interleaved.

# shellcheck disable=SC2034,SC2154,SC2016 # etcd_all, ctl_url: for the sourcing script; tmp,
# qfscale: from it and lib.sh; the node programs are single-quoted on purpose
command -v etcd >/dev/null || fail "etcd is not installed (Debian package etcd-server; .ci/setup)"

# A stopped process ignores SIGTERM until continued: lib.sh's cleanup would wait forever.
etcd_lib_cleanup() {
  for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; done
  cleanup
}
trap etcd_lib_cleanup EXIT

declare -a etcd_client_ports etcd_peer_ports etcd_pid etcd_endpoints
etcd_cluster=""
etcd_all=""
etcd_endpoint_yaml=""

etcd_reserve_ports() {
  local i
  for i in $(seq 1 "$1"); do
    etcd_client_ports[i]=$(free_port)
    etcd_peer_ports[i]=$(free_port)
    etcd_cluster+="${etcd_cluster:+,}e$i=http://127.0.0.1:${etcd_peer_ports[i]}"
    etcd_endpoints+=("http://127.0.0.1:${etcd_client_ports[i]}")
  done
  etcd_all=$(IFS=,; echo "${etcd_endpoints[*]}")
  etcd_endpoint_yaml=$(printf '"%s", ' "${etcd_endpoints[@]}")
  etcd_endpoint_yaml=${etcd_endpoint_yaml%, }
}

etcd_member_start() {
  local i=$1
  etcd --name "e$i" --data-dir "$tmp/etcd$i" \
    --listen-client-urls "http://127.0.0.1:${etcd_client_ports[i]}" \
    --advertise-client-urls "http://127.0.0.1:${etcd_client_ports[i]}" \
    --listen-peer-urls "http://127.0.0.1:${etcd_peer_ports[i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${etcd_peer_ports[i]}" \
    --initial-cluster "$etcd_cluster" --initial-cluster-state new \
    --initial-cluster-token "qfscale-e2e-$$" >>"$tmp/etcd$i.out" 2>>"$tmp/etcd$i.err" &
  etcd_pid[i]=$!
  pids+=("$!")
}
etcd_member_kill() { kill -9 "${etcd_pid[$1]}" 2>/dev/null || true; }
etcd_member_pause() { kill -STOP "${etcd_pid[$1]}"; }
etcd_member_resume() { kill -CONT "${etcd_pid[$1]}"; }

etcd_healthy() { ETCDCTL_API=3 etcdctl --endpoints "$etcd_all" endpoint health >/dev/null 2>&1; }
etcd_quorum() {
  ETCDCTL_API=3 etcdctl --endpoints "$etcd_all" --dial-timeout 1s --command-timeout 2s \
    put /e2e-quorum-probe "$SECONDS" >/dev/null 2>&1
}

etcd_start_cluster() {
  local i
  etcd_reserve_ports "$1"
  for i in $(seq 1 "$1"); do etcd_member_start "$i"; done
  wait_until 30 "a healthy $1-member etcd cluster" etcd_healthy
}

declare -A ctl_pid ctl_url
ctl_start() {
  local name=$1 config=$2
  # A restart must not read the old process's address: the new one truncates the file only
  # once it is forked, which may be after the wait below has looked.
  rm -f "$tmp/$name.out"
  "$qfscale" run --config "$config" -q >"$tmp/$name.out" 2>>"$tmp/$name.err" &
  ctl_pid[$name]=$!
  pids+=("$!")
  wait_until 20 "controller $name's address" grep -qs "^listening on" "$tmp/$name.out"
  ctl_url[$name]=$(sed -n 's/^listening on //p' "$tmp/$name.out" | head -n1)
}

# Reads one field of /api/v1/status; "none" when there is no answer.
ctl_status_field() {
  curl -s -m 3 "${ctl_url[$1]}/api/v1/status" 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      try { const v = JSON.parse(s)[process.argv[1]]; console.log(v === undefined || v === null ? "none" : v); }
      catch (e) { console.log("none"); }
    })' "$2"
}
ctl_role() { ctl_status_field "$1" role; }
ctl_token() { ctl_status_field "$1" fencing_token; }
ctl_leader() {
  local name role found="" count=0
  : >"$tmp/roles.txt"  # what the last look saw, for a failure message (fail_logs)
  for name in "$@"; do
    role=$(ctl_role "$name")
    echo "$name: $role $(ctl_token "$name")" >>"$tmp/roles.txt"
    if [ "$role" = leader ]; then
      found=$name
      count=$((count + 1))
    fi
  done
  [ "$count" = 1 ] || return 1
  echo "$found"
}

fencing_check() {
  node -e '
    const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const allowRefused = process.argv[2] === "--allow-refused";
    let newest = 0, lastAccepted = 0, refused = 0, problems = [];
    const tokens = [];
    log.calls.forEach((c, i) => {
      if (!tokens.includes(c.token)) tokens.push(c.token);
      if (c.token < newest && !allowRefused) {
        problems.push(`call ${i} (${c.action} ${c.service}) carries token ${c.token} after token ${newest}: two leaders interleaved`);
      }
      if (!c.accepted) {
        refused++;
        if (!allowRefused) problems.push(`call ${i} (${c.action} ${c.service}, token ${c.token}) was refused`);
      } else {
        if (c.token < lastAccepted) problems.push(`accepted call ${i} carries token ${c.token} after ${lastAccepted}: a double actuation`);
        lastAccepted = Math.max(lastAccepted, c.token);
      }
      newest = Math.max(newest, c.token);
    });
    console.log(`calls=${log.calls.length} tokens=${tokens.join(",")} refused=${refused}`);
    if (problems.length) { console.error(problems.join("\n")); process.exit(1); }
  ' "$@"
}

# The policy every etcd scenario scales with: full utilization of 1 s demand, no panic or
# forecast, so each tick's call is predictable; only the scale-up step and the scale-down window
# (the state a failover must carry) vary.
# etcd_test_policy FILE NAME MAX_REPLICAS SCALE_UP_STEP SCALE_DOWN_WINDOW
etcd_test_policy() {
  cat >"$1" <<YAML
apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: $2}
spec:
  target: {utilization: 1.0, tolerance: 0}
  replicas: {min: 1, max: $3}
  metricWindow: 1s
  panic: {enabled: false}
  forecast: {enabled: false}
  scaleUp: {stabilizationWindow: 0s, policies: [{type: Replicas, value: $4, period: 1s}]}
  scaleDown: {stabilizationWindow: $5, policies: [{type: Percent, value: 100, period: 1s}]}
YAML
}

# The one-service fake scenario of the failover and fault scripts (see the header).
# etcd_one_service_scenario FILE SERVICE INSTANCE NAME STARTUP_DELAY CAPACITY
etcd_one_service_scenario() {
  cat >"$1" <<YAML
startupDelay: $5
instances: [{id: $3, capacity: $6}]
services:
  - {id: $2, name: $4, type: GPU-I-2, qps: 5,
     deployments: [{instanceId: $3, replicas: 1}]}
YAML
}
