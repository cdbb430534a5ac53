// The wasm kernels of the training batch norm (batchnorm.ts has the maths and the cpu kernels).
// JavaScript loops cost ~2-5 ns per element, several times XNNPACK's SIMD, so the per-channel
// sums are XNNPACK average poolings over the whole activation (~0.3 ms for [64,28,28,8],
// measured; wasm's own Sum over N, H, W transposes the activation first and took ~1 ms; a
// matrix product with a row of ones repacks the activation as weights each call, ~2.5 ms).
// Only the final per-element affine map stays a JavaScript loop over the wasm heap.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { type KernelScratch, type WasmHeapAccess, withScratches } from '../gradients.js';
import { affineRows, batchStatistics, gradientCoefficients } from './batchnorm-math.js';

/** t viewed as [M, C] rows: M = every axis but the last, C = the last. */
function rowsOf(t: TensorInfo): { rows: number; channels: number } {
  const channels = t.shape[t.shape.length - 1];
  return { rows: t.shape.reduce((a, d) => a * d, 1) / channels, channels };
}

/**
 * Per-channel sums over the rows of t: one XNNPACK average pooling whose window is the whole
 * activation, t viewed as one image of [N*H, W] pixels (a [N, C] tensor as [N, 1]), times M.
 */
function columnSums(s: KernelScratch, heap: WasmHeapAccess, t: TensorInfo): Float64Array {
  const { rows, channels } = rowsOf(t);
  const width = t.shape.length === 4 ? t.shape[2] : 1;
  const height = rows / width;
  const image = s.reshape(t, [1, height, width, channels]);
  const means = s.run('AvgPool', { x: image }, { filterSize: [height, width], strides: 1, pad: 'valid' });
  return Float64Array.from(heap.typedArrayFromHeap(means), (m) => m * rows);
}

export const batchNormTrainWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, offset } = inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
  const { epsilon } = attrs as unknown as { epsilon: number };
  const heap = backend as WasmHeapAccess;
  const { rows, channels } = rowsOf(x);
  return withScratches(backend, (s) => {
    const sums = columnSums(s, heap, x);
    const squareSums = columnSums(s, heap, s.run('Square', { x }));
    const outY = heap.makeOutput(x.shape, 'float32');
    const outMean = heap.makeOutput([channels], 'float32');
    const outVariance = heap.makeOutput([channels], 'float32');
    const [xs, gamma, beta, y] = [x, scale, offset, outY].map((t) => heap.typedArrayFromHeap(t));
    const { mean, variance, gain, shift } = batchStatistics(sums, squareSums, rows, gamma, beta, epsilon);
    affineRows(y, xs, gain, null, null, shift);
    heap.typedArrayFromHeap(outMean).set(mean);
    heap.typedArrayFromHeap(outVariance).set(variance);
    return [outY, outMean, outVariance];
  });
};

export const batchNormTrainGradWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, scale, mean, variance } = inputs as Record<'dy' | 'x' | 'scale' | 'mean' | 'variance', TensorInfo>;
  const { epsilon } = attrs as unknown as { epsilon: number };
  const heap = backend as WasmHeapAccess;
  const { rows, channels } = rowsOf(x);
  return withScratches(backend, (s) => {
    const dySums = columnSums(s, heap, dy);
    const dyXSums = columnSums(s, heap, s.run('Multiply', { a: dy, b: x }));
    const outDx = heap.makeOutput(x.shape, 'float32');
    const outScale = heap.makeOutput([channels], 'float32');
    const outOffset = heap.makeOutput([channels], 'float32');
    const [dys, xs, gamma, mu, sigma2, dx] = [dy, x, scale, mean, variance, outDx].map((t) => heap.typedArrayFromHeap(t));
    // sum(dy * (x - mean)) = sum(dy * x) - mean * sum(dy), per channel, in float64.
    const dyCentredSums = dyXSums.map((v, c) => v - mu[c] * dySums[c]);
    const k = gradientCoefficients(dySums, dyCentredSums, rows, gamma, mu, sigma2, epsilon);
    affineRows(dx, dys, k.dyGain, xs, k.xGain, k.shift);
    heap.typedArrayFromHeap(outScale).set(k.dScale);
    heap.typedArrayFromHeap(outOffset).set(dySums);
    return [outDx, outScale, outOffset];
  });
};
