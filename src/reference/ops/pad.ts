// PAD (TFLite's reference_ops::Pad, int8, no constant_values input): the input placed inside
// paddings[d] = [before, after] per dimension, the border filled with the output zero point (the
// int8 encoding of 0.0; input and output share one quantization, so the bytes copy unchanged).
import { tensorSize, type IrTensor, type PadOp } from '../../ir/types.js';
import type { OpKernel } from './common.js';

/** Row-major strides of a shape (elements per step of each dimension). */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

export function preparePad(op: PadOp, input: IrTensor, output: IrTensor): OpKernel {
  const rank = input.shape.length;
  const rowLength = input.shape[rank - 1];
  const rows = tensorSize(input) / rowLength;
  const outStrides = stridesOf(output.shape);
  // Output offset of each input row (the rows are the input's last dimension, copied whole).
  const rowOffsets = new Int32Array(rows);
  const index = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let offset = op.paddings[rank - 1][0];
    for (let d = 0; d < rank - 1; d++) offset += (index[d] + op.paddings[d][0]) * outStrides[d];
    rowOffsets[r] = offset;
    // Next row index, last dimension (before the row) fastest.
    for (let d = rank - 2; d >= 0 && ++index[d] === input.shape[d]; d--) index[d] = 0;
  }
  const padValue = output.zeroPoint;

  return (inputData, outputData) => {
    outputData.fill(padValue);
    for (let r = 0; r < rows; r++) {
      outputData.set(inputData.subarray(r * rowLength, (r + 1) * rowLength), rowOffsets[r]);
    }
  };
}
