#!/usr/bin/env bash
# `qfscale loadgen --synthetic` against a real `qfscale fake-qianfan` (built-in scenario, port 0):
# the summary line adds up, the fake counted every request it was sent, a 1-qps service rejects
# the excess with 429, SIGINT stops an endless run with a summary and exit 0, and usage errors
# exit non-zero. Waits are on the processes' own output (FIFOs with read -t), never on timers.
# Usage: loadgen_test.sh path/to/qfscale
set -euo pipefail
qfscale=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=(fake.err)
# The checks below go on after a mismatch, so one run reports all of them; exit 1 at the end.
status=0
fail_later() {
  echo "FAIL $*"
  status=1
}

start_fake
[[ $fake_url == "http://"* ]] || fail "the fake's address is not http://: '$fake_url'"
base=$fake_url
hostport=${base#http://}

fake_metric() {  # service outcome -> the fake's request counter, via bash's /dev/tcp
  local body
  exec 4<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
  printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$hostport" >&4
  body=$(cat <&4)
  exec 4<&-
  sed -n "s/^qfscale_fake_requests_total{service=\"$1\",outcome=\"$2\"} \([0-9]*\).*/\1/p" \
    <<<"$body"
}

# chat-small: 3 ready replicas x 5 qps = 15/s; image-gen: 1 x 1 qps = 1/s. Both get about
# 10-15 qps of synthetic traffic for 3 s.
summary_re='^loadgen: done after ([0-9.]+)s: sent=([0-9]+) ok=([0-9]+) rejected=([0-9]+) errors=0 dropped=0 rate=[0-9.]+/s target=[0-9.]+/s$'
"$qfscale" loadgen --target "$base/traffic/" --service svco-chatsmall001 \
  --service svco-imagegen0001 --synthetic --seed 3 --base-qps 10 --duration 3s \
  --report-every 1s >"$tmp/run.out" 2>"$tmp/run.err" || fail_later "loadgen exit $?: $(cat "$tmp/run.err")"
summary=$(grep '^loadgen: done after' "$tmp/run.out" || true)
if [[ $summary =~ $summary_re ]]; then
  elapsed=${BASH_REMATCH[1]} sent=${BASH_REMATCH[2]} ok=${BASH_REMATCH[3]}
  rejected=${BASH_REMATCH[4]}
  [[ $elapsed == 3.* ]] || fail_later "ran ${elapsed}s, want 3s"
  ((sent > 20)) || fail_later "sent only $sent in 3 s at about 25 qps"
  ((ok + rejected == sent)) || fail_later "ok $ok + rejected $rejected != sent $sent"
else
  fail_later "summary line: '$summary' in: $(cat "$tmp/run.out")"
  sent=-1
fi
grep -q '^loadgen: last [0-9.]*s to [0-9.]*s: sent=' "$tmp/run.out" || fail_later "no progress line: $(cat "$tmp/run.out")"

# The fake counted what loadgen sent, per service.
total=0
for service in svco-chatsmall001 svco-imagegen0001; do
  line=$(grep "^loadgen:   $service: " "$tmp/run.out" || true)
  [[ $line =~ sent=([0-9]+)\ ok=([0-9]+)\ rejected=([0-9]+) ]] || {
    fail_later "no per-service line for $service"
    continue
  }
  served=$(fake_metric "$service" served)
  shed=$(fake_metric "$service" rejected)
  [[ $served == "${BASH_REMATCH[2]}" ]] || fail_later "$service: fake served $served, loadgen ok ${BASH_REMATCH[2]}"
  [[ $shed == "${BASH_REMATCH[3]}" ]] || fail_later "$service: fake rejected $shed, loadgen ${BASH_REMATCH[3]}"
  total=$((total + served + shed))
  if [[ $service == svco-imagegen0001 ]]; then
    # 1 qps: at most one request per wall second is served (3 s touch at most 4 seconds).
    ((served <= 4 && shed > 0)) || fail_later "image-gen at 1 qps served $served, rejected $shed"
  fi
done
((total == sent)) || fail_later "the fake counted $total requests, loadgen sent $sent"

# SIGINT stops an endless run: wait for the first progress line, interrupt, expect a summary.
mkfifo "$tmp/endless.out"
"$qfscale" loadgen --target "$base/traffic/svco-chatsmall001" --synthetic --base-qps 5 \
  --report-every 1s >"$tmp/endless.out" 2>"$tmp/endless.err" &
endless=$!
pids+=($endless)
exec 5<"$tmp/endless.out"
if IFS= read -r -t 20 progress <&5 && [[ $progress == "loadgen: "* ]]; then
  kill -INT "$endless"
  rc=0
  wait "$endless" || rc=$?
  rest=$(cat <&5)
  ((rc == 0)) || fail_later "loadgen exit $rc after SIGINT: $(cat "$tmp/endless.err")"
  grep -q '^loadgen: stopped after [0-9.]*s: sent=[0-9]* ok=' <<<"$rest" ||
    fail_later "no summary after SIGINT: '$rest'"
else
  fail_later "no progress line from the endless run: $(cat "$tmp/endless.err")"
fi

# Usage errors: no source, both sources, a bad duration.
for args in "--target $base/traffic/x" \
  "--target $base/traffic/x --synthetic --trace $tmp/fake.err" \
  "--target $base/traffic/x --synthetic --duration 3"; do
  rc=0
  # shellcheck disable=SC2086
  "$qfscale" loadgen $args >/dev/null 2>"$tmp/usage.err" || rc=$?
  ((rc != 0)) && [[ -s $tmp/usage.err ]] || fail_later "loadgen $args: exit $rc, stderr '$(cat "$tmp/usage.err")'"
done
exit $status
