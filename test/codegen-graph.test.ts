// Generated C for the graph ops of imported models (ADD, PAD, CONCATENATION, MEAN, SOFTMAX,
// QUANTIZE, DEQUANTIZE; fan-out, two-input ops, several graph inputs, float32 I/O, 1-D and 2-D
// tensors) equals the TypeScript reference byte for byte: host gcc with ASan + UBSan, portable
// path and DSP path (C model of the ACLE intrinsics), every input of a batch in one process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateLibrary } from '../src/codegen/generate.js';
import { planArena } from '../src/codegen/planner.js';
import { dtypeBytes, graphInputs, IR_VERSION, tensorSize, type IrModel, type IrOp, type IrTensor, type Rescale } from '../src/ir/types.js';
import { quantizeMultiplier } from '../src/quantize/multiplier.js';
import { runReferenceBytes } from '../src/reference/interpreter.js';
import { UserError } from '../src/util/errors.js';
import { everyGraphOpIr, twoInputAddIr } from './helpers/graph-ir.js';
import { buildHostDriver, KERNEL_PATHS, runHostDriver } from './helpers/host-build.js';
import { randomIr, SeededRandom } from './helpers/random-ir.js';
import { bandRuns } from '../src/codegen/bands.js';
import { fuseConvPool } from '../src/codegen/fuse.js';
import { resolveLayers } from '../src/codegen/layers.js';

const work = mkdtempSync(join(tmpdir(), 'tinyforge-codegen-graph-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const metadata = {
  configName: 'graph-codegen-test',
  configHash: 'none',
  dataset: 'none',
  architecture: 'hand-made',
  calibration: { method: 'none', samples: 0 },
  createdAt: '2000-01-01T00:00:00.000Z',
  tinyforgeVersion: '0.0.0-test',
};

/** TFLite's ADD parameters: both inputs to 2 * max(s1, s2), the sum to the output (left shift 20). */
function addRescales(s1: number, s2: number, sOut: number): { input1Rescale: Rescale; input2Rescale: Rescale; outputRescale: Rescale } {
  const twiceMax = 2 * Math.max(s1, s2);
  return { input1Rescale: quantizeMultiplier(s1 / twiceMax), input2Rescale: quantizeMultiplier(s2 / twiceMax), outputRescale: quantizeMultiplier(twiceMax / (2 ** 20 * sOut)) };
}

/** TFLite's PreprocessSoftmaxScaling(beta, scale, 5) and diff_min = -CalculateInputRadius(5, shift). */
function softmaxParams(beta: number, scale: number): { inputMultiplier: number; inputLeftShift: number; diffMin: number } {
  const q = quantizeMultiplier(Math.min(beta * scale * 2 ** 26, 2 ** 31 - 1));
  return { inputMultiplier: q.multiplier, inputLeftShift: q.shift, diffMin: -Math.floor((31 * 2 ** 26) / 2 ** q.shift) };
}

class GraphBuilder {
  readonly tensors: IrTensor[] = [];
  readonly ops: IrOp[] = [];
  readonly rng = new SeededRandom(77);

  tensor(shape: number[], scale: number, zeroPoint: number, dtype?: 'float32'): IrTensor {
    const t: IrTensor = { id: this.tensors.length, name: `t${this.tensors.length}`, shape, scale, zeroPoint, ...(dtype ? { dtype } : {}) };
    this.tensors.push(t);
    return t;
  }

  /** A 3x3 'same' conv keeping the channel count, small random weights. */
  conv(input: IrTensor, outScale: number, outZp: number): IrTensor {
    const [h, w, c] = input.shape as [number, number, number];
    const out = this.tensor([h, w, c], outScale, outZp);
    const taps = 9 * c;
    const weights = Int8Array.from({ length: c * taps }, () => this.rng.int(-60, 60));
    const weightScale = Float64Array.from({ length: c }, () => this.rng.uniform(0.002, 0.01));
    const multiplier = new Int32Array(c);
    const shift = new Int32Array(c);
    weightScale.forEach((ws, k) => ({ multiplier: multiplier[k], shift: shift[k] } = quantizeMultiplier((input.scale * ws) / outScale)));
    const bias = Int32Array.from({ length: c }, () => this.rng.int(-2000, 2000));
    const same = { top: 1, bottom: 1, left: 1, right: 1 };
    this.ops.push({ kind: 'conv2d', name: `conv${this.ops.length}`, input: input.id, output: out.id, kernel: [3, 3], stride: [1, 1], padding: same, weights, bias, requant: { multiplier, shift, weightScale }, clamp: { min: -128, max: 127 } });
    return out;
  }

  /** Per-channel requantization for `channels` outputs from an input of scale inScale. */
  private requant(channels: number, inScale: number, outScale: number) {
    const weightScale = Float64Array.from({ length: channels }, () => this.rng.uniform(0.002, 0.02));
    const multiplier = new Int32Array(channels);
    const shift = new Int32Array(channels);
    weightScale.forEach((ws, k) => ({ multiplier: multiplier[k], shift: shift[k] } = quantizeMultiplier((inScale * ws) / outScale)));
    return { multiplier, shift, weightScale };
  }

  /** Depthwise conv, 'valid' padding plus `pad` rows/columns on each side, ReLU. */
  depthwise(input: IrTensor, m: number, kernel: [number, number], stride: [number, number], pad: [number, number]): IrTensor {
    const [h, w, c] = input.shape as [number, number, number];
    const oh = Math.floor((h + 2 * pad[0] - kernel[0]) / stride[0]) + 1;
    const ow = Math.floor((w + 2 * pad[1] - kernel[1]) / stride[1]) + 1;
    const out = this.tensor([oh, ow, c * m], 0.05, -10);
    const weights = Int8Array.from({ length: kernel[0] * kernel[1] * c * m }, () => this.rng.int(-127, 127));
    const bias = Int32Array.from({ length: c * m }, () => this.rng.int(-3000, 3000));
    const padding = { top: pad[0], bottom: pad[0], left: pad[1], right: pad[1] };
    this.ops.push({ kind: 'depthwise_conv2d', name: `dw${this.ops.length}`, input: input.id, output: out.id, kernel, stride, padding, depthMultiplier: m, weights, bias, requant: this.requant(c * m, input.scale, out.scale), clamp: { min: -10, max: 127 } });
    return out;
  }

  /** Conv with any kernel and stride, 'valid' padding. */
  convValid(input: IrTensor, outC: number, kernel: [number, number], stride: [number, number]): IrTensor {
    const [h, w, c] = input.shape as [number, number, number];
    const out = this.tensor([Math.floor((h - kernel[0]) / stride[0]) + 1, Math.floor((w - kernel[1]) / stride[1]) + 1, outC], 0.06, 4);
    const weights = Int8Array.from({ length: outC * kernel[0] * kernel[1] * c }, () => this.rng.int(-127, 127));
    const bias = Int32Array.from({ length: outC }, () => this.rng.int(-3000, 3000));
    const padding = { top: 0, bottom: 0, left: 0, right: 0 };
    this.ops.push({ kind: 'conv2d', name: `conv${this.ops.length}`, input: input.id, output: out.id, kernel, stride, padding, weights, bias, requant: this.requant(outC, input.scale, out.scale), clamp: { min: -128, max: 127 } });
    return out;
  }

  /** Fully connected on any input rank. */
  fc(input: IrTensor, units: number): IrTensor {
    const out = this.tensor([units], 0.08, 2);
    const n = tensorSize(input);
    const weights = Int8Array.from({ length: units * n }, () => this.rng.int(-127, 127));
    const bias = Int32Array.from({ length: units }, () => this.rng.int(-3000, 3000));
    this.ops.push({ kind: 'fully_connected', name: `fc${this.ops.length}`, input: input.id, output: out.id, weights, bias, requant: this.requant(units, input.scale, out.scale), clamp: { min: -128, max: 127 } });
    return out;
  }

  add(a: IrTensor, b: IrTensor, outScale: number, outZp: number, relu = false): IrTensor {
    const out = this.tensor([...a.shape], outScale, outZp);
    const clamp = { min: relu ? outZp : -128, max: 127 };
    this.ops.push({ kind: 'add', name: `add${this.ops.length}`, input: a.id, input2: b.id, output: out.id, leftShift: 20, ...addRescales(a.scale, b.scale, outScale), clamp });
    return out;
  }

  op(op: Omit<IrOp, 'name'> & { kind: IrOp['kind'] }): void {
    this.ops.push({ ...op, name: `${op.kind}${this.ops.length}` } as IrOp);
  }

  build(name: string, inputs: IrTensor[], output: IrTensor): IrModel {
    return {
      irVersion: IR_VERSION,
      name,
      tensors: this.tensors,
      ops: this.ops,
      input: { tensor: inputs[0]!.id },
      ...(inputs.length > 1 ? { extraInputs: inputs.slice(1).map((t) => ({ tensor: t.id })) } : {}),
      output: { tensor: output.id, numClasses: tensorSize(output) },
      metadata,
    };
  }
}

/**
 * A residual block with every int8 graph op: conv -> ADD(input, conv) with ReLU (the input feeds
 * three ops), an int8 -> int8 QUANTIZE of the input, CONCATENATION of it with the ADD's output on
 * channels, PAD, MEAN over H and W (own output quantization), RESHAPE, SOFTMAX over 14 values.
 * 6x5x7 = 210 values per ADD: the DSP path's four-at-a-time loop and a tail of two.
 */
function residualIr(): IrModel {
  const b = new GraphBuilder();
  const x = b.tensor([6, 5, 7], 0.04, 3);
  const y = b.conv(x, 0.05, -9);
  const sum = b.add(x, y, 0.07, -20, true);
  const requantized = b.tensor([6, 5, 7], 0.07, -20);
  b.op({ kind: 'quantize', input: x.id, output: requantized.id, rescale: quantizeMultiplier(0.04 / 0.07) });
  const cat = b.tensor([6, 5, 14], 0.07, -20);
  b.op({ kind: 'concatenation', input: requantized.id, inputs: [requantized.id, sum.id], axis: 2, output: cat.id });
  const padded = b.tensor([8, 6, 14], 0.07, -20);
  b.op({ kind: 'pad', input: cat.id, output: padded.id, paddings: [[1, 1], [0, 1], [0, 0]] });
  const mean = b.tensor([1, 1, 14], 0.02, 11);
  b.op({ kind: 'mean', input: padded.id, output: mean.id, axes: [0, 1], keepDims: true, rescale: quantizeMultiplier(0.07 / 0.02) });
  const flat = b.tensor([14], 0.02, 11);
  b.op({ kind: 'reshape', input: mean.id, output: flat.id });
  const probs = b.tensor([14], 1 / 256, -128);
  b.op({ kind: 'softmax', input: flat.id, output: probs.id, beta: 1, ...softmaxParams(1, 0.02) });
  return b.build('residual', [x], probs);
}

/** A 1-D float model: float32 [37] -> QUANTIZE -> SOFTMAX (one row of 37, a large input scale:
 * most differences below diffMin), ADDed back to the quantized input (so that every quantized
 * value shows in the output) -> DEQUANTIZE -> float32 [37]. */
function floatVectorIr(): IrModel {
  const b = new GraphBuilder();
  const x = b.tensor([37], 1, 0, 'float32');
  const q = b.tensor([37], Math.fround(0.3), -5);
  b.op({ kind: 'quantize', input: x.id, output: q.id });
  const p = b.tensor([37], 1 / 256, -128);
  b.op({ kind: 'softmax', input: q.id, output: p.id, beta: 1, ...softmaxParams(1, q.scale) });
  const sum = b.add(q, p, Math.fround(0.25), 3);
  const y = b.tensor([37], 1, 0, 'float32');
  b.op({ kind: 'dequantize', input: sum.id, output: y.id });
  return b.build('float-vector', [x], y);
}

/** Two graph inputs of rank 2, PADded and CONCATenated on the first axis, rows of 300 for SOFTMAX. */
function twoInputRank2Ir(): IrModel {
  const b = new GraphBuilder();
  const a = b.tensor([3, 295], 0.05, 7);
  const c = b.tensor([2, 300], 0.05, 7);
  const ap = b.tensor([3, 300], 0.05, 7);
  b.op({ kind: 'pad', input: a.id, output: ap.id, paddings: [[0, 0], [2, 3]] });
  const cat = b.tensor([5, 300], 0.05, 7);
  b.op({ kind: 'concatenation', input: ap.id, inputs: [ap.id, c.id], axis: 0, output: cat.id });
  const p = b.tensor([5, 300], 1 / 256, -128);
  b.op({ kind: 'softmax', input: cat.id, output: p.id, beta: 1, ...softmaxParams(1, 0.05) });
  const m = b.tensor([300], 0.004, -128);
  b.op({ kind: 'mean', input: p.id, output: m.id, axes: [0], keepDims: false, rescale: quantizeMultiplier((1 / 256) / 0.004) });
  return b.build('two-input-rank2', [a, c], m);
}

/**
 * The layer shapes of imported models the zoo never makes: depthwise with depth multiplier 8 at
 * stride 1 (and SAME-like padding), 5x1 and 15x1 depthwise kernels (depth multiplier 1 on 4
 * channels: the four-channel path), a 1x7 conv at stride (1, 3), a fully connected layer on a
 * rank-3 input, an input zero point of -1.
 */
function importedShapesIr(): IrModel {
  const b = new GraphBuilder();
  const x = b.tensor([20, 9, 1], 0.03, -1);
  const dm8 = b.depthwise(x, 8, [3, 3], [1, 1], [1, 1]); // [20, 9, 8]
  const k5 = b.depthwise(b.convValid(dm8, 4, [1, 1], [1, 1]), 1, [5, 1], [1, 1], [2, 0]); // [20, 9, 4]
  const k15 = b.depthwise(k5, 1, [15, 1], [1, 1], [0, 0]); // [6, 9, 4]
  const wide = b.convValid(k15, 6, [1, 7], [1, 3]); // [6, 1, 6]
  return b.build('imported-shapes', [x], b.fc(wide, 5));
}

/** Random inputs for every graph input, back to back: int8 (saturated records first), or float32 values around the quantization range (ties, zero, huge and tiny values included). */
function randomRecords(ir: IrModel, count: number, seed: number): Uint8Array[] {
  const rng = new SeededRandom(seed);
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const inputs = graphInputs(ir).map((i) => byId.get(i.tensor)!);
  const bytes = inputs.reduce((n, t) => n + tensorSize(t) * dtypeBytes(t), 0);
  return Array.from({ length: count }, (_, k) => {
    const record = new Uint8Array(bytes);
    const view = new DataView(record.buffer);
    let at = 0;
    for (const t of inputs) {
      for (let i = 0; i < tensorSize(t); i++) {
        if (t.dtype === 'float32') {
          // Record 0: zero, huge and tiny values; record 1: x = (j + 1/2) * scale, whose float32
          // quotient x / scale is often exactly a tie (a double quotient is not): TFLite's float32
          // division decides the rounding there.
          const special = [0, -0, 1e30, -1e30, 1e-30, 0.15, -0.15, 0.45, 1.5 * 0.3][i % 9]!;
          const tie = Math.fround((i - tensorSize(t) / 2 + 0.5) * Math.fround(0.3));
          view.setFloat32(at, k === 0 ? special : k === 1 ? tie : rng.uniform(-45, 45), true);
          at += 4;
        } else {
          record[at++] = (k === 0 ? -128 : k === 1 ? 127 : rng.int(-128, 127)) & 0xff;
        }
      }
    }
    return record;
  });
}

function concatBytes(records: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of records) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** Builds `files` (default: the library generated with no options) and compares every output with the reference. */
async function expectBitExact(ir: IrModel, count: number, files: Record<string, string> = generateLibrary(ir).files, tag = ir.name): Promise<void> {
  const lib = { files };
  const records = randomRecords(ir, count, 5);
  const expected = records.map((r) => runReferenceBytes(ir, r));
  const outputBytes = expected[0]!.length;
  for (const path of Object.keys(KERNEL_PATHS) as (keyof typeof KERNEL_PATHS)[]) {
    const exe = await buildHostDriver(lib, join(work, `${tag}-${path}`), path);
    const got = await runHostDriver(exe, concatBytes(records), outputBytes);
    expect(got.outputs.length, `${ir.name} ${path}: outputs`).toBe(count);
    const bad = got.outputs.findIndex((o, k) => Buffer.compare(Buffer.from(o), Buffer.from(expected[k]!)) !== 0);
    expect(bad, bad < 0 ? '' : `${ir.name} ${path}: input ${bad}: C [${[...got.outputs[bad]!]}] reference [${[...expected[bad]!]}]`).toBe(-1);
  }
}

describe('generated C for graph ops equals the reference byte for byte (host, ASan + UBSan, portable and DSP paths)', () => {
  it('every graph op with float32 input and output, fan-out into ADD and CONCATENATION', async () => {
    await expectBitExact(everyGraphOpIr(), 60);
  });

  it('two graph inputs into one ADD', async () => {
    await expectBitExact(twoInputAddIr(), 60);
  });

  it('residual block: conv, ADD with ReLU of the input and the conv, PAD, requantize, CONCATENATION, MEAN, SOFTMAX', async () => {
    await expectBitExact(residualIr(), 60);
  });

  it('1-D float32 vector through QUANTIZE (rounding ties), SOFTMAX (most entries below diffMin), ADD, DEQUANTIZE', async () => {
    await expectBitExact(floatVectorIr(), 60);
  });

  it('layer shapes of imported models: depth multiplier 8 at stride 1, 5x1 and 15x1 depthwise, 1x7 conv at stride (1, 3), FC on a rank-3 input', async () => {
    await expectBitExact(importedShapesIr(), 60);
  });

  it('rank-2 inputs: PAD, CONCATENATION on axis 0, SOFTMAX rows of 300, MEAN over axis 0', async () => {
    await expectBitExact(twoInputRank2Ir(), 30);
  });
});

/**
 * A model.h for the host driver in front of a library generated with another prefix and an
 * external arena: the driver's MODEL_ / model_ names map to the prefixed ones, and every predict
 * call first hands the library a static arena.
 */
function prefixedShim(prefix: string): string {
  const P = prefix.toUpperCase();
  return [
    `#include "${prefix}.h"`,
    ...['INPUT_SIZE', 'INPUT_BYTES', 'OUTPUT_SIZE', 'OUTPUT_BYTES', 'NUM_CLASSES'].map((m) => `#define MODEL_${m} ${P}_${m}`),
    `typedef ${prefix}_input_t model_input_t;`,
    `typedef ${prefix}_output_t model_output_t;`,
    `static int32_t shim_arena[${P}_ARENA_SIZE / 4];`,
    `static int model_predict(const model_input_t *input, model_output_t *output)`,
    `{`,
    `    if (${prefix}_set_arena(shim_arena, sizeof shim_arena) != 0) return -2;`,
    `    return ${prefix}_predict(input, output);`,
    `}`,
    '',
  ].join('\n');
}

describe('graph ops with a name prefix and an external arena', () => {
  it('residual block (im2col scratch and CONCATENATION inputs in the caller\'s arena) under prefix kws: bit-exact, no model_ name', async () => {
    const ir = residualIr();
    const lib = generateLibrary(ir, { prefix: 'kws', arena: 'external' });
    expect(Object.keys(lib.files)).toEqual(expect.arrayContaining(['kws.h', 'kws.c', 'kws_weights.c', 'kws_weights.h']));
    for (const [name, text] of Object.entries(lib.files)) {
      if (name.startsWith('tinyforge_') || name === 'README.md') continue;
      expect(text, name).not.toMatch(/\bmodel_|\bMODEL_/);
    }
    const c = lib.files['kws.c']!;
    // No arena address in a const initializer: the pointers are built per call.
    expect(c).not.toMatch(/static const[^;]*&kws_arena/);
    expect(c).toContain('params.im2col = &kws_arena[');
    expect(c).toMatch(/const int8_t \*const inputs\[2\] = \{ &kws_arena\[/);
    await expectBitExact(ir, 30, { ...lib.files, 'model.h': prefixedShim('kws') }, 'kws');
  });

  it('a row-band run under prefix rb with an external arena (each band call sets its im2col pointer): bit-exact', async () => {
    const ir = randomIr(11, { architecture: 'mnist-cnn' });
    const view = fuseConvPool(ir);
    const run = bandRuns(view.ir, resolveLayers(view.ir, view.pools)).find((r) => r.layers.some((L) => L.layer.kind === 'conv2d'))!;
    const lib = generateLibrary(ir, { prefix: 'rb', arena: 'external', rowBands: { start: run.start, end: run.end, rows: 2 } });
    const c = lib.files['rb.c']!;
    expect(c).toContain('rb_band_rows(');
    expect(c).toMatch(/ {8}p\.im2col = &rb_arena\[\d+\];/);
    expect(c).not.toMatch(/static const[^;]*&rb_arena/);
    expect(c).not.toMatch(/\bmodel_/);
    await expectBitExact(ir, 30, { ...lib.files, 'model.h': prefixedShim('rb') }, 'rb');
  });

  it('float helpers only for int8 edges: none for float32 I/O or several inputs, both for an int8 classifier', () => {
    const float = generateLibrary(everyGraphOpIr(), { prefix: 'f' }).files['f.h']!;
    expect(float).not.toContain('f_quantize_input');
    expect(float).not.toContain('f_dequantize_output');
    const two = generateLibrary(twoInputAddIr(), { prefix: 't' }).files['t.h']!;
    expect(two).not.toContain('t_quantize_input');
    const int8 = generateLibrary(residualIr(), { prefix: 'r' });
    expect(int8.files['r.h']).toContain('void r_quantize_input(const float *values, int8_t *input);');
    expect(int8.files['r.h']).toContain('void r_dequantize_output(const int8_t *output, float *values);');
    expect(int8.files['r.c']).toMatch(/for \(int i = 0; i < R_OUTPUT_SIZE; i\+\+\) \{\n\s+values\[i\] = R_OUTPUT_SCALE/);
    expect(int8.hasPredictU8).toBe(false);
  });
});

describe('generated API and plan for graphs', () => {
  it('states shapes, types and quantization of the input and output; float I/O; model_predict_u8 only for images', () => {
    const h = generateLibrary(everyGraphOpIr()).files['model.h']!;
    expect(h).toContain('typedef float model_input_t;');
    expect(h).toContain('typedef float model_output_t;');
    expect(h).toMatch(/#define MODEL_INPUT_DIMS\s+\{ 4, 4, 2 \}/);
    expect(h).toMatch(/#define MODEL_INPUT_BYTES\s+128/);
    expect(h).toMatch(/#define MODEL_OUTPUT_BYTES\s+16/);
    expect(h).toMatch(/#define MODEL_INPUT_ZERO_POINT \(-3\)/);
    expect(h).toMatch(/#define MODEL_OUTPUT_ZERO_POINT \(-128\)/);
    expect(h).not.toContain('model_predict_u8');
    const two = generateLibrary(twoInputAddIr()).files['model.h']!;
    expect(two).toMatch(/#define MODEL_NUM_INPUTS\s+2/);
    expect(two).toMatch(/#define MODEL_INPUT_BYTES\s+36/);
  });

  it('keeps a tensor read by several ops live until its last reader', () => {
    const ir = residualIr();
    const plan = planArena(ir);
    // The graph input x (tensor 0) is read by the conv (op 0), the ADD (op 1) and the requantize (op 2).
    const x = plan.offsets.get(0)!;
    const requantized = ir.ops[2]!.output;
    const conv = ir.ops[0]!.output;
    const overlap = (a: number, an: number, b: number, bn: number) => a < b + bn && b < a + an;
    expect(overlap(x, 210, plan.offsets.get(requantized)!, 210)).toBe(false);
    expect(overlap(x, 210, plan.offsets.get(conv)!, 210)).toBe(false);
    expect(plan.arenaBytes).toBeGreaterThanOrEqual(plan.lowerBoundBytes);
  });

  it('refuses what the kernels cannot do, naming the op', () => {
    const ir = twoInputRank2Ir();
    const softmax = ir.ops.find((op) => op.kind === 'softmax')!;
    const out = ir.tensors.find((t) => t.id === softmax.output)!;
    out.zeroPoint = -127;
    expect(() => generateLibrary(ir)).toThrow(UserError);
    expect(() => generateLibrary(ir)).toThrow(/softmax|zero point/);
  });
});
