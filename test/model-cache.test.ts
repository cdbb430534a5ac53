// The model cache is shared between processes (sweep points, queue workers on shared storage): two
// processes that need the same training hash at once train it once; the other waits and reuses it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig, trainingHash } from '../src/config/load.js';
import { lockDirectory } from '../src/util/lock.js';
import { runCli, writeConfig } from './helpers/cli.js';

describe('the trained-model cache', () => {
  it('trains a model once when two processes need it at the same time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-cache-'));
    const env = { ...process.env, TINYFORGE_MODEL_CACHE: join(dir, 'cache') };
    const settings = { dataset: { trainLimit: 600, testLimit: 20 }, training: { epochs: 1 }, model: { widthMultiplier: 0.5 } };
    // Two configs differing only in the board: the same training hash, two output directories.
    const a = writeConfig(dir, 'point-a', settings);
    const b = writeConfig(dir, 'point-b', { ...settings, target: { board: 'microbit' } });
    // This test holds the cache entry first, so that both processes find it busy whatever their speed.
    const release = lockDirectory(join(dir, 'cache', trainingHash(loadConfig(a))), 'the test');
    const waiting = new Set<string>();
    const onStderr = (name: string) => (text: string) => {
      if (/waiting for it to finish/.test(text)) waiting.add(name);
    };
    const runs = Promise.all([
      runCli(['train', a], { cwd: dir, env, onStderr: onStderr('a') }),
      runCli(['train', b], { cwd: dir, env, onStderr: onStderr('b') }),
    ]);
    for (let i = 0; i < 1200 && waiting.size < 2; i++) await sleep(100);
    expect([...waiting].sort()).toEqual(['a', 'b']);
    release();
    const [ra, rb] = await runs;
    expect([ra.code, rb.code], ra.stderr + rb.stderr).toEqual([0, 0]);
    // One of them trained; the other waited for it and took its model from the cache.
    expect([ra, rb].filter((r) => /reusing the trained model from the cache/.test(r.stderr))).toHaveLength(1);
    const metrics = (name: string) => JSON.parse(readFileSync(join(dir, 'out', name, 'metrics.json'), 'utf8'));
    expect(metrics('point-a')).toEqual(metrics('point-b'));
  });
});
