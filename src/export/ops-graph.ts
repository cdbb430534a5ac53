// The IR-version-2 ops of imported graphs -> TFLite operators: ADD, CONCATENATION, PAD, MEAN,
// SOFTMAX, QUANTIZE, DEQUANTIZE. None carries a multiplier in the file: TFLite Micro derives
// them from the float32 scales (exactness() in export.ts compares those with the IR's).
import type { IrOp } from '../ir/types.js';
import { Activation, BuiltinOperator, BuiltinOptions, F } from '../import/tflite-schema.js';
import { fusedActivationOf, OpExportProblem, optionValues, type ExportedOperator, type OpWriterContext } from './op-common.js';

type Op<K extends IrOp['kind']> = Extract<IrOp, { kind: K }>;

const ADD_LEFT_SHIFT = 20; // TFLite's fixed left shift for int8 ADD

export function writeAdd(ctx: OpWriterContext, op: Op<'add'>): ExportedOperator {
  if (op.leftShift !== ADD_LEFT_SHIFT) throw new OpExportProblem(`left shift ${op.leftShift}`, `left shift ${ADD_LEFT_SHIFT} (TFLite's int8 ADD)`);
  const y = ctx.tensor(op.output);
  return {
    code: BuiltinOperator.ADD,
    version: 2,
    inputs: [ctx.table.activation(ctx.tensor(op.input)), ctx.table.activation(ctx.tensor(op.input2))],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.AddOptions,
    options: optionValues(F.AddOptions, { fused_activation_function: fusedActivationOf(op.clamp, y) }),
  };
}

export function writeConcatenation(ctx: OpWriterContext, op: Op<'concatenation'>): ExportedOperator {
  return {
    code: BuiltinOperator.CONCATENATION,
    version: 2,
    inputs: op.inputs.map((id) => ctx.table.activation(ctx.tensor(id))),
    outputs: [ctx.table.activation(ctx.tensor(op.output))],
    optionsType: BuiltinOptions.ConcatenationOptions,
    // The IR axis counts without the batch dimension.
    options: optionValues(F.ConcatenationOptions, { axis: op.axis + 1, fused_activation_function: Activation.NONE }),
  };
}

export function writePad(ctx: OpWriterContext, op: Op<'pad'>): ExportedOperator {
  // [rank + 1, 2]: no padding of the batch, then the IR's [before, after] per dimension.
  const paddings = ctx.table.int32s(`${op.name}/paddings`, [0, 0, ...op.paddings.flat()], [op.paddings.length + 1, 2]);
  return {
    code: BuiltinOperator.PAD,
    version: 2,
    inputs: [ctx.table.activation(ctx.tensor(op.input)), paddings],
    outputs: [ctx.table.activation(ctx.tensor(op.output))],
    optionsType: BuiltinOptions.PadOptions,
    options: {},
  };
}

export function writeMean(ctx: OpWriterContext, op: Op<'mean'>): ExportedOperator {
  const axes = ctx.table.int32s(`${op.name}/axes`, op.axes.map((a) => a + 1));
  return {
    code: BuiltinOperator.MEAN,
    version: 2,
    inputs: [ctx.table.activation(ctx.tensor(op.input)), axes],
    outputs: [ctx.table.activation(ctx.tensor(op.output))],
    optionsType: BuiltinOptions.ReducerOptions,
    options: optionValues(F.ReducerOptions, { keep_dims: op.keepDims ? 1 : 0 }),
  };
}

export function writeSoftmax(ctx: OpWriterContext, op: Op<'softmax'>): ExportedOperator {
  const y = ctx.tensor(op.output);
  if (Math.fround(y.scale) !== 1 / 256 || y.zeroPoint !== -128) {
    throw new OpExportProblem(`output scale ${y.scale} and zero point ${y.zeroPoint}`, 'output scale 1/256 and zero point -128 (int8 softmax)');
  }
  return {
    code: BuiltinOperator.SOFTMAX,
    version: 2,
    inputs: [ctx.table.activation(ctx.tensor(op.input))],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.SoftmaxOptions,
    options: optionValues(F.SoftmaxOptions, { beta: op.beta }),
  };
}

export function writeQuantize(ctx: OpWriterContext, op: Op<'quantize' | 'dequantize'>): ExportedOperator {
  const quantize = op.kind === 'quantize';
  return {
    code: quantize ? BuiltinOperator.QUANTIZE : BuiltinOperator.DEQUANTIZE,
    version: quantize ? 2 : 3,
    inputs: [ctx.table.activation(ctx.tensor(op.input))],
    outputs: [ctx.table.activation(ctx.tensor(op.output))],
    optionsType: quantize ? BuiltinOptions.QuantizeOptions : BuiltinOptions.DequantizeOptions,
    options: {},
  };
}
