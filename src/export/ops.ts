// IR op -> TFLite operator: one writer per op kind, each adding the constant tensors it reads
// and its builtin options (field ids of TFLite's schema.fbs). The layer ops are here, the graph
// ops of imported models in ops-graph.ts. A writer that cannot express the
// op in TFLite terms (an explicit padding that is neither SAME nor VALID, a clamp no fused
// activation gives) reports why instead; the model writer lists every such problem at once.
import type { Clamp, IrModel, IrOp, IrTensor, Padding } from '../ir/types.js';
import { activationClamp, explicitPadding, tflitePadding } from '../import/tflm-params.js';
import { Activation, activationNames, BuiltinOperator, BuiltinOptions, F, PaddingType } from '../import/tflite-schema.js';
import type { OptionValues } from '../import/options.js';
import { writeAdd, writeConcatenation, writeMean, writePad, writeQuantize, writeSoftmax } from './ops-graph.js';
import { tfliteShape, type TensorTable } from './tensors.js';

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

/** The operator for `op`, or the problem that keeps it out of a .tflite file. */
export function writeOp(ctx: OpWriterContext, op: IrOp): ExportedOperator | OpExportProblem {
  try {
    switch (op.kind) {
      case 'conv2d':
      case 'depthwise_conv2d':
        return writeConvolution(ctx, op);
      case 'fully_connected':
        return writeFullyConnected(ctx, op);
      case 'max_pool2d':
      case 'avg_pool2d':
        return writePool(ctx, op);
      case 'reshape':
        return writeReshape(ctx, op);
      case 'add':
        return writeAdd(ctx, op);
      case 'concatenation':
        return writeConcatenation(ctx, op);
      case 'pad':
        return writePad(ctx, op);
      case 'mean':
        return writeMean(ctx, op);
      case 'softmax':
        return writeSoftmax(ctx, op);
      case 'quantize':
      case 'dequantize':
        return writeQuantize(ctx, op);
    }
  } catch (err) {
    if (err instanceof OpExportProblem) return err;
    throw err;
  }
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

function writeConvolution(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'conv2d' | 'depthwise_conv2d' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  const padding = paddingTypeOf(op.padding, x, y, op.kernel, op.stride);
  const fused = fusedActivationOf(op.clamp, y);
  const [kh, kw] = op.kernel;
  const outC = y.shape[2];
  const depthwise = op.kind === 'depthwise_conv2d';
  // Conv filters are OHWI (scales along dimension 0); depthwise filters [1, kH, kW, C * M] (along 3).
  const filterShape = depthwise ? [1, kh, kw, outC] : [outC, kh, kw, x.shape[2]];
  const filter = ctx.table.weights(`${op.name}/filter`, filterShape, op.weights, op.requant.weightScale, depthwise ? 3 : 0);
  const bias = ctx.table.bias(`${op.name}/bias`, op.bias, x.scale, op.requant.weightScale);
  const window = { padding, stride_h: op.stride[0], stride_w: op.stride[1] };
  const options: OptionValues = depthwise
    ? optionValues(F.DepthwiseConv2DOptions, {
        ...window, depth_multiplier: op.depthMultiplier, fused_activation_function: fused, dilation_w_factor: 1, dilation_h_factor: 1,
      })
    : optionValues(F.Conv2DOptions, { ...window, fused_activation_function: fused, dilation_w_factor: 1, dilation_h_factor: 1 });
  return {
    code: depthwise ? BuiltinOperator.DEPTHWISE_CONV_2D : BuiltinOperator.CONV_2D,
    version: 3,
    inputs: [ctx.table.activation(x), filter, bias],
    outputs: [ctx.table.activation(y)],
    optionsType: depthwise ? BuiltinOptions.DepthwiseConv2DOptions : BuiltinOptions.Conv2DOptions,
    options,
  };
}

function writeFullyConnected(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'fully_connected' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  const fused = fusedActivationOf(op.clamp, y);
  const units = op.bias.length;
  const filter = ctx.table.weights(`${op.name}/weights`, [units, op.weights.length / units], op.weights, op.requant.weightScale, 0);
  const bias = ctx.table.bias(`${op.name}/bias`, op.bias, x.scale, op.requant.weightScale);
  return {
    code: BuiltinOperator.FULLY_CONNECTED,
    version: 4,
    inputs: [ctx.table.activation(x), filter, bias],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.FullyConnectedOptions,
    options: optionValues(F.FullyConnectedOptions, { fused_activation_function: fused, weights_format: 0, keep_num_dims: 0 }),
  };
}

function writePool(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'max_pool2d' | 'avg_pool2d' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  if (x.scale !== y.scale || x.zeroPoint !== y.zeroPoint) {
    throw new OpExportProblem("output quantization differs from the input's", "the input's scale and zero point (TFLite's pooling does not rescale)");
  }
  // A global average pool is this op with the window the whole feature map (not MEAN, whose
  // arithmetic differs).
  const options = optionValues(F.Pool2DOptions, {
    padding: paddingTypeOf(op.padding, x, y, op.pool, op.stride),
    stride_h: op.stride[0],
    stride_w: op.stride[1],
    filter_height: op.pool[0],
    filter_width: op.pool[1],
    fused_activation_function: fusedActivationOf(op.clamp, y),
  });
  return {
    code: op.kind === 'max_pool2d' ? BuiltinOperator.MAX_POOL_2D : BuiltinOperator.AVERAGE_POOL_2D,
    version: 2,
    inputs: [ctx.table.activation(x)],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.Pool2DOptions,
    options,
  };
}

function writeReshape(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'reshape' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  if (x.scale !== y.scale || x.zeroPoint !== y.zeroPoint) {
    throw new OpExportProblem("output quantization differs from the input's", "the input's scale and zero point");
  }
  const newShape = tfliteShape(y.shape);
  // The shape as a constant second input (what TFLite Micro reads) and in the options (older readers).
  const shapeTensor = ctx.table.int32s(`${op.name}/shape`, newShape);
  return {
    code: BuiltinOperator.RESHAPE,
    version: 1,
    inputs: [ctx.table.activation(x), shapeTensor],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.ReshapeOptions,
    options: optionValues(F.ReshapeOptions, { new_shape: newShape }),
  };
}

/** Options by field name -> by field id, through the schema's id table. */
export function optionValues<T extends Record<string, number>>(ids: T, values: Partial<Record<keyof T, number | number[]>>): OptionValues {
  const out: OptionValues = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) out[ids[name]] = value as number | number[];
  return out;
}
