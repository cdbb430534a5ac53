// report.html: the summary, the tables and the plots on one self-contained page. Styles and SVGs
// are inline and nothing is loaded from elsewhere, so the file can be mailed or opened offline.
import type { SweepResults } from '../experiments/results.js';
import {
  ablationTables,
  failuresTable,
  frontTables,
  headlineSentences,
  rankingTable,
  resultsTable,
  type Table,
} from './tables.js';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function htmlTable(table: Table, level = 'h2'): string {
  const title = `<${level}>${escapeHtml(table.title)}</${level}>`;
  if (table.rows.length === 0) return `${title}\n<p>${escapeHtml(table.empty ?? '(none)')}</p>`;
  const head = table.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = table.rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `${title}\n<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const style = `
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f0f0f0; }
figure { display: inline-block; margin: 0 1em 1em 0; }
`;

export function reportHtml(results: SweepResults, plots: { title: string; svg: string }[]): string {
  const m = results.manifest;
  const figures = plots
    .map((p) => `<figure>${p.svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>${escapeHtml(p.title)}</figcaption></figure>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(m.name)}: tinyforge sweep report</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(m.name)}</h1>
${m.description ? `<p>${escapeHtml(m.description)}</p>` : ''}
<p>${m.points.length} point(s): ${results.finished.length} passed, ${results.missing.length} without results${results.failures.length ? ` (${results.failures.length} failed)` : ""}.</p>
<h2>Lightweight vs baseline</h2>
<ul>
${headlineSentences(results).map((s) => `<li>${escapeHtml(s)}</li>`).join('\n')}
</ul>
${htmlTable(resultsTable(results))}
${htmlTable(rankingTable(results))}
${frontTables(results).map((t) => htmlTable(t, 'h3')).join('\n')}
<h2>Plots</h2>
${figures}
<h2>Ablations</h2>
${ablationTables(results).map((t) => htmlTable(t, 'h3')).join('\n') || '<p>No grid field has two or more values.</p>'}
${htmlTable(failuresTable(results))}
</body>
</html>
`;
}
