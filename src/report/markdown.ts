// summary.md, ranking.md and ablations.md, rendered from the shared tables.
import { ablationMetrics } from '../experiments/ablations.js';
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

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(table: Table, level = '##'): string {
  const lines = [`${level} ${table.title}`, ''];
  if (table.rows.length === 0) return [...lines, table.empty ?? '(none)', ''].join('\n');
  lines.push(`| ${table.headers.map(cell).join(' | ')} |`);
  lines.push(`|${table.headers.map(() => ' --- ').join('|')}|`);
  for (const row of table.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return [...lines, ''].join('\n');
}

function heading(results: SweepResults, what: string): string {
  const m = results.manifest;
  return `# ${m.name}: ${what}\n\n${m.description ? m.description + '\n\n' : ''}`;
}

export function rankingMarkdown(results: SweepResults): string {
  return (
    heading(results, 'Pareto ranking') +
    'A point is Pareto-optimal on an axis when no other point has at least its on-target accuracy at no more ' +
    'cost and is strictly better in one of the two. Points with identical accuracy and cost are all kept.\n\n' +
    [rankingTable(results), ...frontTables(results)].map((t) => markdownTable(t)).join('\n')
  );
}

export function ablationsMarkdown(results: SweepResults): string {
  const tables = ablationTables(results);
  const intro =
    'For each grid field, points that differ only in that field are grouped; in each group every value is ' +
    'compared with the field\'s first value. Cells give the mean delta and, when groups disagree, [min, max]. ' +
    `Metrics: ${ablationMetrics.map((m) => m.title).join(', ')}.\n\n`;
  const body = tables.length ? tables.map((t) => markdownTable(t)).join('\n') : 'No grid field has two or more values.\n';
  return heading(results, 'ablations') + intro + body;
}

export function summaryMarkdown(results: SweepResults): string {
  const m = results.manifest;
  const counts =
    `${m.points.length} point(s): ${results.finished.length} passed, ${results.missing.length} without results` +
    (results.failures.length ? ` (${results.failures.length} failed)` : '') + '.\n';
  return [
    heading(results, 'summary') + counts,
    '## Lightweight vs baseline\n\n' + headlineSentences(results).map((s) => `- ${s}`).join('\n') + '\n',
    markdownTable(resultsTable(results)),
    markdownTable(rankingTable(results)),
    ...frontTables(results).map((t) => markdownTable(t, '###')),
    markdownTable(failuresTable(results)),
    'More: ranking.md, ablations.md, results.csv, plots/*.svg, report.html.\n',
  ].join('\n');
}
