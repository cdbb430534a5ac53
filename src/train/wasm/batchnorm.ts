// Batch normalisation in training mode as one op with its own gradient.
//
// tfjs-layers trains batch norm as a composite: tf.moments (Mean, SquaredDifference, Mean) then
// FusedBatchNorm, and autodiff differentiates every piece: the gradients of both Means build
// full-size tensors, and wasm's Sum/Mean over N, H, W first transposes the whole activation to
// put the reduced axes last. Profiled on the default model, that was ~40% of a wasm training
// step. Here each pass is one op: the per-channel sums over N, H, W without any transpose (on
// wasm as XNNPACK average poolings over the whole activation, see batchnorm-wasm.ts), the per-channel
// arithmetic in float64, and one write of the output.
//
//   forward   mean = sum(x) / M,  variance = sum(x^2) / M - mean^2   (biased, as tfjs-layers)
//             y = (x - mean) * r * gamma + beta,  r = 1 / sqrt(variance + epsilon)
//   backward  dbeta = sum(dy),  dgamma = r * sum(dy * (x - mean))
//             dx = gamma * r * (dy - dbeta / M - (x - mean) * r^2 * sum(dy * (x - mean)) / M)
// where M = N*H*W (every axis but the last) and the sums run over those axes per channel.
// The gradient is the full one through the batch statistics, i.e. the composite's.
// The mean and variance outputs only feed the moving averages: they carry no gradient.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { affineRows, batchStatistics, columnSums, gradientCoefficients } from './batchnorm-math.js';
import { batchNormTrainGradWasm, batchNormTrainWasm } from './batchnorm-wasm.js';

export const BATCH_NORM_TRAIN = 'TinyforgeBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'TinyforgeBatchNormTrainGrad';

/** The cpu backend's tensor storage: plain typed arrays. */
interface CpuMemory {
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  data: { get(id: object): { values: unknown } };
}

function cpuViews(backend: unknown, ...tensors: TensorInfo[]): Float32Array[] {
  const cpu = backend as CpuMemory;
  return tensors.map((t) => {
    if (t.dtype !== 'float32') throw new Error(`${BATCH_NORM_TRAIN}: expected float32 tensors, found ${t.dtype}`);
    return cpu.data.get(t.dataId).values as Float32Array;
  });
}

function cpuOutput(backend: unknown, shape: number[], values: Float32Array | Float64Array): TensorInfo {
  return (backend as CpuMemory).makeTensorInfo(shape, 'float32', Float32Array.from(values));
}

/** The cpu kernels: the same arithmetic as wasm's, with the sums as plain loops (the reference). */
const batchNormTrainCpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, offset } = inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
  const { epsilon } = attrs as unknown as { epsilon: number };
  const [xs, gamma, beta] = cpuViews(backend, x, scale, offset);
  const channels = gamma.length;
  const rows = xs.length / channels;
  const stats = batchStatistics(columnSums(xs, channels), columnSums(xs, channels, xs), rows, gamma, beta, epsilon);
  const y = new Float32Array(xs.length);
  affineRows(y, xs, stats.gain, null, null, stats.shift);
  return [cpuOutput(backend, x.shape, y), cpuOutput(backend, [channels], stats.mean), cpuOutput(backend, [channels], stats.variance)];
};

const batchNormTrainGradCpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, scale, mean, variance } = inputs as Record<'dy' | 'x' | 'scale' | 'mean' | 'variance', TensorInfo>;
  const { epsilon } = attrs as unknown as { epsilon: number };
  const [dys, xs, gamma, mu, sigma2] = cpuViews(backend, dy, x, scale, mean, variance);
  const channels = gamma.length;
  const rows = xs.length / channels;
  const dySums = columnSums(dys, channels);
  const dyCentredSums = columnSums(dys, channels, xs).map((v, c) => v - mu[c] * dySums[c]);
  const k = gradientCoefficients(dySums, dyCentredSums, rows, gamma, mu, sigma2, epsilon);
  const dx = new Float32Array(xs.length);
  affineRows(dx, dys, k.dyGain, xs, k.xGain, k.shift);
  return [cpuOutput(backend, x.shape, dx), cpuOutput(backend, [channels], k.dScale), cpuOutput(backend, [channels], dySums)];
};

const batchNormTrainGradient: GradConfig = {
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dy, saved, attrs) => {
    const [x, scale, mean, variance] = saved as tf.Tensor[];
    // dy[1], dy[2] (of mean and variance) are zeros: those outputs feed only the moving averages.
    const upstream = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
    const [dx, dScale, dOffset] = tf.engine().runKernel(
      BATCH_NORM_TRAIN_GRAD, { dy: upstream, x, scale, mean, variance }, attrs as NamedAttrMap,
    ) as tf.Tensor[];
    return { x: () => dx, scale: () => dScale, offset: () => dOffset };
  },
};

const KERNELS: Record<string, [KernelFunc, KernelFunc]> = {
  wasm: [batchNormTrainWasm, batchNormTrainGradWasm],
  cpu: [batchNormTrainCpu, batchNormTrainGradCpu],
};

/** The backends the op has kernels for. */
export const BATCH_NORM_TRAIN_BACKENDS = Object.keys(KERNELS);

/** Registers the forward and backward kernels (wasm and cpu) and the gradient. Idempotent. */
export function registerBatchNormTraining(): void {
  for (const [backendName, [forward, backward]] of Object.entries(KERNELS)) {
    if (!tf.getKernel(BATCH_NORM_TRAIN, backendName)) {
      tf.registerKernel({ kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: forward });
      tf.registerKernel({ kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: backward });
    }
  }
  if (!tf.getGradient(BATCH_NORM_TRAIN)) tf.registerGradient(batchNormTrainGradient);
}

/**
 * Training-mode batch normalisation over every axis but the last: the normalised output and the
 * batch's mean and biased variance (for the moving averages), as tfjs-layers computes them.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  registerBatchNormTraining();
  const [y, mean, variance] = tf.engine().runKernel(
    BATCH_NORM_TRAIN, { x, scale: gamma, offset: beta }, { epsilon },
  ) as tf.Tensor[];
  return { y, mean, variance };
}
