// Writes every derived results file of a sweep folder from the point summaries. The sweep runner
// calls it when the points are done; `tinyforge report <dir>` calls it to rebuild them on demand.
import { join } from 'node:path';
import { collectResults } from '../experiments/results.js';
import { writeFileAtomic } from '../util/atomic.js';
import { rankingCsv, resultsCsv } from './csv.js';
import { reportHtml } from './html.js';
import { ablationsMarkdown, rankingMarkdown, summaryMarkdown } from './markdown.js';
import { renderSvg, sweepPlots } from './plots.js';

/** Returns the paths written. */
export async function writeResults(sweepDir: string): Promise<string[]> {
  const results = collectResults(sweepDir);
  const dir = results.dir;
  // Render everything before writing anything, so a failure leaves the old set whole.
  const plots = [];
  for (const plot of sweepPlots(results)) plots.push({ ...plot, svg: await renderSvg(plot.spec) });
  const files: [string, string][] = [
    ['results.csv', resultsCsv(results)],
    ['ranking.csv', rankingCsv(results)],
    ['ranking.md', rankingMarkdown(results)],
    ['ablations.md', ablationsMarkdown(results)],
    ['summary.md', summaryMarkdown(results)],
    ...plots.map((p): [string, string] => [join('plots', p.file), p.svg]),
    ['report.html', reportHtml(results, plots)],
  ];
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileAtomic(path, text);
    return path;
  });
}
