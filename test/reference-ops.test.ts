// The reference kernels on small hand-computed cases, then the whole interpreter on random IRs
// against a naive transcription of TFLite's reference loops (bounds checks instead of padding).
import { describe, expect, it } from 'vitest';
import { quantizeMultiplier } from '../src/quantize/multiplier.js';
import type { Clamp, IrModel, IrOp, IrTensor, Padding } from '../src/ir/types.js';
import { multiplyByQuantizedMultiplier } from '../src/reference/fixedpoint.js';
import {
  argmax,
  evaluateReference,
  evaluateReferenceAsync,
  pixelsToInput,
  runReference,
  runReferenceTrace,
} from '../src/reference/interpreter.js';
import { prepareAvgPool2d, roundedAverage } from '../src/reference/ops/avg_pool2d.js';
import { prepareConv2d } from '../src/reference/ops/conv2d.js';
import { prepareDepthwiseConv2d } from '../src/reference/ops/depthwise_conv2d.js';
import { prepareFullyConnected } from '../src/reference/ops/fully_connected.js';
import { prepareMaxPool2d } from '../src/reference/ops/max_pool2d.js';
import { prepareReshape } from '../src/reference/ops/reshape.js';
import { UserError } from '../src/util/errors.js';
import { randomInput, randomIr, SeededRandom } from './helpers/random-ir.js';

const NO_CLAMP: Clamp = { min: -128, max: 127 };
const NO_PAD: Padding = { top: 0, left: 0, bottom: 0, right: 0 };
// Q31 encodings of a few real multipliers: 0.5 = 2^30 * 2^(0 - 31), 1 = 2^30 * 2^(1 - 31), ...
const HALF = { m: 1 << 30, s: 0 };
const ONE = { m: 1 << 30, s: 1 };
const QUARTER = { m: 1 << 30, s: -1 };

function tensor(id: number, shape: number[], zeroPoint = 0, scale = 1): IrTensor {
  return { id, name: `t${id}`, shape, scale, zeroPoint };
}

function requant(pairs: { m: number; s: number }[]) {
  return {
    multiplier: Int32Array.from(pairs.map((p) => p.m)),
    shift: Int32Array.from(pairs.map((p) => p.s)),
    weightScale: Float64Array.from(pairs.map(() => 1)),
  };
}

function run(kernel: (i: Int8Array, o: Int8Array) => void, input: number[], outSize: number): number[] {
  const out = new Int8Array(outSize);
  kernel(Int8Array.from(input), out);
  return Array.from(out);
}

describe('conv2d', () => {
  // 3x3x1 input, zero point 1:   x - zp:
  //   3 1 5                        2  0  4
  //   2 0 4                        1 -1  3
  //   1 1 1                        0  0  0
  // Two 2x2 filters (OHWI): oc0 = [1 2; 3 4], oc1 = [-1 0; 0 1], bias [10, -3],
  // oc0 real multiplier 0.5, oc1 0.25 (per-channel), output zero point -2.
  const input = [3, 1, 5, 2, 0, 4, 1, 1, 1];
  const op = (clamp: Clamp): IrOp & { kind: 'conv2d' } => ({
    kind: 'conv2d', name: 'c', input: 0, output: 1, kernel: [2, 2], stride: [1, 1], padding: NO_PAD,
    weights: Int8Array.from([1, 2, 3, 4, -1, 0, 0, 1]), bias: Int32Array.from([10, -3]),
    requant: requant([HALF, QUARTER]), clamp,
  });
  // (0,0) window [2 0; 1 -1]: oc0 2+0+3-4 = 1, +10 = 11, *0.5 = 5.5 -> 6, -2 -> 4
  //                           oc1 -2-1 = -3, -3 = -6, *0.25 = -1.5 -> -2 (SRDHM gives -3 exactly,
  //                           then -3/2 rounds away from zero), -2 -> -4
  // (0,1) window [0 4; -1 3]: oc0 0+8-3+12 = 17, 27 * 0.5 = 13.5 -> 14, -> 12
  //                           oc1 3, 0 -> 0 -> -2
  // (1,0) window [1 -1; 0 0]: oc0 1-2 = -1, 9 * 0.5 = 4.5 -> 5 -> 3
  //                           oc1 -1, -4 * 0.25 = -1 -> -3
  // (1,1) window [-1 3; 0 0]: oc0 -1+6 = 5, 15 * 0.5 = 7.5 -> 8 -> 6
  //                           oc1 1, -2 * 0.25 = -0.5 -> -1 (away from zero) -> -3
  it('computes a valid 2x2 convolution with per-channel multipliers (hand-computed)', () => {
    const k = prepareConv2d(op(NO_CLAMP), tensor(0, [3, 3, 1], 1), tensor(1, [2, 2, 2], -2));
    expect(run(k, input, 8)).toEqual([4, -4, 12, -2, 3, -3, 6, -3]);
  });

  it('applies the clamp (fused ReLU-like [0, 10])', () => {
    const k = prepareConv2d(op({ min: 0, max: 10 }), tensor(0, [3, 3, 1], 1), tensor(1, [2, 2, 2], -2));
    expect(run(k, input, 8)).toEqual([4, 0, 10, 0, 3, 0, 6, 0]);
  });

  it('saturates to int8 whatever the accumulator', () => {
    const big = { ...op(NO_CLAMP), bias: Int32Array.from([1_000_000, -1_000_000]) };
    const k = prepareConv2d(big, tensor(0, [3, 3, 1], 1), tensor(1, [2, 2, 2], -2));
    expect(run(k, input, 8)).toEqual([127, -128, 127, -128, 127, -128, 127, -128]);
  });

  // 3x3x1 input, zero point 5, x - zp = 1..9:   1 2 3 / 4 5 6 / 7 8 9
  // 3x3 all-ones filter, real multiplier 1: each output is the sum of x - zp over the taps
  // inside the input. Padding taps must add nothing (not 0 - zp = -5 each).
  const padInput = [6, 7, 8, 9, 10, 11, 12, 13, 14];
  const onesOp = (padding: Padding, stride: [number, number], kernel: [number, number]): IrOp & { kind: 'conv2d' } => ({
    kind: 'conv2d', name: 'c', input: 0, output: 1, kernel, stride, padding,
    weights: new Int8Array(kernel[0] * kernel[1]).fill(1), bias: Int32Array.from([0]), requant: requant([ONE]), clamp: NO_CLAMP,
  });

  it("skips the padding ('same', stride 1): corners sum 4 taps, edges 6, centre 9", () => {
    const k = prepareConv2d(onesOp({ top: 1, left: 1, bottom: 1, right: 1 }, [1, 1], [3, 3]), tensor(0, [3, 3, 1], 5), tensor(1, [3, 3, 1]));
    // 1+2+4+5, 1+2+3+4+5+6, 2+3+5+6 / 1+2+4+5+7+8, 45, 2+3+5+6+8+9 / 4+5+7+8, 4+5+6+7+8+9, 5+6+8+9
    expect(run(k, padInput, 9)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it("handles stride 2 with 'same' padding", () => {
    // out = floor((3 + 1 + 1 - 3) / 2) + 1 = 2: the windows centred on the four corners.
    const k = prepareConv2d(onesOp({ top: 1, left: 1, bottom: 1, right: 1 }, [2, 2], [3, 3]), tensor(0, [3, 3, 1], 5), tensor(1, [2, 2, 1]));
    expect(run(k, padInput, 4)).toEqual([12, 16, 24, 28]);
  });

  it('handles asymmetric padding (bottom/right only, as TF same with stride 2)', () => {
    // 2x2 windows at stride 2 with one padding row/column after: 1+2+4+5, 3+6, 7+8, 9.
    const k = prepareConv2d(onesOp({ top: 0, left: 0, bottom: 1, right: 1 }, [2, 2], [2, 2]), tensor(0, [3, 3, 1], 5), tensor(1, [2, 2, 1]));
    expect(run(k, padInput, 4)).toEqual([12, 9, 15, 9]);
  });

  it('matches the float computation on a hand-made per-channel layer derived from real scales', () => {
    // Input scale 0.5 (zp 0), output scale 1 (zp 0), weight scales [0.25, 0.1]:
    // real multipliers 0.5 * 0.25 / 1 = 0.125 and 0.5 * 0.1 / 1 = 0.05.
    // Input q = 40 (real 20), weights q = [3, 7] (real 0.75 and 0.7): real outputs 15 and 14.
    // Integer path: acc0 = 120, 120 * 0.125 = 15; acc1 = 280, 280 * 0.05 = 14.
    const weightScale = Float64Array.from([0.25, 0.1]);
    const q = Array.from(weightScale, (ws) => quantizeMultiplier((0.5 * ws) / 1));
    const layer: IrOp & { kind: 'conv2d' } = {
      kind: 'conv2d', name: 'c', input: 0, output: 1, kernel: [1, 1], stride: [1, 1], padding: NO_PAD,
      weights: Int8Array.from([3, 7]), bias: Int32Array.from([0, 0]),
      requant: { multiplier: Int32Array.from(q.map((p) => p.multiplier)), shift: Int32Array.from(q.map((p) => p.shift)), weightScale },
      clamp: NO_CLAMP,
    };
    const k = prepareConv2d(layer, tensor(0, [1, 1, 1], 0, 0.5), tensor(1, [1, 1, 2], 0, 1));
    expect(run(k, [40], 2)).toEqual([15, 14]);
  });
});

describe('depthwise_conv2d', () => {
  // 2x2x2 input (zp 0): channel 0 = 1 2 / 3 4, channel 1 = 10 20 / 30 40. Multiplier 2, so
  // output channel oc = ic * 2 + m: oc0, oc1 read channel 0, oc2, oc3 read channel 1.
  // Weights [1, 2, 2, 4], per tap (ky, kx) the 4 output channels:
  //   (0,0): 1 0 1 0   (0,1): 0 1 1 0   (1,0): 0 0 1 1   (1,1): 1 0 1 0
  // oc0 = 1*1 + 4*1 = 5;  oc1 = 2*1 = 2;  oc2 = 10+20+30+40 = 100;  oc3 = 30*1 = 30, + bias 1 = 31
  it('maps output channel ic * M + m to input channel ic (hand-computed)', () => {
    const op: IrOp & { kind: 'depthwise_conv2d' } = {
      kind: 'depthwise_conv2d', name: 'd', input: 0, output: 1, kernel: [2, 2], stride: [1, 1], padding: NO_PAD,
      depthMultiplier: 2,
      weights: Int8Array.from([1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0]),
      bias: Int32Array.from([0, 0, 0, 1]), requant: requant([ONE, ONE, ONE, ONE]), clamp: NO_CLAMP,
    };
    const k = prepareDepthwiseConv2d(op, tensor(0, [2, 2, 2]), tensor(1, [1, 1, 4]));
    expect(run(k, [1, 10, 2, 20, 3, 30, 4, 40], 4)).toEqual([5, 2, 100, 31]);
  });

  it("skips the padding and subtracts the input zero point ('same' 3x3, zero point 5)", () => {
    // One channel, M = 1, all-ones 3x3 filter: same numbers as the conv2d padding case.
    const op: IrOp & { kind: 'depthwise_conv2d' } = {
      kind: 'depthwise_conv2d', name: 'd', input: 0, output: 1, kernel: [3, 3], stride: [1, 1],
      padding: { top: 1, left: 1, bottom: 1, right: 1 }, depthMultiplier: 1,
      weights: new Int8Array(9).fill(1), bias: Int32Array.from([0]), requant: requant([ONE]), clamp: NO_CLAMP,
    };
    const k = prepareDepthwiseConv2d(op, tensor(0, [3, 3, 1], 5), tensor(1, [3, 3, 1]));
    expect(run(k, [6, 7, 8, 9, 10, 11, 12, 13, 14], 9)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });
});

describe('fully_connected', () => {
  // x = [0, 1, -2], zero point -1 -> x - zp = [1, 2, -1]
  // row 0 = [1, 2, 3]:  1 + 4 - 3 = 2, bias 1 -> 3, multiplier 1 -> 3, + zp 3 -> 6
  // row 1 = [-4, 5, 0]: -4 + 10 = 6, bias -1 -> 5, multiplier 0.5 -> 2.5 -> 3, + zp 3 -> 6
  it('computes rows with per-unit multipliers (hand-computed)', () => {
    const op: IrOp & { kind: 'fully_connected' } = {
      kind: 'fully_connected', name: 'fc', input: 0, output: 1,
      weights: Int8Array.from([1, 2, 3, -4, 5, 0]), bias: Int32Array.from([1, -1]), requant: requant([ONE, HALF]), clamp: NO_CLAMP,
    };
    const k = prepareFullyConnected(op, tensor(0, [3], -1), tensor(1, [2], 3));
    expect(run(k, [0, 1, -2], 2)).toEqual([6, 6]);
  });
});

describe('max_pool2d', () => {
  //   -50  -60  -70     2x2 windows, stride 2, TF 'same': one padding row/column after.
  //   -80  -90 -100     max(-50,-60,-80,-90) = -50, max(-70,-100) = -70,
  //  -110 -120   -5     max(-110,-120) = -110, max(-5) = -5. Padding is never a candidate.
  const input = [-50, -60, -70, -80, -90, -100, -110, -120, -5];
  const op = (clamp: Clamp): IrOp & { kind: 'max_pool2d' } => ({
    kind: 'max_pool2d', name: 'p', input: 0, output: 1, pool: [2, 2], stride: [2, 2],
    padding: { top: 0, left: 0, bottom: 1, right: 1 }, clamp,
  });

  it('takes the max over the window positions inside the input only', () => {
    const k = prepareMaxPool2d(op(NO_CLAMP), tensor(0, [3, 3, 1]), tensor(1, [2, 2, 1]));
    expect(run(k, input, 4)).toEqual([-50, -70, -110, -5]);
  });

  it('applies the clamp', () => {
    const k = prepareMaxPool2d(op({ min: -100, max: -10 }), tensor(0, [3, 3, 1]), tensor(1, [2, 2, 1]));
    expect(run(k, input, 4)).toEqual([-50, -70, -100, -10]);
  });

  it('pools channels independently', () => {
    // channel 0 = 1 5 3 2 -> 5; channel 1 = -1 -7 0 -3 -> 0
    const k = prepareMaxPool2d({ ...op(NO_CLAMP), padding: NO_PAD }, tensor(0, [2, 2, 2]), tensor(1, [1, 1, 2]));
    expect(run(k, [1, -1, 5, -7, 3, 0, 2, -3], 2)).toEqual([5, 0]);
  });
});

describe('avg_pool2d', () => {
  it('divides rounding half away from zero', () => {
    expect(roundedAverage(5, 2)).toBe(3); // 2.5
    expect(roundedAverage(-5, 2)).toBe(-3); // -2.5
    expect(roundedAverage(6, 4)).toBe(2); // 1.5
    expect(roundedAverage(-6, 4)).toBe(-2); // -1.5
    expect(roundedAverage(7, 4)).toBe(2); // 1.75
    expect(roundedAverage(5, 4)).toBe(1); // 1.25
    expect(roundedAverage(-5, 4)).toBe(-1); // -1.25
    expect(roundedAverage(-7, 4)).toBe(-2); // -1.75
    expect(roundedAverage(0, 9)).toBe(0);
    expect(roundedAverage(-4, 9)).toBe(0); // -0.44
    expect(roundedAverage(-5, 9)).toBe(-1); // -0.56
  });

  it('averages 1x2 windows with .5 results in both directions', () => {
    // [2, 3] -> 2.5 -> 3; [-2, -3] -> -2.5 -> -3
    const op: IrOp & { kind: 'avg_pool2d' } = {
      kind: 'avg_pool2d', name: 'a', input: 0, output: 1, pool: [1, 2], stride: [1, 2], padding: NO_PAD, clamp: NO_CLAMP,
    };
    const k = prepareAvgPool2d(op, tensor(0, [1, 4, 1]), tensor(1, [1, 2, 1]));
    expect(run(k, [2, 3, -2, -3], 2)).toEqual([3, -3]);
  });

  it('counts only the positions inside the input', () => {
    //  1 2 3    2x2 windows, stride 2, one padding row/column after:
    //  4 5 6    (1+2+4+5)/4 = 3, (3+6)/2 = 4.5 -> 5, (7+8)/2 = 7.5 -> 8, 9/1 = 9
    //  7 8 9    (dividing by 4 everywhere would give 3, 2, 4, 2)
    const op: IrOp & { kind: 'avg_pool2d' } = {
      kind: 'avg_pool2d', name: 'a', input: 0, output: 1, pool: [2, 2], stride: [2, 2],
      padding: { top: 0, left: 0, bottom: 1, right: 1 }, clamp: NO_CLAMP,
    };
    const k = prepareAvgPool2d(op, tensor(0, [3, 3, 1]), tensor(1, [2, 2, 1]));
    expect(run(k, [1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([3, 5, 8, 9]);
  });

  it('pools globally per channel and clamps', () => {
    // channel 0: (10+20+30+41)/4 = 25.25 -> 25; channel 1: -102/4 = -25.5 -> -26, clamped to -20
    const op: IrOp & { kind: 'avg_pool2d' } = {
      kind: 'avg_pool2d', name: 'a', input: 0, output: 1, pool: [2, 2], stride: [2, 2], padding: NO_PAD, clamp: { min: -20, max: 127 },
    };
    const k = prepareAvgPool2d(op, tensor(0, [2, 2, 2]), tensor(1, [1, 1, 2]));
    expect(run(k, [10, -10, 20, -20, 30, -30, 41, -42], 2)).toEqual([25, -20]);
  });
});

describe('reshape', () => {
  it('moves no bytes', () => {
    const k = prepareReshape({ kind: 'reshape', name: 'r', input: 0, output: 1 }, tensor(0, [2, 1, 2]), tensor(1, [4]));
    expect(run(k, [1, -2, 3, -4], 4)).toEqual([1, -2, 3, -4]);
  });
});

// ---------------------------------------------------------------------------------------------
// The interpreter against naive TFLite-style loops.

/** Straight from TFLite's reference loops: a bounds check per tap instead of a padded copy. */
function naiveOp(op: IrOp, inT: IrTensor, outT: IrTensor, x: Int8Array): Int8Array {
  const out = new Int8Array(outT.shape.reduce((a, b) => a * b, 1));
  const clampTo = (v: number, c: Clamp) => Math.min(Math.max(v, c.min, -128), c.max, 127);
  if (op.kind === 'reshape') return Int8Array.from(x);
  if (op.kind === 'fully_connected') {
    const n = x.length;
    for (let o = 0; o < out.length; o++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += (x[i] - inT.zeroPoint) * op.weights[o * n + i];
      acc += op.bias[o];
      out[o] = clampTo(multiplyByQuantizedMultiplier(acc, op.requant.multiplier[o], op.requant.shift[o]) + outT.zeroPoint, op.clamp);
    }
    return out;
  }
  const [inH, inW, inC] = inT.shape;
  const [outH, outW, outC] = outT.shape;
  const [wH, wW] = op.kind === 'max_pool2d' || op.kind === 'avg_pool2d' ? op.pool : op.kernel;
  const at = (y: number, xx: number, c: number) => x[(y * inW + xx) * inC + c];
  const inside = (y: number, xx: number) => y >= 0 && y < inH && xx >= 0 && xx < inW;
  for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let oc = 0; oc < outC; oc++) {
    const y0 = oy * op.stride[0] - op.padding.top;
    const x0 = ox * op.stride[1] - op.padding.left;
    let v: number;
    if (op.kind === 'max_pool2d' || op.kind === 'avg_pool2d') {
      let max = -128, sum = 0, count = 0;
      for (let ky = 0; ky < wH; ky++) for (let kx = 0; kx < wW; kx++) {
        if (!inside(y0 + ky, x0 + kx)) continue;
        const q = at(y0 + ky, x0 + kx, oc);
        max = Math.max(max, q);
        sum += q;
        count++;
      }
      v = op.kind === 'max_pool2d' ? max : sum > 0 ? Math.trunc((sum + Math.trunc(count / 2)) / count) : Math.trunc((sum - Math.trunc(count / 2)) / count);
    } else {
      let acc = 0;
      for (let ky = 0; ky < wH; ky++) for (let kx = 0; kx < wW; kx++) {
        if (!inside(y0 + ky, x0 + kx)) continue;
        if (op.kind === 'conv2d') {
          for (let ic = 0; ic < inC; ic++) acc += (at(y0 + ky, x0 + kx, ic) - inT.zeroPoint) * op.weights[((oc * wH + ky) * wW + kx) * inC + ic];
        } else {
          const ic = Math.floor(oc / op.depthMultiplier);
          acc += (at(y0 + ky, x0 + kx, ic) - inT.zeroPoint) * op.weights[(ky * wW + kx) * outC + oc];
        }
      }
      acc += op.bias[oc];
      v = multiplyByQuantizedMultiplier(acc, op.requant.multiplier[oc], op.requant.shift[oc]) + outT.zeroPoint;
    }
    out[(oy * outW + ox) * outC + oc] = clampTo(v, op.clamp);
  }
  return out;
}

function naiveRun(ir: IrModel, input: Int8Array): Map<number, Int8Array> {
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const values = new Map([[ir.input.tensor, input]]);
  for (const op of ir.ops) values.set(op.output, naiveOp(op, byId.get(op.input)!, byId.get(op.output)!, values.get(op.input)!));
  return values;
}

describe('interpreter', () => {
  it('equals the naive kernels on every tensor of many random IRs', () => {
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 60; seed++) {
      const ir = randomIr(seed);
      for (const op of ir.ops) kinds.add(op.kind);
      for (let sample = 0; sample < 3; sample++) {
        const input = randomInput(ir, seed * 100 + sample);
        const trace = runReferenceTrace(ir, input);
        const naive = naiveRun(ir, input);
        expect(trace.size).toBe(ir.tensors.length);
        for (const [id, want] of naive) expect({ seed, id, data: Array.from(trace.get(id)!) }).toEqual({ seed, id, data: Array.from(want) });
        expect(runReference(ir, input)).toEqual(trace.get(ir.output.tensor));
      }
    }
    expect([...kinds].sort()).toEqual(['avg_pool2d', 'conv2d', 'depthwise_conv2d', 'fully_connected', 'max_pool2d', 'reshape']);
  });

  it('equals the naive kernels on the MNIST-shaped CNN', () => {
    const ir = randomIr(7, { architecture: 'mnist-cnn' });
    const input = randomInput(ir, 7);
    const naive = naiveRun(ir, input);
    const trace = runReferenceTrace(ir, input);
    for (const [id, want] of naive) expect(trace.get(id)).toEqual(want);
  });

  it('maps pixels to q = pixel - 128', () => {
    const ir = randomIr(1);
    expect(Array.from(pixelsToInput(ir, Uint8Array.from([0, 1, 128, 255])))).toEqual([-128, -127, 0, 127]);
  });

  it('argmax returns the first maximum', () => {
    expect(argmax(Int8Array.from([1, 5, 5, 2]))).toBe(1);
    expect(argmax(Int8Array.from([-128, -128]))).toBe(0);
    expect(argmax(Int8Array.from([-3, -2, 127]))).toBe(2);
    expect(() => argmax(new Int8Array(0))).toThrow(RangeError);
  });

  it('evaluateReference agrees with runReference image by image and counts accuracy', () => {
    const ir = randomIr(3);
    const size = ir.tensors[0].shape.reduce((a, b) => a * b, 1);
    const n = 8;
    const rng = new SeededRandom(9);
    const images = new Uint8Array(n * size).map(() => rng.int(0, 255));
    const expected = Array.from({ length: n }, (_, i) => runReference(ir, pixelsToInput(ir, images.subarray(i * size, (i + 1) * size))));
    // Labels right for the first 6 images, wrong for the last 2: accuracy 6/8.
    const labels = Uint8Array.from(expected.map((logits, i) => (i < 6 ? argmax(logits) : (argmax(logits) + 1) % 10)));
    const result = evaluateReference(ir, images, labels);
    expect(Array.from(result.predictions)).toEqual(expected.map((l) => argmax(l)));
    expect(Array.from(result.logits)).toEqual(expected.flatMap((l) => Array.from(l)));
    expect(result.accuracy).toBe(0.75);
    expect(() => evaluateReference(ir, images.subarray(1), labels)).toThrow(RangeError);
  });

  it('evaluateReferenceAsync gives the results of evaluateReference, over several turns, while other evaluations of the IR take turns', async () => {
    const ir = randomIr(5);
    const size = ir.tensors[0].shape.reduce((a, b) => a * b, 1);
    const n = 50; // more than one turn's images
    const rng = new SeededRandom(11);
    const images = new Uint8Array(n * size).map(() => rng.int(0, 255));
    const labels = new Uint8Array(n).map(() => rng.int(0, 9));
    const expected = evaluateReference(ir, images, labels);
    // Two evaluations of the same IR (one plan, shared buffers) in flight at once, one reversed.
    const reversed = new Uint8Array(n * size);
    for (let i = 0; i < n; i++) reversed.set(images.subarray((n - 1 - i) * size, (n - i) * size), i * size);
    const [result, other] = await Promise.all([
      evaluateReferenceAsync(ir, images, labels),
      evaluateReferenceAsync(ir, reversed, labels.slice().reverse()),
    ]);
    expect(Array.from(result.logits)).toEqual(Array.from(expected.logits));
    expect(Array.from(result.predictions)).toEqual(Array.from(expected.predictions));
    expect(result.accuracy).toBe(expected.accuracy);
    expect(Array.from(other.predictions)).toEqual(Array.from(expected.predictions).reverse());
    await expect(evaluateReferenceAsync(ir, images.subarray(1), labels)).rejects.toThrow(RangeError);
  });

  it('evaluateReferenceAsync stops with the reason of an aborted signal', async () => {
    const ir = randomIr(5);
    const size = ir.tensors[0].shape.reduce((a, b) => a * b, 1);
    const n = 50;
    const stop = new AbortController();
    const running = evaluateReferenceAsync(ir, new Uint8Array(n * size), new Uint8Array(n), stop.signal);
    stop.abort(new Error('the firmware build failed'));
    await expect(running).rejects.toThrow('the firmware build failed');
  });

  it('refuses a wrong input size and an invalid IR', () => {
    const ir = randomIr(4);
    expect(() => runReference(ir, new Int8Array(3))).toThrow(RangeError);
    const broken = randomIr(4);
    broken.ops[1] = { ...broken.ops[1], input: broken.ops[1].output };
    expect(() => runReference(broken, randomInput(broken, 1))).toThrow(UserError);
  });
});

describe('layer shapes of imported models (against the naive loops)', () => {
  /** A conv or depthwise layer with random weights, per-channel multipliers and bias. */
  function layer(
    kind: 'conv2d' | 'depthwise_conv2d',
    inShape: [number, number, number],
    kernel: [number, number],
    stride: [number, number],
    same: boolean,
    outC: number,
    seed: number,
  ): { op: IrOp; inT: IrTensor; outT: IrTensor } {
    const rng = new SeededRandom(seed);
    const [inH, inW, inC] = inShape;
    const pad = (size: number, k: number, s: number) => {
      const out = same ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1;
      const total = same ? Math.max((out - 1) * s + k - size, 0) : 0;
      return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
    };
    const ph = pad(inH, kernel[0], stride[0]);
    const pw = pad(inW, kernel[1], stride[1]);
    const taps = kernel[0] * kernel[1] * (kind === 'conv2d' ? inC : 1);
    const q = Array.from({ length: outC }, () => quantizeMultiplier(rng.uniform(0.3, 3) / (Math.sqrt(taps) * 70)));
    const common = {
      name: 'l', input: 0, output: 1, kernel, stride,
      padding: { top: ph.before, bottom: ph.after, left: pw.before, right: pw.after },
      weights: Int8Array.from({ length: taps * outC }, () => rng.int(-127, 127)),
      bias: Int32Array.from({ length: outC }, () => rng.int(-2000, 2000)),
      requant: { multiplier: Int32Array.from(q.map((p) => p.multiplier)), shift: Int32Array.from(q.map((p) => p.shift)), weightScale: new Float64Array(outC).fill(1) },
      clamp: { min: -128, max: 127 },
    };
    const op: IrOp = kind === 'conv2d' ? { kind, ...common } : { kind, ...common, depthMultiplier: outC / inC };
    // person_detect's input zero point is -1: non-zero (and odd) input zero points throughout.
    return { op, inT: tensor(0, inShape, -1), outT: tensor(1, [ph.out, pw.out, outC], 7) };
  }

  const cases: [string, Parameters<typeof layer>][] = [
    ['depthwise, depth multiplier 8, stride 1, SAME', ['depthwise_conv2d', [7, 6, 1], [3, 3], [1, 1], true, 8, 1]],
    ['depthwise, depth multiplier 8, stride 2, SAME (person_detect layer 0)', ['depthwise_conv2d', [12, 10, 1], [3, 3], [2, 2], true, 8, 2]],
    ['depthwise 5x1 kernel', ['depthwise_conv2d', [20, 4, 3], [5, 1], [1, 1], true, 3, 3]],
    ['depthwise 15x1 kernel, VALID', ['depthwise_conv2d', [40, 2, 2], [15, 1], [1, 1], false, 2, 4]],
    ['depthwise 10x8, stride 2, multiplier 8 (micro_speech)', ['depthwise_conv2d', [49, 40, 1], [10, 8], [2, 2], true, 8, 5]],
    ['conv 10x4, stride (2, 1), SAME', ['conv2d', [25, 10, 2], [10, 4], [2, 1], true, 4, 6]],
    ['conv 1x7, stride (1, 3), VALID', ['conv2d', [5, 20, 3], [1, 7], [1, 3], false, 5, 7]],
  ];
  for (const [what, args] of cases) {
    it(what, () => {
      const { op, inT, outT } = layer(...args);
      const x = Int8Array.from({ length: inT.shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 73 + 11) % 256) - 128);
      const got = new Int8Array(outT.shape.reduce((a, b) => a * b, 1));
      const kernel = op.kind === 'conv2d' ? prepareConv2d(op, inT, outT) : prepareDepthwiseConv2d(op as IrOp & { kind: 'depthwise_conv2d' }, inT, outT);
      kernel(x, got);
      expect(Array.from(got)).toEqual(Array.from(naiveOp(op, inT, outT, x)));
      // Not degenerate: the outputs spread over many values.
      expect(new Set(got).size).toBeGreaterThan(10);
    });
  }

  it('fully connected on a 1-D input and on a rank-3 input (flattened), input zero point -1', () => {
    const rng = new SeededRandom(12);
    for (const shape of [[40], [2, 5, 4]]) {
      const q = quantizeMultiplier(0.004);
      const op: IrOp = {
        kind: 'fully_connected', name: 'fc', input: 0, output: 1,
        weights: Int8Array.from({ length: 6 * 40 }, () => rng.int(-127, 127)), bias: Int32Array.from({ length: 6 }, () => rng.int(-500, 500)),
        requant: { multiplier: new Int32Array(6).fill(q.multiplier), shift: new Int32Array(6).fill(q.shift), weightScale: new Float64Array(6).fill(1) },
        clamp: { min: -128, max: 127 },
      };
      const inT = tensor(0, shape, -1);
      const outT = tensor(1, [6], 3);
      const x = Int8Array.from({ length: 40 }, () => rng.int(-128, 127));
      const got = new Int8Array(6);
      prepareFullyConnected(op, inT, outT)(x, got);
      expect(Array.from(got)).toEqual(Array.from(naiveOp(op, inT, outT, x)));
    }
  });
});
