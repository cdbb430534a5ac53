// int8 2D convolution with per-channel requantization (TFLite's reference_integer_ops
// ConvPerChannel). For each output position (oy, ox) and output channel oc:
//   acc = bias[oc] + sum over ky, kx, ic of (x[iy, ix, ic] - inputZeroPoint) * w[oc, ky, kx, ic]
// with iy = oy * strideH - padTop + ky (taps in the padding contribute nothing), then
//   out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc], shift[oc]) + outputZeroPoint).
import type { Conv2DOp, IrTensor } from '../../ir/types.js';
import { int8Bounds, OffsetPaddedInput, requantize, type OpKernel } from './common.js';

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
  // The input patches under the filter at two neighbouring output positions (ox, ox + 1), gathered
  // into the filter's layout and interleaved (tap i of the first at 2i, of the second at 2i + 1):
  // one pass then feeds both positions' accumulators for BLOCK output channels, so that each value
  // loaded serves several multiply-adds. A row of odd width ends with a single position.
  const patches = new Float64Array(2 * filterLength);
  const blocked = new BlockedFilters(weights, outC, filterLength);
  const sums = new Float64Array(2 * BLOCK);
  const positionStep = strideW * inC;

  /** Gathers the patch at windowStart into every second slot of `patches`, from `slot` on. */
  const gather = (windowStart: number, slot: number) => {
    let p = slot;
    for (let ky = 0; ky < kH; ky++) {
      let xi = windowStart + ky * rowStride;
      for (let k = 0; k < kernelRowLength; k++, p += 2) patches[p] = x[xi++];
    }
  };

  return (inputData, outputData) => {
    padded.fill(inputData, inputZeroPoint);
    let o = 0;
    /** Output channel oc of the slot-th position (0 or 1) from its accumulator. */
    const store = (slot: number, oc: number, acc: number) => {
      outputData[o + slot * outC + oc] = requantize(acc + bias[oc], multiplier[oc], shift[oc], outputZeroPoint, lo, hi);
    };
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox += 2) {
        // Top-left tap of this window in the padded input.
        const windowStart = oy * strideH * rowStride + ox * positionStep;
        const positions = ox + 1 < outW ? 2 : 1;
        gather(windowStart, 0);
        if (positions === 2) gather(windowStart + positionStep, 1);
        let oc = 0;
        for (let b = 0; b < blocked.blocks; b++, oc += BLOCK) {
          blocked.pairDotProducts(patches, b, sums);
          for (let k = 0; k < BLOCK; k++) store(0, oc + k, sums[k]);
          if (positions === 2) for (let k = 0; k < BLOCK; k++) store(1, oc + k, sums[BLOCK + k]);
        }
        for (; oc < outC; oc++) {
          for (let slot = 0; slot < positions; slot++) store(slot, oc, stridedDotProduct(patches, slot, weights, oc * filterLength, filterLength));
        }
        o += positions * outC;
      }
    }
  };
}

/** sum over i < length of a[2i + slot] * b[bOffset + i]: one position's dot product from interleaved patches. */
function stridedDotProduct(a: Float64Array, slot: number, b: Int8Array, bOffset: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += a[2 * i + slot] * b[bOffset + i];
  return sum;
}

/** Output channels whose dot products BlockedFilters computes together. */
const BLOCK = 4;

/**
 * The filters regrouped BLOCK output channels at a time: for each tap, the BLOCK channels' weights
 * side by side. One pass over two interleaved patches then feeds 2 x BLOCK accumulators, each
 * value loaded serving several multiply-adds (the dot products were most of the interpreter's
 * time). Held as doubles, as the patches are: the values are small integers, so every product and
 * sum is exact (below 2^53) and the same in any order, as in dotProduct, and V8 needs no int32
 * overflow checks. Channels past the last whole block are left to stridedDotProduct.
 */
class BlockedFilters {
  readonly blocks: number;
  private readonly interleaved: Float64Array;

  constructor(weights: Int8Array, channels: number, private readonly length: number) {
    this.blocks = Math.floor(channels / BLOCK);
    this.interleaved = new Float64Array(this.blocks * BLOCK * length);
    for (let b = 0; b < this.blocks; b++) {
      for (let i = 0; i < length; i++) {
        for (let k = 0; k < BLOCK; k++) this.interleaved[(b * length + i) * BLOCK + k] = weights[(b * BLOCK + k) * length + i];
      }
    }
  }

  /**
   * For two patches interleaved value by value (patches[2i], patches[2i + 1]): sums[k] and
   * sums[BLOCK + k] = the first's and the second's dot product with channel block * BLOCK + k.
   */
  pairDotProducts(patches: Float64Array, block: number, sums: Float64Array): void {
    const w = this.interleaved;
    const length = this.length;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    for (let i = 0, j = block * length * BLOCK; i < 2 * length; i += 2, j += BLOCK) {
      const u = patches[i];
      const v = patches[i + 1];
      const w0 = w[j];
      const w1 = w[j + 1];
      const w2 = w[j + 2];
      const w3 = w[j + 3];
      a0 += u * w0;
      a1 += u * w1;
      a2 += u * w2;
      a3 += u * w3;
      b0 += v * w0;
      b1 += v * w1;
      b2 += v * w2;
      b3 += v * w3;
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
    sums[4] = b0;
    sums[5] = b1;
    sums[6] = b2;
    sums[7] = b3;
  }
}
