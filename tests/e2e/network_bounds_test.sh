#!/usr/bin/env bash
# Bounded resources as an operator meets them, with real processes on loopback:
#  1. `qfscale fake-qianfan` under `prlimit --nofile=64:64` with a connection cap above its
#     descriptors: 100 idle clients exhaust the fd table (EMFILE); the accept loop backs off
#     instead of spinning (CPU over 3 s stays low), says so once, and serves again once the
#     clients leave.
#  2. The same limit with the default cap (a quarter of 64 = 16): extra connections get 503 at
#     once, the fd table never fills, and the server serves again afterwards.
#  3. `qfscale describe --timeout 1s` against an endpoint that does not answer returns within a
#     bound, exit 2, naming the timeout.
# Usage: network_bounds_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=('*.err' '*.out')

# start_limited NAME ARGS...: the fake under a 64-descriptor limit, like start_fake; sets
# fake_pid, fake_url and fake_port. prlimit execs the fake, so the pid is the fake's own.
start_limited() {
  local name=$1 first fifo_fd
  shift
  mkfifo "$tmp/$name.fifo"
  prlimit --nofile=64:64 "$qfscale" fake-qianfan --listen 127.0.0.1:0 "$@" \
    >"$tmp/$name.fifo" 2>"$tmp/$name.err" &
  fake_pid=$!
  pids+=("$fake_pid")
  # Kept open for the fake's life: it writes more lines, and a FIFO without a reader kills it.
  exec {fifo_fd}<"$tmp/$name.fifo"
  IFS= read -r -t 30 first <&"$fifo_fd" || fail "$name: the fake did not start"
  fake_url=${first#listening on }
  fake_port=${fake_url##*:}
  [ "$(awk '/^Max open files/ { print $4 }' "/proc/$fake_pid/limits")" = 64 ] ||
    fail "$name: the descriptor limit did not apply"
}

# CPU seconds (user + system) the process has used, from /proc/PID/stat.
cpu_ticks() {
  # Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# hold N: opens N idle connections to fake_port on this shell's descriptors (held_fds).
held_fds=()
hold() {
  local i fd
  for ((i = 0; i < $1; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$fake_port" || fail "connect $i failed"
    held_fds+=("$fd")
  done
}
release() {
  local fd
  for fd in "${held_fds[@]}"; do exec {fd}>&-; done
  held_fds=()
}
healthy() { curl -sf --max-time 2 "$fake_url/healthz" >/dev/null; }

# At most this share of one core over the measuring interval. A spinning accept loop uses
# about all of a core (7-13 s of CPU in 10 s measured before the fix).
measure_cpu() {
  local before after ticks_per_second interval=3
  ticks_per_second=$(getconf CLK_TCK)
  before=$(cpu_ticks "$fake_pid")
  sleep "$interval" # the measuring interval itself, not a wait for an event
  after=$(cpu_ticks "$fake_pid")
  cpu_ms=$(((after - before) * 1000 / ticks_per_second))
  echo "  CPU while the clients hold their connections: ${cpu_ms} ms in ${interval} s"
  [ "$cpu_ms" -le $((interval * 1000 / 10)) ] || fail "$1: the server spins (${cpu_ms} ms of CPU in ${interval} s)"
}

# 1. More clients than descriptors, the cap out of the way: EMFILE.
start_limited emfile --max-connections 1000
wait_until 10 "the fake to serve" healthy
hold 100
wait_until 10 "the EMFILE log line" grep -q "cannot accept connections: Too many open files" "$tmp/emfile.err"
measure_cpu emfile
release
wait_until 15 "the fake to serve again after the clients left" healthy
[ "$(grep -c "cannot accept connections" "$tmp/emfile.err")" -eq 1 ] ||
  fail "emfile: the pause was not logged exactly once"
grep -q "accepting connections again" "$tmp/emfile.err" || fail "emfile: the recovery was not logged"
echo "ok: out of descriptors, the accept loop backs off, logs once and recovers"
kill "$fake_pid"
wait "$fake_pid" 2>/dev/null || true

# 2. The default cap keeps the fd table from filling.
start_limited capped
wait_until 10 "the fake to serve" healthy
hold 40
wait_until 10 "the cap log line" grep -q "16 connections open, the limit" "$tmp/capped.err"
refused=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$fake_url/healthz" || true)
[ "$refused" = 503 ] || fail "capped: a connection over the cap got '$refused', not 503"
measure_cpu capped
release
wait_until 15 "the fake to serve again after the clients left" healthy
if grep -q "cannot accept connections" "$tmp/capped.err"; then
  fail "capped: the fd table filled despite the cap"
fi
echo "ok: the default cap (16 of 64 descriptors) refuses extra connections with 503"
kill "$fake_pid"
wait "$fake_pid" 2>/dev/null || true

# 3. --timeout bounds an API command against an endpoint that does not answer.
start_fake
curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"DescribeService":{"latency":"10m"}}' "$fake_url/admin/faults" >/dev/null ||
  fail "could not set the latency fault"
start=$SECONDS
status=0
timeout 30 "$qfscale" describe svco-chatsmall001 --timeout 1s >"$tmp/describe.out" 2>"$tmp/describe.err" ||
  status=$?
elapsed=$((SECONDS - start))
[ "$status" -eq 2 ] || fail "describe --timeout 1s exited $status, not 2"
[ "$elapsed" -le 5 ] || fail "describe --timeout 1s took ${elapsed} s"
grep -q "describe timed out after 1s (--timeout)" "$tmp/describe.err" ||
  fail "describe did not name the timeout"
echo "ok: describe --timeout 1s gives up within ${elapsed} s with exit 2"

status=0
"$qfscale" describe svco-chatsmall001 --timeout soon >/dev/null 2>"$tmp/badtimeout.err" || status=$?
[ "$status" -ne 0 ] || fail "--timeout soon was accepted"
grep -q -- "--timeout" "$tmp/badtimeout.err" || fail "a bad --timeout is not named"
echo "ok: a bad --timeout is a usage error"
