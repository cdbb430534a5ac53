import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { augmentBatch } from '../src/data/augment.js';
import { loadDataset } from '../src/data/datasets.js';
import { initBackend } from '../src/train/backend.js';
import { loadModel, saveModel } from '../src/train/persist.js';
import { learningRateAt } from '../src/train/schedule.js';
import { trainModel } from '../src/train/train.js';
import { setLogLevel } from '../src/util/log.js';
import { Rng } from '../src/util/random.js';

function config(over: (c: Config) => void): Config {
  const c = loadConfig('configs/default.json');
  c.dataset.trainLimit = 2000;
  c.dataset.testLimit = 1000;
  c.training.epochs = 2;
  c.training.batchSize = 32;
  over(c);
  return c;
}

beforeAll(async () => {
  setLogLevel('warn');
  await initBackend('wasm');
});

describe('training', () => {
  it('a short run on a 2,000-image subset clearly beats chance (10%)', async () => {
    const c = config(() => {});
    const result = await trainModel(c, loadDataset(c.dataset), { backend: 'wasm', trainingHash: 't' });
    expect(tf.getBackend()).toBe('wasm');
    expect(result.history).toHaveLength(2);
    expect(result.history[1].loss).toBeLessThan(result.history[0].loss);
    expect(result.metrics.floatTestAccuracy).toBeGreaterThan(0.5);
    expect(result.metrics.params).toBe(8946);
    result.model.dispose();
  });

  it('is reproducible: same seed, same weights; another seed, other weights', async () => {
    const weightsOf = async (seed: number) => {
      const c = config((x) => {
        x.model.architecture = 'mlp';
        x.dataset.trainLimit = 600;
        x.dataset.testLimit = 100;
        x.training.epochs = 1;
        x.training.seed = seed;
        x.training.augmentation.enabled = true;
      });
      const r = await trainModel(c, loadDataset(c.dataset), { backend: 'wasm', trainingHash: 't' });
      const w = r.model.getWeights().map((t) => Array.from(t.dataSync()));
      r.model.dispose();
      return w.flat();
    };
    const a = await weightsOf(3);
    const b = await weightsOf(3);
    const c = await weightsOf(4);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('early stopping ends the run once validation stops improving', async () => {
    const c = config((x) => {
      x.model.architecture = 'mlp';
      x.model.batchNorm = false; // batch-norm statistics would keep moving at any learning rate
      x.dataset.trainLimit = 500;
      x.training.epochs = 30;
      x.training.optimizer.learningRate = 1e-9; // nothing can improve
      x.training.schedule.type = 'constant';
      x.training.earlyStopping = { enabled: true, patience: 2, minDelta: 0.001 };
    });
    const r = await trainModel(c, loadDataset(c.dataset), { backend: 'wasm', trainingHash: 't' });
    expect(r.history.length).toBe(3);
    expect(r.metrics.bestEpoch).toBe(1);
    r.model.dispose();
  });

  it('saves and reloads a model with identical predictions', async () => {
    const c = config((x) => {
      x.dataset.trainLimit = 200;
      x.training.epochs = 1;
    });
    const r = await trainModel(c, loadDataset(c.dataset), { backend: 'wasm', trainingHash: 't' });
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-model-'));
    await saveModel(r.model, dir);
    const loaded = await loadModel(dir);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((r.model.predict(x) as tf.Tensor).dataSync()));
  });
});

describe('learning-rate schedule', () => {
  const s = { type: 'cosine' as const, warmupEpochs: 0, minFactor: 0.1, stepEpochs: 2, gamma: 0.5 };
  it('cosine goes from the base rate to minFactor of it', () => {
    expect(learningRateAt(1, s, 0, 10)).toBeCloseTo(1);
    expect(learningRateAt(1, s, 5, 10)).toBeCloseTo(0.55);
    expect(learningRateAt(1, s, 10, 10)).toBeCloseTo(0.1);
  });
  it('warm-up rises linearly from a tenth', () => {
    expect(learningRateAt(1, { ...s, warmupEpochs: 2 }, 0, 10)).toBeCloseTo(0.1);
    expect(learningRateAt(1, { ...s, warmupEpochs: 2 }, 1, 10)).toBeCloseTo(0.55);
  });
  it('step and exponential decay by gamma', () => {
    expect(learningRateAt(1, { ...s, type: 'step' }, 3.5, 10)).toBeCloseTo(0.5);
    expect(learningRateAt(1, { ...s, type: 'step' }, 4, 10)).toBeCloseTo(0.25);
    expect(learningRateAt(1, { ...s, type: 'exponential' }, 3, 10)).toBeCloseTo(0.125);
  });
});

describe('augmentation', () => {
  const square = new Float32Array(28 * 28);
  for (let y = 10; y < 18; y++) for (let x = 10; x < 18; x++) square[y * 28 + x] = 1;

  it('is the identity with no shift and no rotation', () => {
    const out = new Float32Array(square.length);
    augmentBatch(square, out, 1, 28, 28, { maxShift: 0, maxRotationDeg: 0 }, new Rng(1));
    expect(Array.from(out)).toEqual(Array.from(square));
  });

  it('moves the image but keeps its mass (centred content stays inside)', () => {
    const out = new Float32Array(square.length);
    augmentBatch(square, out, 1, 28, 28, { maxShift: 2, maxRotationDeg: 10 }, new Rng(2));
    const mass = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(Array.from(out)).not.toEqual(Array.from(square));
    expect(mass(out)).toBeCloseTo(mass(square), 0);
  });
});

describe('train stage', () => {
  it('reuses a model trained elsewhere with the same training hash, through the cache', async () => {
    const { trainStage, modelCacheDir } = await import('../src/pipeline/train-stage.js');
    const { trainingHash } = await import('../src/config/load.js');
    const { runPaths } = await import('../src/paths.js');
    const { existsSync } = await import('node:fs');
    process.env.TINYFORGE_MODEL_CACHE = mkdtempSync(join(tmpdir(), 'tinyforge-cache-'));
    try {
      const c = config((x) => {
        x.model.architecture = 'mlp';
        x.dataset.trainLimit = 300;
        x.dataset.testLimit = 100;
        x.training.epochs = 1;
      });
      const first = await trainStage(c, runPaths(mkdtempSync(join(tmpdir(), 'tinyforge-a-'))));
      expect(first.reused).toBe(false);
      expect(existsSync(join(modelCacheDir(trainingHash(c)), 'metrics.json'))).toBe(true);
      const second = await trainStage(c, runPaths(mkdtempSync(join(tmpdir(), 'tinyforge-b-'))));
      expect(second.reused).toBe(true);
      expect(second.metrics).toEqual(first.metrics);
      // A different seed is a different training: no reuse.
      c.training.seed = 99;
      const third = await trainStage(c, runPaths(mkdtempSync(join(tmpdir(), 'tinyforge-c-'))));
      expect(third.reused).toBe(false);
    } finally {
      delete process.env.TINYFORGE_MODEL_CACHE;
    }
  });
});
