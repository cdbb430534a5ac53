// A damaged trained model (weights.bin truncated or altered) is detected by the size and sha256
// stored in model.json: `run`/`train` retrain it (the out/cache copy too), `quantize` refuses with
// one line naming the file.
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, trainingHash } from '../src/config/load.js';
import { runPaths } from '../src/paths.js';
import { modelCacheDir, trainStage } from '../src/pipeline/train-stage.js';
import { initBackend } from '../src/train/backend.js';
import { CorruptModelError, loadModel } from '../src/train/persist.js';
import { setLogLevel } from '../src/util/log.js';
import { cli, root } from './helpers/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'tinyforge-checksum-'));
const cache = join(dir, 'cache');
const out = join(dir, 'out');
const file = join(dir, 'tiny.json');
writeFileSync(file, JSON.stringify({
  extends: join(root, 'configs', 'default.json'),
  model: { architecture: 'mlp' },
  dataset: { trainLimit: 300, testLimit: 100 },
  training: { epochs: 1, batchSize: 32 },
  output: { dir: out },
}));

beforeAll(async () => {
  setLogLevel('silent');
  process.env.TINYFORGE_MODEL_CACHE = cache;
  await initBackend('wasm');
});
afterAll(() => {
  delete process.env.TINYFORGE_MODEL_CACHE;
});

async function loadError(modelDir: string): Promise<CorruptModelError> {
  const error = await loadModel(modelDir).then(() => null, (err: unknown) => err);
  expect(error).toBeInstanceOf(CorruptModelError);
  return error as CorruptModelError;
}

describe('a damaged trained model', () => {
  it('is reported with its path, never reused, and retrained', async () => {
    const config = loadConfig(file);
    const paths = runPaths(out);
    const weights = join(paths.modelDir, 'weights.bin');
    const cached = join(modelCacheDir(trainingHash(config)), 'model', 'weights.bin');
    const first = await trainStage(config, paths);
    expect(first.reused).toBe(false);
    expect(JSON.parse(readFileSync(join(paths.modelDir, 'model.json'), 'utf8')).weightsSha256).toMatch(/^[0-9a-f]{64}$/);

    // Truncated: the size no longer matches.
    const size = readFileSync(weights).length;
    truncateSync(weights, size - 100);
    expect((await loadError(paths.modelDir)).message).toMatch(new RegExp(`^${weights}: ${size - 100} bytes, but model.json describes ${size} \\(truncated\\?\\)`));
    // `run` and `train` do not reuse it: the intact cache copy replaces it.
    const second = await trainStage(config, paths);
    expect(second.reused).toBe(true);
    expect(readFileSync(weights).length).toBe(size);

    // Same size, other bytes: the checksum catches it. With the cache copy damaged too, both are
    // dropped and the model is trained again.
    for (const path of [weights, cached]) {
      const bytes = readFileSync(path);
      bytes[10] ^= 0xff;
      writeFileSync(path, bytes);
    }
    expect((await loadError(paths.modelDir)).message).toMatch(/weights\.bin: sha256 [0-9a-f]{64} differs from the [0-9a-f]{64} recorded in model\.json/);
    const third = await trainStage(config, paths);
    expect(third.reused).toBe(false);
    await loadModel(paths.modelDir);
    await loadModel(join(modelCacheDir(trainingHash(config)), 'model'));

    // A single-stage command refuses it: one line, the path, what to run.
    truncateSync(weights, 10);
    const quantize = await cli(['quantize', file], dir, { ...process.env, TINYFORGE_MODEL_CACHE: cache });
    expect(quantize.code).toBe(2);
    expect(quantize.stderr.trim()).toBe(
      `error: ${weights}: 10 bytes, but model.json describes ${size} (truncated?): the trained model is damaged; run \`tinyforge train ${file}\` to retrain it`,
    );
  }, 240_000);
});
