// What the op kernels share: the kernel signature, requantization of an accumulator, the dot
// product of the MAC loops, and the zero-point-shifted, zero-padded input that convolutions read.
//
// Each op follows TFLite Micro's Prepare/Eval split: prepareX(op, inputTensor, outputTensor)
// does the shape arithmetic and allocates scratch once, and returns the Eval function, which
// may then run on many inputs without allocating.
import type { Clamp, Padding } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier } from '../fixedpoint.js';

/** Reads one int8 tensor and writes the next one (both in NHWC order, batch dropped). */
export type OpKernel = (input: Int8Array, output: Int8Array) => void;

/** The clamp, intersected with int8, so that a result always fits its Int8Array slot. */
export function int8Bounds(clamp: Clamp): { lo: number; hi: number } {
  return { lo: Math.max(clamp.min, -128), hi: Math.min(clamp.max, 127) };
}

/**
 * int32 accumulator -> int8 output, as TFLite's per-channel kernels do it:
 * MultiplyByQuantizedMultiplier, add the output zero point, clamp.
 * `acc` is an exact integer sum; | 0 wraps it to int32 the way the C accumulator wraps.
 */
export function requantize(
  acc: number,
  multiplier: number,
  shift: number,
  outputZeroPoint: number,
  lo: number,
  hi: number,
): number {
  const v = multiplyByQuantizedMultiplier(acc | 0, multiplier, shift) + outputZeroPoint;
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The input minus its zero point, inside a border of zeros as wide as the padding.
 *
 * TFLite's reference convolutions skip the taps that fall into the padding, i.e. those taps add
 * nothing to the accumulator. Here the padding holds 0 = (x - inputZeroPoint) for x at the zero
 * point, which adds the same nothing, so the inner loops need no bounds checks. Values are in
 * [-255, 255], hence int16.
 */
export class OffsetPaddedInput {
  readonly data: Int16Array;
  /** Elements per padded row: (padLeft + W + padRight) * C. */
  readonly rowStride: number;
  private readonly interiorStart: number;

  constructor(
    private readonly height: number,
    private readonly width: number,
    private readonly channels: number,
    padding: Padding,
  ) {
    this.rowStride = (padding.left + width + padding.right) * channels;
    this.data = new Int16Array((padding.top + height + padding.bottom) * this.rowStride);
    this.interiorStart = padding.top * this.rowStride + padding.left * channels;
  }

  /** Overwrites the interior with input - zeroPoint; the zero border is never written. */
  fill(input: Int8Array, zeroPoint: number): void {
    const rowLength = this.width * this.channels;
    const data = this.data;
    let src = 0;
    for (let y = 0; y < this.height; y++) {
      let dst = this.interiorStart + y * this.rowStride;
      const end = src + rowLength;
      while (src < end) data[dst++] = input[src++] - zeroPoint;
    }
  }
}

/**
 * sum over i < length of a[i] * b[bOffset + i]: the multiply-accumulate loop of conv2d and
 * fully_connected. Four running sums instead of one let consecutive multiply-adds overlap
 * (about 1.5x faster in V8). The result is exact and independent of the grouping: the terms are
 * integers and every partial sum stays far below 2^53.
 */
export function dotProduct(a: Int32Array, b: Int8Array, bOffset: number, length: number): number {
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const j = bOffset + i;
    sum0 += a[i] * b[j];
    sum1 += a[i + 1] * b[j + 1];
    sum2 += a[i + 2] * b[j + 2];
    sum3 += a[i + 3] * b[j + 3];
  }
  for (; i < length; i++) sum0 += a[i] * b[bOffset + i];
  return sum0 + sum1 + sum2 + sum3;
}
