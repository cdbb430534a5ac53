// The wasm gradient fill-ins must give the same gradients as tfjs's reference cpu kernels.
// Each case builds identical inputs on both backends from a seeded generator, takes tf.grads of
// a scalar loss whose upstream gradient is random (so every output position matters), and
// compares element-wise.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  registerBatchNormGradient,
  registerWasmGradientKernels,
  wasmGradientFillIns,
} from '../src/train/gradients.js';
import { relativeError, seeded } from './helpers/compare.js';

type Pad = 'same' | 'valid';
const TOLERANCE = 1e-4;

function randomValues(rand: () => number, shape: number[]): Float32Array {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rand() * 2 - 1;
  return values;
}

type Operands = Array<{ shape: number[]; values: Float32Array }>;
type LossOf = (...tensors: tf.Tensor[]) => tf.Tensor;

/** Gradients of `loss` w.r.t. every operand, computed on `backendName`, as plain arrays. */
async function gradientsOn(backendName: string, operands: Operands, loss: LossOf): Promise<Float32Array[]> {
  await tf.setBackend(backendName);
  expect(tf.getBackend()).toBe(backendName);
  const grads = tf.tidy(() => tf.grads(loss)(operands.map((o) => tf.tensor(o.values, o.shape))));
  const values = grads.map((g) => Float32Array.from(g.dataSync()));
  tf.dispose(grads);
  return values;
}

/** Gradients of `loss` on wasm against those of `reference` (default: the same loss) on cpu. */
async function expectWasmMatchesCpu(operands: Operands, loss: LossOf, reference: LossOf = loss): Promise<void> {
  const onWasm = await gradientsOn('wasm', operands, loss);
  const onCpu = await gradientsOn('cpu', operands, reference);
  expect(onWasm.length).toBe(operands.length);
  onWasm.forEach((g, i) => {
    expect(g.some((v) => v !== 0)).toBe(true); // a vacuous all-zero gradient proves nothing
    expect(relativeError(g, onCpu[i])).toBeLessThan(TOLERANCE);
  });
}

interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number; // for depthwise: the channel multiplier
  kernel: [number, number];
  stride: 1 | 2;
  pad: Pad;
}

function describeCase(c: ConvCase): string {
  return `${c.batch}x${c.height}x${c.width}x${c.inChannels} k${c.kernel.join('x')} ` +
    `s${c.stride} ${c.pad} out/mult ${c.outChannels}`;
}

/** Random small geometries plus hand-picked edge cases (crop paths, 1x1 stride 2, kernel = input). */
function convCases(seed: number, count: number, maxOut: number): ConvCase[] {
  const rand = seeded(seed);
  const pick = <T>(options: T[]): T => options[Math.floor(rand() * options.length)];
  const cases: ConvCase[] = [
    { batch: 2, height: 8, width: 8, inChannels: 2, outChannels: 2, kernel: [3, 3], stride: 2, pad: 'valid' },
    { batch: 2, height: 7, width: 7, inChannels: 3, outChannels: 2, kernel: [1, 1], stride: 2, pad: 'valid' },
    { batch: 1, height: 5, width: 5, inChannels: 2, outChannels: 1, kernel: [5, 5], stride: 1, pad: 'valid' },
    { batch: 3, height: 6, width: 9, inChannels: 1, outChannels: 2, kernel: [2, 3], stride: 2, pad: 'same' },
  ];
  while (cases.length < count) {
    const kernel = pick([1, 2, 3, 5]);
    cases.push({
      batch: pick([1, 2, 4]),
      height: kernel + Math.floor(rand() * 8),
      width: kernel + Math.floor(rand() * 8),
      inChannels: pick([1, 3, 4, 8]),
      outChannels: 1 + Math.floor(rand() * maxOut),
      kernel: [kernel, kernel],
      stride: pick([1, 2] as const),
      pad: pick(['same', 'valid'] as Pad[]),
    });
  }
  return cases;
}

/** Operands x, filter and an upstream gradient r for loss = sum(op(x, filter) * r). */
function convOperands(c: ConvCase, filterShape: number[], outShape: number[], seed: number): Operands {
  const rand = seeded(seed);
  const shapes = [[c.batch, c.height, c.width, c.inChannels], filterShape, outShape];
  return shapes.map((shape) => ({ shape, values: randomValues(rand, shape) }));
}

function outSize(size: number, kernel: number, stride: number, pad: Pad): number {
  return pad === 'same' ? Math.ceil(size / stride) : Math.ceil((size - kernel + 1) / stride);
}

beforeAll(async () => {
  registerWasmGradientKernels();
  registerBatchNormGradient();
  await tf.setBackend('wasm');
});

describe('wasm gradient fill-ins', () => {
  it('registers every fill-in for wasm, and a second registration is a no-op', () => {
    for (const { kernelName } of wasmGradientFillIns) expect(tf.getKernel(kernelName, 'wasm')).toBeDefined();
    expect(registerWasmGradientKernels()).toEqual([]);
    // Conv2DBackpropInput exists on wasm but is replaced: check ours is the one in place.
    const ours = wasmGradientFillIns.find((k) => k.kernelName === 'Conv2DBackpropInput');
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(ours?.kernelFunc);
  });

  it.each(convCases(11, 14, 6).map((c, i) => [describeCase(c), c, i] as const))(
    'conv2d gradients match cpu: %s',
    async (_name, c, i) => {
      const oh = outSize(c.height, c.kernel[0], c.stride, c.pad);
      const ow = outSize(c.width, c.kernel[1], c.stride, c.pad);
      const operands = convOperands(c, [...c.kernel, c.inChannels, c.outChannels], [c.batch, oh, ow, c.outChannels], 100 + i);
      await expectWasmMatchesCpu(operands, (x, w, r) =>
        tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad), r)));
    },
  );

  it.each(convCases(23, 14, 2).map((c, i) => [describeCase(c), c, i] as const))(
    'depthwiseConv2d gradients match cpu: %s',
    async (_name, c, i) => {
      const oh = outSize(c.height, c.kernel[0], c.stride, c.pad);
      const ow = outSize(c.width, c.kernel[1], c.stride, c.pad);
      const multiplier = c.outChannels;
      const operands = convOperands(c, [...c.kernel, c.inChannels, multiplier],
        [c.batch, oh, ow, c.inChannels * multiplier], 200 + i);
      await expectWasmMatchesCpu(operands, (x, w, r) =>
        tf.sum(tf.mul(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad), r)));
    },
  );

  it('fused conv2d (bias + relu, the tf.layers path) gradients match cpu', async () => {
    const rand = seeded(7);
    const shapes = [[2, 9, 9, 3], [3, 3, 3, 4], [4], [2, 5, 5, 4]];
    const operands = shapes.map((shape) => ({ shape, values: randomValues(rand, shape) }));
    await expectWasmMatchesCpu(operands, (x, w, b, r) => tf.sum(tf.mul(tf.fused.conv2d({
      x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 2, pad: 'same', activation: 'relu',
    }), r)));
  });

  it('a conv -> depthwise -> pool -> batchnorm chain matches cpu end to end', async () => {
    // Exercises the fill-ins where their outputs feed other gradients (dx of depthwise is only
    // needed when something sits before it), plus wasm's own pool and batchnorm gradients.
    const rand = seeded(5);
    const shapes = [[2, 10, 10, 2], [3, 3, 2, 4], [3, 3, 4, 1], [4], [4], [2, 2, 2, 4]];
    const operands = shapes.map((shape) => ({ shape, values: randomValues(rand, shape) }));
    await expectWasmMatchesCpu(operands, (x, w, dw, gamma, beta, r) => {
      const conv = tf.relu6(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
      const depth = tf.depthwiseConv2d(conv, dw as tf.Tensor4D, 2, 'same');
      const pooled = tf.avgPool(tf.maxPool(depth, 2, 1, 'same'), 2, 2, 'valid');
      const { mean, variance } = tf.moments(pooled, [0, 1, 2]);
      const normed = tf.batchNorm(pooled, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-3);
      return tf.sum(tf.mul(normed, r));
    });
  });

  it.each([
    ['2x2 stride 2 valid', 2, 2, 'valid'],
    ['3x3 stride 1 same (overlapping windows)', 3, 1, 'same'],
    ['3x3 stride 2 same', 3, 2, 'same'],
    ['2x2 stride 1 valid', 2, 1, 'valid'],
  ] as const)('maxPool gradients match cpu, including all-negative windows and ties: %s',
    async (_name, size, stride, pad) => {
      // Negative values catch wasm's stock MaxPoolGrad (it drops windows whose values are all
      // <= 0); quantised values make ties, which must go to the first maximum as on cpu.
      const rand = seeded(31 + size * 10 + stride);
      const shape = [2, 7, 6, 3];
      const x = randomValues(rand, shape).map((v) => Math.round(v * 3) / 3 - 0.5);
      const out = [2, outSize(7, size, stride, pad), outSize(6, size, stride, pad), 3];
      const operands = [{ shape, values: x }, { shape: out, values: randomValues(rand, out) }];
      await expectWasmMatchesCpu(operands, (xs, r) =>
        tf.sum(tf.mul(tf.maxPool(xs as tf.Tensor4D, size, stride, pad), r)));
    });

  it('avgPool gradients (wasm\'s own kernel) match cpu', async () => {
    const rand = seeded(41);
    const operands = [[2, 7, 7, 3], [2, 4, 4, 3]].map((shape) => ({ shape, values: randomValues(rand, shape) }));
    await expectWasmMatchesCpu(operands, (x, r) => tf.sum(tf.mul(tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'), r)));
  });

  it('clone shares the buffer (no copy) and frees it only with the last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.backend().numDataIds();
    const x = tf.tensor([1, 2, 3]);
    const copy = tf.clone(x);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3]);
    copy.dispose();
    expect(tf.backend().numDataIds()).toBe(before);
  });

  it('the batchnorm gradient override equals the textbook formula, for every input', async () => {
    // Mean and variance are free operands here, so each partial derivative is checked on its own.
    const rand = seeded(9);
    const shapes = [[3, 4, 5, 6], [6], [6], [6], [6], [3, 4, 5, 6]];
    const operands = shapes.map((shape) => ({ shape, values: randomValues(rand, shape) }));
    operands[2].values = operands[2].values.map((v) => v + 1.5); // a variance must be positive
    const eps = 1e-3;
    await expectWasmMatchesCpu(
      operands,
      (x, mean, variance, scale, offset, r) => tf.sum(tf.mul(tf.batchNorm(x, mean as tf.Tensor1D,
        variance as tf.Tensor1D, offset as tf.Tensor1D, scale as tf.Tensor1D, eps), r)),
      (x, mean, variance, scale, offset, r) => tf.sum(tf.mul(
        tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), scale), offset), r)),
    );
  });

  it('training-mode batchnorm (statistics from the batch) matches the textbook formula', async () => {
    const rand = seeded(13);
    const shapes = [[4, 3, 3, 5], [5], [5], [4, 3, 3, 5]];
    const operands = shapes.map((shape) => ({ shape, values: randomValues(rand, shape) }));
    const eps = 1e-3;
    const stats = (x: tf.Tensor) => tf.moments(x, [0, 1, 2]);
    await expectWasmMatchesCpu(
      operands,
      (x, scale, offset, r) => {
        const { mean, variance } = stats(x);
        return tf.sum(tf.mul(tf.batchNorm(x, mean, variance, offset as tf.Tensor1D, scale as tf.Tensor1D, eps), r));
      },
      (x, scale, offset, r) => {
        const { mean, variance } = stats(x);
        const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
        return tf.sum(tf.mul(tf.add(tf.mul(normalised, scale), offset), r));
      },
    );
  });

  it('leaks no wasm memory across a gradient computation', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3]);
    const w = tf.randomNormal([3, 3, 3, 2]);
    const dw = tf.randomNormal([3, 3, 3, 2]);
    const before = tf.memory().numTensors;
    const backendBefore = tf.backend().numDataIds();
    tf.tidy(() => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.add(tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')),
          tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 2, 'valid'))))([x, w, dw]);
      expect(grads).toHaveLength(3); // returning nothing lets tidy free the gradients too
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(backendBefore);
    tf.dispose([x, w, dw]);
  });
});
