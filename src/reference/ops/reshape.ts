// Reshape/flatten: NHWC row-major order means an [H, W, C] map and its flattened [H*W*C] vector
// hold the same bytes in the same order, with the same scale and zero point. A copy, no arithmetic.
import type { IrTensor, ReshapeOp } from '../../ir/types.js';
import type { OpKernel } from './common.js';

export function prepareReshape(_op: ReshapeOp, _input: IrTensor, _output: IrTensor): OpKernel {
  return (inputData, outputData) => {
    outputData.set(inputData);
  };
}
