// Checks of the version-2 graph ops (ADD, CONCATENATION, PAD, MEAN, SOFTMAX, QUANTIZE,
// DEQUANTIZE): shapes, quantization constraints TFLite Micro enforces, and each op's
// (multiplier, shift) pairs agreeing with the float32 scales they were derived from.
import {
  checkClamp,
  checkRepresents,
  checkRescale,
  checkSameQuantization,
  json,
  sameShape,
  type Report,
} from './problems.js';
import type { IrOp, IrTensor } from './types.js';

const ADD_LEFT_SHIFT = 20; // TFLite's left shift for int8 ADD
const SOFTMAX_OUTPUT_SCALE = 1 / 256;
const SOFTMAX_OUTPUT_ZERO_POINT = -128;

/** Checks a graph op given its input tensors (opInputs order); returns false for other kinds. */
export function checkGraphOp(report: Report, op: IrOp, at: string, inputs: IrTensor[], outT: IrTensor): boolean {
  const inT = inputs[0];
  switch (op.kind) {
    case 'add': {
      const in2 = inputs[1];
      for (const [t, field] of [[in2, 'input2'], [outT, 'output']] as const) {
        if (!sameShape(inT.shape, t.shape)) {
          report(`${at}/${field}`, `a tensor of the input's shape ${json(inT.shape)} (no broadcasting)`, `shape ${json(t.shape)} (tensor ${t.id})`);
        }
      }
      if (op.leftShift !== ADD_LEFT_SHIFT) report(`${at}/leftShift`, `${ADD_LEFT_SHIFT} (TFLite's int8 ADD)`, String(op.leftShift));
      const twiceMax = 2 * Math.max(inT.scale, in2.scale);
      checkRescale(report, `${at}/input1Rescale`, op.input1Rescale, inT.scale / twiceMax);
      checkRescale(report, `${at}/input2Rescale`, op.input2Rescale, in2.scale / twiceMax);
      checkRescale(report, `${at}/outputRescale`, op.outputRescale, twiceMax / (2 ** ADD_LEFT_SHIFT * outT.scale));
      checkClamp(report, `${at}/clamp`, op.clamp);
      return true;
    }
    case 'concatenation':
      checkConcatenation(report, op, at, inputs, outT);
      return true;
    case 'pad': {
      const rank = inT.shape.length;
      if (op.paddings.length !== rank) {
        report(`${at}/paddings`, `${rank} [before, after] pairs (one per dimension of ${json(inT.shape)})`, json(op.paddings));
        return true;
      }
      const bad = op.paddings.findIndex((p) => p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0));
      if (bad >= 0) {
        report(`${at}/paddings/${bad}`, 'two non-negative integers', json(op.paddings[bad]));
        return true;
      }
      const expected = inT.shape.map((d, i) => d + op.paddings[i][0] + op.paddings[i][1]);
      if (!sameShape(expected, outT.shape)) {
        report(`${at}/output`, `a tensor of shape ${json(expected)} (input ${json(inT.shape)} padded)`, `shape ${json(outT.shape)} (tensor ${outT.id})`);
      }
      checkSameQuantization(report, at, inT, outT);
      return true;
    }
    case 'mean':
      checkMean(report, op, at, inT, outT);
      return true;
    case 'softmax':
      checkSoftmax(report, op, at, inT, outT);
      return true;
    case 'quantize':
    case 'dequantize':
      checkQuantize(report, op, at, inT, outT);
      return true;
    default:
      return false;
  }
}

function checkConcatenation(report: Report, op: IrOp & { kind: 'concatenation' }, at: string, inputs: IrTensor[], outT: IrTensor): void {
  if (op.inputs.length < 1 || op.inputs[0] !== op.input) {
    report(`${at}/inputs`, `a list of input tensors starting with input ${op.input}`, json(op.inputs));
    return;
  }
  const rank = outT.shape.length;
  if (!Number.isInteger(op.axis) || op.axis < 0 || op.axis >= rank) {
    report(`${at}/axis`, `an axis in [0, ${rank - 1}] of the output ${json(outT.shape)}`, String(op.axis));
    return;
  }
  let sum = 0;
  inputs.forEach((t, i) => {
    const fits = t.shape.length === rank && t.shape.every((d, k) => k === op.axis || d === outT.shape[k]);
    if (!fits) {
      report(`${at}/inputs/${i}`, `a tensor of rank ${rank} matching the output ${json(outT.shape)} except on axis ${op.axis}`, `shape ${json(t.shape)} (tensor ${t.id})`);
    }
    sum += t.shape[op.axis] ?? 0;
    // TFLite Micro's int8 CONCATENATION copies bytes: every input shares the output's quantization.
    checkSameQuantization(report, at, t, outT, `inputs/${i}`);
  });
  if (sum !== outT.shape[op.axis]) {
    report(`${at}/output`, `${sum} elements on axis ${op.axis} (the sum of the inputs')`, `shape ${json(outT.shape)} (tensor ${outT.id})`);
  }
}

function checkMean(report: Report, op: IrOp & { kind: 'mean' }, at: string, inT: IrTensor, outT: IrTensor): void {
  const rank = inT.shape.length;
  const axesOk =
    op.axes.length >= 1 &&
    op.axes.every((a, i) => Number.isInteger(a) && a >= 0 && a < rank && (i === 0 || a > op.axes[i - 1]));
  if (!axesOk) {
    report(`${at}/axes`, `increasing axes in [0, ${rank - 1}] of the input ${json(inT.shape)}`, json(op.axes));
    return;
  }
  const expected = op.keepDims
    ? inT.shape.map((d, i) => (op.axes.includes(i) ? 1 : d))
    : inT.shape.filter((_, i) => !op.axes.includes(i));
  if (!sameShape(expected.length === 0 ? [1] : expected, outT.shape)) {
    report(`${at}/output`, `a tensor of shape ${json(expected)} (mean over axes ${json(op.axes)}, keepDims ${op.keepDims})`, `shape ${json(outT.shape)} (tensor ${outT.id})`);
  }
  checkRescale(report, `${at}/rescale`, op.rescale, inT.scale / outT.scale);
}

function checkSoftmax(report: Report, op: IrOp & { kind: 'softmax' }, at: string, inT: IrTensor, outT: IrTensor): void {
  if (!sameShape(inT.shape, outT.shape)) {
    report(`${at}/output`, `a tensor of the input's shape ${json(inT.shape)}`, `shape ${json(outT.shape)} (tensor ${outT.id})`);
  }
  // TFLite Micro's int8 softmax requires exactly this output quantization.
  if (outT.scale !== SOFTMAX_OUTPUT_SCALE || outT.zeroPoint !== SOFTMAX_OUTPUT_ZERO_POINT) {
    report(`${at}/output`, 'a tensor with scale 1/256 and zero point -128 (int8 softmax)', `scale ${outT.scale}, zero point ${outT.zeroPoint} (tensor ${outT.id})`);
  }
  if (!(Number.isFinite(op.beta) && op.beta > 0)) report(`${at}/beta`, 'a finite number > 0', String(op.beta));
  if (!Number.isInteger(op.inputLeftShift) || op.inputLeftShift < 0 || op.inputLeftShift > 31) {
    report(`${at}/inputLeftShift`, 'an integer in [0, 31] (QuantizeMultiplierGreaterThanOne)', String(op.inputLeftShift));
    return;
  }
  if (!Number.isInteger(op.inputMultiplier) || op.inputMultiplier < 0 || op.inputMultiplier > 2147483647) {
    report(`${at}/inputMultiplier`, 'a Q31 multiplier in [0, 2147483647]', String(op.inputMultiplier));
    return;
  }
  if (!Number.isInteger(op.diffMin) || op.diffMin > 0) report(`${at}/diffMin`, 'an integer <= 0', String(op.diffMin));
  // PreprocessSoftmaxScaling with 5 integer bits: beta * inputScale * 2^26, capped at 2^31 - 1.
  const real = Math.min(op.beta * inT.scale * 2 ** 26, 2 ** 31 - 1);
  checkRepresents(report, `${at}/inputMultiplier`, op.inputMultiplier, op.inputLeftShift, real);
}

function checkQuantize(report: Report, op: IrOp & { kind: 'quantize' | 'dequantize' }, at: string, inT: IrTensor, outT: IrTensor): void {
  if (!sameShape(inT.shape, outT.shape)) {
    report(`${at}/output`, `a tensor of the input's shape ${json(inT.shape)}`, `shape ${json(outT.shape)} (tensor ${outT.id})`);
  }
  if (op.kind === 'dequantize') return; // dtypes (int8 -> float32) are checked with the graph
  const fromFloat = inT.dtype === 'float32';
  if (fromFloat && op.rescale !== undefined) {
    report(`${at}/rescale`, 'nothing (a float32 -> int8 QUANTIZE has no rescale)', json(op.rescale));
  } else if (!fromFloat && op.rescale === undefined) {
    report(`${at}/rescale`, 'the int8 -> int8 rescale (QuantizeMultiplier(inScale / outScale))', 'nothing');
  } else if (op.rescale !== undefined) {
    checkRescale(report, `${at}/rescale`, op.rescale, inT.scale / outT.scale);
  }
}
