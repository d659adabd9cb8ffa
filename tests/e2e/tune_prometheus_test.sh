#!/usr/bin/env bash
# `qfscale tune --prometheus URL --query Q --range D --step S --end T` against a real Prometheus
# (Debian package) holding a known series, backfilled with `promtool tsdb create-blocks-from
# openmetrics`: four hours at one sample per second (14,400 points, more than the 11,000 one
# range query may return, so the reader must split it; the test shows Prometheus refuses it in
# one). The tuner must read exactly the numbers written: the same request total and the same
# points and choice as `qfscale tune --trace` on a CSV of the series; at a 15 s step with
# avg_over_time, the same request total. All on loopback.
set -euo pipefail
qfscale=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
prometheus=${PROMETHEUS:-/usr/bin/prometheus}
promtool=${PROMTOOL:-promtool}
for tool in "$prometheus" "$promtool" curl node; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (.ci/setup installs it)"; exit 1; }
done
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="tune_prometheus_test: FAIL: "
fail_logs=(prometheus.log promtool.log)

# The series: second s of the four hours holds 10 QPS, 25 from 4800 s to 9600 s, plus s mod 3.
# A sample at S + s + 1 counts second s (a value at t describes the time up to t). S: a whole
# hour a day ago, well inside the default 15-day retention.
seconds=14400
now=$(date +%s)
start=$((now - now % 3600 - 86400))
end=$((start + seconds))
node - "$start" "$seconds" "$tmp/series.om" "$tmp/series.csv" <<'JS'
const fs = require("fs");
const [start, n] = [Number(process.argv[2]), Number(process.argv[3])];
const om = ["# TYPE qps_e2e gauge"], csv = ["t_seconds,qps"];
for (let s = 0; s < n; s++) {
  const v = (s >= 4800 && s < 9600 ? 25 : 10) + (s % 3);
  om.push(`qps_e2e{service="e2e"} ${v} ${start + s + 1}`);
  csv.push(`${s},${v}`);
}
om.push("# EOF");
fs.writeFileSync(process.argv[4], om.join("\n") + "\n");
fs.writeFileSync(process.argv[5], csv.join("\n") + "\n");
JS
"$promtool" tsdb create-blocks-from openmetrics "$tmp/series.om" "$tmp/data" >"$tmp/promtool.log" 2>&1 ||
  fail "promtool could not backfill"

# Prometheus on a free loopback port, scraping nothing; chosen again if taken meanwhile.
echo "global: {evaluation_interval: 1m}" >"$tmp/prometheus.yml"
for attempt in 1 2 3; do
  port=$(free_port)
  "$prometheus" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$port" >"$tmp/prometheus.log" 2>&1 &
  prometheus_pid=$!
  pids+=("$prometheus_pid")
  ready() { curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null || ! kill -0 "$prometheus_pid" 2>/dev/null; }
  wait_until 60 "prometheus ready" ready
  kill -0 "$prometheus_pid" 2>/dev/null && break
  grep -q "address already in use" "$tmp/prometheus.log" && [ "$attempt" -lt 3 ] || fail "prometheus exited"
done
url="http://127.0.0.1:$port"
# The backfilled block is loaded: the sample at the last second is there.
has_data() { curl -sfG "$url/api/v1/query" --data-urlencode "query=qps_e2e" --data-urlencode "time=$end" |
  grep -q '"result":\[{'; }
wait_until 30 "the backfilled series is queryable" has_data

# One query for all 14,400 points is refused: the tuner has to split it.
curl -sG "$url/api/v1/query_range" --data-urlencode "query=sum(qps_e2e)" \
  --data-urlencode "start=$((start + 1))" --data-urlencode "end=$end" --data-urlencode "step=1" \
  >"$tmp/whole.json" || true
grep -q "exceeded maximum resolution of 11,000 points per timeseries" "$tmp/whole.json" ||
  fail "Prometheus answered 14,400 points in one query: $(head -c 300 "$tmp/whole.json")"
echo "ok: Prometheus holds the backfilled series and refuses it in one range query"

tune() { "$qfscale" tune --policy cost-saver --slo 99%@5s --replica-qps 5 --type GPU-I-2 -o json "$@"; }
tune --prometheus "$url" --query 'sum(qps_e2e)' --range 4h --step 1s --end "$end" \
  >"$tmp/prom.json" 2>"$tmp/prom.err" || fail "tune --prometheus exited $?: $(cat "$tmp/prom.err")"
tune --trace "$tmp/series.csv" -q >"$tmp/csv.json" 2>&1 || fail "tune --trace: $(cat "$tmp/csv.json")"
grep -q "^sweep: 14/14 " "$tmp/prom.err" || fail "no progress: $(cat "$tmp/prom.err")"
! grep -q "note:" "$tmp/prom.err" || fail "tune --prometheus noted missing points: $(cat "$tmp/prom.err")"
node - "$tmp/prom.json" "$tmp/csv.json" "$url" <<'JS' || fail "the tuner did not read the series"
const fs = require("fs");
const p = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const c = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const fail = (m) => { console.error(m); process.exit(1); };
// 10 x 9600 + 25 x 4800 + (0 + 1 + 2) x 4800.
const want = 10 * 9600 + 25 * 4800 + 3 * 4800;
const t = p.traces[0];
if (t.source !== process.argv[4] || t.seconds !== 14400 || t.requests !== want) {
  fail(`read ${JSON.stringify(t)}, want 14400 s and ${want} requests`);
}
if (c.traces[0].requests !== want) fail(`the CSV has ${c.traces[0].requests} requests`);
const strip = (x) => x.points.map(({ value, slo_attainment_pct, compute_unit_hours }) =>
  [value, slo_attainment_pct, compute_unit_hours]);
if (JSON.stringify(strip(p)) !== JSON.stringify(strip(c))) fail("points differ from the CSV's");
if (!p.best || p.best.value !== c.best.value) fail("a different choice than from the CSV");
console.log(`prometheus: ${want} requests, best ${p.best.value} as from the CSV`);
JS
echo "ok: at a 1 s step the tuner reads the series exactly (same points and choice as the CSV)"

# A 15 s step: each point the mean of its 15 seconds (14.999 s: Prometheus 2 includes a range's
# left end, 3 does not; either way the 15 samples of the step), so the same request total.
tune --prometheus "$url" --query 'avg_over_time(qps_e2e[14999ms])' --range 4h --step 15s --end "$end" -q \
  >"$tmp/prom15.json" 2>"$tmp/prom15.err" || fail "tune --step 15s exited $?: $(cat "$tmp/prom15.err")"
node -e '
const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const want = 10 * 9600 + 25 * 4800 + 3 * 4800;
if (p.traces[0].seconds !== 14400 || Math.abs(p.traces[0].requests - want) > 1e-6 * want) {
  console.error(`15 s step read ${JSON.stringify(p.traces[0])}, want ${want}`);
  process.exit(1);
}' "$tmp/prom15.json" || fail "the 15 s step read other numbers"
echo "ok: at a 15 s step the request total is the same"

# A query with two series: exit 2 with the reason.
rc=0
tune --prometheus "$url" --query 'qps_e2e or label_replace(qps_e2e, "service", "x", "", "")' \
  --range 1h --end "$end" -q >/dev/null 2>"$tmp/two.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "the query returned 2 series; it must return one" "$tmp/two.err" ||
  fail "two series: exit $rc, $(cat "$tmp/two.err")"
echo "ok: a query returning two series exits 2 saying so"
