// The ops of imported graphs (IR version 2): ADD, PAD, CONCATENATION, MEAN, SOFTMAX, QUANTIZE,
// DEQUANTIZE, resolved into the numbers their C kernels take, with every check the C relies on
// (shapes agree, shifts and multipliers in range, no int32 intermediate can overflow for any
// int8 input). Each resolver returns the layer or throws a UserError naming the op.
import type {
  AddOp,
  ConcatenationOp,
  DequantizeOp,
  IrModel,
  IrTensor,
  MeanOp,
  PadOp,
  QuantizeOp,
  Rescale,
  SoftmaxOp,
} from '../ir/types.js';
import { tensorSize } from '../ir/types.js';
import { foldMeanCount } from '../reference/ops/mean.js';
import { UserError } from '../util/errors.js';

const INT32_MAX = 2147483647;
export const INT16_MAX = 32767;
/** The largest softmax row the C kernel takes: a row's sum (<= depth * 2^19) keeps its final shift below 32. */
export const SOFTMAX_MAX_DEPTH = 511;

interface GraphLayerBase {
  index: number;
  input: IrTensor;
  output: IrTensor;
  macs: number;
}

export interface AddLayer extends GraphLayerBase {
  family: 'add';
  kind: 'add';
  op: AddOp;
  input2: IrTensor;
  size: number;
}

export interface PadLayer extends GraphLayerBase {
  family: 'pad';
  kind: 'pad';
  op: PadOp;
  /** The shapes and the padding before the data, as rank 4 (1s / 0s in front). */
  inDims: number[];
  outDims: number[];
  before: number[];
}

export interface ConcatLayer extends GraphLayerBase {
  family: 'concat';
  kind: 'concatenation';
  op: ConcatenationOp;
  inputs: IrTensor[];
  outer: number;
  /** Per input: its axis dimension times the inner size (bytes per outer step). */
  copyBytes: number[];
}

export interface MeanLayer extends GraphLayerBase {
  family: 'mean';
  kind: 'mean';
  op: MeanOp;
  outer: number;
  reduced: number;
  inner: number;
  /** op.rescale with 1/reduced folded in, as TFLite Micro folds it at run time (foldMeanCount). */
  folded: Rescale;
}

export interface SoftmaxLayer extends GraphLayerBase {
  family: 'softmax';
  kind: 'softmax';
  op: SoftmaxOp;
  rows: number;
  depth: number;
}

export interface QuantizeLayer extends GraphLayerBase {
  family: 'quantize';
  kind: 'quantize' | 'dequantize';
  op: QuantizeOp | DequantizeOp;
  /** float32 -> int8, int8 -> int8 (requantize) or int8 -> float32. */
  mode: 'f32_to_s8' | 's8_to_s8' | 's8_to_f32';
  size: number;
}

export type GraphLayer = AddLayer | PadLayer | ConcatLayer | MeanLayer | SoftmaxLayer | QuantizeLayer;

type Fail = (message: string) => never;

function isFloat(t: IrTensor): boolean {
  return t.dtype === 'float32';
}

function requireInt8(fail: Fail, what: string, t: IrTensor): void {
  if (isFloat(t)) fail(`${what} tensor '${t.name}' must be int8, found float32`);
}

/** A (multiplier, shift) pair: Q31 multiplier in [0, 2^31), shift in [minShift, maxShift]. */
function checkRescale(fail: Fail, what: string, r: Rescale, minShift: number, maxShift: number): void {
  if (!Number.isInteger(r.multiplier) || r.multiplier < 0 || r.multiplier > INT32_MAX) {
    fail(`${what} multiplier must be an integer in [0, 2^31 - 1], found ${r.multiplier}`);
  }
  if (!Number.isInteger(r.shift) || r.shift < minShift || r.shift > maxShift) {
    fail(`${what} shift must be an integer in [${minShift}, ${maxShift}], found ${r.shift}`);
  }
}

/** |x| * 2^max(shift, 0) must fit int32 for MultiplyByQuantizedMultiplier's left shift. */
function checkHeadroom(fail: Fail, what: string, maxAbs: number, shift: number): void {
  if (maxAbs * 2 ** Math.max(shift, 0) > INT32_MAX) {
    fail(`${what}: an input of magnitude ${maxAbs} shifted left by ${shift} overflows int32`);
  }
}

function sameQuantization(a: IrTensor, b: IrTensor): boolean {
  return Math.fround(a.scale) === Math.fround(b.scale) && a.zeroPoint === b.zeroPoint;
}

function resolveAdd(fail: Fail, op: AddOp, base: GraphLayerBase, input2: IrTensor): AddLayer {
  const { input, output } = base;
  for (const [what, t] of [['input', input], ['second input', input2], ['output', output]] as const) requireInt8(fail, what, t);
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(input.shape, input2.shape) || !same(input.shape, output.shape)) {
    fail(
      `inputs [${input.shape}] and [${input2.shape}] and output [${output.shape}] must have one shape ` +
        '(broadcasting is not supported)',
    );
  }
  if (!Number.isInteger(op.leftShift) || op.leftShift < 0 || 255 * 2 ** op.leftShift > 2 ** 29) {
    fail(`leftShift must be an integer in [0, 21] (255 * 2^leftShift within 2^29), found ${op.leftShift}`);
  }
  checkRescale(fail, 'input1Rescale', op.input1Rescale, -31, 0);
  checkRescale(fail, 'input2Rescale', op.input2Rescale, -31, 0);
  checkRescale(fail, 'outputRescale', op.outputRescale, -31, 0);
  checkClampRange(fail, op.clamp);
  return { ...base, family: 'add', kind: 'add', op, input2, size: tensorSize(output) };
}

function checkClampRange(fail: Fail, clamp: { min: number; max: number }): void {
  const ok = Number.isInteger(clamp.min) && Number.isInteger(clamp.max) && clamp.min >= -128 && clamp.max <= 127 && clamp.min <= clamp.max;
  if (!ok) fail(`clamp must satisfy -128 <= min <= max <= 127, found [${clamp.min}, ${clamp.max}]`);
}

/** Left-pads a list to length 4 with `fill`. */
function rank4(values: number[], fill: number): number[] {
  return [...Array<number>(4 - values.length).fill(fill), ...values];
}

function resolvePad(fail: Fail, op: PadOp, base: GraphLayerBase): PadLayer {
  const { input, output } = base;
  requireInt8(fail, 'input', input);
  if (input.shape.length > 4) fail(`rank ${input.shape.length} is not supported (at most 4)`);
  if (op.paddings.length !== input.shape.length || output.shape.length !== input.shape.length) {
    fail(`paddings (${op.paddings.length} pairs) and output rank ${output.shape.length} must match the input rank ${input.shape.length}`);
  }
  op.paddings.forEach(([before, after], d) => {
    if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0) {
      fail(`paddings[${d}] must be two non-negative integers, found [${before}, ${after}]`);
    }
    if (input.shape[d]! + before + after !== output.shape[d]) {
      fail(`dimension ${d}: input ${input.shape[d]} + padding ${before} + ${after} != output ${output.shape[d]}`);
    }
  });
  if (!sameQuantization(input, output)) fail('input and output must share scale and zero point (PAD pads with the zero point)');
  const outDims = rank4(output.shape, 1);
  if (outDims.some((d) => d > INT16_MAX)) fail(`output dimensions [${output.shape}] exceed the int16 fields (at most ${INT16_MAX})`);
  return {
    ...base,
    family: 'pad',
    kind: 'pad',
    op,
    inDims: rank4(input.shape, 1),
    outDims,
    before: rank4(op.paddings.map((p) => p[0]), 0),
  };
}

function resolveConcat(fail: Fail, op: ConcatenationOp, base: GraphLayerBase, inputs: IrTensor[]): ConcatLayer {
  const { output } = base;
  const rank = output.shape.length;
  if (!Number.isInteger(op.axis) || op.axis < 0 || op.axis >= rank) fail(`axis ${op.axis} outside [0, ${rank - 1}]`);
  if (inputs.length < 1 || op.inputs[0] !== op.input) fail('inputs must list every input, the first being `input`');
  let axisSum = 0;
  inputs.forEach((t, k) => {
    requireInt8(fail, `input ${k}`, t);
    const agrees = t.shape.length === rank && t.shape.every((d, i) => i === op.axis || d === output.shape[i]);
    if (!agrees) fail(`input ${k} shape [${t.shape}] does not match output [${output.shape}] outside axis ${op.axis}`);
    if (!sameQuantization(t, output)) {
      fail(`input ${k} '${t.name}' has another scale or zero point than the output (requantize it with a QUANTIZE first, as TFLite does)`);
    }
    axisSum += t.shape[op.axis]!;
  });
  if (axisSum !== output.shape[op.axis]) fail(`inputs add up to ${axisSum} along axis ${op.axis}, output has ${output.shape[op.axis]}`);
  const outer = output.shape.slice(0, op.axis).reduce((a, b) => a * b, 1);
  const inner = output.shape.slice(op.axis + 1).reduce((a, b) => a * b, 1);
  return { ...base, family: 'concat', kind: 'concatenation', op, inputs, outer, copyBytes: inputs.map((t) => t.shape[op.axis]! * inner) };
}

function resolveMean(fail: Fail, op: MeanOp, base: GraphLayerBase): MeanLayer {
  const { input, output } = base;
  requireInt8(fail, 'input', input);
  const axes = [...op.axes].sort((a, b) => a - b);
  const rank = input.shape.length;
  if (axes.length === 0 || axes.some((a, i) => !Number.isInteger(a) || a < 0 || a >= rank || (i > 0 && a !== axes[i - 1]! + 1))) {
    fail(`axes [${op.axes}] must be distinct, contiguous dimensions of the rank-${rank} input (e.g. H and W of [H, W, C])`);
  }
  const outer = input.shape.slice(0, axes[0]).reduce((a, b) => a * b, 1);
  const reduced = axes.reduce((n, a) => n * input.shape[a]!, 1);
  const inner = input.shape.slice(axes[axes.length - 1]! + 1).reduce((a, b) => a * b, 1);
  if (tensorSize(output) !== outer * inner) fail(`output has ${tensorSize(output)} elements, expected ${outer * inner}`);
  checkRescale(fail, 'rescale', op.rescale, -31, 30);
  const folded = foldMeanCount(op.rescale, reduced);
  checkRescale(fail, 'rescale with 1/N folded in', folded, -31, 30);
  checkHeadroom(fail, 'rescale with 1/N folded in', 255 * reduced, folded.shift);
  return { ...base, family: 'mean', kind: 'mean', op, outer, reduced, inner, folded };
}

function resolveSoftmax(fail: Fail, op: SoftmaxOp, base: GraphLayerBase): SoftmaxLayer {
  const { input, output } = base;
  requireInt8(fail, 'input', input);
  requireInt8(fail, 'output', output);
  if (tensorSize(input) !== tensorSize(output)) fail('input and output must have the same size');
  if (output.zeroPoint !== -128 || Math.fround(output.scale) !== 1 / 256) {
    fail(`int8 softmax output must have scale 1/256 and zero point -128 (TFLite's contract), found ${output.scale} and ${output.zeroPoint}`);
  }
  const depth = input.shape[input.shape.length - 1]!;
  if (depth > SOFTMAX_MAX_DEPTH) fail(`rows of ${depth} values are not supported (at most ${SOFTMAX_MAX_DEPTH})`);
  checkRescale(fail, 'input', { multiplier: op.inputMultiplier, shift: op.inputLeftShift }, 0, 31);
  if (!Number.isInteger(op.diffMin) || op.diffMin > 0) fail(`diffMin must be an integer <= 0, found ${op.diffMin}`);
  // Every difference the kernel scales (>= diffMin, >= -255) times 2^inputLeftShift must fit int32.
  checkHeadroom(fail, 'input scaling', Math.min(255, -op.diffMin), op.inputLeftShift);
  return { ...base, family: 'softmax', kind: 'softmax', op, rows: tensorSize(input) / depth, depth };
}

function resolveQuantize(fail: Fail, op: QuantizeOp | DequantizeOp, base: GraphLayerBase): QuantizeLayer {
  const { input, output } = base;
  if (tensorSize(input) !== tensorSize(output)) fail('input and output must have the same size');
  const layer = { ...base, family: 'quantize' as const, kind: op.kind, op, size: tensorSize(output) };
  if (op.kind === 'dequantize') {
    if (isFloat(input) || !isFloat(output)) fail('DEQUANTIZE must take int8 to float32');
    return { ...layer, mode: 's8_to_f32' };
  }
  requireInt8(fail, 'output', output);
  if (isFloat(input)) {
    if (op.rescale) fail('a float32 -> int8 QUANTIZE takes no rescale');
    return { ...layer, mode: 'f32_to_s8' };
  }
  if (!op.rescale) fail('an int8 -> int8 QUANTIZE needs its rescale (multiplier, shift)');
  checkRescale(fail, 'rescale', op.rescale, -31, 30);
  checkHeadroom(fail, 'rescale', 255, op.rescale.shift);
  return { ...layer, mode: 's8_to_s8' };
}

/** Resolves an op of the graph kinds; `tensor` looks a tensor id up (throwing if absent). */
export function resolveGraphLayer(
  ir: IrModel,
  index: number,
  op: AddOp | ConcatenationOp | PadOp | MeanOp | SoftmaxOp | QuantizeOp | DequantizeOp,
  tensor: (id: number) => IrTensor,
): GraphLayer {
  const fail: Fail = (message) => {
    throw new UserError(`IR '${ir.name}', op ${index} '${op.name}' (${op.kind}): ${message}`);
  };
  const base: GraphLayerBase = { index, input: tensor(op.input), output: tensor(op.output), macs: 0 };
  switch (op.kind) {
    case 'add':
      return resolveAdd(fail, op, base, tensor(op.input2));
    case 'pad':
      return resolvePad(fail, op, base);
    case 'concatenation':
      return resolveConcat(fail, op, base, op.inputs.map(tensor));
    case 'mean':
      return resolveMean(fail, op, base);
    case 'softmax':
      return resolveSoftmax(fail, op, base);
    case 'quantize':
    case 'dequantize':
      return resolveQuantize(fail, op, base);
  }
}
