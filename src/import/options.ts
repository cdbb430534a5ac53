// The fields of each builtin options table tinyforge reads or writes: [field id, scalar type,
// default] (TFLite's schema.fbs). The writer uses them to encode options; tests use them to
// re-encode a decoded model after mutating it.
import type { FbTable, Scalar } from './flatbuffer.js';
import { BuiltinOptions } from './tflite-schema.js';

export type OptionField = [id: number, type: Scalar | 'i32[]', fallback: number];

export const OPTION_FIELDS: Record<number, OptionField[]> = {
  [BuiltinOptions.Conv2DOptions]: [[0, 'i8', 0], [1, 'i32', 0], [2, 'i32', 0], [3, 'i8', 0], [4, 'i32', 1], [5, 'i32', 1]],
  [BuiltinOptions.DepthwiseConv2DOptions]: [[0, 'i8', 0], [1, 'i32', 0], [2, 'i32', 0], [3, 'i32', 0], [4, 'i8', 0], [5, 'i32', 1], [6, 'i32', 1]],
  [BuiltinOptions.Pool2DOptions]: [[0, 'i8', 0], [1, 'i32', 0], [2, 'i32', 0], [3, 'i32', 0], [4, 'i32', 0], [5, 'i8', 0]],
  [BuiltinOptions.FullyConnectedOptions]: [[0, 'i8', 0], [1, 'i8', 0], [2, 'u8', 0]],
  [BuiltinOptions.SoftmaxOptions]: [[0, 'f32', 0]],
  [BuiltinOptions.ConcatenationOptions]: [[0, 'i32', 0], [1, 'i8', 0]],
  [BuiltinOptions.AddOptions]: [[0, 'i8', 0]],
  [BuiltinOptions.ReshapeOptions]: [[0, 'i32[]', 0]],
  [BuiltinOptions.PadOptions]: [],
  [BuiltinOptions.ReducerOptions]: [[0, 'u8', 0]],
  [BuiltinOptions.SqueezeOptions]: [[0, 'i32[]', 0]],
  [BuiltinOptions.DequantizeOptions]: [],
  [BuiltinOptions.QuantizeOptions]: [],
};

/** Options as plain values by field id (numbers, or number lists for vector fields). */
export type OptionValues = Record<number, number | number[]>;

/** Reads every known field of an options table of union type `type`. */
export function readOptions(type: number, table: FbTable | undefined): OptionValues {
  const values: OptionValues = {};
  for (const [id, kind, fallback] of OPTION_FIELDS[type] ?? []) {
    if (kind === 'i32[]') {
      if (table?.has(id)) values[id] = table.scalars(id, 'i32', `field ${id}`);
    } else {
      values[id] = table ? table.scalar(id, kind, `field ${id}`, fallback) : fallback;
    }
  }
  return values;
}
