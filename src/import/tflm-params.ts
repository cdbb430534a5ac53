// The parameters TensorFlow Lite Micro derives in its kernels' Prepare functions, from the
// float32 scales stored in the file (read exactly: every float32 is a double), so that the
// imported model computes what TFLM's reference kernels compute, bit for bit.
import { quantizeMultiplier, roundHalfAwayFromZero } from '../quantize/multiplier.js';
import type { Clamp, Padding, Rescale } from '../ir/types.js';
import { Activation } from './tflite-schema.js';

/**
 * CalculateActivationRangeQuantized: the int8 clamp a fused activation leaves. TFLite quantizes
 * the bounds as zeroPoint + round(f / scale) with f / scale a float32 division.
 */
export function activationClamp(activation: number, scale: number, zeroPoint: number): Clamp {
  const quantize = (f: number): number => zeroPoint + roundHalfAwayFromZero(Math.fround(f / scale));
  switch (activation) {
    case Activation.RELU:
      return { min: Math.max(-128, quantize(0)), max: 127 };
    case Activation.RELU6:
      return { min: Math.max(-128, quantize(0)), max: Math.min(127, quantize(6)) };
    case Activation.RELU_N1_TO_1:
      return { min: Math.max(-128, quantize(-1)), max: Math.min(127, quantize(1)) };
    default:
      return { min: -128, max: 127 };
  }
}

/**
 * TFLite's padding for one spatial axis (ComputePaddingWithOffset): SAME pads
 * total = max((out - 1) * stride + window - in, 0), before = floor(total / 2), the odd one after;
 * VALID pads nothing. out is TFLite's output size for that padding.
 */
export function tflitePadding(same: boolean, inSize: number, window: number, stride: number): { before: number; after: number; out: number } {
  const out = same ? Math.ceil(inSize / stride) : Math.ceil((inSize - window + 1) / stride);
  if (!same) return { before: 0, after: 0, out };
  const total = Math.max((out - 1) * stride + window - inSize, 0);
  return { before: Math.floor(total / 2), after: total - Math.floor(total / 2), out };
}

export function explicitPadding(same: boolean, inHW: number[], window: [number, number], stride: [number, number]): Padding {
  const h = tflitePadding(same, inHW[0], window[0], stride[0]);
  const w = tflitePadding(same, inHW[1], window[1], stride[1]);
  return { top: h.before, bottom: h.after, left: w.before, right: w.after };
}

/** ADD (CalculateOpDataAdd): every input rescaled to 2 * max(s1, s2), then to the output. */
export function addParams(s1: number, s2: number, sOut: number, leftShift: number): { input1Rescale: Rescale; input2Rescale: Rescale; outputRescale: Rescale } {
  const twiceMax = 2 * Math.max(s1, s2);
  return {
    input1Rescale: quantizeMultiplier(s1 / twiceMax),
    input2Rescale: quantizeMultiplier(s2 / twiceMax),
    outputRescale: quantizeMultiplier(twiceMax / (2 ** leftShift * sOut)),
  };
}

const SOFTMAX_INTEGER_BITS = 5; // kScaledDiffIntegerBits

/**
 * SOFTMAX int8 (CalculateSoftmaxParams): PreprocessSoftmaxScaling(beta, inScale, 5) then
 * diff_min = -CalculateInputRadius(5, leftShift). Undefined when TFLite would refuse the scale
 * (a real multiplier below 1, which QuantizeMultiplierGreaterThanOne rejects).
 */
export function softmaxParams(beta: number, inScale: number): { inputMultiplier: number; inputLeftShift: number; diffMin: number } | undefined {
  const real = Math.min(beta * inScale * 2 ** (31 - SOFTMAX_INTEGER_BITS), 2 ** 31 - 1);
  if (!(real > 1)) return undefined;
  const q = quantizeMultiplier(real);
  const radius = Math.floor((((1 << SOFTMAX_INTEGER_BITS) - 1) * 2 ** (31 - SOFTMAX_INTEGER_BITS)) / 2 ** q.shift);
  return { inputMultiplier: q.multiplier, inputLeftShift: q.shift, diffMin: -radius };
}

/** MEAN, int8 QUANTIZE (requantize): QuantizeMultiplier((double)sIn / (double)sOut). */
export function scaleRatio(inScale: number, outScale: number): Rescale {
  return quantizeMultiplier(inScale / outScale);
}
