// DEQUANTIZE int8 -> float32 (TFLite's reference_ops::Dequantize): x = (float)(scale * (q - zp)),
// the product in double (the float32 scale widened), then rounded once to float32.
import type { DequantizeOp, IrTensor } from '../../ir/types.js';

export type DequantizeKernel = (input: Int8Array, output: Float32Array) => void;

export function prepareDequantize(_op: DequantizeOp, input: IrTensor, _output: IrTensor): DequantizeKernel {
  const scale = input.scale;
  const zeroPoint = input.zeroPoint;
  return (inputData, outputData) => {
    // The Float32Array store rounds the double product to float32 (round to nearest even, as C).
    for (let i = 0; i < inputData.length; i++) outputData[i] = scale * (inputData[i] - zeroPoint);
  };
}
