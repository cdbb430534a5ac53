// What training on the tfjs wasm backend (4.22) needs beyond what it ships.
//
// Missing kernels (training any conv or depthwise layer fails with "Kernel
// 'Conv2DBackpropFilter' not registered for backend 'wasm'"). Each is a short chain of kernels
// wasm does have, called directly on the backend (no engine round-trips, no tape), so the heavy
// lifting stays in XNNPACK:
// - Conv2DBackpropFilter: one Conv2D. The filter gradient correlates x with dy and sums over the
//   batch, so x transposed to [Cin,H,W,N] (batch := Cin, channels := N) convolved with dy
//   transposed to [OH,OW,N,Cout] as the filter, dilated by the forward stride, gives
//   [Cin,KH,KW,Cout]. Measured ~1.4x faster end to end than per-tap strided slice + matMul
//   (wasm's BatchMatMul only uses XNNPACK without transposes; see the experiment script).
// - DepthwiseConv2dNativeBackpropFilter: the same trick with a DepthwiseConv2dNative whose
//   channels are (sample, channel) pairs, then a Sum over the samples.
// - DepthwiseConv2dNativeBackpropInput: a transposed depthwise convolution.
// Kernels wasm has but that are slow or wrong, replaced: Conv2DBackpropInput (a scalar loop),
// MaxPoolGrad (drops the gradient of all-non-positive windows), Identity (copies).
// Everything else a CNN needs (AvgPoolGrad, Relu/Relu6 via Step, softmax cross-entropy, dropout,
// batchnorm through its op-level gradient) exists and matches cpu (test/gradients.test.ts).
// Plus a leaner FusedBatchNorm gradient, registered for all backends.
import * as tf from '@tensorflow/tfjs';
import {
  backend_util,
  broadcast_util,
  type FusedBatchNormAttrs,
  type GradConfig,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelBackend,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';

import { maxPoolGrad2x2, isPlain2x2 } from './wasm/maxpool2x2.js';
import { fastWasmPath } from './wasm/path.js';

const BACKEND = 'wasm';
type Shape4 = [number, number, number, number];
type Pads = [[number, number], [number, number], [number, number], [number, number]];

/** Runs wasm kernels inside a kernel and frees every intermediate except the result. */
export class KernelScratch {
  private readonly temporaries: TensorInfo[] = [];
  constructor(private readonly backend: KernelBackend) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    const kernel = tf.getKernel(kernelName, BACKEND);
    if (!kernel) throw new Error(`wasm gradient fill-in needs kernel '${kernelName}', which is not registered`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs: attrs as NamedAttrMap });
    if (Array.isArray(out)) throw new Error(`kernel '${kernelName}' returned several outputs`);
    this.temporaries.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Crops `x` to `size` from the origin; skipped (no copy) when nothing needs cropping. */
  cropTo(x: TensorInfo, size: number[]): TensorInfo {
    if (size.every((d, i) => d === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin: size.map(() => 0), size });
  }

  /** Frees the intermediates; those in `results` (possibly some of them) survive for the engine. */
  release(results: TensorInfo[] = []): void {
    // Reshape outputs share a dataId with their input and hold their own reference, so
    // disposing each intermediate once balances the counts.
    for (const t of this.temporaries) if (!results.includes(t)) this.backend.disposeData(t.dataId);
  }
}

/** `backend` is typed `{}` by KernelFunc; kernels registered for wasm always get the wasm backend. */
export function withScratch(backend: unknown, body: (s: KernelScratch) => TensorInfo): TensorInfo {
  return withScratches(backend, (s) => [body(s)])[0];
}

/** withScratch for a kernel with several outputs. */
export function withScratches(backend: unknown, body: (s: KernelScratch) => TensorInfo[]): TensorInfo[] {
  const scratch = new KernelScratch(backend as KernelBackend);
  let results: TensorInfo[] | undefined;
  try {
    results = body(scratch);
    return results;
  } finally {
    scratch.release(results);
  }
}

function requireUnitDilation(dilations: number | [number, number] | undefined, kernelName: string): void {
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations ?? [1, 1];
  if (dh !== 1 || dw !== 1) throw new Error(`${kernelName} on wasm: dilation ${dh}x${dw} is not supported (only 1)`);
}

/**
 * Padding for the "correlate x with dy" convolution whose output is the filter gradient:
 * the forward top/left padding, and bottom/right chosen so the output is exactly KH x KW.
 * A negative bottom/right (rows of x no output ever reads, e.g. 'valid' with a stride that does
 * not divide evenly) becomes 0 and the caller crops the oversized output instead.
 */
function filterGradPads(info: backend_util.Conv2DInfo): Pads {
  const { top, left } = info.padInfo;
  const bottom = info.filterHeight + info.strideHeight * (info.outHeight - 1) - info.inHeight - top;
  const right = info.filterWidth + info.strideWidth * (info.outWidth - 1) - info.inWidth - left;
  return [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
}

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm: only NHWC is supported');
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode);
  return withScratch(backend, (s) => {
    const xAsBatchOfChannels = s.transpose(x, [3, 1, 2, 0]); // [Cin, H, W, N]
    const dyAsFilter = s.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Cout]
    const correlated = s.run('Conv2D', { x: xAsBatchOfChannels, filter: dyAsFilter }, {
      strides: 1,
      pad: filterGradPads(info),
      dilations: [info.strideHeight, info.strideWidth],
      dataFormat: 'NHWC',
    }); // [Cin, >=KH, >=KW, Cout]
    const [kh, kw, cin, cout] = filterShape;
    const cropped = s.cropTo(correlated, [cin, kh, kw, cout]);
    return s.transpose(cropped, [1, 2, 0, 3]);
  });
};

const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  requireUnitDilation(dilations, 'DepthwiseConv2dNativeBackpropFilter');
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, true);
  const [n, h, w, c] = x.shape;
  const [kh, kw, , multiplier] = filterShape;
  const { outHeight: oh, outWidth: ow } = info;
  return withScratch(backend, (s) => {
    // One channel per (sample, channel) pair, so the depthwise conv never mixes them; the
    // batch sum that a filter gradient needs happens afterwards.
    const xPairs = s.reshape(s.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
    const dyPairs = s.reshape(s.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, multiplier]);
    const correlated = s.run('DepthwiseConv2dNative', { x: xPairs, filter: dyPairs }, {
      strides: 1,
      pad: filterGradPads(info),
      dilations: [info.strideHeight, info.strideWidth],
      dataFormat: 'NHWC',
    }); // [1, >=KH, >=KW, N*C*M]
    const perTap = s.cropTo(correlated, [1, kh, kw, n * c * multiplier]);
    const perSample = s.reshape(perTap, [kh, kw, n, c * multiplier]);
    const summed = s.run('Sum', { x: perSample }, { axis: [2], keepDims: false });
    return s.reshape(summed, filterShape);
  });
};

/**
 * The input gradient of a convolution, as a stride-1 convolution of dy with the rotated filter
 * (a transposed convolution). For stride s, dy is first spread out: each value followed by
 * (s - 1) zeros along H and W. XNNPACK then wastes (1 - 1/s^2) of its multiplies on those zeros,
 * still far cheaper than the scalar loops wasm would otherwise run.
 */
function transposedConvolution(
  s: KernelScratch,
  dy: TensorInfo,
  rotatedFilter: TensorInfo,
  convKernel: 'Conv2D' | 'DepthwiseConv2dNative',
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const dyChannels = dy.shape[3];
  let spread = dy;
  if (sh > 1 || sw > 1) {
    const gaps = s.run('PadV2', { x: s.reshape(dy, [n, oh, 1, ow, 1, dyChannels]) }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
      constantValue: 0,
    });
    spread = s.reshape(gaps, [n, oh * sh, ow * sw, dyChannels]);
  }
  // A full correlation: (K - 1 - forward pad) in front; behind, the trailing zeros of the last
  // spread row/column already count as padding, hence "- stride * out". A negative remainder
  // means the forward pass never read the last input rows: pad 0 and crop the extra output.
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = h + info.padInfo.top - sh * oh;
  const right = w + info.padInfo.left - sw * ow;
  const full = s.run(convKernel, { x: spread, filter: rotatedFilter }, {
    strides: 1,
    pad: [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]],
    dilations: 1,
    dataFormat: 'NHWC',
  });
  return s.cropTo(full, [n, h, w, full.shape[3]]);
}

const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput on wasm: only NHWC is supported');
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode);
  return withScratch(backend, (s) => {
    // Rotate 180 degrees and swap in/out channels: [KH, KW, Cin, Cout] -> [KH, KW, Cout, Cin].
    const rotated = s.transpose(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
    return transposedConvolution(s, dy, rotated, 'Conv2D', info);
  });
};

const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  requireUnitDilation(dilations, 'DepthwiseConv2dNativeBackpropInput');
  const filterShape = filter.shape as Shape4;
  const info = backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode, true);
  const [n, h, w, c] = inputShape;
  const [kh, kw, , multiplier] = filterShape;
  return withScratch(backend, (s) => {
    // Every (channel, multiplier) output becomes its own channel with multiplier 1.
    const rotated = s.reshape(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [kh, kw, c * multiplier, 1]);
    const perOutput = transposedConvolution(s, dy, rotated, 'DepthwiseConv2dNative', info); // [N,H,W,C*M]
    if (multiplier === 1) return perOutput;
    // Each input channel fed `multiplier` outputs; its gradient is their sum.
    const split = s.reshape(perOutput, [n, h, w, c, multiplier]);
    return s.run('Sum', { x: split }, { axis: [4], keepDims: false });
  });
};

/** The parts of tfjs's BackendWasm a JavaScript kernel needs to work on the wasm heap directly. */
export interface WasmHeapAccess {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  incRef(dataId: object): void;
}

/**
 * MaxPoolGrad in plain JavaScript over views of the wasm heap. wasm's own kernel is wrong, not
 * just slow (~11 ms for a [64,28,28,8] input, 4x the forward pool): it seeds its running
 * maximum with FLT_MIN (the smallest positive float), so a window whose values are all <= 0
 * sends its gradient nowhere, and ties go to the last maximum. This follows the cpu backend:
 * the first maximum of each window (strictly greater wins) receives dy; padding never does.
 */
const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const heap = backend as WasmHeapAccess;
  const out = heap.makeOutput(input.shape, 'float32');
  // Views only after the last allocation: growing the wasm memory detaches earlier ones.
  const x = heap.typedArrayFromHeap(input);
  const dyValues = heap.typedArrayFromHeap(dy);
  const dx = heap.typedArrayFromHeap(out);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  if (fastWasmPath() && isPlain2x2(filterHeight, filterWidth, strideHeight, strideWidth, info.padInfo.top, info.padInfo.left)) {
    maxPoolGrad2x2(x, dyValues, dx, batchSize, inHeight, inWidth, channels, outHeight, outWidth);
    return out;
  }
  dx.fill(0);
  const best = new Float32Array(channels);
  const bestAt = new Int32Array(channels);
  let dyIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - info.padInfo.top;
      const hFrom = Math.max(h0, 0);
      const hTo = Math.min(h0 + filterHeight, inHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = ow * strideWidth - info.padInfo.left;
        const wFrom = Math.max(w0, 0);
        const wTo = Math.min(w0 + filterWidth, inWidth);
        best.fill(-Infinity);
        bestAt.fill(-1);
        // Window positions outside, channels inside: contiguous reads of x.
        for (let h = hFrom; h < hTo; h++) {
          for (let w = wFrom; w < wTo; w++) {
            const base = ((b * inHeight + h) * inWidth + w) * channels;
            for (let c = 0; c < channels; c++) {
              if (x[base + c] > best[c]) {
                best[c] = x[base + c];
                bestAt[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < channels; c++, dyIndex++) {
          if (bestAt[c] >= 0) dx[bestAt[c]] += dyValues[dyIndex];
        }
      }
    }
  }
  return out;
};

/**
 * Identity without a copy. The engine clones every tensor it saves for a gradient, and wasm's
 * Identity copies the whole buffer each time (5% of a training step's kernel time, profiled);
 * tensors are immutable, so sharing the buffer with one more reference is enough. The cpu
 * backend's Identity does the same.
 */
const sharedIdentity: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  (backend as WasmHeapAccess).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/**
 * A leaner gradient for FusedBatchNorm (tf.layers.batchNormalization's kernel). The stock one
 * tiles 1/sqrt(variance + eps) to the full activation shape and makes about a dozen full-size
 * passes; on wasm that Tile alone was the biggest kernel of a training step (24% of kernel
 * time, profiled). Same maths with broadcasting and the two batch sums shared: five full-size
 * passes. Gradient registrations are global, so this serves every backend; it is exact up to
 * float rounding (test/gradients.test.ts checks it against the textbook formula).
 */
const fusedBatchNormGradient: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as Array<tf.Tensor | undefined> as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
    const dyTensor = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const batchAxes = broadcast_util.getReductionAxes(mean.shape, x.shape);
    // Per-channel sums over the broadcast (batch and spatial) axes, in mean's shape. Each is
    // tidied so the full-size temporaries die here, not at the end of the backward pass.
    const perChannelSum = (full: () => tf.Tensor) =>
      tf.tidy(() => tf.reshape(batchAxes.length > 0 ? tf.sum(full(), batchAxes) : full(), mean.shape));
    const invStd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const gain = scale ? tf.mul(invStd, scale) : invStd; // d(normalised output)/dx, per channel
    const dySum = perChannelSum(() => dyTensor);
    const dyCentredSum = perChannelSum(() => tf.mul(dyTensor, tf.sub(x, mean)));
    return {
      x: () => tf.mul(dyTensor, gain),
      mean: () => tf.neg(tf.mul(gain, dySum)),
      variance: () => tf.mul(tf.mul(tf.mul(gain, tf.square(invStd)), tf.scalar(-0.5)), dyCentredSum),
      scale: () => tf.reshape(tf.mul(invStd, dyCentredSum), scale ? scale.shape : mean.shape),
      offset: () => dySum,
    };
  },
};

/** Installs the leaner FusedBatchNorm gradient (for every backend; see above). Idempotent. */
export function registerBatchNormGradient(): void {
  tf.registerGradient(fusedBatchNormGradient);
}

/**
 * The kernels this module supplies for wasm. `replaces` marks a kernel wasm does ship but that
 * is slow (Conv2DBackpropInput is a scalar C++ loop: ~0.5 GMAC/s against ~5 for XNNPACK's
 * Conv2D, measured; Identity copies) or wrong (MaxPoolGrad, see above).
 */
export const wasmGradientFillIns: ReadonlyArray<{ kernelName: string; kernelFunc: KernelFunc; replaces: boolean }> = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter, replaces: false },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInput, replaces: true },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseConv2dNativeBackpropFilter, replaces: false },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseConv2dNativeBackpropInput, replaces: false },
  { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad, replaces: true },
  { kernelName: 'Identity', kernelFunc: sharedIdentity, replaces: true },
];

/**
 * Registers the fill-ins for the wasm backend. Idempotent. A missing kernel is filled in; one
 * wasm already has is left alone (a later tfjs may ship its own) unless marked `replaces`.
 * Returns the names registered by this call.
 */
export function registerWasmGradientKernels(): string[] {
  const registered: string[] = [];
  for (const { kernelName, kernelFunc, replaces } of wasmGradientFillIns) {
    const existing = tf.getKernel(kernelName, BACKEND);
    if (existing?.kernelFunc === kernelFunc || (existing && !replaces)) continue;
    if (existing) tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    registered.push(kernelName);
  }
  return registered;
}
