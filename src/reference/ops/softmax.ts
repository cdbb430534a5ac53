// int8 softmax (TFLite's reference_ops::Softmax<int8_t, int8_t>, the kernel TFLite Micro runs),
// over the last dimension, in gemmlowp fixed point:
//   diff = x - max(row); entries with diff < diffMin contribute nothing and output -128;
//   scaled = SaturatingRoundingDoublingHighMul(diff * 2^inputLeftShift, inputMultiplier), Q5.26
//   sum = sum of Rescale<12>(exp(scaled)) (Q12), 1/sum = scale * 2^-numBitsOverUnit (GetReciprocal)
//   out = RoundingDivideByPOT(scale * exp(scaled), numBitsOverUnit + 23) - 128, clamped to int8.
// The output quantization is fixed by TFLite for int8: scale 1/256, zero point -128.
import { tensorSize, type IrTensor, type SoftmaxOp } from '../../ir/types.js';
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from '../fixedpoint.js';
import { expOnNegativeValues, getReciprocal } from '../fixedpoint-exp.js';
import type { OpKernel } from './common.js';

/** Integer bits of the sum of exps (TFLite's kAccumulationIntegerBits). */
const ACCUMULATION_INTEGER_BITS = 12;
/** exp values of skipped entries (diff < diffMin); exp itself is never negative. */
const SKIPPED = -1;

export function prepareSoftmax(op: SoftmaxOp, input: IrTensor, output: IrTensor): OpKernel {
  if (output.zeroPoint !== -128 || output.scale !== 1 / 256) {
    throw new RangeError(
      `softmax '${op.name}': int8 output must have scale 1/256 and zero point -128 (TFLite), found ${output.scale} and ${output.zeroPoint}`,
    );
  }
  const depth = input.shape[input.shape.length - 1];
  const rows = tensorSize(input) / depth;
  const { inputMultiplier, inputLeftShift, diffMin } = op;
  // exp of each entry of the current row, computed once and used for both the sum and the output.
  const exps = new Int32Array(depth);

  return (inputData, outputData) => {
    for (let row = 0; row < rows; row++) {
      const base = row * depth;
      let max = -128;
      for (let c = 0; c < depth; c++) if (inputData[base + c] > max) max = inputData[base + c];
      let sumOfExps = 0; // Q12
      for (let c = 0; c < depth; c++) {
        const diff = inputData[base + c] - max;
        if (diff >= diffMin) {
          const scaledDiff = saturatingRoundingDoublingHighMul(diff << inputLeftShift, inputMultiplier);
          exps[c] = expOnNegativeValues(scaledDiff);
          // Rescale<12>: Q0 -> Q12, a rounding right shift by 12.
          sumOfExps = (sumOfExps + roundingDivideByPOT(exps[c], ACCUMULATION_INTEGER_BITS)) | 0;
        } else {
          exps[c] = SKIPPED;
        }
      }
      const { scale, numBitsOverUnit } = getReciprocal(sumOfExps, ACCUMULATION_INTEGER_BITS);
      // From Q0 probabilities to 8 bits: 31 fractional bits down to 8, plus the reciprocal's shift.
      const exponent = numBitsOverUnit + 31 - 8;
      for (let c = 0; c < depth; c++) {
        if (exps[c] === SKIPPED) {
          outputData[base + c] = -128;
          continue;
        }
        const probability = roundingDivideByPOT(saturatingRoundingDoublingHighMul(scale, exps[c]), exponent);
        const shifted = probability - 128;
        outputData[base + c] = shifted > 127 ? 127 : shifted < -128 ? -128 : shifted;
      }
    }
  };
}
