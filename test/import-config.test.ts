// A config that names a .tflite model file: paths relative to the config, zoo hashes unchanged,
// the training commands refused, and the verify inputs (a raw tensor file, or seeded random
// records) with the reference's outputs for them, which on a conformance file must equal
// TensorFlow Lite Micro's golden outputs.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash, loadConfig } from '../src/config/load.js';
import { importTfliteFile } from '../src/import/file.js';
import { checkExpectedOutputs, randomRecords, referenceOutputs, verifyInputs } from '../src/pipeline/imported-inputs.js';
import { refuseModelFile } from '../src/pipeline/imported-stage.js';
import { conformanceRoot } from './helpers/tflite-spec.js';

const present = existsSync(conformanceRoot);
const dir = mkdtempSync(join(tmpdir(), 'tinyforge-import-config-'));

function config(name: string, model: object, extra: object = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ model, output: { dir: join(dir, 'out', name) }, ...extra }));
  return path;
}

describe.skipIf(!present)('model.file configs', () => {
  mkdirSync(join(dir, 'models'), { recursive: true });
  for (const m of ['conv_10x4_s2_same', 'quantize_fc_dequantize']) {
    copyFileSync(join(conformanceRoot, 'ops', m, 'model.tflite'), join(dir, 'models', `${m}.tflite`));
    copyFileSync(join(conformanceRoot, 'ops', m, 'inputs.bin'), join(dir, 'models', `${m}.inputs.bin`));
  }

  it('resolves model.file and model.inputs relative to the config', () => {
    const c = loadConfig(config('kws', { file: 'models/conv_10x4_s2_same.tflite', inputs: 'models/conv_10x4_s2_same.inputs.bin' }));
    expect(c.model.file).toBe(join(dir, 'models', 'conv_10x4_s2_same.tflite'));
    expect(c.model.inputs).toBe(join(dir, 'models', 'conv_10x4_s2_same.inputs.bin'));
  });

  it('names a missing model file with the config and the field', () => {
    expect(() => loadConfig(config('missing', { file: 'models/nope.tflite' }))).toThrow(/missing\.json: \/model\/file: file .*nope\.tflite not found/);
  });

  it('leaves the hash of every committed result point as it was (model-file fields are not hashed for zoo models)', () => {
    const points = join(new URL('..', import.meta.url).pathname, 'results');
    let checked = 0;
    for (const experiment of readdirSync(points)) {
      const at = join(points, experiment, 'points');
      if (!existsSync(at)) continue;
      for (const point of readdirSync(at)) {
        const summary = join(at, point, 'run', 'summary.json');
        if (!existsSync(summary)) continue;
        expect(configHash(loadConfig(join(at, point, `${point}.json`))), `${experiment}/${point}`).toBe(JSON.parse(readFileSync(summary, 'utf8')).configHash);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('verifies on the raw tensor file: the reference gives TFLM\'s golden outputs', () => {
    const c = loadConfig(config('kws2', { file: 'models/conv_10x4_s2_same.tflite', inputs: 'models/conv_10x4_s2_same.inputs.bin' }));
    const ir = importTfliteFile(c.model.file!);
    const records = verifyInputs(c, ir);
    expect(records.count).toBe(64);
    expect(records.recordBytes).toBe(490);
    const outputs = referenceOutputs(ir, records);
    expect(Buffer.from(outputs).equals(readFileSync(join(conformanceRoot, 'ops', 'conv_10x4_s2_same', 'outputs.bin')))).toBe(true);
  });

  it('model.outputs: the reference is checked byte for byte against another runtime\'s outputs', () => {
    const golden = join(conformanceRoot, 'ops', 'conv_10x4_s2_same', 'outputs.bin');
    copyFileSync(golden, join(dir, 'models', 'conv.outputs.bin'));
    const c = loadConfig(config('kws6', { file: 'models/conv_10x4_s2_same.tflite', inputs: 'models/conv_10x4_s2_same.inputs.bin', outputs: 'models/conv.outputs.bin' }));
    const ir = importTfliteFile(c.model.file!);
    const records = verifyInputs(c, ir);
    const reference = referenceOutputs(ir, records);
    expect(checkExpectedOutputs(c, ir, records, reference)).toMatchObject({ mismatches: 0, first: [] });
    const changed = new Uint8Array(readFileSync(golden));
    changed[3 * 2000 + 17] ^= 1; // one byte of input 3's output (2000 bytes per record)
    writeFileSync(join(dir, 'models', 'conv.outputs.bin'), changed);
    const result = checkExpectedOutputs(c, ir, records, reference)!;
    expect(result.mismatches).toBe(1);
    expect(result.first[0]).toMatchObject({ input: 3, differingBytes: 1, firstByte: 17 });
  });

  it('model.outputs needs model.inputs, and one record per input', () => {
    writeFileSync(join(dir, 'models', 'short.bin'), new Uint8Array(10));
    const c = loadConfig(config('kws7', { file: 'models/conv_10x4_s2_same.tflite', inputs: 'models/conv_10x4_s2_same.inputs.bin', outputs: 'models/short.bin' }));
    const ir = importTfliteFile(c.model.file!);
    const records = verifyInputs(c, ir);
    expect(() => checkExpectedOutputs(c, ir, records, referenceOutputs(ir, records))).toThrow(/short\.bin \(model\.outputs\): expected 64 records of 2000 bytes \(one per input record\), found 10 bytes/);
    const noInputs = loadConfig(config('kws8', { file: 'models/conv_10x4_s2_same.tflite', outputs: 'models/short.bin' }));
    expect(() => checkExpectedOutputs(noInputs, ir, verifyInputs(noInputs, ir), new Uint8Array(0))).toThrow(/expected outputs need the inputs they came from/);
  });

  it('refuses an input file that is not a whole number of records', () => {
    const bad = join(dir, 'models', 'bad.bin');
    writeFileSync(bad, new Uint8Array(491));
    const c = loadConfig(config('kws3', { file: 'models/conv_10x4_s2_same.tflite', inputs: 'models/bad.bin' }));
    const ir = importTfliteFile(c.model.file!);
    expect(() => verifyInputs(c, ir)).toThrow(/bad\.bin \(model\.inputs\): expected a whole number of 490-byte input records \(int8 49x10x1\), found 491 bytes/);
  });

  it('without inputs: seeded random records, the same for the same seed', () => {
    const c = loadConfig(config('kws4', { file: 'models/conv_10x4_s2_same.tflite', randomInputs: 5, inputSeed: 7 }));
    const ir = importTfliteFile(c.model.file!);
    const a = verifyInputs(c, ir);
    expect(a.count).toBe(5);
    expect(a.source).toBe('random (seed 7)');
    expect(Buffer.from(a.bytes).equals(Buffer.from(randomRecords(ir, 5, 7)))).toBe(true);
    expect(Buffer.from(a.bytes).equals(Buffer.from(randomRecords(ir, 5, 8)))).toBe(false);
  });

  it('random float32 inputs cover the QUANTIZE range and a margin beyond it', () => {
    const ir = importTfliteFile(join(dir, 'models', 'quantize_fc_dequantize.tflite'));
    const values = new Float32Array(randomRecords(ir, 20, 1).buffer);
    const q = ir.tensors[ir.ops[0].output];
    const [lo, hi] = [q.scale * (-128 - q.zeroPoint), q.scale * (127 - q.zeroPoint)];
    expect(Math.min(...values)).toBeLessThan(lo);
    expect(Math.max(...values)).toBeGreaterThan(hi);
  });

  it('the training commands refuse a model-file config, naming the field', () => {
    const c = loadConfig(config('kws5', { file: 'models/conv_10x4_s2_same.tflite' }));
    expect(() => refuseModelFile(c, 'train')).toThrow(/kws5\.json: \/model\/file: this config compiles a model file, so there is nothing to train/);
    expect(() => refuseModelFile(loadConfig(config('zoo3', {})), 'train')).not.toThrow();
  });
});
