// The model cache is shared between processes (sweep points, queue workers on shared storage): two
// processes that need the same training hash at once train it once; the second waits and reuses it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/cli.js';

describe('the trained-model cache', () => {
  it('trains a model once when two processes need it at the same time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-cache-'));
    const env = { ...process.env, TINYFORGE_MODEL_CACHE: join(dir, 'cache') };
    const settings = { dataset: { trainLimit: 600, testLimit: 20 }, training: { epochs: 1 }, model: { widthMultiplier: 0.5 } };
    // Two configs differing only in the board: the same training hash, two output directories.
    const a = writeConfig(dir, 'point-a', settings);
    const b = writeConfig(dir, 'point-b', { ...settings, target: { board: 'microbit' } });
    const [ra, rb] = await Promise.all([runCli(['train', a], { cwd: dir, env }), runCli(['train', b], { cwd: dir, env })]);
    expect([ra.code, rb.code], ra.stderr + rb.stderr).toEqual([0, 0]);
    const reused = [ra, rb].filter((r) => /reusing the trained model from the cache/.test(r.stderr));
    expect(reused).toHaveLength(1);
    expect(reused[0]!.stderr).toMatch(/training the model with hash \w+.*waiting for it to finish/);
    const metrics = (name: string) => JSON.parse(readFileSync(join(dir, 'out', name, 'metrics.json'), 'utf8'));
    expect(metrics('point-a')).toEqual(metrics('point-b'));
  });
});
