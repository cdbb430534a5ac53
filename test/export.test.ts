// tinyforge's IR as a .tflite file: importing the export gives the same IR arithmetic (every
// conformance model, bit for bit); a zoo model exports per-channel weights, fused activations and
// its global average pool as AVERAGE_POOL_2D, and the export says how many multipliers TFLite
// Micro derives differently from the float32 scales it can store.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportTflite } from '../src/export/export.js';
import { importTflite } from '../src/import/import.js';
import { decodeTflite } from '../src/import/tflite-model.js';
import { BuiltinOperator, TensorType } from '../src/import/tflite-schema.js';
import { irToJson, loadIr } from '../src/ir/io.js';
import type { IrModel } from '../src/ir/types.js';
import { quantizeMultiplier } from '../src/quantize/multiplier.js';
import { UserError } from '../src/util/errors.js';
import { conformanceBytes, conformanceRoot } from './helpers/tflite-spec.js';

const present = existsSync(conformanceRoot);
const models = ['hello_world_int8', 'micro_speech_quantized', 'person_detect', 'ops/add_residual', 'ops/concat', 'ops/concat_requant', 'ops/pad', 'ops/mean', 'ops/mean_same_quant', 'ops/softmax_10', 'ops/quantize_fc_dequantize', 'ops/dwconv_dm8_s2_same', 'ops/avgpool_same_fc_per_tensor'];

function arithmetic(ir: IrModel): unknown {
  const { metadata: _m, name: _n, ...rest } = irToJson(ir) as Record<string, unknown>;
  return rest;
}

describe.skipIf(!present)('import(export(import(file))) = import(file)', () => {
  for (const model of models) {
    it(model, () => {
      const ir = importTflite(conformanceBytes(model), { label: model });
      const exported = exportTflite(ir);
      expect(arithmetic(importTflite(exported.bytes, { label: 'exported' }))).toEqual(arithmetic(ir));
      expect(exported.differingMultipliers).toBe(0);
    });
  }
});

describe('a zoo model exported', () => {
  const ir = loadIr(new URL('../results/lightweight-vs-baselines/points/bottleneck-cnn/run/model.ir.json', import.meta.url).pathname);
  const exported = exportTflite(ir);
  const file = decodeTflite(exported.bytes);
  const back = importTflite(exported.bytes, { label: 'exported' });

  it('is a valid TFLite file with the same ops, the global average pool as AVERAGE_POOL_2D', () => {
    expect(back.ops.map((o) => o.kind)).toEqual(ir.ops.map((o) => o.kind));
    const gap = ir.ops.findIndex((o) => o.kind === 'avg_pool2d');
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(file.operators[gap].code).toBe(BuiltinOperator.AVERAGE_POOL_2D);
  });

  it('keeps weights, biases, clamps, padding, shapes and zero points; writes per-channel weight scales', () => {
    ir.ops.forEach((op, i) => {
      const other = back.ops[i] as typeof op;
      if ('weights' in op && 'weights' in other) {
        expect(Array.from(other.weights)).toEqual(Array.from(op.weights));
        expect(Array.from(other.bias)).toEqual(Array.from(op.bias));
        expect(Array.from(other.requant.weightScale)).toEqual(Array.from(op.requant.weightScale, Math.fround));
        const w = file.tensors[file.operators[i].inputs[1]];
        expect(w.type).toBe(TensorType.INT8);
        expect(w.quantization!.scale.length).toBe(op.bias.length);
        expect(w.quantization!.quantizedDimension).toBe(op.kind === 'depthwise_conv2d' ? 3 : 0);
      }
      if ('clamp' in op && 'clamp' in other) expect(other.clamp).toEqual(op.clamp);
      if ('padding' in op && 'padding' in other) expect(other.padding).toEqual(op.padding);
    });
    back.tensors.forEach((t, k) => {
      expect(t.shape).toEqual(ir.tensors[k].shape);
      expect(t.zeroPoint).toBe(ir.tensors[k].zeroPoint);
      expect(t.scale).toBe(Math.fround(ir.tensors[k].scale));
    });
  });

  it('counts exactly the multipliers TFLite Micro derives differently from the float32 scales', () => {
    let differing = 0;
    let total = 0;
    ir.ops.forEach((op) => {
      if (!('requant' in op)) return;
      const sIn = Math.fround(ir.tensors[op.input].scale);
      const sOut = Math.fround(ir.tensors[op.output].scale);
      op.requant.weightScale.forEach((ws, c) => {
        total++;
        const q = quantizeMultiplier((sIn * Math.fround(ws)) / sOut);
        if (q.multiplier !== op.requant.multiplier[c] || q.shift !== op.requant.shift[c]) differing++;
      });
    });
    expect(exported.multipliers).toBe(total);
    expect(exported.differingMultipliers).toBe(differing);
  });

  it('refuses a clamp that is no fused activation', () => {
    const bad = structuredClone(ir) as IrModel;
    const conv = bad.ops.find((o) => o.kind === 'conv2d')!;
    if (conv.kind === 'conv2d') conv.clamp = { min: -100, max: 100 };
    expect(() => exportTflite(bad)).toThrow(UserError);
    expect(() => exportTflite(bad)).toThrow(/clamp \[-100, 100\] is no fused activation TFLite has/);
  });
});

describe.skipIf(!present)('tinyforge export <config> --tflite <file>', () => {
  it('writes the model-file config\'s model as a .tflite that imports to the same IR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-export-'));
    copyFileSync(join(conformanceRoot, 'ops', 'add_residual', 'model.tflite'), join(dir, 'residual.tflite'));
    writeFileSync(join(dir, 'residual.json'), JSON.stringify({ model: { file: 'residual.tflite' }, output: { dir: join(dir, 'out') } }));
    const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
    const target = join(dir, 'exported.tflite');
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((done) => {
      execFile(process.execPath, [tsxCli, resolve('src/cli.ts'), 'export', join(dir, 'residual.json'), '--tflite', target], (err, stdout) => {
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout });
      });
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote .*exported\.tflite \(\d+ bytes, 2 ops\)\nTFLite Micro derives all 16 multipliers exactly as the IR holds them/);
    const original = importTflite(readFileSync(join(dir, 'residual.tflite')), { label: 'a' });
    expect(arithmetic(importTflite(readFileSync(target), { label: 'b' }))).toEqual(arithmetic(original));
  }, 60_000);
});
