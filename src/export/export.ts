// IR -> .tflite: tinyforge's int8 model as a TFLite file any TFLite runtime can run: per-channel
// int8 weights (zero point 0) with int32 biases, fused activations recovered from the clamps,
// explicit padding expressed as SAME or VALID, the global average pool as AVERAGE_POOL_2D, and
// the batch dimension (1) put back. Scales are written as float32, as TFLite stores them;
// exportTflite reports how many of the IR's multipliers TFLite Micro would derive differently
// from those float32 scales (the zoo quantizer keeps float64 scales).
import { activationClamp, explicitPadding } from '../import/tflm-params.js';
import { importTflite } from '../import/import.js';
import { Activation, BuiltinOperator, BuiltinOptions, TensorType } from '../import/tflite-schema.js';
import type { OptionValues } from '../import/options.js';
import { type Clamp, type IrModel, type IrOp, type IrTensor, type Padding, type Requant } from '../ir/types.js';
import { UserError } from '../util/errors.js';
import { writeTflite, type TfliteSpec } from './tflite-writer.js';

export interface ExportResult {
  bytes: Uint8Array;
  /** Output-channel multipliers TFLite Micro derives differently from the IR's, of `multipliers`. */
  differingMultipliers: number;
  multipliers: number;
}

class SpecBuilder {
  readonly spec: TfliteSpec = { operatorCodes: [], buffers: [undefined], tensors: [], inputs: [], outputs: [], operators: [] };
  private readonly ids = new Map<number, number>();

  constructor(private readonly ir: IrModel) {}

  /** The TFLite index of IR tensor `id` (batch dimension added). */
  tensor(id: number): number {
    const known = this.ids.get(id);
    if (known !== undefined) return known;
    const t = this.ir.tensors.find((x) => x.id === id)!;
    const float = t.dtype === 'float32';
    const index = this.spec.tensors.push({
      name: t.name,
      shape: [1, ...t.shape],
      type: float ? TensorType.FLOAT32 : TensorType.INT8,
      buffer: 0,
      quantization: float ? undefined : { scale: [t.scale], zeroPoint: [t.zeroPoint] },
    }) - 1;
    this.ids.set(id, index);
    return index;
  }

  constant(name: string, shape: number[], type: number, data: Uint8Array, quantization?: TfliteSpec['tensors'][number]['quantization']): number {
    const buffer = this.spec.buffers.push(data) - 1;
    return this.spec.tensors.push({ name, shape, type, buffer, quantization }) - 1;
  }

  int32Constant(name: string, values: number[], shape = [values.length]): number {
    return this.constant(name, shape, TensorType.INT32, new Uint8Array(Int32Array.from(values).buffer));
  }

  op(code: number, inputs: number[], outputs: number[], optionsType = 0, options: OptionValues = {}): void {
    let opcodeIndex = this.spec.operatorCodes.findIndex((c) => c.code === code);
    if (opcodeIndex < 0) opcodeIndex = this.spec.operatorCodes.push({ code }) - 1;
    this.spec.operators.push({ opcodeIndex, inputs, outputs, optionsType, options });
  }
}

export function exportTflite(ir: IrModel): ExportResult {
  const b = new SpecBuilder(ir);
  b.spec.description = `tinyforge export of ${ir.name}`;
  b.spec.inputs = [ir.input, ...(ir.extraInputs ?? [])].map((i) => b.tensor(i.tensor));
  ir.ops.forEach((op, index) => exportOp(b, ir, op, index));
  b.spec.outputs = [b.tensor(ir.output.tensor)];
  const bytes = writeTflite(b.spec);
  return { bytes, ...compareMultipliers(ir, bytes) };
}

function tensorOf(ir: IrModel, id: number): IrTensor {
  return ir.tensors.find((t) => t.id === id)!;
}

function exportOp(b: SpecBuilder, ir: IrModel, op: IrOp, index: number): void {
  const x = b.tensor(op.input);
  const y = b.tensor(op.output);
  const out = tensorOf(ir, op.output);
  const act = (clamp: Clamp): number => fusedActivation(clamp, out, op, index);
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      const inT = tensorOf(ir, op.input);
      const outC = out.shape[2];
      const [kH, kW] = op.kernel;
      const dw = op.kind === 'depthwise_conv2d';
      const w = weightsConstant(b, op, dw ? [1, kH, kW, outC] : [outC, kH, kW, inT.shape[2]], dw ? 3 : 0);
      const bias = biasConstant(b, op, inT.scale);
      const padding = paddingType(op.padding, inT.shape, op.kernel, op.stride, op, index);
      const common = { 0: padding, 1: op.stride[1], 2: op.stride[0] };
      if (dw) {
        b.op(BuiltinOperator.DEPTHWISE_CONV_2D, [x, w, bias], [y], BuiltinOptions.DepthwiseConv2DOptions, { ...common, 3: op.depthMultiplier, 4: act(op.clamp), 5: 1, 6: 1 });
      } else {
        b.op(BuiltinOperator.CONV_2D, [x, w, bias], [y], BuiltinOptions.Conv2DOptions, { ...common, 3: act(op.clamp), 4: 1, 5: 1 });
      }
      return;
    }
    case 'fully_connected': {
      const inT = tensorOf(ir, op.input);
      const units = op.bias.length;
      const w = weightsConstant(b, op, [units, op.weights.length / units], 0);
      b.op(BuiltinOperator.FULLY_CONNECTED, [x, w, biasConstant(b, op, inT.scale)], [y], BuiltinOptions.FullyConnectedOptions, { 0: act(op.clamp), 1: 0, 2: 0 });
      return;
    }
    case 'max_pool2d':
    case 'avg_pool2d': {
      const padding = paddingType(op.padding, tensorOf(ir, op.input).shape, op.pool, op.stride, op, index);
      const code = op.kind === 'max_pool2d' ? BuiltinOperator.MAX_POOL_2D : BuiltinOperator.AVERAGE_POOL_2D;
      b.op(code, [x], [y], BuiltinOptions.Pool2DOptions, { 0: padding, 1: op.stride[1], 2: op.stride[0], 3: op.pool[1], 4: op.pool[0], 5: act(op.clamp) });
      return;
    }
    case 'reshape': {
      const shape = [1, ...out.shape];
      b.op(BuiltinOperator.RESHAPE, [x, b.int32Constant(`${op.name}/shape`, shape)], [y], BuiltinOptions.ReshapeOptions, { 0: shape });
      return;
    }
    case 'add':
      b.op(BuiltinOperator.ADD, [x, b.tensor(op.input2)], [y], BuiltinOptions.AddOptions, { 0: act(op.clamp) });
      return;
    case 'concatenation':
      b.op(BuiltinOperator.CONCATENATION, op.inputs.map((id) => b.tensor(id)), [y], BuiltinOptions.ConcatenationOptions, { 0: op.axis + 1, 1: Activation.NONE });
      return;
    case 'pad': {
      const paddings = b.int32Constant(`${op.name}/paddings`, [0, 0, ...op.paddings.flat()], [op.paddings.length + 1, 2]);
      b.op(BuiltinOperator.PAD, [x, paddings], [y], BuiltinOptions.PadOptions);
      return;
    }
    case 'mean':
      b.op(BuiltinOperator.MEAN, [x, b.int32Constant(`${op.name}/axes`, op.axes.map((a) => a + 1))], [y], BuiltinOptions.ReducerOptions, { 0: op.keepDims ? 1 : 0 });
      return;
    case 'softmax':
      b.op(BuiltinOperator.SOFTMAX, [x], [y], BuiltinOptions.SoftmaxOptions, { 0: op.beta });
      return;
    case 'quantize':
      b.op(BuiltinOperator.QUANTIZE, [x], [y], BuiltinOptions.QuantizeOptions);
      return;
    case 'dequantize':
      b.op(BuiltinOperator.DEQUANTIZE, [x], [y], BuiltinOptions.DequantizeOptions);
  }
}

/** int8 weights, per-channel along `axis` (zero point 0), as a constant tensor. */
function weightsConstant(b: SpecBuilder, op: IrOp & { weights: Int8Array; requant: Requant }, shape: number[], axis: number): number {
  const scales = Array.from(op.requant.weightScale);
  const data = new Uint8Array(op.weights.buffer, op.weights.byteOffset, op.weights.length).slice();
  return b.constant(`${op.name}/weights`, shape, TensorType.INT8, data, { scale: scales, zeroPoint: scales.map(() => 0), quantizedDimension: axis });
}

/** int32 biases with scale inputScale * weightScale[c] (what TFLite's converter writes). */
function biasConstant(b: SpecBuilder, op: IrOp & { bias: Int32Array; requant: Requant }, inputScale: number): number {
  const scales = Array.from(op.requant.weightScale, (ws) => Math.fround(inputScale) * Math.fround(ws));
  const data = new Uint8Array(op.bias.buffer, op.bias.byteOffset, op.bias.byteLength).slice();
  return b.constant(`${op.name}/bias`, [op.bias.length], TensorType.INT32, data, { scale: scales, zeroPoint: scales.map(() => 0), quantizedDimension: 0 });
}

/** SAME or VALID (schema Padding values), whichever gives the op's explicit padding. */
function paddingType(p: Padding, inShape: number[], window: [number, number], stride: [number, number], op: IrOp, index: number): number {
  const same = explicitPadding(true, inShape, window, stride);
  const equal = (q: Padding): boolean => q.top === p.top && q.bottom === p.bottom && q.left === p.left && q.right === p.right;
  if (equal(same)) return 0;
  if (p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0) return 1;
  throw new UserError(`export: op ${index} ("${op.name}", ${op.kind}): padding ${JSON.stringify(p)} is neither TFLite's SAME ${JSON.stringify(same)} nor VALID`);
}

/** The fused activation whose TFLite clamp (from the float32 output scale) is the op's clamp. */
function fusedActivation(clamp: Clamp, out: IrTensor, op: IrOp, index: number): number {
  for (const act of [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]) {
    const c = activationClamp(act, Math.fround(out.scale), out.zeroPoint);
    if (c.min === clamp.min && c.max === clamp.max) return act;
  }
  throw new UserError(`export: op ${index} ("${op.name}", ${op.kind}): clamp [${clamp.min}, ${clamp.max}] is no fused activation TFLite has (NONE, RELU, RELU6, RELU_N1_TO_1)`);
}

/** Re-imports the file and counts the per-channel multipliers TFLM would derive differently. */
function compareMultipliers(ir: IrModel, bytes: Uint8Array): { differingMultipliers: number; multipliers: number } {
  const back = importTflite(bytes, { label: `${ir.name} (exported)` });
  let differing = 0;
  let total = 0;
  ir.ops.forEach((op, i) => {
    const other = back.ops[i];
    if (!('requant' in op) || !other || !('requant' in other)) return;
    op.requant.multiplier.forEach((m, c) => {
      total++;
      if (m !== other.requant.multiplier[c] || op.requant.shift[c] !== other.requant.shift[c]) differing++;
    });
  });
  return { differingMultipliers: differing, multipliers: total };
}

/** Writes the export atomically and says how exactly TFLite Micro will reproduce the IR. */
export function writeExport(ir: IrModel, path: string, write: (path: string, data: Uint8Array) => void): string {
  const result = exportTflite(ir);
  write(path, result.bytes);
  const exactness = result.differingMultipliers === 0
    ? `TFLite Micro derives all ${result.multipliers} multipliers exactly as the IR holds them: it computes what tinyforge verified`
    : `TFLite Micro derives ${result.differingMultipliers} of ${result.multipliers} multipliers differently from the IR ` +
      '(the IR\'s scales are float64, the file holds them as float32): a few outputs may differ by 1 from what tinyforge verified';
  return `wrote ${path} (${result.bytes.length} bytes, ${ir.ops.length} ops)\n${exactness}`;
}
