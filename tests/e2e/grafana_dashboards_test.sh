#!/usr/bin/env bash
# grafana/dashboards/*.json: valid JSON, unique panel ids, gridPos rectangles inside the 24
# columns and not overlapping, every panel on ${datasource} with a query and a unit (rows
# excepted); then the checker itself must reject a broken copy. $1 (qfscale) is unused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
command -v node >/dev/null || { echo "FAIL: node not found"; exit 1; }
node "$here/grafana_dashboards.js" check "$root/grafana/dashboards"

# The checker catches what it claims to: break one property at a time in a copy.
break_copy() { # NAME JS-STATEMENT (on `d`, the overview dashboard)
  rm -rf "${tmp:?}/$1" && mkdir "$tmp/$1" && cp "$root"/grafana/dashboards/*.json "$tmp/$1/"
  node -e 'const fs=require("fs");const f=process.argv[1];const d=JSON.parse(fs.readFileSync(f));'"$2"';fs.writeFileSync(f,JSON.stringify(d))' \
    "$tmp/$1/overview.json"
  if node "$here/grafana_dashboards.js" check "$tmp/$1" >"$tmp/$1.out"; then
    echo "FAIL: the checker accepted a dashboard with $1"; exit 1
  fi
}
break_copy duplicate-id 'd.panels[2].id = d.panels[1].id'
break_copy overlap 'd.panels[2].gridPos = {...d.panels[1].gridPos, x: d.panels[1].gridPos.x + 1}'
break_copy no-unit 'delete d.panels[1].fieldConfig.defaults.unit'
break_copy no-expr 'd.panels[1].targets = []'
break_copy fixed-datasource 'd.panels[1].datasource = {type: "prometheus", uid: "P1809F7CD0C75ACF3"}'
break_copy no-datasource-variable 'd.templating.list = []'
printf '{"panels": [' >"$tmp/duplicate-id/overview.json" # and a parse error
if node "$here/grafana_dashboards.js" check "$tmp/duplicate-id" >/dev/null 2>&1; then
  echo "FAIL: the checker accepted invalid JSON"; exit 1
fi
echo "ok: the checker rejects duplicate ids, overlaps, missing units/queries, fixed datasources, bad JSON"

# The provisioning files a stock Grafana reads: a prometheus datasource and a file provider
# whose path the README's install line fills.
prov=$root/grafana/provisioning
if ! grep -q '^apiVersion: 1$' "$prov/datasources/qfscale.yaml" ||
  ! grep -q 'type: prometheus' "$prov/datasources/qfscale.yaml"; then
  echo "FAIL: $prov/datasources/qfscale.yaml is not a prometheus datasource"
  exit 1
fi
if ! grep -q '^apiVersion: 1$' "$prov/dashboards/qfscale.yaml" ||
  ! grep -q 'type: file' "$prov/dashboards/qfscale.yaml" ||
  ! grep -q 'path: /var/lib/grafana/dashboards/qfscale$' "$prov/dashboards/qfscale.yaml"; then
  echo "FAIL: $prov/dashboards/qfscale.yaml is not the file provider the README installs"
  exit 1
fi
grep -q '/var/lib/grafana/dashboards/qfscale' "$root/grafana/README.md" ||
  { echo "FAIL: grafana/README.md does not name the provider path"; exit 1; }
echo "ok: provisioning files"
