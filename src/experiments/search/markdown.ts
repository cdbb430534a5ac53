// summary.md of a search: the budgets, what was rejected before training and why, each rung, the
// Pareto set and the winner, all from the search's own record.
import { relative } from 'node:path';
import type { SearchSpec } from './file.js';
import type { BaselineResult } from './baselines.js';
import type { Candidate, SearchOutcome } from './run.js';
import { measuredAccuracy } from '../../pipeline/summary.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function budgetLines(spec: SearchSpec): string[] {
  const b = spec.budgets;
  const parts = [
    b.flashBytes !== null && `flash <= ${b.flashBytes} B`,
    b.ramBytes !== null && `RAM <= ${b.ramBytes} B`,
    b.latencyMs !== null && `latency <= ${b.latencyMs} ms at ${spec.board.clockHz / 1e6} MHz`,
    b.maxInstructionsPerInference !== null && `<= ${b.maxInstructionsPerInference} instructions`,
    b.minAccuracy !== null && `on-target accuracy >= ${pct(b.minAccuracy)}`,
  ].filter(Boolean);
  return [`Board: ${spec.board.name} (${spec.board.cpu}). Budgets: ${parts.join(', ') || 'none'}.`];
}

function finalRow(c: Candidate, mark: string): string {
  const s = c.summary!;
  return `| ${mark}${c.name} | ${s.params} | ${pct(measuredAccuracy(s))} | ${s.flashBytes} | ${s.ramBytes} | ${s.latencyMs.toFixed(2)} | ${s.mismatches === 0 ? 'yes' : `no (${s.mismatches})`} |`;
}

function baselineLines(outcome: SearchOutcome, spec: SearchSpec): string[] {
  if (outcome.baselines.length === 0) return [];
  const row = (b: BaselineResult) => {
    const s = b.summary;
    const figures = s ? `${pct(measuredAccuracy(s))} | ${s.flashBytes} | ${s.ramBytes} | ${s.latencyMs.toFixed(2)}` : '- | - | - | -';
    return `| ${b.config} | ${figures} | **${b.verdict}** | ${b.why} |`;
  };
  return ['## Against the hand-made points', '',
    `Each trained like the finalists (the search's fixed settings, ${spec.halving.maxEpochs} epochs) on ${spec.board.name}, ` +
      'verified on all test images. *Beaten*: the winner is no worse on accuracy, flash, RAM and latency, and better on one.', '',
    '| hand-made config | on target | flash B | RAM B | latency ms | verdict | winner against it |', '|---|---|---|---|---|---|---|',
    ...outcome.baselines.map(row), ''];
}

export function searchMarkdown(spec: SearchSpec, outcome: SearchOutcome, finalRung: string | null): string {
  const { candidates, rungs } = outcome;
  const before = candidates.filter((c) => c.dropped?.rung === -1);
  const lines = [
    `# Search ${spec.name}`,
    '',
    spec.description,
    '',
    ...budgetLines(spec),
    '',
    `${candidates.length} candidate(s) from the space; ${before.length} rejected before training by lower bounds on ` +
      `weights, arena and arithmetic; ${rungs.length} rung(s) of successive halving (eta ${spec.halving.eta}); ` +
      `${outcome.totalSeconds.toFixed(0)} s of wall time (this invocation: ${outcome.seconds.toFixed(0)} s; a resumed search adds up its invocations).`,
    '',
    '## Rungs',
    '',
    '| rung | epochs | candidates trained |',
    '|---|---|---|',
    ...rungs.map((r, i) => `| ${i} | ${r.epochs} | ${r.candidates.length} |`),
    '',
  ];
  const finalists = candidates.filter((c) => c.summary && rungs.length > 0 && rungs.at(-1)!.candidates.includes(c.name));
  if (finalists.length) {
    lines.push(`## Finalists (all test images on target; results in \`${finalRung}\`)`, '',
      '| candidate | params | on target | flash B | RAM B | latency ms | bit-exact |', '|---|---|---|---|---|---|---|',
      ...finalists.map((c) => finalRow(c, c.name === outcome.winner ? '**winner** ' : outcome.pareto.includes(c.name) ? 'Pareto ' : '')), '');
  }
  lines.push(outcome.winner
    ? `Winner: **${outcome.winner}**; its config, with the full epoch budget and the search's budgets, is \`winner.json\` (\`tinyforge run ${relative(process.cwd(), outcome.dir)}/winner.json\`).`
    : 'No candidate fits every budget.', '', ...baselineLines(outcome, spec), '## Dropped', '', '| candidate | at | why |', '|---|---|---|',
  ...candidates.filter((c) => c.dropped).map((c) => `| ${c.name} | ${c.dropped!.rung < 0 ? 'before training' : `rung ${c.dropped!.rung}`} | ${c.dropped!.reason} |`), '');
  return lines.join('\n');
}
