// int8 depthwise convolution with per-channel requantization (TFLite's reference_integer_ops
// DepthwiseConvPerChannel). Each input channel ic feeds depthMultiplier output channels
// oc = ic * M + m, each with its own kH x kW filter stored at w[0, ky, kx, oc]:
//   acc = bias[oc] + sum over ky, kx of (x[iy, ix, ic] - inputZeroPoint) * w[ky, kx, oc]
// (taps in the padding contribute nothing), then requantize and clamp as conv2d.
import type { DepthwiseConv2DOp, IrTensor } from '../../ir/types.js';
import { int8Bounds, OffsetPaddedInput, requantize, type OpKernel } from './common.js';

export function prepareDepthwiseConv2d(op: DepthwiseConv2DOp, input: IrTensor, output: IrTensor): OpKernel {
  const [inH, inW, inC] = input.shape;
  const [outH, outW, outC] = output.shape;
  const [kH, kW] = op.kernel;
  const [strideH, strideW] = op.stride;
  const depthMultiplier = op.depthMultiplier;
  const { weights, bias } = op;
  const { multiplier, shift } = op.requant;
  const inputZeroPoint = input.zeroPoint;
  const outputZeroPoint = output.zeroPoint;
  const { lo, hi } = int8Bounds(op.clamp);
  const padded = new OffsetPaddedInput(inH, inW, inC, op.padding);
  const x = padded.data;
  const rowStride = padded.rowStride;

  return (inputData, outputData) => {
    padded.fill(inputData, inputZeroPoint);
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const windowStart = oy * strideH * rowStride + ox * strideW * inC;
        const outBase = (oy * outW + ox) * outC;
        for (let ic = 0; ic < inC; ic++) {
          for (let m = 0; m < depthMultiplier; m++) {
            const oc = ic * depthMultiplier + m;
            let acc = 0;
            for (let ky = 0; ky < kH; ky++) {
              // Taps of one kernel row are inC apart in the input and outC apart in the filter.
              let xi = windowStart + ky * rowStride + ic;
              let w = ky * kW * outC + oc;
              for (let kx = 0; kx < kW; kx++) {
                acc += x[xi] * weights[w];
                xi += inC;
                w += outC;
              }
            }
            outputData[outBase + oc] = requantize(acc + bias[oc], multiplier[oc], shift[oc], outputZeroPoint, lo, hi);
          }
        }
      }
    }
  };
}
