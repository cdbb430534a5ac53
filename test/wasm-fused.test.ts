// tinyforge's training-mode batch norm (src/train/wasm/batchnorm.ts) against tfjs-layers'
// composite (tf.moments + tf.batchNorm, differentiated by autodiff) computed on the cpu backend:
// outputs, batch statistics and gradients, on wasm and on cpu. Then the 2x2 max-pool gradient,
// and one optimiser step of a small zoo-like model on both paths (weights, moving statistics
// and the layer/weight names quantization reads).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/models/factory.js';
import type { ModelSpec } from '../src/models/spec.js';
import { initBackend } from '../src/train/backend.js';
import { TfjsStepper } from '../src/train/tfjs-stepper.js';
import { batchNormTraining } from '../src/train/wasm/batchnorm.js';
import { maxPoolGrad2x2 } from '../src/train/wasm/maxpool2x2.js';
import { relativeError, seeded } from './helpers/compare.js';

const TOLERANCE = 1e-4;
const EPSILON = 1e-3;

function values(rand: () => number, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale + offset);
}

/** y, mean, variance and the gradients of sum(y * r) w.r.t. x, gamma, beta, as plain arrays. */
function batchNormOn(fused: boolean, shape: number[], seed: number): Float32Array[] {
  const rand = seeded(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const channels = shape.at(-1)!;
  // An offset mean and a spread per channel, as after a convolution.
  const x = tf.tensor(values(rand, size, 2, 0.7), shape);
  const gamma = tf.tensor(values(rand, channels, 0.5, 1));
  const beta = tf.tensor(values(rand, channels));
  const r = tf.tensor(values(rand, size), shape);
  const axes = shape.slice(0, -1).map((_, i) => i);
  const forward = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    if (fused) return batchNormTraining(xs, g, b, EPSILON);
    const { mean, variance } = tf.moments(xs, axes);
    return { y: tf.batchNorm(xs, mean, variance, b, g, EPSILON), mean, variance };
  };
  const out = tf.tidy(() => {
    const { y, mean, variance } = forward(x, gamma, beta);
    const grads = tf.grads((xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(forward(xs, g, b).y, r)))([x, gamma, beta]);
    return [y, mean, variance, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
  tf.dispose([x, gamma, beta, r]);
  return out;
}

const NAMES = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];

beforeAll(async () => {
  await initBackend('wasm');
});

afterEach(async () => {
  delete process.env.TINYFORGE_WASM_PATH;
  await tf.setBackend('wasm');
});

describe('training batch norm as one op', () => {
  it.each([
    ['NHWC activation', [4, 6, 5, 3]],
    ['wide channels', [2, 3, 3, 17]],
    ['dense [N, C]', [16, 5]],
  ])('matches the composite (cpu) on wasm and on cpu: %s', async (_name, shape) => {
    await tf.setBackend('cpu');
    const reference = batchNormOn(false, shape, 11);
    const onCpu = batchNormOn(true, shape, 11);
    await tf.setBackend('wasm');
    const onWasm = batchNormOn(true, shape, 11);
    reference.forEach((expected, i) => {
      expect(expected.some((v) => v !== 0)).toBe(true);
      expect(relativeError(onCpu[i], expected), `cpu ${NAMES[i]}`).toBeLessThan(TOLERANCE);
      expect(relativeError(onWasm[i], expected), `wasm ${NAMES[i]}`).toBeLessThan(TOLERANCE);
    });
  });

  it('frees every intermediate (no tensor or wasm buffer left behind)', () => {
    batchNormOn(true, [2, 4, 4, 3], 5); // warm-up: the cached row of ones is allocated once
    const before = tf.memory();
    batchNormOn(true, [2, 4, 4, 3], 5);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});

describe('2x2 max-pool gradient', () => {
  it('routes dy to the first maximum of each window and zeroes uncovered rows and columns', () => {
    // 1 image, 3x5, 1 channel: windows [0..1]x[0..1] and [0..1]x[2..3]; row 2 and column 4 uncovered.
    const x = Float32Array.from([
      1, 3, -2, -2, 9,
      3, 2, -5, -3, 9,
      9, 9, 9, 9, 9,
    ]);
    const dx = new Float32Array(15).fill(7);
    maxPoolGrad2x2(x, Float32Array.from([10, 20]), dx, 1, 3, 5, 1, 1, 2);
    expect(Array.from(dx)).toEqual([0, 10, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('equals the generic kernel (composite path) on wasm', async () => {
    const rand = seeded(3);
    const x = tf.tensor4d(values(rand, 2 * 8 * 6 * 4).map((v) => Math.round(v * 3) / 3), [2, 8, 6, 4]);
    const r = tf.tensor4d(values(rand, 2 * 4 * 3 * 4), [2, 4, 3, 4]);
    const grad = () => tf.tidy(() => tf.grad((xs: tf.Tensor4D) => tf.sum(tf.mul(tf.maxPool(xs, 2, 2, 'valid'), r)))(x).dataSync());
    const fused = grad();
    process.env.TINYFORGE_WASM_PATH = 'composite';
    const generic = grad();
    expect(Array.from(fused)).toEqual(Array.from(generic));
    tf.dispose([x, r]);
  });
});

describe('a training step on the fused path', () => {
  const spec: ModelSpec = {
    architecture: 'tiny-cnn', inputShape: [8, 8, 1], numClasses: 3,
    layers: [
      { kind: 'conv2d', filters: 4, kernel: 3, stride: 1, padding: 'same', activation: 'relu', batchNorm: true },
      { kind: 'max_pool2d', pool: 2, stride: 2, padding: 'valid' },
      { kind: 'flatten' },
      { kind: 'dense', units: 3, activation: 'linear', batchNorm: true },
    ],
  } as ModelSpec;

  async function stepOnce(path: 'fused' | 'composite'): Promise<{ layers: string[]; names: string[]; weights: Float32Array[] }> {
    process.env.TINYFORGE_WASM_PATH = path;
    const model = createModel(spec, 7);
    const stepper = new TfjsStepper(model, { name: 'adam', learningRate: 0.01, momentum: 0.9 }, 3);
    const rand = seeded(9);
    const images = values(rand, 6 * 64, 0.5, 0.5);
    const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
    await stepper.step(images, labels, 6, 0.01);
    await stepper.step(images, labels, 6, 0.01);
    const result = {
      layers: model.layers.map((l) => l.name),
      names: model.weights.map((w) => w.originalName),
      weights: model.getWeights().map((w) => Float32Array.from(w.dataSync())),
    };
    stepper.dispose();
    model.dispose();
    return result;
  }

  it('gives the composite path\'s weights and moving statistics, under the same names', async () => {
    const fused = await stepOnce('fused');
    const composite = await stepOnce('composite');
    expect(fused.layers).toEqual(composite.layers);
    expect(fused.names).toEqual(composite.names);
    expect(fused.names.some((n) => n.endsWith('moving_variance'))).toBe(true);
    fused.weights.forEach((w, i) => {
      expect(relativeError(w, composite.weights[i]), fused.names[i]).toBeLessThan(TOLERANCE);
    });
  });
});
