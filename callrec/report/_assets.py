"""The page's inline style sheet and script (the report is one file: nothing is fetched).

The script only filters the matrix; it reads the page, never data from the results. The page's
Content-Security-Policy allows this script by its hash and nothing else.
"""

from __future__ import annotations

from typing import Final

CSS: Final = """
:root {
  --ink: #24292f; --muted: #6b7280; --line: #e5e7eb; --paper: #ffffff; --bg: #f5f6f8;
  --pass: #3f8f5a; --pass-bg: #e3f1e7; --fail: #c4453c; --fail-bg: #f8e1df;
  --wait: #a86b12; --wait-bg: #fbefd9; --dev: #7258a0; --dev-bg: #ece6f5;
  --na: #7d838c; --na-bg: #eef0f2; --skip: #7d838c; --skip-bg: #f3f4f6;
  --untested: #b3b8bf; --accent: #3b6ea8;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }
h1, h2, h3, h4 { line-height: 1.25; }
h2 { font-size: 20px; margin: 36px 0 12px; }
h3 { font-size: 15px; margin: 24px 0 6px; }
h4 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 4px 0;
  max-height: 360px; }
a { color: var(--accent); }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; }
.headline { padding: 22px 26px; border-left: 8px solid var(--verdict); }
.headline .eyebrow { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .05em;
  text-transform: uppercase; }
.headline h1 { margin: 4px 0 6px; font-size: 30px; color: var(--verdict); }
.headline .lede { margin: 0 0 16px; font-size: 16px; }
.verdict-red { --verdict: var(--fail); }
.verdict-yellow { --verdict: var(--wait); }
.verdict-green { --verdict: var(--pass); }
.verdict-lightgrey { --verdict: var(--na); }
.problems { list-style: none; margin: 0 0 18px; padding: 10px 14px; background: #fbfbfc;
  border: 1px solid var(--line); border-radius: 8px; display: grid; gap: 5px; }
.problems li { display: flex; gap: 10px; align-items: baseline; min-width: 0; }
.problems a { font-weight: 600; white-space: nowrap; text-decoration: none; }
.problems .msg { color: var(--muted); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; min-width: 0; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
  gap: 8px 24px; margin: 0 0 16px; }
.facts div { min-width: 0; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; padding: 0; list-style: none; }
.counts li { display: flex; align-items: center; gap: 6px; padding: 3px 10px 3px 4px;
  border-radius: 999px; background: var(--bg); font-size: 13px; }
.counts .what { color: var(--muted); font-size: 12px; margin-right: 4px; align-self: center; }
.note { color: var(--muted); }
nav.toc { margin: 14px 2px 0; font-size: 13px; color: var(--muted); }
nav.toc a { margin-right: 14px; }
.pill { display: inline-flex; align-items: center; justify-content: center; min-width: 24px;
  height: 22px; padding: 0 5px; border-radius: 6px; font-weight: 700; font-size: 13px;
  text-decoration: none; }
.s-pass { color: var(--pass); background: var(--pass-bg); }
.s-fail { color: var(--fail); background: var(--fail-bg); }
.s-not-observed { color: var(--wait); background: var(--wait-bg); }
.s-known-deviation { color: var(--dev); background: var(--dev-bg); }
.s-not-applicable { color: var(--na); background: var(--na-bg); }
.s-skipped { color: var(--skip); background: var(--skip-bg); }
.s-untested { color: var(--untested); background: transparent; }
.filters { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 11px; padding: 12px 14px;
  border-bottom: 1px solid var(--line); }
.filters input[type=search] { flex: 0 1 200px; padding: 6px 10px; border: 1px solid #cfd4da;
  border-radius: 6px; font: inherit; }
.filters label { display: inline-flex; align-items: center; gap: 4px; font-size: 13px;
  cursor: pointer; }
.filters button { font: inherit; font-size: 12px; padding: 3px 9px; border: 1px solid #cfd4da;
  background: var(--paper); border-radius: 6px; cursor: pointer; }
.filters .shown { margin-left: auto; color: var(--muted); font-size: 12px; }
.matrix-wrap { overflow-x: auto; }
table.matrix { border-collapse: collapse; width: 100%; }
.matrix th, .matrix td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: middle; }
.matrix thead th { position: sticky; top: 0; background: var(--paper); font-size: 12px;
  color: var(--muted); font-weight: 600; z-index: 1; }
.matrix thead th.v { text-align: center; white-space: nowrap; }
.matrix td.c { text-align: center; width: 1%; }
.matrix tr.area th { background: #f8f9fb; font-size: 12px; letter-spacing: .05em;
  color: var(--muted); padding-top: 10px; }
.matrix .rid { white-space: nowrap; font-weight: 600; font-size: 13px; }
.matrix .statement { color: var(--muted); font-size: 12px; line-height: 1.35; }
.matrix .level { font-size: 11px; color: var(--muted); font-weight: 600; }
table.changes th[scope=rowgroup] { white-space: nowrap; vertical-align: top; font-size: 13px;
  width: 1%; }
table.changes tbody + tbody { border-top: 2px solid var(--line); }
.changes-note { margin: 0; padding: 10px 14px; font-size: 13px; }
.findings details { border-top: 1px solid var(--line); }
.findings details:first-of-type { border-top: 0; }
.findings summary { padding: 10px 14px; cursor: pointer; display: flex; gap: 10px;
  align-items: baseline; list-style: none; }
.findings summary::-webkit-details-marker { display: none; }
.findings summary::before { content: "▸"; color: var(--muted); width: 10px; }
.findings details[open] > summary::before { content: "▾"; }
.findings .body details summary { padding: 3px 0; gap: 6px; }
.findings summary .msg { color: var(--muted); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; min-width: 0; flex: 1; }
.findings summary code { white-space: nowrap; }
.findings .body { padding: 2px 16px 16px 48px; }
.findings dl { display: grid; grid-template-columns: 130px 1fr; gap: 4px 12px; margin: 6px 0; }
.findings dt { color: var(--muted); }
.findings dd { margin: 0; min-width: 0; }
.exchange { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; margin: 8px 0; }
.exchange .bodies { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.exchange .bodies h5 { margin: 6px 0 0; font-size: 11px; color: var(--muted); font-weight: 600; }
.code { font-weight: 700; }
.more { color: var(--muted); padding: 10px 14px; }
.pictures figure { margin: 0 0 18px; padding: 16px 18px; }
.pictures figcaption { color: var(--muted); font-size: 13px; margin: 0 0 10px; }
.pictures figcaption b { color: var(--ink); font-size: 15px; display: block; margin-bottom: 2px; }
.pictures svg { width: 100%; height: auto; display: block; }
.pictures .panel + .panel { margin-top: 14px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
"""

SCRIPT: Final = """
(() => {
  const table = document.getElementById("matrix-table");
  if (!table) return;
  const text = document.getElementById("filter-text");
  const boxes = Array.from(document.querySelectorAll("#filters input[type=checkbox]"));
  const count = document.getElementById("filter-count");
  const rows = Array.from(table.querySelectorAll("tbody tr.req"));
  const areas = Array.from(table.querySelectorAll("tbody tr.area"));
  function apply() {
    const words = text.value.trim().toLowerCase().split(/\\s+/).filter(Boolean);
    const on = new Set(boxes.filter((b) => b.checked).map((b) => b.value));
    let shown = 0;
    for (const row of rows) {
      const hay = row.dataset.search;
      const visible = words.every((w) => hay.includes(w))
        && row.dataset.statuses.split(" ").some((s) => on.has(s));
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    for (const area of areas) {
      area.hidden = rows.every((r) => r.dataset.area !== area.dataset.area || r.hidden);
    }
    count.textContent = shown + " of " + rows.length + " requirements shown";
    table.dataset.shown = String(shown);
  }
  function only(statuses) {
    for (const b of boxes) b.checked = statuses === null || statuses.includes(b.value);
    apply();
  }
  text.addEventListener("input", apply);
  for (const b of boxes) b.addEventListener("change", apply);
  const button = (id, action) => document.getElementById(id).addEventListener("click", action);
  button("show-problems", () => only(["fail", "not-observed"]));
  button("show-all", () => { text.value = ""; only(null); });
  const asked = new URLSearchParams(location.hash.slice(1));
  if (asked.has("filter")) text.value = asked.get("filter");
  if (asked.has("status")) { only(asked.get("status").split(",")); }
  apply();
  table.dataset.filterReady = "true";
})();
"""
