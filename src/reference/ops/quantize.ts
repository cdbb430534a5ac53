// QUANTIZE (TFLite Micro's quantize kernel), two forms:
//  - float32 -> int8 (reference_ops::AffineQuantize): q = clamp(round(x / scale) + zeroPoint),
//    x / scale in double (the float32 scale widened), std::round (half away from zero);
//  - int8 -> int8 (reference_ops::Requantize, op.rescale = input scale / output scale):
//    q = clamp(MultiplyByQuantizedMultiplier(x - inputZeroPoint, rescale) + outputZeroPoint).
import type { IrTensor, QuantizeOp } from '../../ir/types.js';
import { roundHalfAwayFromZero } from '../../quantize/multiplier.js';
import { multiplyByQuantizedMultiplier } from '../fixedpoint.js';

export type QuantizeFloatKernel = (input: Float32Array, output: Int8Array) => void;
export type RequantizeKernel = (input: Int8Array, output: Int8Array) => void;

export function prepareQuantizeFloat(_op: QuantizeOp, _input: IrTensor, output: IrTensor): QuantizeFloatKernel {
  const scale = output.scale;
  const zeroPoint = output.zeroPoint;
  return (inputData, outputData) => {
    for (let i = 0; i < inputData.length; i++) {
      const v = roundHalfAwayFromZero(inputData[i] / scale) + zeroPoint;
      // NaN has no int8 value (the C cast is undefined); it quantizes to the zero point, 0.0.
      outputData[i] = v < -128 ? -128 : v > 127 ? 127 : Number.isNaN(v) ? zeroPoint : v;
    }
  };
}

export function prepareRequantize(op: QuantizeOp, input: IrTensor, output: IrTensor): RequantizeKernel {
  if (!op.rescale) throw new RangeError(`quantize '${op.name}': an int8 -> int8 QUANTIZE needs a rescale`);
  const { multiplier, shift } = op.rescale;
  const inputZeroPoint = input.zeroPoint;
  const outputZeroPoint = output.zeroPoint;
  return (inputData, outputData) => {
    for (let i = 0; i < inputData.length; i++) {
      const v = multiplyByQuantizedMultiplier(inputData[i] - inputZeroPoint, multiplier, shift) + outputZeroPoint;
      outputData[i] = v < -128 ? -128 : v > 127 ? 127 : v;
    }
  };
}
