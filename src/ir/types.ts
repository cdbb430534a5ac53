// The IR: one int8 graph, the only contract between training/quantization and everything
// downstream (reference interpreter, C generation, verification, profiling).
//
// Conventions (TFLite int8 quantization spec):
//  - Activations are int8, asymmetric, per tensor: real = scale * (q - zeroPoint).
//  - Weights are int8 in [-127, 127], symmetric (zero point 0), one scale per output channel.
//  - Biases are int32 with scale inputScale * weightScale[c] and zero point 0.
//  - Layout is NHWC with the batch dimension dropped: feature maps are [H, W, C], vectors are [N].
//  - Requantization uses (multiplier, shift) pairs from QuantizeMultiplier: Q31 multiplier, and a
//    shift where positive means "shift left" (TFLite convention).
//
// In memory the weight data are typed arrays; src/ir/io.ts converts to and from the JSON
// document (base64, little-endian), which is described by schema/ir.schema.json.

//
// Version 2 (this one) makes the IR a graph: a tensor may feed several ops and an op may read
// several tensors (ADD, CONCATENATION; see opInputs). It adds the ops that imported TFLite models
// need, tensor element types (float32 only at the graph's edges, around QUANTIZE/DEQUANTIZE), and
// inputs that are not pixels. Version-1 documents (every zoo model before it) still load: they
// are version-2 chains whose input has a pixelOffset.
export const IR_VERSION = 2;
/** Versions a reader accepts (a version-1 document loads as the same model at version 2). */
export const IR_VERSIONS_READ = [1, 2] as const;

/** Element type of a tensor. Activations are int8; float32 only at the graph's input or output. */
export type IrDtype = 'int8' | 'float32';

export interface IrTensor {
  id: number;
  name: string;
  /** [H, W, C] for feature maps, [N] for vectors; any rank >= 1 (the batch dimension dropped). */
  shape: number[];
  /** Absent means int8. float32 tensors carry scale 1 and zero point 0 (unused). */
  dtype?: IrDtype;
  scale: number;
  zeroPoint: number;
}

/** Explicit padding, resolved from TF's 'same'/'valid' at quantization time. */
export interface Padding {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** Output clamp in the int8 domain: fused ReLU/ReLU6, or [-128, 127] when there is none. */
export interface Clamp {
  min: number;
  max: number;
}

/** Per-output-channel requantization from the int32 accumulator to the int8 output. */
export interface Requant {
  /** Q31 multipliers, one per output channel. */
  multiplier: Int32Array;
  /** TFLite shifts (positive = left), one per output channel. */
  shift: Int32Array;
  /** The real weight scales these were derived from (for reports and checks). */
  weightScale: Float64Array;
}

interface OpBase {
  /** Name of the layer this op came from (for reports and generated comments). */
  name: string;
  input: number;
  output: number;
}

export interface Conv2DOp extends OpBase {
  kind: 'conv2d';
  kernel: [number, number];
  stride: [number, number];
  padding: Padding;
  /** OHWI: [outChannels, kH, kW, inChannels]. */
  weights: Int8Array;
  bias: Int32Array;
  requant: Requant;
  clamp: Clamp;
}

export interface DepthwiseConv2DOp extends OpBase {
  kind: 'depthwise_conv2d';
  kernel: [number, number];
  stride: [number, number];
  padding: Padding;
  depthMultiplier: number;
  /** [1, kH, kW, inChannels * depthMultiplier] as in TFLite; output channel c = i * M + m. */
  weights: Int8Array;
  bias: Int32Array;
  requant: Requant;
  clamp: Clamp;
}

export interface FullyConnectedOp extends OpBase {
  kind: 'fully_connected';
  /** [outUnits, inUnits], row-major (TFLite layout). */
  weights: Int8Array;
  bias: Int32Array;
  requant: Requant;
  clamp: Clamp;
}

/** Max pooling keeps the input's scale and zero point. */
export interface MaxPool2DOp extends OpBase {
  kind: 'max_pool2d';
  pool: [number, number];
  stride: [number, number];
  padding: Padding;
  clamp: Clamp;
}

/**
 * Average pooling keeps the input's scale and zero point; the sum over the window (padding
 * excluded) is divided by the count rounding half away from zero, as TFLite's reference kernel.
 * Global average pooling is this op with the window equal to the whole feature map.
 */
export interface AvgPool2DOp extends OpBase {
  kind: 'avg_pool2d';
  pool: [number, number];
  stride: [number, number];
  padding: Padding;
  clamp: Clamp;
}

/** Flatten/reshape (also TFLite's SQUEEZE): row-major order means the bytes do not move. Same quantization. */
export interface ReshapeOp extends OpBase {
  kind: 'reshape';
}

/** One (Q31 multiplier, TFLite shift) pair, for ops with a single rescale per input or output. */
export interface Rescale {
  multiplier: number;
  shift: number;
}

/**
 * Elementwise int8 ADD of `input` and `input2` (same shape; TFLite's broadcasting is not
 * supported), TFLite's arithmetic: each input is offset by -zeroPoint, shifted left by
 * `leftShift` (20), rescaled to the common scale 2 * max(s1, s2) with its own multiplier (derived
 * in double from the float32 scales, QuantizeMultiplierSmallerThanOneExp), the two summed, and the
 * sum rescaled to the output, offset and clamped.
 */
export interface AddOp extends OpBase {
  kind: 'add';
  input2: number;
  leftShift: number;
  input1Rescale: Rescale;
  input2Rescale: Rescale;
  outputRescale: Rescale;
  clamp: Clamp;
}

/** Concatenation of `inputs` (all of them; inputs[0] === input) along `axis` (of the IR shape). */
export interface ConcatenationOp extends OpBase {
  kind: 'concatenation';
  inputs: number[];
  axis: number;
}

/** Constant padding with the input's zero point: paddings[d] = [before, after] per IR dimension. */
export interface PadOp extends OpBase {
  kind: 'pad';
  paddings: [number, number][];
}

/**
 * Mean over `axes` of the IR shape (H and W of [H, W, C]), TFLite Micro's int8 arithmetic
 * (QuantizedMeanOrSum, also when input and output share their quantization: that is what the
 * TFLM build of the conformance goldens runs, checked on ops/mean_same_quant). `rescale` is
 * QuantizeMultiplier(inScale / outScale) (double division of the float32 scales) as Prepare
 * derives it; at run time 1/N (N = the number of reduced elements) is folded into it:
 *   s = min(63 - clz64(N), 32, 31 + rescale.shift)
 *   m = (int32)(((int64)rescale.multiplier << s) / N),  shift = rescale.shift - s
 *   out = clamp(MultiplyByQuantizedMultiplier(sum(q) - inZp * N, m, shift) + outZp, -128, 127)
 * It differs from AVG_POOL_2D over the same window (that one divides with rounding).
 */
export interface MeanOp extends OpBase {
  kind: 'mean';
  axes: number[];
  keepDims: boolean;
  rescale: Rescale;
}

/**
 * int8 softmax with TFLite's fixed-point exp (gemmlowp): the input differences from the row max
 * are scaled by (inputMultiplier, inputLeftShift) from PreprocessSoftmaxScaling(beta, inputScale,
 * kScaledDiffIntegerBits = 5); differences below diffMin give 0. Rows are the last dimension.
 */
export interface SoftmaxOp extends OpBase {
  kind: 'softmax';
  beta: number;
  inputMultiplier: number;
  inputLeftShift: number;
  diffMin: number;
}

/**
 * QUANTIZE: float32 -> int8 (q = round(x / scale) + zeroPoint, clamped), or int8 -> int8 with a
 * different scale/zero point (`rescale` present: TFLite's Requantize).
 */
export interface QuantizeOp extends OpBase {
  kind: 'quantize';
  rescale?: Rescale;
}

/** DEQUANTIZE: int8 -> float32, x = scale * (q - zeroPoint) as TFLite computes it. */
export interface DequantizeOp extends OpBase {
  kind: 'dequantize';
}

export type IrOp =
  | Conv2DOp
  | DepthwiseConv2DOp
  | FullyConnectedOp
  | MaxPool2DOp
  | AvgPool2DOp
  | ReshapeOp
  | AddOp
  | ConcatenationOp
  | PadOp
  | MeanOp
  | SoftmaxOp
  | QuantizeOp
  | DequantizeOp;

export type OpKind = IrOp['kind'];

export interface IrInput {
  /** The graph input's tensor (int8, or float32 when a QUANTIZE reads it). */
  tensor: number;
  /**
   * For image models: how a 0..255 pixel becomes the int8 input: the float model sees pixel / 255,
   * and the input tensor has scale 1/255 and zero point -128, so q = pixel + pixelOffset with
   * pixelOffset = -128. Absent for models whose input is not pixels (imported models).
   */
  pixelOffset?: number;
}

export interface IrOutput {
  /** The last layer's output; for classifiers the predicted class is its argmax (first max wins). */
  tensor: number;
  /** The output tensor's element count (the number of classes for classifiers). */
  numClasses: number;
}

/** Where an imported model came from. */
export interface IrSource {
  format: 'tflite';
  /** The file as given (relative to the config, or as typed on the command line). */
  file: string;
  sha256: string;
}

export interface IrMetadata {
  /** Name of the config (its file name without .json). */
  configName: string;
  /** Hash of the resolved config sections that determine this IR. */
  configHash: string;
  dataset: string;
  architecture: string;
  floatTestAccuracy?: number;
  calibration: { method: string; samples: number; percentile?: number };
  createdAt: string;
  tinyforgeVersion: string;
  /** Present for imported models. */
  source?: IrSource;
}

export interface IrModel {
  irVersion: typeof IR_VERSION;
  name: string;
  tensors: IrTensor[];
  /**
   * Topologically ordered: every tensor an op reads is the graph input or written by an earlier
   * op; each op writes one tensor, written by no other op.
   */
  ops: IrOp[];
  /** The first (for most models the only) graph input. */
  input: IrInput;
  /**
   * Further graph inputs, in the order of the source model's inputs (a two-input ADD or
   * CONCATENATION graph). Absent or empty for single-input models; graphInputs() lists them all.
   */
  extraInputs?: IrInput[];
  output: IrOutput;
  metadata: IrMetadata;
}

export function tensorSize(t: IrTensor): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/** Bytes per element of a tensor. */
export function dtypeBytes(t: IrTensor): number {
  return t.dtype === 'float32' ? 4 : 1;
}

/** Every graph input, in order: `input`, then `extraInputs`. */
export function graphInputs(ir: Pick<IrModel, 'input' | 'extraInputs'>): IrInput[] {
  return [ir.input, ...(ir.extraInputs ?? [])];
}

/** Every tensor the op reads, in argument order. */
export function opInputs(op: IrOp): number[] {
  switch (op.kind) {
    case 'add':
      return [op.input, op.input2];
    case 'concatenation':
      return op.inputs;
    default:
      return [op.input];
  }
}
