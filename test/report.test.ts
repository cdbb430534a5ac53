import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerExperimentCommands } from '../src/experiments/cli.js';
import type { SweepManifest } from '../src/experiments/points.js';
import { renderSvg, sweepPlots } from '../src/report/plots.js';
import { writeResults } from '../src/report/write.js';
import { writeJsonAtomic } from '../src/util/atomic.js';
import { setLogLevel } from '../src/util/log.js';
import { point, summary, sweepResults, type Synthetic } from './fixtures/sweep/synthetic.js';

setLogLevel('silent');

/**
 * Throws unless `text` is well-formed XML (tags nest and close, attributes are quoted, `&` starts
 * an entity, one root element); returns the root element's name.
 */
function checkXml(text: string): string {
  const entity = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const token = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|[<&]/g;
  const stack: string[] = [];
  let root: string | undefined;
  let last = 0;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    const between = text.slice(last, m.index);
    if (stack.length === 0 && between.trim()) throw new Error(`text outside the root element at ${last}`);
    last = token.lastIndex;
    if (m[0] === '<') throw new Error(`malformed tag at ${m.index}: ${text.slice(m.index, m.index + 40)}`);
    if (m[0] === '&') {
      if (entity.test(text.slice(m.index, m.index + 12))) throw new Error(`bare & at ${m.index}`);
      continue;
    }
    const [, closing, name, attributes = '', selfClosing] = m;
    if (!name) continue; // comment, declaration, CDATA
    if (entity.test(attributes)) throw new Error(`bare & in the attributes of <${name}>`);
    const names = [...attributes.matchAll(/([A-Za-z_][\w:.-]*)\s*=/g)].map((a) => a[1]);
    if (new Set(names).size !== names.length) throw new Error(`repeated attribute in <${name}>`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${m.index}`);
    } else {
      if (root === undefined) root = name;
      else if (stack.length === 0) throw new Error(`second root element <${name}>`);
      if (!selfClosing) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (root === undefined) throw new Error('no element');
  return root;
}

const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0;

describe('the XML check used on the plots', () => {
  it('accepts well-formed XML and rejects broken XML', () => {
    expect(checkXml('<?xml version="1.0"?><svg a="1"><g/><text>x &amp; y</text></svg>')).toBe('svg');
    for (const bad of ['<svg><g></svg>', '<svg a=1/>', '<svg>a & b</svg>', '<svg/><svg/>', '<svg>', '<svg a="1" a="2"/>', '<svg><</svg>']) {
      expect(() => checkXml(bad), bad).toThrow();
    }
  });
});

const items: Synthetic[] = [
  { name: 'keras', architecture: 'keras-cnn', accuracy: 0.992, params: 1199882, flash: 1300000, ram: 60000, latency: 900 },
  { name: 'lenet', architecture: 'lenet5', accuracy: 0.99, params: 61706, flash: 80000, ram: 20000, latency: 60 },
  { name: 'tiny', architecture: 'tiny-cnn', accuracy: 0.986, params: 9000, flash: 14000, ram: 6000, latency: 12 },
  { name: 'tiny-big', architecture: 'tiny-cnn', accuracy: 0.984, params: 30000, flash: 40000, ram: 9000, latency: 30 },
  { name: 'sep', architecture: 'separable-cnn', accuracy: 0.982, params: 4500, flash: 10000, ram: 5000, latency: 9 },
];

describe('plots', () => {
  const results = sweepResults(items);
  const plots = sweepPlots(results);

  it('renders four well-formed SVGs', async () => {
    expect(plots.map((p) => p.file)).toEqual([
      'accuracy-vs-params.svg', 'accuracy-vs-flash.svg', 'accuracy-vs-latency.svg', 'training-curves.svg',
    ]);
    for (const plot of plots) expect(checkXml(await renderSvg(plot.spec)), plot.file).toBe('svg');
  });

  it('trade-off plots: one mark per point, axis titles, the front as a labelled line', async () => {
    const svg = await renderSvg(plots[0].spec);
    expect(count(svg, /aria-roledescription="point"/g)).toBe(items.length);
    expect(count(svg, /aria-roledescription="line mark"/g)).toBe(1);
    expect(svg).toContain('>parameters, log scale</text>');
    expect(svg).toContain('>on-target accuracy</text>');
    for (const arch of ['keras-cnn', 'lenet5', 'tiny-cnn', 'separable-cnn']) expect(svg).toContain(`>${arch}</text>`);
    // Every point is labelled, dominated ones (tiny-big: tiny is smaller and more accurate) too.
    for (const name of ['keras', 'lenet', 'tiny', 'tiny-big', 'sep']) expect(svg).toContain(`>${name}</text>`);
  });

  it('training curves: validation accuracy per epoch, one line per point', async () => {
    const svg = await renderSvg(plots[3].spec);
    expect(svg).toContain('>validation accuracy</text>');
    expect(svg).toContain('>epoch</text>');
    expect(count(svg, /aria-roledescription="line mark"/g)).toBe(items.length);
    for (const { name } of items) expect(svg).toContain(`>${name}</text>`);
  });
});

/** A sweep results folder as the runner leaves it, with the synthetic summaries. */
function sweepFolder(description: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-report-'));
  const manifest: SweepManifest = {
    ...sweepResults(items).manifest,
    description,
    points: [...items.map(point), point({ name: 'broken', accuracy: 0 })],
  };
  writeJsonAtomic(join(dir, 'manifest.json'), manifest);
  for (const item of items) writeJsonAtomic(join(dir, 'points', item.name, 'run', 'summary.json'), summary(item));
  writeJsonAtomic(join(dir, 'failures.json'), [
    { point: 'broken', exitCode: 1, signal: null, reason: 'exited with code 1', log: 'points/broken/worker.log', logTail: 'boom', finishedAt: '' },
  ]);
  return dir;
}

describe('report.html', () => {
  it('holds the tables and the inline SVG plots, and fetches nothing', async () => {
    const dir = sweepFolder('Widths <script>alert("x")</script> & more');
    const written = await writeResults(dir);
    expect(written.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'ablations.md', 'plots/accuracy-vs-flash.svg', 'plots/accuracy-vs-latency.svg', 'plots/accuracy-vs-params.svg',
      'plots/training-curves.svg', 'ranking.csv', 'ranking.md', 'report.html', 'results.csv', 'summary.md',
    ]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);

    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(4);
    for (const svg of svgs) expect(checkXml(svg)).toBe('svg');
    expect(svgs[0]).toBe(readFileSync(join(dir, 'plots', 'accuracy-vs-params.svg'), 'utf8'));

    expect(count(html, /<table>/g)).toBeGreaterThanOrEqual(6); // results, ranking, 3 fronts, failures
    expect(html).toContain('<h2>Results</h2>');
    expect(html).toContain('<th>on-target acc</th>');
    for (const { name } of items) expect(html).toContain(`<td>${name}</td>`);
    expect(html).toContain('<td>broken</td><td>failed: exited with code 1</td>');
    expect(html).toMatch(/<li>Against the Keras CNN baseline keras .*: tiny has 99\.2% fewer parameters/);

    // Self-contained: no scripts, stylesheets, images or frames from anywhere; user text escaped.
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toContain('Widths &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
  });

  it('`tinyforge report <dir>` rebuilds it', async () => {
    const dir = sweepFolder('via the command');
    const program = new Command().exitOverride();
    registerExperimentCommands(program);
    const print = console.log;
    console.log = () => {};
    try {
      await program.parseAsync(['node', 'tinyforge', 'report', dir]);
    } finally {
      console.log = print;
    }
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('via the command');
  });

  it('a folder that is not a sweep gives a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-report-'));
    await expect(writeResults(dir)).rejects.toThrow(/manifest\.json: not found; expected a sweep results folder/);
  });
});
