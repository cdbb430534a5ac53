// The version-2 reference kernels (ADD, CONCATENATION, PAD, MEAN, SOFTMAX, QUANTIZE, DEQUANTIZE)
// and gemmlowp's fixed-point exp/reciprocal, on hand-computed values and against independent
// float computations. Bit-exactness with TensorFlow Lite Micro itself is checked on its golden
// outputs in conformance-reference.test.ts.
import { describe, expect, it } from 'vitest';
import type { AddOp, Clamp, IrTensor, MeanOp, QuantizeOp, Rescale, SoftmaxOp } from '../src/ir/types.js';
import { quantizeMultiplier, roundHalfAwayFromZero } from '../src/quantize/multiplier.js';
import { expOnNegativeValues, getReciprocal, oneOverOnePlusXForXIn01, saturatingRoundingMultiplyByPOT } from '../src/reference/fixedpoint-exp.js';
import { prepareAdd } from '../src/reference/ops/add.js';
import { prepareConcatenation } from '../src/reference/ops/concatenation.js';
import { prepareDequantize } from '../src/reference/ops/dequantize.js';
import { foldMeanCount, prepareMean } from '../src/reference/ops/mean.js';
import { preparePad } from '../src/reference/ops/pad.js';
import { prepareQuantizeFloat, prepareRequantize } from '../src/reference/ops/quantize.js';
import { prepareSoftmax } from '../src/reference/ops/softmax.js';
import { SeededRandom } from './helpers/random-ir.js';

const INT32_MAX = 2147483647;
const NO_CLAMP: Clamp = { min: -128, max: 127 };

function tensor(id: number, shape: number[], zeroPoint = 0, scale = 1): IrTensor {
  return { id, name: `t${id}`, shape, scale, zeroPoint };
}

const clampInt8 = (v: number) => Math.min(127, Math.max(-128, v));

describe('fixed-point exp and reciprocal (gemmlowp)', () => {
  // The Taylor expansion stops at x^4 with |x| <= 1/8: its remainder is below (1/8)^5 / 120 = 2.6e-7
  // relative, plus a few Q0.31 steps (4.7e-10) of rounding per multiply.
  it('exp(0) is exactly one and exp is within the Taylor remainder of Math.exp over [-31, 0]', () => {
    expect(expOnNegativeValues(0)).toBe(INT32_MAX);
    const rng = new SeededRandom(5);
    for (let i = 0; i < 2000; i++) {
      const a = -rng.int(1, 31 * 2 ** 26); // Q5.26, down to -31
      const want = Math.exp(a / 2 ** 26);
      expect(Math.abs(expOnNegativeValues(a) / 2 ** 31 - want)).toBeLessThan(2.6e-7 * want + 1e-8);
    }
  });

  it('exp is monotonic across the quarter boundaries the barrel shifter switches at', () => {
    for (const k of [1, 2, 3, 4, 8, 16, 64]) {
      const boundary = -k * 2 ** 24; // -k/4
      expect(expOnNegativeValues(boundary - 1)).toBeLessThanOrEqual(expOnNegativeValues(boundary));
      expect(expOnNegativeValues(boundary)).toBeLessThanOrEqual(expOnNegativeValues(boundary + 1));
    }
  });

  it('1 / (1 + x) is within 4e-9 of the float value on [0, 1)', () => {
    const rng = new SeededRandom(6);
    for (let i = 0; i < 2000; i++) {
      const a = rng.int(0, INT32_MAX);
      expect(Math.abs(oneOverOnePlusXForXIn01(a) / 2 ** 31 - 1 / (1 + a / 2 ** 31))).toBeLessThan(4e-9);
    }
  });

  it('GetReciprocal normalizes by the leading zeros: 1/x = scale * 2^-numBitsOverUnit', () => {
    // 4.0 in Q12 (4 * 2^19): 1/4 = (about 1.0) * 2^-2.
    const r = getReciprocal(4 * 2 ** 19, 12);
    expect(r.numBitsOverUnit).toBe(2);
    expect(Math.abs(r.scale - INT32_MAX)).toBeLessThan(4);
    // 1.25: 0.8 * 2^0.
    const q = getReciprocal(1.25 * 2 ** 19, 12);
    expect(q.numBitsOverUnit).toBe(0);
    expect(Math.abs(q.scale / 2 ** 31 - 0.8)).toBeLessThan(4e-9);
  });

  it('saturates left shifts and rounds right shifts', () => {
    expect(saturatingRoundingMultiplyByPOT(2 ** 29, 2)).toBe(INT32_MAX);
    expect(saturatingRoundingMultiplyByPOT(-(2 ** 29), 2)).toBe(-2147483648);
    expect(saturatingRoundingMultiplyByPOT(2 ** 29 - 1, 2)).toBe(2 ** 31 - 4);
    expect(saturatingRoundingMultiplyByPOT(-5, -1)).toBe(-3); // -2.5 away from zero
    expect(saturatingRoundingMultiplyByPOT(7, 0)).toBe(7);
  });
});

describe('add', () => {
  // Scales 0.5 and 0.25 -> 1.0. TFLite: twice the max input scale = 1, input multipliers 0.5 and
  // 0.25, output 1 / 2^20: all powers of two, so every step but the last is exact and the result
  // is clamp(round-half-away(0.5 (x1 - zp1) + 0.25 (x2 - zp2)) + zpOut).
  const rescale = (real: number): Rescale => quantizeMultiplier(real);
  const op = (clamp: Clamp): AddOp => ({
    kind: 'add', name: 'add', input: 0, input2: 1, output: 2, leftShift: 20,
    input1Rescale: rescale(0.5), input2Rescale: rescale(0.25), outputRescale: rescale(1 / 2 ** 20), clamp,
  });
  const shapes = (zp1: number, zp2: number, zpOut: number) =>
    [tensor(0, [256], zp1, 0.5), tensor(1, [256], zp2, 0.25), tensor(2, [256], zpOut, 1)] as const;

  /** Every (x1, x2) pair: x1 runs over the 256 elements, one x2 per call. */
  function expectAllPairs(zp1: number, zp2: number, zpOut: number, clamp: Clamp): void {
    const kernel = prepareAdd(op(clamp), ...shapes(zp1, zp2, zpOut));
    const a = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    const got = new Int8Array(256);
    for (let x2 = -128; x2 <= 127; x2++) {
      kernel(a, new Int8Array(256).fill(x2), got);
      const want = Array.from(a, (x1) => Math.min(clamp.max, Math.max(clamp.min, roundHalfAwayFromZero(0.5 * (x1 - zp1) + 0.25 * (x2 - zp2)) + zpOut)));
      expect(Array.from(got)).toEqual(want);
    }
  }

  it('equals the exactly rounded real sum for every pair of int8 inputs (dyadic scales)', () => {
    expectAllPairs(0, 10, -5, NO_CLAMP);
  });

  it('handles the extreme zero points (-128, 127) in and out, saturating', () => {
    expectAllPairs(-128, 127, 127, NO_CLAMP);
    expectAllPairs(127, -128, -128, NO_CLAMP);
  });

  it('applies a fused clamp (ReLU with zero point -5, RELU6-like upper bound)', () => {
    expectAllPairs(0, 10, -5, { min: -5, max: 127 });
    expectAllPairs(0, 10, -5, { min: -5, max: 19 });
  });

  it('rounds ties away from zero: 0.5 -> 1, -0.5 -> -1', () => {
    const kernel = prepareAdd(op(NO_CLAMP), ...shapes(0, 10, -5));
    const got = new Int8Array(4);
    // 0.5*1 + 0.25*0 = 0.5; 0.5*-1 = -0.5; 0.5*1 + 0.25*1 = 0.75; 0.5*-1 - 0.25 = -0.75
    kernel(Int8Array.from([1, -1, 1, -1]), Int8Array.from([10, 10, 11, 9]), got);
    expect(Array.from(got)).toEqual([1 - 5, -1 - 5, 1 - 5, -1 - 5]);
  });

  it('stays within one step of the float sum for realistic scales (multipliers as TFLite derives them)', () => {
    const [s1, s2, so] = [0.0186316837, 0.0127295004, 0.0312381983];
    const twiceMax = 2 * Math.max(s1, s2);
    const addOp: AddOp = {
      kind: 'add', name: 'add', input: 0, input2: 1, output: 2, leftShift: 20,
      input1Rescale: rescale(s1 / twiceMax), input2Rescale: rescale(s2 / twiceMax), outputRescale: rescale(twiceMax / (2 ** 20 * so)),
      clamp: NO_CLAMP,
    };
    const kernel = prepareAdd(addOp, tensor(0, [512], -80, s1), tensor(1, [512], 84, s2), tensor(2, [512], -13, so));
    const rng = new SeededRandom(11);
    const a = Int8Array.from({ length: 512 }, () => rng.int(-128, 127));
    const b = Int8Array.from({ length: 512 }, () => rng.int(-128, 127));
    const got = new Int8Array(512);
    kernel(a, b, got);
    got.forEach((q, i) => {
      const real = s1 * (a[i] + 80) + s2 * (b[i] - 84);
      expect(Math.abs(q - clampInt8(Math.round(real / so) - 13))).toBeLessThanOrEqual(1);
    });
  });
});

describe('concatenation', () => {
  it('interleaves the inputs block by block along a middle axis', () => {
    // [2,1,2] + [2,1,1] on axis 2 -> [2,1,3]
    const kernel = prepareConcatenation(
      { kind: 'concatenation', name: 'c', input: 0, inputs: [0, 1], output: 2, axis: 2 },
      [tensor(0, [2, 1, 2]), tensor(1, [2, 1, 1])],
      tensor(2, [2, 1, 3]),
    );
    const out = new Int8Array(6);
    kernel([Int8Array.from([1, 2, 3, 4]), Int8Array.from([9, 8])], out);
    expect(Array.from(out)).toEqual([1, 2, 9, 3, 4, 8]);
  });

  it('appends on axis 0 and takes three inputs', () => {
    const kernel = prepareConcatenation(
      { kind: 'concatenation', name: 'c', input: 0, inputs: [0, 1, 2], output: 3, axis: 0 },
      [tensor(0, [1, 2]), tensor(1, [2, 2]), tensor(2, [1, 2])],
      tensor(3, [4, 2]),
    );
    const out = new Int8Array(8);
    kernel([Int8Array.from([1, 2]), Int8Array.from([3, 4, 5, 6]), Int8Array.from([-128, 127])], out);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, -128, 127]);
  });
});

describe('pad', () => {
  it('places the input inside a border of the zero point', () => {
    // [2,2,1] padded [[1,0],[0,1],[0,0]] -> [3,3,1], zero point 7
    const kernel = preparePad(
      { kind: 'pad', name: 'p', input: 0, output: 1, paddings: [[1, 0], [0, 1], [0, 0]] },
      tensor(0, [2, 2, 1], 7), tensor(1, [3, 3, 1], 7),
    );
    const out = new Int8Array(9);
    kernel(Int8Array.from([1, 2, 3, 4]), out);
    expect(Array.from(out)).toEqual([7, 7, 7, 1, 2, 7, 3, 4, 7]);
  });

  it('pads the channel dimension and overwrites a previous run', () => {
    // [1,2,2] padded [[0,0],[1,1],[0,1]] -> [1,4,3], zero point -128
    const kernel = preparePad(
      { kind: 'pad', name: 'p', input: 0, output: 1, paddings: [[0, 0], [1, 1], [0, 1]] },
      tensor(0, [1, 2, 2], -128), tensor(1, [1, 4, 3], -128),
    );
    const out = new Int8Array(12).fill(55);
    kernel(Int8Array.from([1, 2, 3, 4]), out);
    expect(Array.from(out)).toEqual([-128, -128, -128, 1, 2, -128, 3, 4, -128, -128, -128, -128]);
  });
});

describe('mean', () => {
  const meanOp = (rescale: Rescale, axes = [0, 1]): MeanOp => ({ kind: 'mean', name: 'm', input: 0, output: 1, axes, keepDims: true, rescale });

  it('folds 1/N into the multiplier as TFLite does (truncating 64-bit division)', () => {
    // N = 4: s = 2, (2^30 << 2) / 4 = 2^30, shift 1 - 2 = -1.
    expect(foldMeanCount({ multiplier: 2 ** 30, shift: 1 }, 4)).toEqual({ multiplier: 2 ** 30, shift: -1 });
    // N = 3: s = 1, 2^31 / 3 = 715827882.67 -> 715827882.
    expect(foldMeanCount({ multiplier: 2 ** 30, shift: 1 }, 3)).toEqual({ multiplier: 715827882, shift: 0 });
    // N = 49: s = 5; 1518500250 * 32 / 49 = 991673632.65 -> 991673632 (needs more than 53 bits? no, but exact).
    expect(foldMeanCount({ multiplier: 1518500250, shift: 0 }, 49)).toEqual({ multiplier: 991673632, shift: -5 });
    // s is capped by 31 + shift so that the new shift stays >= -31 (N = 64: s = 2, not 6) ...
    expect(foldMeanCount({ multiplier: 2 ** 30, shift: -29 }, 64)).toEqual({ multiplier: 2 ** 26, shift: -31 });
    // ... and by 32 for huge counts (N = 2^40: s = 32, 2^62 / 2^40 = 2^22).
    expect(foldMeanCount({ multiplier: 2 ** 30, shift: 5 }, 2 ** 40)).toEqual({ multiplier: 2 ** 22, shift: -27 });
  });

  it('with the same quantization, still rescales (rounding), not the truncating integer mean', () => {
    // [2,2,2] over H, W, scale 0.5 and zero point 3 in and out: rescale = QuantizeMultiplier(1) =
    // (2^30, 1), folded for N = 4 to (2^30, -1).
    // channel 0: q = 1, 2, 0, 0: sum(q - 3) = -9 -> SRDHM -4.5 -> -4 (ties up) -> -2 -> q = 1
    //   (a truncating mean of the raw q, 3 / 4, would give 0);
    // channel 1: q = -1, -2, -3, 0: sum(q - 3) = -18 -> -9 -> -4.5 away from zero -> -5 -> q = -2
    //   (truncation: -6 / 4 -> -1).
    const kernel = prepareMean(meanOp(quantizeMultiplier(1)), tensor(0, [2, 2, 2], 3, 0.5), tensor(1, [1, 1, 2], 3, 0.5));
    const out = new Int8Array(2);
    kernel(Int8Array.from([1, -1, 2, -2, 0, -3, 0, 0]), out);
    expect(Array.from(out)).toEqual([1, -2]);
  });

  it('otherwise rounds twice: a mean of 0.25 becomes 1 (where AVG_POOL_2D gives 0)', () => {
    // Scales equal, zero points 0 -> 1: rescale = QuantizeMultiplier(1) = (2^30, 1); N = 4 folds to
    // (2^30, -1): SRDHM(sum, 2^30) = sum / 2 rounded ties up, then RoundingDivideByPOT(., 1) ties
    // away from zero. sums per channel: 1 -> 1 (0.5 up) -> 1 (0.5 away); 2 -> 1 -> 1; 6 -> 3 -> 2;
    // -1 -> 0 (-0.5 up) -> 0; -6 -> -3 -> -2; 0 -> 0.
    const kernel = prepareMean(meanOp(quantizeMultiplier(1)), tensor(0, [2, 2, 6], 0, 0.5), tensor(1, [1, 1, 6], 1, 0.5));
    const sums = [1, 2, 6, -1, -6, 0];
    // Put each channel's sum on the first position, zeros elsewhere.
    const input = new Int8Array(24);
    sums.forEach((s, c) => (input[c] = s));
    const out = new Int8Array(6);
    kernel(input, out);
    expect(Array.from(out)).toEqual([1, 1, 2, 0, -2, 0].map((v) => v + 1));
  });

  it('subtracts the input zero point, rescales and saturates', () => {
    // input zp -128 scale 1, output zp 0 scale 0.5 (rescale 2 = (2^30, 2)), N = 2 over axis 0.
    const kernel = prepareMean(meanOp(quantizeMultiplier(2), [0]), tensor(0, [2, 3], -128, 1), tensor(1, [3], 0, 0.5));
    const out = new Int8Array(3);
    // channel means of q - zp: (0+2)/2 = 1 -> 2; (-128+128 + -127+128)/2 = 0.5 -> 1; 255 -> 127 (saturated)
    kernel(Int8Array.from([-128, -128, 127, -126, -127, 127]), out);
    expect(Array.from(out)).toEqual([2, 1, 127]);
  });
});

describe('softmax', () => {
  /** PreprocessSoftmaxScaling (double rounding) and CalculateInputRadius, from TFLite's definitions. */
  function softmaxOp(inputScale: number, beta = 1): SoftmaxOp {
    const real = Math.min(beta * inputScale * 2 ** (31 - 5), 2 ** 31 - 1);
    const { multiplier, shift } = quantizeMultiplier(real);
    const diffMin = -Math.floor((((1 << 5) - 1) * 2 ** (31 - 5)) / 2 ** shift);
    return { kind: 'softmax', name: 's', input: 0, output: 1, beta, inputMultiplier: multiplier, inputLeftShift: shift, diffMin };
  }
  const out = (n: number) => tensor(1, [n], -128, 1 / 256);

  it('gives 1/N of the range to N equal logits, and saturates a single one at 127', () => {
    for (const n of [1, 2, 4, 8]) {
      const kernel = prepareSoftmax(softmaxOp(0.1), tensor(0, [n], 0, 0.1), out(n));
      const got = new Int8Array(n);
      kernel(new Int8Array(n).fill(17), got);
      expect(Array.from(got)).toEqual(new Array(n).fill(clampInt8(256 / n - 128)));
    }
  });

  it('stays within one step of the float softmax, row by row', () => {
    const rng = new SeededRandom(21);
    for (const scale of [0.02, 0.0625, 0.1, 0.25]) {
      const op = softmaxOp(scale);
      const kernel = prepareSoftmax(op, tensor(0, [3, 10], 0, scale), tensor(1, [3, 10], -128, 1 / 256));
      const x = Int8Array.from({ length: 30 }, () => rng.int(-128, 127));
      const got = new Int8Array(30);
      kernel(x, got);
      for (let row = 0; row < 3; row++) {
        const logits = Array.from(x.subarray(row * 10, row * 10 + 10), (q) => q * scale);
        const max = Math.max(...logits);
        const exps = logits.map((l) => Math.exp(l - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, c) => {
          expect(Math.abs(got[row * 10 + c] - clampInt8(Math.round((256 * e) / sum) - 128))).toBeLessThanOrEqual(1);
        });
      }
    }
  });

  it('outputs -128 for entries below diffMin (their exp is not even summed)', () => {
    // Scale 1: exp(-diff) is negligible; the multiplier caps at 2^31 - 1 and diffMin is -31... check
    // the boundary: diff = diffMin keeps its (tiny) exp, diff = diffMin - 1 is skipped.
    const op = softmaxOp(1);
    expect(op.diffMin).toBeLessThan(0);
    const kernel = prepareSoftmax(op, tensor(0, [3], 0, 1), out(3));
    const got = new Int8Array(3);
    kernel(Int8Array.from([100, 100 + op.diffMin - 1, 100 + op.diffMin]), got);
    expect(got[1]).toBe(-128);
    expect(got[0]).toBe(127);
  });

  it('refuses an output quantization other than 1/256, -128', () => {
    expect(() => prepareSoftmax(softmaxOp(0.1), tensor(0, [4], 0, 0.1), tensor(1, [4], 0, 1 / 256))).toThrow(/1\/256/);
  });
});

describe('quantize and dequantize', () => {
  const quantizeOp = (rescale?: Rescale): QuantizeOp => ({ kind: 'quantize', name: 'q', input: 0, output: 1, ...(rescale ? { rescale } : {}) });

  it('float32 -> int8: rounds x / scale half away from zero, adds the zero point, saturates', () => {
    const kernel = prepareQuantizeFloat(quantizeOp(), { ...tensor(0, [8]), dtype: 'float32' }, tensor(1, [8], -3, 0.5));
    const got = new Int8Array(8);
    kernel(Float32Array.from([1.25, -1.25, 0.75, 0, 1e6, -1e6, NaN, 65.4]), got);
    // 2.5 -> 3, -2.5 -> -3, 1.5 -> 2, 0, saturations, NaN -> zero point, 130.8 -> 131 - 3 = 128 -> 127
    expect(Array.from(got)).toEqual([0, -6, -1, -3, 127, -128, -3, 127]);
  });

  it('float32 -> int8 with the extreme zero points -128 and 127', () => {
    const low = prepareQuantizeFloat(quantizeOp(), { ...tensor(0, [4]), dtype: 'float32' }, tensor(1, [4], -128, 0.5));
    const high = prepareQuantizeFloat(quantizeOp(), { ...tensor(0, [4]), dtype: 'float32' }, tensor(1, [4], 127, 0.5));
    const got = new Int8Array(4);
    low(Float32Array.from([0, -0.25, 0.25, 127.75]), got);
    // 0 -> -128; -0.5 -> -1 -> -129 -> -128; 0.5 -> 1 -> -127; 255.5 -> 256 -> 128 -> 127
    expect(Array.from(got)).toEqual([-128, -128, -127, 127]);
    high(Float32Array.from([0, 0.25, -0.25, -127.75]), got);
    expect(Array.from(got)).toEqual([127, 127, 126, -128]);
  });

  it('float32 -> int8 divides in float32, as TFLite (not in double)', () => {
    // scale = float32(0.1); x = 0.25 and float32(0.35) = 0.3499999940...: the float32 quotients are
    // exactly 2.5 and 3.5 (-> 3 and 4), the double ones 2.49999996 and 3.49999989 (-> 2 and 3).
    const scale = Math.fround(0.1);
    const kernel = prepareQuantizeFloat(quantizeOp(), { ...tensor(0, [2]), dtype: 'float32' }, tensor(1, [2], 0, scale));
    const got = new Int8Array(2);
    kernel(Float32Array.from([0.25, 0.35]), got);
    expect(0.25 / scale).toBeLessThan(2.5);
    expect(Array.from(got)).toEqual([3, 4]);
  });

  it('int8 -> int8 requantizes with MultiplyByQuantizedMultiplier (ratios below and above 1)', () => {
    const down = prepareRequantize(quantizeOp(quantizeMultiplier(0.5)), tensor(0, [4], 0, 1), tensor(1, [4], 1, 2));
    const got = new Int8Array(4);
    down(Int8Array.from([3, -3, 1, -128]), got);
    // Multiplier 0.5 = (2^30, shift 0): the whole rounding is SRDHM's, ties toward +infinity:
    // 1.5 -> 2, -1.5 -> -1, 0.5 -> 1, -64; + 1
    expect(Array.from(got)).toEqual([3, 0, 2, -63]);
    const up = prepareRequantize(quantizeOp(quantizeMultiplier(2)), tensor(0, [3], 10, 2), tensor(1, [3], -128, 1));
    up(Int8Array.from([10, 50, 127]), got);
    // (0, 40, 117) * 2 - 128 = -128, -48, 106
    expect(Array.from(got.subarray(0, 3))).toEqual([-128, -48, 106]);
    expect(() => prepareRequantize(quantizeOp(), tensor(0, [1]), tensor(1, [1]))).toThrow(/rescale/);
  });

  it('int8 -> float32: scale * (q - zp) in double, rounded once to float32', () => {
    const scale = Math.fround(0.1);
    const kernel = prepareDequantize({ kind: 'dequantize', name: 'd', input: 0, output: 1 }, tensor(0, [3], 5, scale), { ...tensor(1, [3]), dtype: 'float32' });
    const got = new Float32Array(3);
    kernel(Int8Array.from([6, 5, -128]), got);
    expect(Array.from(got)).toEqual([Math.fround(scale), 0, Math.fround(scale * -133)]);
  });
});
