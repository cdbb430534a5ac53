// int8 MEAN over some axes (TFLite Micro's EvalIntegerMean -> reference_ops::QuantizedMeanOrSum):
// the sum of (q - inputZeroPoint) times a multiplier into which 1/count has been folded (see
// foldMeanCount: a truncating integer division of the multiplier), i.e. MultiplyByQuantizedMultiplier
// (double rounding) of the sum, plus the output zero point, clamped. This rounds twice and differs
// from AVG_POOL_2D over the same window, which divides with rounding in the int8 domain.
// op.rescale is QuantizeMultiplier(inputScale / outputScale), as TFLite Micro's Prepare derives
// it; the fold of 1/count happens here, as in TFLite Micro's Eval.
//
// This one path also serves an output with the input's own scale and zero point: the golden
// outputs of TFLM 90b983c2 (conformance ops/mean_same_quant, 1536 values) equal it, and not the
// truncating integer mean that some TFLM versions take for that case (which differs on 688).
import { tensorSize, type IrTensor, type MeanOp, type Rescale } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier } from '../fixedpoint.js';
import type { OpKernel } from './common.js';

/**
 * TFLite's fold of 1/count into the (input scale / output scale) multiplier:
 * s = min(floor(log2 count), 32, 31 + shift); multiplier' = (int64(multiplier) << s) / count
 * (truncating); shift' = shift - s.
 */
export function foldMeanCount(rescale: Rescale, count: number): Rescale {
  let bits = Math.floor(Math.log2(count));
  // Math.log2 may land a hair off for exact powers of two; correct to floor(log2) exactly.
  while (2 ** bits > count) bits--;
  while (2 ** (bits + 1) <= count) bits++;
  const s = Math.min(bits, 32, 31 + rescale.shift);
  const multiplier = Number((BigInt(rescale.multiplier) << BigInt(s)) / BigInt(count));
  return { multiplier, shift: rescale.shift - s };
}

/** For each input element, the index of the output element it is reduced into. */
function reductionTargets(shape: readonly number[], axes: readonly number[]): { targets: Int32Array; outputs: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  const kept = shape.map((_, d) => !axes.includes(d));
  const targets = new Int32Array(size);
  const index = new Array<number>(shape.length).fill(0);
  let outputs = 1;
  for (let d = 0; d < shape.length; d++) if (kept[d]) outputs *= shape[d];
  for (let i = 0; i < size; i++) {
    let target = 0;
    for (let d = 0; d < shape.length; d++) if (kept[d]) target = target * shape[d] + index[d];
    targets[i] = target;
    for (let d = shape.length - 1; d >= 0 && ++index[d] === shape[d]; d--) index[d] = 0;
  }
  return { targets, outputs };
}

export function prepareMean(op: MeanOp, input: IrTensor, output: IrTensor): OpKernel {
  const { targets, outputs } = reductionTargets(input.shape, op.axes);
  if (outputs !== tensorSize(output)) {
    throw new RangeError(`mean '${op.name}': reducing axes [${op.axes}] of [${input.shape}] gives ${outputs} values, output has ${tensorSize(output)}`);
  }
  const count = tensorSize(input) / outputs;
  const { multiplier, shift } = foldMeanCount(op.rescale, count);
  const inputOffset = input.zeroPoint * count;
  const outputZeroPoint = output.zeroPoint;
  const sums = new Int32Array(outputs);

  return (inputData, outputData) => {
    sums.fill(0);
    for (let i = 0; i < inputData.length; i++) sums[targets[i]] += inputData[i];
    for (let o = 0; o < outputs; o++) {
      const v = multiplyByQuantizedMultiplier((sums[o] - inputOffset) | 0, multiplier, shift) + outputZeroPoint;
      outputData[o] = v < -128 ? -128 : v > 127 ? 127 : v;
    }
  };
}
