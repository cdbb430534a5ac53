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

export const IR_VERSION = 1;

export interface IrTensor {
  id: number;
  name: string;
  /** [H, W, C] for feature maps, [N] for vectors. */
  shape: number[];
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

/** Flatten/reshape: NHWC row-major order means the bytes do not move. Same quantization. */
export interface ReshapeOp extends OpBase {
  kind: 'reshape';
}

export type IrOp =
  | Conv2DOp
  | DepthwiseConv2DOp
  | FullyConnectedOp
  | MaxPool2DOp
  | AvgPool2DOp
  | ReshapeOp;

export type OpKind = IrOp['kind'];

export interface IrInput {
  tensor: number;
  /**
   * How a 0..255 pixel becomes the int8 input: the float model sees pixel / 255, and the input
   * tensor has scale 1/255 and zero point -128, so q = pixel + pixelOffset with pixelOffset = -128.
   */
  pixelOffset: number;
}

export interface IrOutput {
  /** The int8 logits of the last layer; the predicted class is their argmax (first max wins). */
  tensor: number;
  numClasses: number;
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
}

export interface IrModel {
  irVersion: typeof IR_VERSION;
  name: string;
  tensors: IrTensor[];
  /** Topologically ordered; each op reads one tensor and writes one. */
  ops: IrOp[];
  input: IrInput;
  output: IrOutput;
  metadata: IrMetadata;
}

export function tensorSize(t: IrTensor): number {
  return t.shape.reduce((a, b) => a * b, 1);
}
