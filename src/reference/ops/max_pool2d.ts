// int8 max pooling (TFLite's reference_integer_ops MaxPool): the maximum over the window
// positions that lie inside the input (padding positions are not candidates), then the clamp.
// Scale and zero point pass through unchanged, so no requantization.
import type { IrTensor, MaxPool2DOp } from '../../ir/types.js';
import { int8Bounds, type OpKernel } from './common.js';

export function prepareMaxPool2d(op: MaxPool2DOp, input: IrTensor, output: IrTensor): OpKernel {
  const [inH, inW, channels] = input.shape;
  const [outH, outW] = output.shape;
  const [poolH, poolW] = op.pool;
  const [strideH, strideW] = op.stride;
  const { top, left } = op.padding;
  const { lo, hi } = int8Bounds(op.clamp);

  return (inputData, outputData) => {
    let o = 0;
    for (let oy = 0; oy < outH; oy++) {
      // The window's first row in input coordinates (negative inside the top padding), and the
      // part of the window that is inside the input.
      const originY = oy * strideH - top;
      const yStart = Math.max(originY, 0);
      const yEnd = Math.min(originY + poolH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const originX = ox * strideW - left;
        const xStart = Math.max(originX, 0);
        const xEnd = Math.min(originX + poolW, inW);
        for (let c = 0; c < channels; c++) {
          let max = -128;
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) {
              const v = inputData[(y * inW + x) * channels + c];
              if (v > max) max = v;
            }
          }
          outputData[o++] = max < lo ? lo : max > hi ? hi : max;
        }
      }
    }
  };
}
