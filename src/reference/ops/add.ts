// int8 elementwise ADD (TFLite's reference_integer_ops::Add, TFLite Micro's int8 path for inputs
// of the same shape). Both inputs are brought to a common scale before they are summed:
//   a = (x1 - zp1) << leftShift,  b = (x2 - zp2) << leftShift      (leftShift = 20 for int8)
//   sum = MBQM(a, input1Rescale) + MBQM(b, input2Rescale)          (each <= 1/2: to 2 * max scale)
//   out = clamp(MBQM(sum, outputRescale) + outputZeroPoint)
// where MBQM is MultiplyByQuantizedMultiplier (its SmallerThanOneExp form: shifts are <= 0).
import type { AddOp, IrTensor } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier } from '../fixedpoint.js';
import { int8Bounds } from './common.js';

/** Reads two int8 tensors of the same size and writes their sum. */
export type AddKernel = (input1: Int8Array, input2: Int8Array, output: Int8Array) => void;

export function prepareAdd(op: AddOp, input1: IrTensor, input2: IrTensor, output: IrTensor): AddKernel {
  const zeroPoint1 = input1.zeroPoint;
  const zeroPoint2 = input2.zeroPoint;
  const outputZeroPoint = output.zeroPoint;
  // x << 20 for |x| <= 255 stays below 2^28: the C's int32 multiply cannot overflow.
  const scaleUp = 2 ** op.leftShift;
  const { input1Rescale: r1, input2Rescale: r2, outputRescale: ro } = op;
  const { lo, hi } = int8Bounds(op.clamp);

  return (inputData1, inputData2, outputData) => {
    for (let i = 0; i < outputData.length; i++) {
      const scaled1 = multiplyByQuantizedMultiplier((inputData1[i] - zeroPoint1) * scaleUp, r1.multiplier, r1.shift);
      const scaled2 = multiplyByQuantizedMultiplier((inputData2[i] - zeroPoint2) * scaleUp, r2.multiplier, r2.shift);
      const sum = (scaled1 + scaled2) | 0;
      const v = multiplyByQuantizedMultiplier(sum, ro.multiplier, ro.shift) + outputZeroPoint;
      outputData[i] = v < lo ? lo : v > hi ? hi : v;
    }
  };
}
