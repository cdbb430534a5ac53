// QUANTIZE (TFLite Micro's quantize kernel), two forms:
//  - float32 -> int8 (reference_ops::AffineQuantize): q = clamp(round(x / scale) + zeroPoint),
//    x / scale divided in float32 (the C casts the scale back to float), then rounded half away
//    from zero. The float division matters: float32(0.25) / float32(0.1) is 2.5 in float (-> 3)
//    but 2.49999996 in double (-> 2).
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
      // The double quotient rounded once to float32 is the float32 division's result exactly
      // (a double holds more than twice float32's precision, so the double rounding is harmless).
      const v = roundHalfAwayFromZero(Math.fround(inputData[i] / scale)) + zeroPoint;
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
