// The tensors and buffers of an exported model: IR activations with the batch dimension put
// back (NHWC with N = 1, vectors [1, N]), and the constant tensors the ops read (int8 weights
// with per-channel float32 scales, int32 biases, RESHAPE's int32 shape). Scales are written as
// float32, the only width TFLite stores.
import type { IrTensor } from '../ir/types.js';
import { TensorType } from '../import/tflite-schema.js';
import type { TfliteSpec } from './tflite-writer.js';

type SpecTensor = TfliteSpec['tensors'][number];

/** TFLite's shape of an IR activation: [1, ...shape]. */
export function tfliteShape(shape: number[]): number[] {
  return [1, ...shape];
}

/** Little-endian bytes of an int32 vector (TFLite buffers are little-endian). */
function int32Bytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i], true);
  return bytes;
}

/** Collects tensors and buffers in file order; buffers[0] is TFLite's empty sentinel. */
export class TensorTable {
  readonly tensors: SpecTensor[] = [];
  readonly buffers: (Uint8Array | undefined)[] = [undefined];
  /** IR tensor id -> TFLite tensor index. */
  private readonly activations = new Map<number, number>();

  /** The TFLite index of IR activation `t`, added on first use. */
  activation(t: IrTensor): number {
    const known = this.activations.get(t.id);
    if (known !== undefined) return known;
    // float32 tensors (the edges around QUANTIZE/DEQUANTIZE) carry no quantization.
    const index = this.add(
      t.dtype === 'float32'
        ? { name: t.name, shape: tfliteShape(t.shape), type: TensorType.FLOAT32, buffer: 0 }
        : { name: t.name, shape: tfliteShape(t.shape), type: TensorType.INT8, buffer: 0, quantization: { scale: [Math.fround(t.scale)], zeroPoint: [t.zeroPoint] } },
    );
    this.activations.set(t.id, index);
    return index;
  }

  /** int8 weights, one float32 scale per output channel along `quantizedDimension`, zero point 0. */
  weights(name: string, shape: number[], values: Int8Array, scales: ArrayLike<number>, quantizedDimension: number): number {
    const scale = Array.from(scales, (s) => Math.fround(s));
    return this.add({
      name,
      shape,
      type: TensorType.INT8,
      buffer: this.buffer(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
      quantization: { scale, zeroPoint: scale.map(() => 0), quantizedDimension },
    });
  }

  /**
   * int32 biases with scale inputScale * weightScale[c] (as the converter writes them; TFLite
   * Micro derives its multipliers from the input, filter and output scales, not from these).
   */
  bias(name: string, values: Int32Array, inputScale: number, weightScales: ArrayLike<number>): number {
    const scale = Array.from(weightScales, (s) => Math.fround(Math.fround(inputScale) * Math.fround(s)));
    return this.add({
      name,
      shape: [values.length],
      type: TensorType.INT32,
      buffer: this.buffer(int32Bytes(values)),
      quantization: { scale, zeroPoint: scale.map(() => 0), quantizedDimension: 0 },
    });
  }

  /** A constant int32 tensor without quantization (RESHAPE's shape, MEAN's axes, PAD's paddings). */
  int32s(name: string, values: number[], shape = [values.length]): number {
    return this.add({ name, shape, type: TensorType.INT32, buffer: this.buffer(int32Bytes(values)) });
  }

  private buffer(data: Uint8Array): number {
    return this.buffers.push(data.slice()) - 1;
  }

  private add(t: SpecTensor): number {
    return this.tensors.push(t) - 1;
  }
}
