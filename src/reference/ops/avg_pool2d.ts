// int8 average pooling (TFLite's reference_integer_ops AveragePool): the sum of the int8 values
// over the window positions inside the input, divided by their count (padding positions are
// neither summed nor counted), rounding half away from zero, then the clamp. Scale and zero
// point pass through unchanged: the average of q values is the q of the average.
import type { AvgPool2DOp, IrTensor } from '../../ir/types.js';
import { int8Bounds, type OpKernel } from './common.js';

/**
 * sum / count rounded half away from zero, as TFLite writes it in C:
 * sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count, with C's integer division
 * (truncation toward zero) both for count / 2 and for the final division.
 */
export function roundedAverage(sum: number, count: number): number {
  const half = count >> 1;
  // | 0 truncates toward zero like C. The double quotient cannot land on the wrong side of an
  // integer: a true quotient that is not an integer is at least 1 / count away from one, far more
  // than the division's rounding error for sums this small.
  return sum > 0 ? ((sum + half) / count) | 0 : ((sum - half) / count) | 0;
}

export function prepareAvgPool2d(op: AvgPool2DOp, input: IrTensor, output: IrTensor): OpKernel {
  const [inH, inW, channels] = input.shape;
  const [outH, outW] = output.shape;
  const [poolH, poolW] = op.pool;
  const [strideH, strideW] = op.stride;
  const { top, left } = op.padding;
  const { lo, hi } = int8Bounds(op.clamp);

  return (inputData, outputData) => {
    let o = 0;
    for (let oy = 0; oy < outH; oy++) {
      const originY = oy * strideH - top;
      const yStart = Math.max(originY, 0);
      const yEnd = Math.min(originY + poolH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const originX = ox * strideW - left;
        const xStart = Math.max(originX, 0);
        const xEnd = Math.min(originX + poolW, inW);
        // Only the positions inside the input are counted (IR validation guarantees at least one).
        const count = (yEnd - yStart) * (xEnd - xStart);
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) sum += inputData[(y * inW + x) * channels + c];
          }
          const avg = roundedAverage(sum, count);
          outputData[o++] = avg < lo ? lo : avg > hi ? hi : avg;
        }
      }
    }
  };
}
