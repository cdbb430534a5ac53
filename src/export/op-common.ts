// What every op writer shares: the context it writes into, what it returns, how it refuses,
// and the two TFLite facts recovered from the IR's explicit form (padding type, fused activation).
import type { Clamp, IrModel, IrTensor, Padding } from '../ir/types.js';
import { activationClamp, explicitPadding, tflitePadding } from '../import/tflm-params.js';
import { Activation, activationNames, PaddingType } from '../import/tflite-schema.js';
import type { OptionValues } from '../import/options.js';
import type { TensorTable } from './tensors.js';

export interface ExportedOperator {
  code: number;
  /** TFLite's op version for int8 (TFLite Micro ignores it; converters and interpreters read it). */
  version: number;
  inputs: number[];
  outputs: number[];
  optionsType: number;
  options: OptionValues;
}

/** Why an op cannot be written (the model writer adds its index and name). */
export class OpExportProblem {
  constructor(readonly what: string, readonly supported: string) {}
}

export interface OpWriterContext {
  ir: IrModel;
  table: TensorTable;
  tensor(id: number): IrTensor;
}

const FUSED_EXPORTED = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1];

/**
 * The fused activation whose clamp, as TFLite Micro derives it from the output's float32 scale
 * and zero point, equals the op's clamp exactly (NONE first: a ReLU with zero point -128 clamps
 * nothing either).
 */
export function fusedActivationOf(clamp: Clamp, out: IrTensor): number {
  for (const act of FUSED_EXPORTED) {
    const derived = activationClamp(act, Math.fround(out.scale), out.zeroPoint);
    if (derived.min === clamp.min && derived.max === clamp.max) return act;
  }
  const derived = FUSED_EXPORTED.map((a) => {
    const c = activationClamp(a, Math.fround(out.scale), out.zeroPoint);
    return `${activationNames[a]} [${c.min}, ${c.max}]`;
  });
  throw new OpExportProblem(
    `clamp [${clamp.min}, ${clamp.max}] is no fused activation's for output scale ${out.scale}, zero point ${out.zeroPoint}`,
    `a clamp equal to one of ${derived.join(', ')}`,
  );
}

/** SAME or VALID, whichever gives the op's explicit padding and output size (VALID first). */
export function paddingTypeOf(padding: Padding, input: IrTensor, output: IrTensor, window: [number, number], stride: [number, number]): number {
  const [inHW, outHW] = [input.shape.slice(0, 2), output.shape.slice(0, 2)];
  const gives = (same: boolean): boolean => {
    const p = explicitPadding(same, inHW, window, stride);
    const sizes = [0, 1].map((d) => tflitePadding(same, inHW[d], window[d], stride[d]).out);
    return p.top === padding.top && p.bottom === padding.bottom && p.left === padding.left && p.right === padding.right &&
      sizes[0] === outHW[0] && sizes[1] === outHW[1];
  };
  if (gives(false)) return PaddingType.VALID;
  if (gives(true)) return PaddingType.SAME;
  const text = `top ${padding.top}, bottom ${padding.bottom}, left ${padding.left}, right ${padding.right}`;
  throw new OpExportProblem(
    `explicit padding (${text}) for ${JSON.stringify(inHW)} -> ${JSON.stringify(outHW)} is neither SAME nor VALID`,
    "TFLite's SAME or VALID padding (the odd pixel of SAME after)",
  );
}

/** Options by field name -> by field id, through the schema's id table. */
export function optionValues<T extends Record<string, number>>(ids: T, values: Partial<Record<keyof T, number | number[]>>): OptionValues {
  const out: OptionValues = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) out[ids[name]] = value as number | number[];
  return out;
}
