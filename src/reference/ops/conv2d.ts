// int8 2D convolution with per-channel requantization (TFLite's reference_integer_ops
// ConvPerChannel). For each output position (oy, ox) and output channel oc:
//   acc = bias[oc] + sum over ky, kx, ic of (x[iy, ix, ic] - inputZeroPoint) * w[oc, ky, kx, ic]
// with iy = oy * strideH - padTop + ky (taps in the padding contribute nothing), then
//   out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc], shift[oc]) + outputZeroPoint).
import type { Conv2DOp, IrTensor } from '../../ir/types.js';
import { dotProduct, int8Bounds, OffsetPaddedInput, requantize, type OpKernel } from './common.js';

export function prepareConv2d(op: Conv2DOp, input: IrTensor, output: IrTensor): OpKernel {
  const [inH, inW, inC] = input.shape;
  const [outH, outW, outC] = output.shape;
  const [kH, kW] = op.kernel;
  const [strideH, strideW] = op.stride;
  const { weights, bias } = op;
  const { multiplier, shift } = op.requant;
  const inputZeroPoint = input.zeroPoint;
  const outputZeroPoint = output.zeroPoint;
  const { lo, hi } = int8Bounds(op.clamp);
  const padded = new OffsetPaddedInput(inH, inW, inC, op.padding);
  const x = padded.data;
  const rowStride = padded.rowStride;
  // One kernel row (kx = 0..kW-1, all ic) is kW * inC consecutive values in the padded input,
  // and a whole OHWI filter is kH such rows back to back.
  const kernelRowLength = kW * inC;
  const filterLength = kH * kernelRowLength;
  // The input patch under the filter, gathered once per output position into the filter's layout, so
  // that every output channel is one straight dot product of filterLength terms.
  const patch = new Int32Array(filterLength);

  return (inputData, outputData) => {
    padded.fill(inputData, inputZeroPoint);
    let o = 0;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        // Top-left tap of this window in the padded input.
        const windowStart = oy * strideH * rowStride + ox * strideW * inC;
        let p = 0;
        for (let ky = 0; ky < kH; ky++) {
          let xi = windowStart + ky * rowStride;
          for (let k = 0; k < kernelRowLength; k++) patch[p++] = x[xi++];
        }
        for (let oc = 0; oc < outC; oc++) {
          const acc = dotProduct(patch, weights, oc * filterLength, filterLength);
          outputData[o++] = requantize(acc + bias[oc], multiplier[oc], shift[oc], outputZeroPoint, lo, hi);
        }
      }
    }
  };
}
