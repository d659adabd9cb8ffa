#!/usr/bin/env bash
# The repository stands alone: every relative link in README.md, docs/, policies/, grafana/,
# examples/ and bench/ Markdown names a file of the repository (and, with #anchor, a heading
# in it), and none points outside the repository. Nor does any tracked file name the shared
# folder that once sat beside the clone (the old home of the design documents and traces).
# Usage: docs_links_test.sh path/to/qfscale (unused)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$root"
git ls-files '*.md' | grep -v '^tests/interop/' >"$tmp/pages"
node - "$tmp/pages" <<'JS'
const fs = require("fs"), path = require("path");
const pages = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
const anchor = (h) => h.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
const anchors = (file) => new Set(fs.readFileSync(file, "utf8").split("\n")
  .filter((l) => /^#{1,6} /.test(l)).map((l) => anchor(l.replace(/^#+ /, ""))));
let bad = 0, checked = 0;
for (const page of pages) {
  const text = fs.readFileSync(page, "utf8").replace(/```[\s\S]*?```/g, "");
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const link = m[1];
    if (/^[a-z]+:/.test(link)) continue;  // http:, https:, mailto:
    const [file, frag] = link.split("#");
    const target = file ? path.normalize(path.join(path.dirname(page), file)) : page;
    checked++;
    if (target.startsWith("..")) { console.log(`${page}: ${link} points outside the repository`); bad++; continue; }
    if (!fs.existsSync(target)) { console.log(`${page}: ${link}: no such file`); bad++; continue; }
    if (frag && target.endsWith(".md") && !anchors(target).has(frag)) {
      console.log(`${page}: ${link}: no heading #${frag} in ${target}`); bad++;
    }
  }
}
console.log(`${checked} relative links in ${pages.length} pages, ${bad} broken`);
process.exit(bad ? 1 : 0);
JS
old_home='\.\.[/]shared' # spelled so that this file does not name it
if git grep -n -E "$old_home" >"$tmp/shared.txt"; then
  cat "$tmp/shared.txt"
  fail "files still point at the old shared folder beside the clone"
fi
echo "ok: every relative link resolves inside the repository; nothing names the old shared folder"
