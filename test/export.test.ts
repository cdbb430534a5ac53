// .tflite export: committed and random IRs write files that import back with the same
// arithmetic; what TFLite cannot express is refused with the op, what and what is supported.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/datasets.js';
import { compareArithmetic } from '../src/export/compare.js';
import { exactness, exportTflite, UnexportableModelError } from '../src/export/export.js';
import { importTflite } from '../src/import/import.js';
import { decodeTflite } from '../src/import/tflite-model.js';
import { BuiltinOperator, TensorType } from '../src/import/tflite-schema.js';
import { loadIr, saveIr } from '../src/ir/io.js';
import type { IrModel } from '../src/ir/types.js';
import { pixelsToInput, runReference } from '../src/reference/interpreter.js';
import { randomIr } from './helpers/random-ir.js';
import { conformanceBytes, conformanceRoot } from './helpers/tflite-spec.js';

const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
const DEFAULT_IR = 'results/lightweight-vs-baselines/points/default/run/model.ir.json';
const committed = ['default', 'nano', 'bottleneck-cnn', 'mlp', 'lenet5', 'tiny-cnn-w2'].map((p) => `results/lightweight-vs-baselines/points/${p}/run/model.ir.json`);

const roundTrip = (ir: IrModel): IrModel => importTflite(exportTflite(ir, 'test').bytes, { label: 'export.tflite' });

/** The imported IR with the original's multipliers put back: isolates every other difference. */
function withMultipliersOf(imported: IrModel, original: IrModel): IrModel {
  return {
    ...imported,
    ops: imported.ops.map((op, i) => {
      const src = original.ops[i];
      return 'requant' in op && 'requant' in src ? { ...op, requant: { ...op.requant, multiplier: src.requant.multiplier, shift: src.requant.shift } } : op;
    }),
  };
}

describe('export of committed IRs (quantized with float64 scales)', () => {
  it.each(committed)('%s imports back with the same weights, biases, zero points, clamps and shapes', (path) => {
    const ir = loadIr(path);
    const back = roundTrip(ir);
    const comparison = compareArithmetic(ir, back);
    expect(comparison.mismatches).toEqual([]);
    // Only the multipliers move, as exactness() predicts from the file's float32 scales.
    expect(comparison.differingMultipliers).toBe(exactness(ir).differingMultipliers);
  });

  it('the default model writes the ops TFLite Micro runs: per-channel conv, pools, RESHAPE with its shape, FC', () => {
    const model = decodeTflite(exportTflite(loadIr(DEFAULT_IR), 'default').bytes);
    expect(model.operators.map((op) => op.code)).toEqual([
      BuiltinOperator.CONV_2D, BuiltinOperator.MAX_POOL_2D, BuiltinOperator.CONV_2D, BuiltinOperator.MAX_POOL_2D,
      BuiltinOperator.CONV_2D, BuiltinOperator.MAX_POOL_2D, BuiltinOperator.RESHAPE, BuiltinOperator.FULLY_CONNECTED,
    ]);
    const input = model.tensors[model.inputs[0]];
    expect(input.shape).toEqual([1, 28, 28, 1]);
    expect(input.type).toBe(TensorType.INT8);
    expect(input.quantization?.zeroPoint).toEqual([-128]);
    const [x, filter, bias] = model.operators[0].inputs.map((i) => model.tensors[i]);
    expect(x).toBe(input);
    expect(filter.shape).toEqual([8, 3, 3, 1]);
    expect(filter.quantization?.scale).toHaveLength(8);
    expect(filter.quantization?.quantizedDimension).toBe(0);
    expect(bias.type).toBe(TensorType.INT32);
    const reshape = model.operators[6];
    expect(model.tensors[reshape.inputs[1]].data && Array.from(new Int32Array(model.tensors[reshape.inputs[1]].data!.slice().buffer))).toEqual([1, 288]);
    expect(model.tensors[model.outputs[0]].shape).toEqual([1, 10]);
  });

  it('the default model imported from its export: logits within 1, identical once the IR multipliers are put back', () => {
    const ir = loadIr(DEFAULT_IR);
    const back = roundTrip(ir);
    const patched = withMultipliersOf(back, ir);
    const test = loadDataset({ name: 'mnist', dir: null, trainLimit: 1, testLimit: 100 }).test;
    for (let i = 0; i < test.count; i++) {
      const x = pixelsToInput(ir, test.images.subarray(i * 784, (i + 1) * 784));
      const [a, b] = [runReference(ir, x), runReference(back, x)];
      a.forEach((v, k) => expect(Math.abs(v - b[k])).toBeLessThanOrEqual(1));
      expect(runReference(patched, x)).toEqual(a);
    }
  });
});

describe('export of random IRs (every op kind, strides, paddings, depth multipliers)', () => {
  it('imports back with the same arithmetic apart from the predicted multipliers', () => {
    let exported = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const ir = randomIr(seed);
      let back: IrModel;
      try {
        back = roundTrip(ir);
      } catch (err) {
        // Random pools may pad in ways TFLite's SAME/VALID cannot: refused, never mis-written.
        expect((err as Error).message).toMatch(/is neither SAME nor VALID; supported: TFLite's SAME or VALID/);
        continue;
      }
      exported++;
      const c = compareArithmetic(ir, back);
      expect(c.mismatches, `seed ${seed}`).toEqual([]);
      const x = Int8Array.from({ length: ir.tensors[ir.input.tensor].shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 37 + seed) % 256) - 128);
      expect(runReference(withMultipliersOf(back, ir), x), `seed ${seed}`).toEqual(runReference(ir, x));
    }
    expect(exported).toBeGreaterThan(25);
  });
});

describe.skipIf(!existsSync(conformanceRoot))('export of imported TFLite models (float32 scales already)', () => {
  // Models nobody here wrote: import -> export -> import gives the same IR arithmetic, multipliers
  // included (their scales were float32 from the start), graph ops and float edges included.
  const models = existsSync(conformanceRoot)
    ? ['hello_world_int8', 'micro_speech_quantized', 'person_detect', ...readdirSync(join(conformanceRoot, 'ops')).filter((m) => existsSync(join(conformanceRoot, 'ops', m, 'model.tflite'))).map((m) => `ops/${m}`)]
    : [];
  it.each(models)('%s exports exactly', (name) => {
    const ir = importTflite(conformanceBytes(name), { label: `${name}.tflite` });
    expect(exactness(ir).differingMultipliers).toBe(0);
    expect(compareArithmetic(ir, roundTrip(ir))).toEqual({ mismatches: [], differingMultipliers: 0 });
  });
});

describe('what cannot be exported', () => {
  // Each test edits the IR: a copy, which is a plain IrModel again (a ValidIr is never edited).
  const base = (): IrModel => structuredClone(loadIr(DEFAULT_IR));
  const problemsOf = (ir: IrModel): string => {
    try {
      exportTflite(ir, 'model.ir.json');
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      return (err as Error).message;
    }
    throw new Error('exported');
  };

  it('a clamp that no fused activation gives', () => {
    const ir = base();
    const conv = ir.ops[0] as Extract<IrModel['ops'][number], { kind: 'conv2d' }>;
    conv.clamp = { min: conv.clamp.min, max: 100 };
    expect(problemsOf(ir)).toMatch(/op 0 conv2d "00_conv2d": clamp \[-?\d+, 100\] is no fused activation's .*; supported: a clamp equal to one of NONE \[-128, 127\], RELU/);
  });

  it('a padding that is neither SAME nor VALID, listed with every other problem at once', () => {
    const ir = base();
    const conv = ir.ops[2] as Extract<IrModel['ops'][number], { kind: 'conv2d' }>;
    conv.padding = { top: 2, bottom: 0, left: 1, right: 1 };
    (ir.ops[4] as typeof conv).clamp = { min: -100, max: 100 };
    const message = problemsOf(ir);
    expect(message).toMatch(/2 things cannot be exported/);
    expect(message).toMatch(/op 2 conv2d "02_conv2d": explicit padding \(top 2, bottom 0, left 1, right 1\)/);
    expect(message).toMatch(/op 4 conv2d/);
  });

  it.skipIf(!existsSync(conformanceRoot))('a graph op TFLite cannot hold as the IR has it: an ADD clamp no fused activation gives', () => {
    const add = importTflite(conformanceBytes('ops/add'), { label: 'add.tflite' });
    const op = add.ops.find((o) => o.kind === 'add') as Extract<IrModel['ops'][number], { kind: 'add' }>;
    op.clamp = { min: -100, max: 100 };
    expect(problemsOf(add)).toMatch(/op \d+ add "[^"]*": clamp \[-100, 100\] is no fused activation's/);
  });

  it('a float32 graph input, a second input', () => {
    const ir = base();
    ir.tensors[0].dtype = 'float32';
    ir.tensors[0].scale = 1;
    ir.tensors[0].zeroPoint = 0;
    const e = (() => {
      try {
        exportTflite(ir, 'x');
      } catch (err) {
        return err as Error;
      }
    })();
    // The IR check catches a float tensor feeding a conv before the exporter would.
    expect(e?.message).toMatch(/not a valid IR, cannot export it/);
  });

  it('an IR that is not valid: the IR check, with the JSON path', () => {
    const ir = base();
    ir.ops[1].input = 99;
    expect(problemsOf(ir)).toMatch(/model.ir.json: not a valid IR, cannot export it:\n.*\/ops\/1/);
  });

  it('refusals are UnexportableModelErrors (exit 2)', () => {
    const ir = base();
    (ir.ops[0] as Extract<IrModel['ops'][number], { kind: 'conv2d' }>).clamp = { min: 0, max: 1 };
    expect(() => exportTflite(ir, 'x')).toThrow(UnexportableModelError);
  });
});

describe('tinyforge export (CLI)', () => {
  it('writes the .tflite and its report, and writes nothing for a model it refuses (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-export-'));
    try {
      const config = join(dir, 'm.json');
      writeFileSync(config, JSON.stringify({ extends: join(process.cwd(), 'configs/default.json'), output: { dir: join(dir, 'out') } }));
      saveIr(join(dir, 'out', 'model.ir.json'), loadIr(DEFAULT_IR));
      const done = await execa(process.execPath, [tsxCli, 'src/cli.ts', 'export', config, '--tflite', join(dir, 'm.tflite'), '--json'], { reject: false });
      expect(done.exitCode).toBe(0);
      const report = JSON.parse(done.stdout);
      expect(report.operators).toBe(8);
      expect(report.exactness.multipliers).toBe(66);
      expect(compareArithmetic(loadIr(DEFAULT_IR), importTflite(readFileSync(join(dir, 'm.tflite')), { label: 'm' })).mismatches).toEqual([]);

      const bad = loadIr(DEFAULT_IR);
      (bad.ops[0] as Extract<IrModel['ops'][number], { kind: 'conv2d' }>).clamp = { min: 0, max: 1 };
      saveIr(join(dir, 'out', 'model.ir.json'), bad);
      const refused = await execa(process.execPath, [tsxCli, 'src/cli.ts', 'export', config, '--tflite', join(dir, 'bad.tflite')], { reject: false });
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toMatch(/1 thing cannot be exported to \.tflite \(nothing written\)/);
      expect(existsSync(join(dir, 'bad.tflite'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
