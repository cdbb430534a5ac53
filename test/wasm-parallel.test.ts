// Data-parallel wasm training (src/train/wasm/parallel): two worker threads, each with its own
// wasm instance and model copy. Every copy must stay bit-identical (checksums of all weights,
// moving statistics included), and without batch norm (whose statistics are per shard) the
// averaged gradients must give the single-thread step's weights up to float rounding.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/models/factory.js';
import type { ModelSpec } from '../src/models/spec.js';
import { initBackend } from '../src/train/backend.js';
import type { Stepper } from '../src/train/stepper.js';
import { TfjsStepper } from '../src/train/tfjs-stepper.js';
import { shardOf } from '../src/train/wasm/parallel/exchange.js';
import { ParallelWasmStepper } from '../src/train/wasm/parallel/stepper.js';
import { relativeError } from './helpers/compare.js';

const ADAM = { name: 'adam', learningRate: 0.01, momentum: 0.9 } as const;

function specWith(batchNorm: boolean): ModelSpec {
  return {
    architecture: 'tiny-cnn', inputShape: [8, 8, 1], numClasses: 3,
    layers: [
      { kind: 'conv2d', filters: 4, kernel: 3, stride: 1, padding: 'same', activation: 'relu', batchNorm },
      { kind: 'max_pool2d', pool: 2, stride: 2, padding: 'valid' },
      { kind: 'flatten' },
      { kind: 'dense', units: 3, activation: 'linear', batchNorm },
    ],
  } as ModelSpec;
}

/** A fixed batch of `count` 8x8 images (values in [0, 1)) and labels. */
function batch(count: number, seed: number): { images: Float32Array; labels: Int32Array } {
  let state = seed;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return {
    images: Float32Array.from({ length: count * 64 }, next),
    labels: Int32Array.from({ length: count }, () => Math.floor(next() * 3)),
  };
}

/** Steps with batch sizes `counts` (the buffers hold the largest), then the model's weights. */
async function train(stepper: Stepper, model: tf.LayersModel, counts: number[]): Promise<Float32Array[]> {
  const size = Math.max(...counts);
  for (const [i, count] of counts.entries()) {
    const { images, labels } = batch(size, 100 + i);
    const result = await stepper.step(images, labels, count, 0.01);
    expect(Number.isFinite(result.loss)).toBe(true);
  }
  stepper.restore();
  return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('data-parallel wasm training', () => {
  it('splits a batch into contiguous shards that cover it exactly', () => {
    for (const [count, workers] of [[64, 2], [7, 2], [1, 2], [10, 3]]) {
      const shards = Array.from({ length: workers }, (_, i) => shardOf(count, workers, i));
      expect(shards[0].start).toBe(0);
      shards.forEach((s, i) => { if (i > 0) expect(s.start).toBe(shards[i - 1].end); });
      expect(shards.at(-1)!.end).toBe(count);
      expect(Math.max(...shards.map((s) => s.end - s.start)) - Math.min(...shards.map((s) => s.end - s.start))).toBeLessThanOrEqual(1);
    }
  });

  it('keeps every worker\'s copy identical (batch norm, an odd batch, a batch smaller than the workers)', async () => {
    const spec = specWith(true);
    const model = createModel(spec, 3);
    const stepper = new ParallelWasmStepper(model, spec, 3, ADAM, 7, 2);
    try {
      const weights = await train(stepper, model, [7, 6, 1, 7]);
      const sums = await stepper.checksums();
      expect(sums).toHaveLength(2);
      expect(sums[1]).toBe(sums[0]);
      expect(weights.every((w) => w.every(Number.isFinite))).toBe(true);
      // The moving statistics moved (they are averaged across the workers too).
      const movingVariance = model.getWeights().findIndex((_, i) => model.weights[i].originalName.endsWith('moving_variance'));
      expect(weights[movingVariance].some((v) => v !== 1)).toBe(true);
    } finally {
      stepper.dispose();
      model.dispose();
    }
  });

  it('without batch norm, gives the single-thread step\'s weights (averaged gradients = full-batch gradient)', async () => {
    const spec = specWith(false);
    const parallelModel = createModel(spec, 5);
    const parallel = new ParallelWasmStepper(parallelModel, spec, 5, ADAM, 8, 2);
    const singleModel = createModel(spec, 5);
    const single = new TfjsStepper(singleModel, ADAM, 3);
    try {
      const counts = [8, 8, 5];
      const a = await train(parallel, parallelModel, counts);
      const b = await train(single, singleModel, counts);
      a.forEach((w, i) => expect(relativeError(w, b[i])).toBeLessThan(1e-4));
    } finally {
      parallel.dispose();
      single.dispose();
      parallelModel.dispose();
      singleModel.dispose();
    }
  });
});
