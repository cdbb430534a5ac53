// Constant weights and biases of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, taken as the
// file stores them: int8 weights with their float32 scales (per channel, or one per tensor
// expanded to every channel) and zero point 0, int32 biases (zeros when the op has none).
import type { TfliteTensor } from './tflite-model.js';
import type { OpContext } from './context.js';
import { TensorType, tensorTypeName } from './tflite-schema.js';

export interface Weights {
  values: Int8Array;
  /** One float32 scale per output channel. */
  scales: Float64Array;
}

/** int8 weights of `shape`, quantized per tensor or per channel along `axis` (channels long). */
export function readWeights(ctx: OpContext, w: TfliteTensor | undefined, rank: number, axis: number, channels: number): Weights | undefined {
  if (!w) return undefined;
  const at = `filter "${w.name}"`;
  if (!w.data || w.type !== TensorType.INT8) {
    ctx.unsupported(`${at} is ${w.data ? tensorTypeName(w.type) : 'not a constant'}`, 'constant int8 weights');
    return undefined;
  }
  if (w.shape.length !== rank) {
    ctx.unsupported(`${at} has shape ${JSON.stringify(w.shape)}`, `a rank-${rank} filter`);
    return undefined;
  }
  const q = w.quantization;
  const perChannel = q !== undefined && q.scale.length === channels && channels > 1;
  if (!q || !(q.scale.length === 1 || perChannel)) {
    ctx.unsupported(`${at} has ${q ? q.scale.length : 0} scales`, `one scale, or one per output channel (${channels})`);
    return undefined;
  }
  if (perChannel && q.quantizedDimension !== axis) {
    ctx.unsupported(`${at} is quantized along dimension ${q.quantizedDimension}`, `per-channel scales along dimension ${axis}`);
    return undefined;
  }
  if (q.zeroPoint.some((z) => z !== 0)) {
    ctx.unsupported(`${at} has a non-zero zero point`, 'symmetric weights (zero point 0)');
    return undefined;
  }
  if (!q.scale.every((s) => Number.isFinite(s) && s > 0)) {
    ctx.unsupported(`${at} has a scale that is not positive and finite`, 'positive finite weight scales');
    return undefined;
  }
  const n = w.shape.reduce((a, b) => a * b, 1);
  const values = new Int8Array(w.data.buffer, w.data.byteOffset, n).slice();
  if (values.includes(-128)) {
    ctx.unsupported(`${at} contains the value -128`, "symmetric int8 weights in [-127, 127] (TFLite's int8 spec)");
    return undefined;
  }
  const scales = Float64Array.from({ length: channels }, (_, c) => q.scale[perChannel ? c : 0]);
  return { values, scales };
}

/** int32 biases, one per output channel (zeros when the op has no bias input). */
export function readBias(ctx: OpContext, b: TfliteTensor | undefined, channels: number): Int32Array | undefined {
  if (!b) return new Int32Array(channels);
  const at = `bias "${b.name}"`;
  if (!b.data || b.type !== TensorType.INT32) {
    ctx.unsupported(`${at} is ${b.data ? tensorTypeName(b.type) : 'not a constant'}`, 'constant int32 biases');
    return undefined;
  }
  const n = b.shape.reduce((a, c) => a * c, 1);
  if (n !== channels) {
    ctx.unsupported(`${at} has ${n} values`, `one per output channel (${channels})`);
    return undefined;
  }
  const view = new DataView(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
}
