#!/usr/bin/env bash
# report.html from `qfscale simulate` in headless Chromium: a capacity chart per policy (late
# requests shaded, values on hover) and a replicas chart per service, with the oracle and demand;
# no console errors; and a screenshot,
# kept in the build directory (printed below) for a human to look at.
set -euo pipefail
qfscale=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
build=$(dirname "$qfscale")
out=$build/simulate_report
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="simulate_report_test: FAIL: "
command -v chromium >/dev/null || fail "chromium not found (Debian package chromium)"

# Two services: a step and a daily-looking wave with a one-second spike (the charts must keep it).
{
  echo "t_seconds,qps"
  for ((t = 0; t < 3600; t++)); do echo "$t,$((t >= 1200 && t < 2400 ? 40 : 12))"; done
} >"$tmp/step.csv"
awk 'BEGIN { print "t_seconds,qps"; for (t = 0; t < 7200; t++) {
  q = 20 + 15 * sin(t / 7200 * 6.2832); if (t == 5000) q = 120; printf "%d,%.3f\n", t, q } }' \
  >"$tmp/wave.csv"
rm -rf "$out" && mkdir -p "$out"
"$qfscale" simulate --trace "$tmp/step.csv" --trace "$tmp/wave.csv" --policy balanced \
  --policy latency-first --policy hpa-default --replica-qps 5 --type GPU-I-2 --out "$out" \
  >"$out/table.txt" || fail "simulate failed"
report=$out/report.html
if grep -qE 'src=|href=|url\(|@import|<script' "$report"; then
  fail "report.html references something outside itself or has a script"
fi

chrome() { # ARGS...: headless Chromium with a private profile, bounded in time
  timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
    --enable-logging=stderr --v=0 "$@"
}
console_errors() { grep -E 'Uncaught|ERROR:CONSOLE|INFO:CONSOLE' "$1" || true; }

# The check for console errors works: a page that throws is caught.
echo '<html><body><script>throw new Error("boom")</script></body></html>' >"$tmp/throws.html"
chrome --dump-dom "file://$tmp/throws.html" >/dev/null 2>"$tmp/throws.log" || true
grep -q 'Uncaught Error: boom' "$tmp/throws.log" || fail "console errors are not visible in the log"

chrome --dump-dom "file://$report" >"$out/dom.html" 2>"$out/dump.log" || fail "dump-dom: $(tail -5 "$out/dump.log")"
[ -z "$(console_errors "$out/dump.log")" ] || fail "console messages: $(console_errors "$out/dump.log")"
n() { grep -o -- "$1" "$out/dom.html" | wc -l; }
# Per service: a capacity chart per policy (3) and one replicas chart.
[ "$(n '<svg class="chart"')" -eq 8 ] || fail "want 8 charts (2 services x (3 + 1)), got $(n '<svg class="chart"')"
for s in step wave; do
  [ "$(n "data-chart=\"capacity\" data-service=\"$s\"")" -eq 3 ] || fail "want 3 capacity charts for $s"
  [ "$(n "data-chart=\"replicas\" data-service=\"$s\"")" -eq 1 ] || fail "no replicas chart for $s"
done
for p in balanced latency-first hpa-default; do
  [ "$(n "<polyline class=\"series\" data-series=\"$p\"")" -eq 4 ] || fail "series $p: want 4"
done
[ "$(n '<polyline class="series" data-series="oracle"')" -eq 8 ] || fail "want 8 oracle series"
[ "$(n '<polyline class="series" data-series="demand"')" -eq 6 ] || fail "want 6 demand series"
[ "$(n '<g class="hover">')" -eq 8 ] || fail "want hover columns in all 8 charts"
# The step triples demand at 20m and new replicas take the startup delay: requests turn late there.
grep -q '<rect class="band"[^>]*><title>[0-9]* requests late from 20m' "$out/dom.html" ||
  fail "no late band at the step"
[ "$(n '<table class="summary">')" -eq 1 ] || fail "no summary table"
grep -q '<th scope="row">latency-first</th>' "$out/dom.html" || fail "summary lacks latency-first"
echo "ok: DOM has 8 charts, series per policy, oracle and demand, late bands, hover, the summary"

chrome --screenshot="$out/report.png" --window-size=1400,2000 "file://$report" \
  >"$out/screenshot.log" 2>&1 || fail "screenshot: $(tail -5 "$out/screenshot.log")"
[ -z "$(console_errors "$out/screenshot.log")" ] || fail "console: $(console_errors "$out/screenshot.log")"
[ "$(head -c 8 "$out/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "report.png is not a PNG"
size=$(stat -c %s "$out/report.png")
[ "$size" -gt 50000 ] || fail "report.png is only $size bytes: blank page?"
echo "ok: screenshot $out/report.png ($size bytes)"
echo "simulate_report_test: ok"
