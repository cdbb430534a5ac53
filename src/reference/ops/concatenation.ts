// CONCATENATION (TFLite's reference_ops::Concatenation): the inputs' slices along `axis`, one
// after the other. TFLite Micro requires one quantization for all int8 inputs and the output, so
// the bytes are copied unchanged (a converter inserts a QUANTIZE per input where scales differ).
//
// In row-major order the tensor is `outer` blocks (the product of the dimensions before the axis);
// in each block every input contributes one contiguous chunk of shape[axis] * (inner dimensions).
import type { ConcatenationOp, IrTensor } from '../../ir/types.js';

/** Reads every input (in op.inputs order) and writes their concatenation. */
export type ConcatenationKernel = (inputs: readonly Int8Array[], output: Int8Array) => void;

export function prepareConcatenation(op: ConcatenationOp, inputs: readonly IrTensor[], output: IrTensor): ConcatenationKernel {
  const outer = output.shape.slice(0, op.axis).reduce((a, b) => a * b, 1);
  const chunks = inputs.map((t) => t.shape.slice(op.axis).reduce((a, b) => a * b, 1));

  return (inputData, outputData) => {
    let o = 0;
    for (let block = 0; block < outer; block++) {
      for (let k = 0; k < chunks.length; k++) {
        const chunk = chunks[k];
        outputData.set(inputData[k].subarray(block * chunk, (block + 1) * chunk), o);
        o += chunk;
      }
    }
  };
}
