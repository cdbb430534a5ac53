// The reference interpreter on version-2 graphs: several graph inputs, a tensor read by several
// ops, float32 at the input and output (QUANTIZE/DEQUANTIZE), and the byte-level entry point the
// conformance test and `verify` use. Each graph is checked against its op kernels called by hand.
import { describe, expect, it } from 'vitest';
import type { IrModel } from '../src/ir/types.js';
import { quantizeMultiplier } from '../src/quantize/multiplier.js';
import { runReference, runReferenceBytes, runReferenceTensors, runReferenceTrace } from '../src/reference/interpreter.js';
import { prepareAdd } from '../src/reference/ops/add.js';
import { prepareConcatenation } from '../src/reference/ops/concatenation.js';
import { prepareConv2d } from '../src/reference/ops/conv2d.js';
import { prepareDequantize } from '../src/reference/ops/dequantize.js';
import { prepareMean } from '../src/reference/ops/mean.js';
import { preparePad } from '../src/reference/ops/pad.js';
import { prepareQuantizeFloat } from '../src/reference/ops/quantize.js';
import { prepareReshape } from '../src/reference/ops/reshape.js';
import { prepareSoftmax } from '../src/reference/ops/softmax.js';
import { everyGraphOpIr, twoInputAddIr } from './helpers/graph-ir.js';
import { SeededRandom } from './helpers/random-ir.js';

function randomInt8(n: number, seed: number): Int8Array {
  const rng = new SeededRandom(seed);
  return Int8Array.from({ length: n }, () => rng.int(-128, 127));
}

const bytes = (a: Int8Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('reference graphs', () => {
  it('runs every graph op with float32 I/O and fan-out, as the kernels called one by one', () => {
    const ir = everyGraphOpIr();
    const t = ir.tensors;
    const rng = new SeededRandom(3);
    const x = Float32Array.from({ length: 32 }, () => rng.uniform(-8, 8));
    // By hand: QUANTIZE, ADD(t1, t1), CONCATENATION(t1, t2), PAD, MEAN, RESHAPE, SOFTMAX, DEQUANTIZE.
    const [q, sum, cat, padded, mean, flat, soft] = [32, 32, 64, 120, 4, 4, 4].map((n) => new Int8Array(n));
    const y = new Float32Array(4);
    const ops = ir.ops;
    if (ops[0].kind !== 'quantize' || ops[1].kind !== 'add' || ops[2].kind !== 'concatenation' || ops[3].kind !== 'pad') throw new Error('graph-ir changed');
    if (ops[4].kind !== 'mean' || ops[5].kind !== 'reshape' || ops[6].kind !== 'softmax' || ops[7].kind !== 'dequantize') throw new Error('graph-ir changed');
    prepareQuantizeFloat(ops[0], t[0], t[1])(x, q);
    prepareAdd(ops[1], t[1], t[1], t[2])(q, q, sum);
    prepareConcatenation(ops[2], [t[1], t[2]], t[3])([q, sum], cat);
    preparePad(ops[3], t[3], t[4])(cat, padded);
    prepareMean(ops[4], t[4], t[5])(padded, mean);
    prepareReshape(ops[5], t[5], t[6])(mean, flat);
    prepareSoftmax(ops[6], t[6], t[7])(flat, soft);
    prepareDequantize(ops[7], t[7], t[8])(soft, y);

    const out = runReferenceTensors(ir, [x]);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(Array.from(y));
    expect(Array.from(runReferenceBytes(ir, bytes(x)))).toEqual(Array.from(bytes(y)));
    // The softmax output is a distribution: its float values sum to about 1.
    expect(Math.abs(y.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(0.02);
  });

  it('adds two graph inputs, given as tensors or as bytes back to back', () => {
    const ir = twoInputAddIr();
    const [a, b] = [randomInt8(18, 1), randomInt8(18, 2)];
    const op = ir.ops[0];
    if (op.kind !== 'add') throw new Error('graph-ir changed');
    const want = new Int8Array(18);
    prepareAdd(op, ir.tensors[0], ir.tensors[1], ir.tensors[2])(a, b, want);
    expect(Array.from(runReferenceTensors(ir, [a, b]))).toEqual(Array.from(want));
    const both = new Uint8Array(36);
    both.set(bytes(a), 0);
    both.set(bytes(b), 18);
    expect(Array.from(runReferenceBytes(ir, both))).toEqual(Array.from(bytes(want)));
  });

  it('runs a residual block: the input feeds both the convolution and the ADD', () => {
    const s = 0.05;
    const conv = quantizeMultiplier((s * 0.01) / s);
    const rng = new SeededRandom(8);
    const twiceMax = 2 * s;
    const ir: IrModel = {
      ...twoInputAddIr(),
      name: 'residual',
      tensors: [
        { id: 0, name: 'x', shape: [4, 4, 2], scale: s, zeroPoint: -5 },
        { id: 1, name: 'conv', shape: [4, 4, 2], scale: s, zeroPoint: 3 },
        { id: 2, name: 'sum', shape: [4, 4, 2], scale: 2 * s, zeroPoint: -128 },
      ],
      ops: [
        {
          kind: 'conv2d', name: 'conv', input: 0, output: 1, kernel: [3, 3], stride: [1, 1], padding: { top: 1, left: 1, bottom: 1, right: 1 },
          weights: Int8Array.from({ length: 36 }, () => rng.int(-127, 127)), bias: Int32Array.from([100, -100]),
          requant: { multiplier: Int32Array.of(conv.multiplier, conv.multiplier), shift: Int32Array.of(conv.shift, conv.shift), weightScale: Float64Array.of(0.01, 0.01) },
          clamp: { min: -128, max: 127 },
        },
        {
          kind: 'add', name: 'add', input: 0, input2: 1, output: 2, leftShift: 20,
          input1Rescale: quantizeMultiplier(s / twiceMax), input2Rescale: quantizeMultiplier(s / twiceMax),
          outputRescale: quantizeMultiplier(twiceMax / (2 ** 20 * 2 * s)), clamp: { min: -128, max: 127 },
        },
      ],
      input: { tensor: 0 },
      extraInputs: undefined,
      output: { tensor: 2, numClasses: 32 },
    };
    const x = randomInt8(32, 9);
    const [c, want] = [new Int8Array(32), new Int8Array(32)];
    if (ir.ops[0].kind !== 'conv2d' || ir.ops[1].kind !== 'add') throw new Error('unreachable');
    prepareConv2d(ir.ops[0], ir.tensors[0], ir.tensors[1])(x, c);
    prepareAdd(ir.ops[1], ir.tensors[0], ir.tensors[1], ir.tensors[2])(x, c, want);
    expect(Array.from(runReference(ir, x))).toEqual(Array.from(want));
    const trace = runReferenceTrace(ir, x);
    expect(Array.from(trace.get(0)!)).toEqual(Array.from(x));
    expect(Array.from(trace.get(1)!)).toEqual(Array.from(c));
  });

  it('refuses inputs of the wrong count, dtype or size, and int8 entry points on float graphs', () => {
    const add = twoInputAddIr();
    expect(() => runReferenceTensors(add, [new Int8Array(18)])).toThrow(/has 2 inputs, got 1/);
    expect(() => runReferenceTensors(add, [new Int8Array(18), new Float32Array(18)])).toThrow(/input 1 expects 18 int8 values, got 18 float32/);
    expect(() => runReferenceTensors(add, [new Int8Array(18), new Int8Array(17)])).toThrow(/input 1 expects 18 int8/);
    expect(() => runReferenceBytes(add, new Uint8Array(35))).toThrow(/expects 36 input bytes/);
    expect(() => runReference(add, new Int8Array(18))).toThrow(/one int8 input/);
    expect(() => runReference(everyGraphOpIr(), new Int8Array(32))).toThrow(/one int8 input and an int8 output/);
  });
});
