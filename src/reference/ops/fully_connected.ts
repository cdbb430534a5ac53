// int8 fully connected layer with per-channel requantization (TFLite's reference_integer_ops
// FullyConnected, with a multiplier per output unit). The input is read as a flat vector of
// inUnits values, whatever its shape:
//   acc = bias[o] + sum over i of (x[i] - inputZeroPoint) * w[o, i]
//   out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[o], shift[o]) + outputZeroPoint)
import { tensorSize, type FullyConnectedOp, type IrTensor } from '../../ir/types.js';
import { dotProduct, int8Bounds, requantize, type OpKernel } from './common.js';

export function prepareFullyConnected(op: FullyConnectedOp, input: IrTensor, output: IrTensor): OpKernel {
  const inUnits = tensorSize(input);
  const outUnits = tensorSize(output);
  const { weights, bias } = op;
  const { multiplier, shift } = op.requant;
  const inputZeroPoint = input.zeroPoint;
  const outputZeroPoint = output.zeroPoint;
  const { lo, hi } = int8Bounds(op.clamp);
  // x - inputZeroPoint, computed once per input rather than once per weight.
  const shifted = new Int32Array(inUnits);

  return (inputData, outputData) => {
    for (let i = 0; i < inUnits; i++) shifted[i] = inputData[i] - inputZeroPoint;
    for (let o = 0; o < outUnits; o++) {
      const acc = dotProduct(shifted, weights, o * inUnits, inUnits);
      outputData[o] = requantize(acc + bias[o], multiplier[o], shift[o], outputZeroPoint, lo, hi);
    }
  };
}
