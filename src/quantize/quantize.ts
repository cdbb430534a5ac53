// Float graph + activation ranges -> the int8 IR, following the TFLite int8 quantization spec:
// weights symmetric per output channel in [-127, 127]; activations asymmetric per tensor in
// [-128, 127]; int32 bias with scale inputScale * weightScale[c]; requantization by
// QuantizeMultiplier of inputScale * weightScale[c] / outputScale; pools and reshapes keep their
// input's scale and zero point; fused ReLU/ReLU6 become the op's output clamp.
//
// Scales are float32 (ScaleFormat 'float32', the default): every activation and weight scale
// is rounded to the nearest float32 (Math.fround) before the zero point, the int8 weights, the
// int32 biases, the multipliers and the clamps are derived from it, the clamps with TFLite's
// float32 division. TFLite stores scales as float32 and TFLite Micro derives its multipliers
// from them, so the IR then computes exactly what its .tflite export computes in TFLite Micro.
// 'float64' is the quantizer before that change (every committed result up to it), kept to
// measure the difference (npm run bench:export).
import type { Clamp, IrMetadata, IrModel, IrOp, IrTensor } from '../ir/types.js';
import { IR_VERSION } from '../ir/types.js';
import { isWeighted, type FloatGraph, type FloatWeightedOp, type FusedActivation } from './float-graph.js';
import { requantFor, roundHalfAwayFromZero as roundHalfAway } from './multiplier.js';
import type { Range } from './calibrate.js';


export interface ActivationQuant {
  scale: number;
  zeroPoint: number;
}

/** How scales are held: rounded to float32 (exportable exactly) or full float64 (before). */
export type ScaleFormat = 'float32' | 'float64';

/** A scale in the given format. */
export function asScale(s: number, format: ScaleFormat): number {
  return format === 'float32' ? Math.fround(s) : s;
}

/**
 * Asymmetric int8 parameters for a float range. The range is first widened to contain 0 so that
 * real zero (ReLU's floor, zero padding) is exactly representable.
 */
export function activationQuant(range: Range, format: ScaleFormat = 'float32'): ActivationQuant {
  const min = Math.min(range.min, 0);
  const max = Math.max(range.max, 0);
  if (max - min < 1e-12) return { scale: 1, zeroPoint: 0 };
  const scale = asScale((max - min) / 255, format);
  const zeroPoint = Math.max(-128, Math.min(127, roundHalfAway(-128 - min / scale)));
  return { scale, zeroPoint };
}

/**
 * The int8 output range a fused activation leaves (TFLite's CalculateActivationRangeQuantized,
 * which divides in float32: so does the float32 format).
 */
export function activationClamp(activation: FusedActivation, q: ActivationQuant, format: ScaleFormat = 'float32'): Clamp {
  const quantize = (real: number) => q.zeroPoint + roundHalfAway(asScale(real / q.scale, format));
  if (activation === 'relu') return { min: Math.max(-128, quantize(0)), max: 127 };
  if (activation === 'relu6') return { min: Math.max(-128, quantize(0)), max: Math.min(127, quantize(6)) };
  return { min: -128, max: 127 };
}

/** Symmetric per-output-channel weights: scale_c = max|w_c| / 127. */
export function quantizeWeights(op: FloatWeightedOp, format: ScaleFormat = 'float32'): { weights: Int8Array; scales: Float64Array } {
  const c = op.outChannels;
  const channelOf = op.kind === 'depthwise_conv2d'
    ? (i: number) => i % c
    : (() => { const per = op.weights.length / c; return (i: number) => Math.floor(i / per); })();
  const maxAbs = new Float64Array(c);
  op.weights.forEach((w, i) => {
    const ch = channelOf(i);
    maxAbs[ch] = Math.max(maxAbs[ch], Math.abs(w));
  });
  // A channel of all-zero weights still needs a positive scale; its weights stay 0.
  const scales = maxAbs.map((m) => (m > 0 ? asScale(m / 127, format) : 1));
  const weights = new Int8Array(op.weights.length);
  op.weights.forEach((w, i) => {
    weights[i] = Math.max(-127, Math.min(127, roundHalfAway(w / scales[channelOf(i)])));
  });
  return { weights, scales };
}

const INT32_MAX = 2147483647;

function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float64Array): Int32Array {
  return Int32Array.from(bias, (b, c) => {
    const q = roundHalfAway(b / (inputScale * weightScales[c]));
    return Math.max(-INT32_MAX - 1, Math.min(INT32_MAX, q));
  });
}

export function quantizeGraph(
  graph: FloatGraph, ranges: Map<string, Range>, name: string, metadata: IrMetadata, format: ScaleFormat = 'float32',
): IrModel {
  // The float model sees pixel / 255, so scale 1/255 and zero point -128 make q = pixel - 128
  // (exact up to the scale's own rounding: the input is integer pixels either way).
  const tensors: IrTensor[] = [{ id: 0, name: 'input', shape: graph.inputShape, scale: asScale(1 / 255, format), zeroPoint: -128 }];
  const ops: IrOp[] = [];
  for (const op of graph.ops) {
    const input = tensors[tensors.length - 1];
    const id = tensors.length;
    if (isWeighted(op)) {
      const range = ranges.get(op.outputLayer);
      if (!range) throw new Error(`no calibration range for ${op.outputLayer}`);
      const q = activationQuant(range, format);
      tensors.push({ id, name: op.name, shape: op.outputShape, scale: q.scale, zeroPoint: q.zeroPoint });
      const { weights, scales } = quantizeWeights(op, format);
      const common = {
        name: op.name, input: input.id, output: id, weights,
        bias: quantizeBias(op.bias, input.scale, scales),
        requant: requantFor(input.scale, scales, q.scale),
        clamp: activationClamp(op.activation, q, format),
      };
      if (op.kind === 'fully_connected') ops.push({ kind: 'fully_connected', ...common });
      else if (op.kind === 'conv2d') ops.push({ kind: 'conv2d', ...common, kernel: op.kernel, stride: op.stride, padding: op.padding });
      else ops.push({
        kind: 'depthwise_conv2d', ...common, kernel: op.kernel, stride: op.stride, padding: op.padding,
        depthMultiplier: op.depthMultiplier,
      });
    } else {
      // Pools and reshapes pass the input's quantization through unchanged.
      tensors.push({ id, name: op.name, shape: op.outputShape, scale: input.scale, zeroPoint: input.zeroPoint });
      if (op.kind === 'reshape') ops.push({ kind: 'reshape', name: op.name, input: input.id, output: id });
      else ops.push({
        kind: op.kind, name: op.name, input: input.id, output: id, pool: op.pool, stride: op.stride,
        padding: op.padding, clamp: { min: -128, max: 127 },
      });
    }
  }
  const output = tensors[tensors.length - 1];
  return {
    irVersion: IR_VERSION,
    name,
    tensors,
    ops,
    input: { tensor: 0, pixelOffset: -128 },
    output: { tensor: output.id, numClasses: output.shape[output.shape.length - 1] },
    metadata,
  };
}
