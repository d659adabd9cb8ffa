#!/usr/bin/env bash
# grafana/ against real processes: the built-in demo (`qfscale run` without a config) and a real
# Prometheus (Debian package, loopback, temporary data dir) scraping it every second and loading
# grafana/rules. Once a few scrapes are in, every query of every dashboard panel (template
# variables filled in for the demo) and every rule evaluates without error through the HTTP
# API, the core panels return data, and every rule reports health ok. Every qfscale_ name used
# anywhere in grafana/ exists in the demo's /metrics. Waits poll with a deadline.
# Usage: grafana_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
prometheus=${PROMETHEUS:-/usr/bin/prometheus}
for tool in "$prometheus" curl node; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (.ci/setup installs it)"; exit 1; }
done

# shellcheck source=lib.sh
. "$here/lib.sh"
fail_logs=(demo.err prometheus.log)

# 1. The demo; its first stdout line is "listening on http://ADDR".
mkfifo "$tmp/demo.fifo"
"$qfscale" run --listen 127.0.0.1:0 -q >"$tmp/demo.fifo" 2>"$tmp/demo.err" &
pids+=("$!")
exec 3<"$tmp/demo.fifo"
IFS= read -r -t 30 first <&3 || fail "the demo did not start"
[[ $first == "listening on http://"* ]] || fail "unexpected first line: $first"
demo_url=${first#listening on }
cat <&3 >/dev/null &
pids+=("$!")

# 2. Every qfscale_ name in grafana/ is in /metrics (sample names include _bucket/_sum/_count).
#    The API histograms have series once a tick has called the API: wait for /readyz, which
#    is 200 after the first successful tick, rather than race the demo's first tick.
demo_ready() { curl -sf "$demo_url/readyz" >/dev/null; }
wait_until 30 "the demo's first tick" demo_ready
curl -sf "$demo_url/metrics" >"$tmp/metrics.txt" || fail "GET $demo_url/metrics"
grep -ohE 'qfscale_[A-Za-z0-9_]+' "$tmp/metrics.txt" | sort -u >"$tmp/exported.txt"
grep -rohE 'qfscale_[A-Za-z0-9_]+' "$root/grafana" | sort -u >"$tmp/used.txt"
[ -s "$tmp/used.txt" ] || fail "no qfscale_ names found in grafana/"
unknown=$(comm -23 "$tmp/used.txt" "$tmp/exported.txt")
[ -z "$unknown" ] || fail "names used in grafana/ but not in /metrics: $unknown"
echo "ok: all $(wc -l <"$tmp/used.txt") qfscale_ names used in grafana/ are exported"

# 3. Prometheus on a free port (retried if the port is taken between choosing and binding).
#    A plain scrape job, as in grafana/README.md: no honor_labels, so a label of ours that
#    collided with a target label (job, instance) would show up as exported_* (checked below).
cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$root/grafana/rules/*.yaml"]
scrape_configs:
  - job_name: qfscale
    static_configs: [{targets: ["${demo_url#http://}"]}]
YAML
for attempt in 1 2 3; do
  prom_port=$(free_port)
  "$prometheus" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data$attempt" \
    --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
  prometheus_pid=$!
  pids+=("$prometheus_pid")
  deadline=$((SECONDS + 30))
  until curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null; do
    kill -0 "$prometheus_pid" 2>/dev/null || break
    [ "$SECONDS" -lt "$deadline" ] || fail "prometheus not ready"
    sleep 0.3
  done
  kill -0 "$prometheus_pid" 2>/dev/null && break
  grep -q "address already in use" "$tmp/prometheus.log" || fail "prometheus exited"
done
prom="http://127.0.0.1:$prom_port"

# 4. Evaluate. The node script polls until the core panels have data and every rule has been
#    evaluated (or the deadline passes), then reports every failing or empty query.
node "$here/grafana_dashboards.js" exprs "$root/grafana/dashboards" >"$tmp/exprs.jsonl"
PROM="$prom" node - "$tmp/exprs.jsonl" <<'JS' || fail "expression evaluation (above)"
'use strict';
const fs = require('fs');
const prom = process.env.PROM;
const panels = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
async function api(p, params) {
  const r = await fetch(`${prom}/api/v1/${p}?${new URLSearchParams(params)}`);
  const body = await r.json();
  return { http: r.status, ...body };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const deadline = Date.now() + 40000;
  // A few scrapes first: three samples of `up` in the last minute.
  for (;;) {
    const r = await api('query', { query: 'count_over_time(up{job="qfscale"}[1m]) >= 3' });
    if (r.status === 'success' && r.data.result.length) break;
    if (Date.now() > deadline) { console.log('FAIL: fewer than 3 scrapes of the demo'); process.exit(1); }
    await sleep(300);
  }
  let problems;
  for (;;) {
    problems = [];
    // Nothing we export was renamed for colliding with a target label.
    const clash = await api('query', { query: '{__name__=~"qfscale_.+",exported_instance!=""} or {__name__=~"qfscale_.+",exported_job!=""}' });
    if (clash.status !== 'success') problems.push(`label collision query: ${clash.error}`);
    else if (clash.data.result.length) problems.push(`series with exported_* labels: ${JSON.stringify(clash.data.result[0].metric)}`);
    for (const q of panels) {
      const r = await api('query', { query: q.expr });
      if (r.status !== 'success') problems.push(`${q.file} "${q.panel}": ${q.expr}: ${r.errorType}: ${r.error}`);
      else if (q.core && r.data.result.length === 0) problems.push(`${q.file} "${q.panel}" (core) returned no data: ${q.expr}`);
    }
    const rules = await api('rules', {});
    if (rules.status !== 'success') problems.push(`GET /api/v1/rules: ${rules.error}`);
    let nrules = 0;
    for (const g of rules.data ? rules.data.groups : []) {
      for (const rule of g.rules) {
        nrules++;
        if (rule.health !== 'ok') problems.push(`rule ${rule.name}: health ${rule.health} ${rule.lastError || ''}`);
        const r = await api('query', { query: rule.query });
        if (r.status !== 'success') problems.push(`rule ${rule.name}: ${r.errorType}: ${r.error}`);
      }
    }
    if (nrules < 16) problems.push(`Prometheus loaded ${nrules} rules, expected at least 16`);
    if (!problems.length) {
      console.log(`ok: ${panels.length} panel queries and ${nrules} rules evaluate; core panels have data`);
      return;
    }
    if (Date.now() > deadline) { console.log(problems.map((p) => `FAIL: ${p}`).join('\n')); process.exit(1); }
    await sleep(500);
  }
})().catch((e) => { console.log(`FAIL: ${e.stack}`); process.exit(1); });
JS
