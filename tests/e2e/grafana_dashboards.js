// Helper for the grafana e2e tests (not a test itself). Usage:
//   node grafana_dashboards.js check DIR  -> validates every DIR/*.json dashboard; exit 1 on a problem
//   node grafana_dashboards.js exprs DIR  -> prints one JSON line per panel query:
//        {file, panel, expr, core}, template variables substituted for the built-in demo
'use strict';
const fs = require('fs');
const path = require('path');

// Panels that must return data against the built-in demo (grafana_test.sh fails otherwise).
// The rest may be legitimately empty there (e.g. API errors when the fake never fails).
const CORE = {
  'overview.json': ['Services', 'Replicas', 'Unmet demand', 'Since last successful tick', 'Config',
    'Services in panic', 'Demand vs ready capacity', 'Utilization by service', 'Replicas by service',
    'Scale operations', 'Unmet demand by service', 'Reconcile ticks', 'Metric source errors'],
  'service.json': ['QPS vs ready capacity', 'Replicas: current, recommended, desired, applied',
    'Utilization', 'Panic mode', 'Unmet demand', 'Replica capacity',
    'Stabilization, panic and other stage changes', 'API calls', 'API latency p99'],
  'capacity.json': ['Capacity, allocated and free', 'Allocated share', 'Free compute units',
    'Per-service share of replicas', 'Desired replicas by service', 'Unmet demand'],
};
// Grafana's built-in variables and the dashboards' own, as the demo would fill them in.
const VARS = {
  service: 'svco-demochat0001', instance: 'unit-demoa001', __rate_interval: '1m',
  __interval: '15s', __range: '5m', __range_s: '300', __interval_ms: '15000',
};

function dashboards(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    return { file: f, json: JSON.parse(text) }; // a parse error throws with the position
  });
}
function flatPanels(d) {
  const out = [];
  for (const p of d.panels || []) { out.push(p); for (const q of p.panels || []) out.push(q); }
  return out;
}
function substitute(expr) {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (m, a, b) => {
    const v = VARS[a || b];
    if (v === undefined) throw new Error(`unknown template variable ${m} in ${expr}`);
    return v;
  });
}

function check(dir) {
  const problems = [];
  const list = dashboards(dir);
  if (list.length < 3) problems.push(`expected 3 dashboards in ${dir}, found ${list.length}`);
  const uids = new Set();
  for (const { file, json: d } of list) {
    const where = (p) => `${file}: panel ${p.id} "${p.title}"`;
    if (!d.uid || uids.has(d.uid)) problems.push(`${file}: missing or duplicate uid ${d.uid}`);
    uids.add(d.uid);
    if (!(d.schemaVersion >= 36)) problems.push(`${file}: schemaVersion ${d.schemaVersion} is too old`);
    const vars = (d.templating && d.templating.list) || [];
    const ds = vars.find((v) => v.name === 'datasource');
    if (!ds || ds.type !== 'datasource' || ds.query !== 'prometheus')
      problems.push(`${file}: no datasource variable of type datasource (prometheus)`);
    for (const v of vars.filter((v) => v.type === 'query'))
      if (!v.datasource || v.datasource.uid !== '${datasource}')
        problems.push(`${file}: variable ${v.name} does not use \${datasource}`);
    if (/"uid"\s*:\s*"(?!\$\{datasource\}|qfscale-|-- Grafana --)/.test(JSON.stringify(d)))
      problems.push(`${file}: a hard-coded uid other than \${datasource}`);
    const ids = new Set();
    const rects = [];
    for (const p of flatPanels(d)) {
      if (typeof p.id !== 'number' || ids.has(p.id)) problems.push(`${where(p)}: id missing or not unique`);
      ids.add(p.id);
      const g = p.gridPos || {};
      if (![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.w < 1 || g.h < 1 || g.x < 0 || g.y < 0 || g.x + g.w > 24)
        problems.push(`${where(p)}: bad gridPos ${JSON.stringify(g)}`);
      for (const r of rects)
        if (g.x < r.g.x + r.g.w && r.g.x < g.x + g.w && g.y < r.g.y + r.g.h && r.g.y < g.y + g.h)
          problems.push(`${where(p)}: gridPos overlaps ${where(r.p)}`);
      rects.push({ p, g });
      if (p.type === 'row') continue;
      if (!p.datasource || p.datasource.uid !== '${datasource}' || p.datasource.type !== 'prometheus')
        problems.push(`${where(p)}: datasource is not \${datasource}`);
      const targets = p.targets || [];
      if (!targets.some((t) => typeof t.expr === 'string' && t.expr.trim()))
        problems.push(`${where(p)}: no target with an expr`);
      for (const t of targets)
        if (!t.datasource || t.datasource.uid !== '${datasource}')
          problems.push(`${where(p)}: target ${t.refId} datasource is not \${datasource}`);
      const unit = p.fieldConfig && p.fieldConfig.defaults && p.fieldConfig.defaults.unit;
      if (!unit) problems.push(`${where(p)}: no unit (fieldConfig.defaults.unit)`);
      const steps = p.fieldConfig && p.fieldConfig.defaults.thresholds && p.fieldConfig.defaults.thresholds.steps;
      if (!Array.isArray(steps) || steps.length < 1 || steps[0].value !== null)
        problems.push(`${where(p)}: thresholds must start with a base step (value null)`);
    }
    for (const title of CORE[file] || [])
      if (!flatPanels(d).some((p) => p.title === title)) problems.push(`${file}: core panel "${title}" is missing`);
  }
  for (const f of Object.keys(CORE))
    if (!list.some((d) => d.file === f)) problems.push(`dashboard ${f} is missing`);
  if (problems.length) { console.log(problems.map((p) => `FAIL: ${p}`).join('\n')); process.exit(1); }
  console.log(`ok: ${list.length} dashboards, ${list.reduce((n, d) => n + flatPanels(d.json).length, 0)} panels valid`);
}

function exprs(dir) {
  for (const { file, json: d } of dashboards(dir))
    for (const p of flatPanels(d))
      for (const t of p.targets || [])
        if (t.expr)
          console.log(JSON.stringify({ file, panel: p.title, expr: substitute(t.expr),
            core: (CORE[file] || []).includes(p.title) }));
}

const [mode, dir] = process.argv.slice(2);
if (mode === 'check') check(dir);
else if (mode === 'exprs') exprs(dir);
else { console.error('usage: grafana_dashboards.js check|exprs DIR'); process.exit(2); }
