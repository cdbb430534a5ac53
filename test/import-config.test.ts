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
import { exportTflite } from '../src/export/export.js';
import { loadIr } from '../src/ir/io.js';
import { checkExpectedOutputs, predictedClasses, randomRecords, referenceOutputs, verifyInputs } from '../src/pipeline/imported-inputs.js';
import { loadDataset } from '../src/data/datasets.js';
import { evaluateReference } from '../src/reference/interpreter.js';
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

describe('verifying a model file on a dataset (model.verifyOn "dataset")', () => {
  // tinyforge's default model, exported as a .tflite (as `tinyforge export` writes it) and imported back.
  const committed = 'results/lightweight-vs-baselines/points/default/run/model.ir.json';
  const zoo = loadIr(committed);
  mkdirSync(join(dir, 'models'), { recursive: true });
  writeFileSync(join(dir, 'models', 'default.tflite'), exportTflite(zoo, committed).bytes);
  const mnist = { name: 'mnist', testLimit: 300 };

  it('runs the test images through the imported model: the zoo model\'s int8 inputs, its logits and accuracy', () => {
    const c = loadConfig(config('exported', { file: 'models/default.tflite', verifyOn: 'dataset' }, { dataset: mnist }));
    const ir = importTfliteFile(c.model.file!);
    const records = verifyInputs(c, ir);
    expect(records.count).toBe(300);
    expect(records.source).toBe('mnist test set (300 images)');
    const test = loadDataset(c.dataset).test;
    expect(Buffer.from(records.labels!).equals(Buffer.from(test.labels))).toBe(true);
    // Pixel p becomes p - 128: exactly what the zoo model's predict_u8 feeds its first layer.
    const zooInputs = Int8Array.from(test.images, (p) => p - 128);
    expect(Buffer.from(records.bytes).equals(Buffer.from(zooInputs.buffer))).toBe(true);
    // This committed IR was quantized with float64 scales, so TFLite's float32 multipliers move a
    // few logits by 1 (docs/export.md); every other logit is the zoo model's.
    const outputs = new Int8Array(referenceOutputs(ir, records).buffer);
    const asZoo = evaluateReference(zoo, test.images, test.labels);
    const moved = outputs.filter((v, i) => v !== asZoo.logits[i]).length;
    expect(outputs.every((v, i) => Math.abs(v - asZoo.logits[i]!) <= 1)).toBe(true);
    expect(moved).toBeLessThan(10);
    const correct = predictedClasses(ir, new Uint8Array(outputs.buffer)).reduce((n, k, i) => n + (k === test.labels[i] ? 1 : 0), 0);
    expect(Math.abs(correct / 300 - asZoo.accuracy)).toBeLessThanOrEqual(1 / 300);
    expect(correct / 300).toBeGreaterThan(0.95);
    expect(verifyInputs(c, ir, 20).count).toBe(20);
    expect(() => verifyInputs(c, ir, 301)).toThrow(/--images 301: the mnist test set has only 300 images/);
  });

  it('refuses a model that does not take the dataset\'s images, naming the field', () => {
    const c = loadConfig(config('kws-on-mnist', { file: 'models/conv_10x4_s2_same.tflite', verifyOn: 'dataset' }, { dataset: mnist }));
    expect(() => verifyInputs(c, importTfliteFile(c.model.file!))).toThrow(
      /kws-on-mnist\.json: \/model\/verifyOn: "dataset" needs a model that takes mnist's images, but its input is 49x10x1, the dataset's images are 28x28x1/,
    );
  });

  it('verifyOn must agree with model.inputs', () => {
    const both = loadConfig(config('both', { file: 'models/default.tflite', inputs: 'models/conv_10x4_s2_same.inputs.bin', verifyOn: 'dataset' }));
    expect(() => verifyInputs(both, importTfliteFile(both.model.file!))).toThrow(/both\.json: \/model\/verifyOn: "dataset" contradicts model\.inputs/);
    const none = loadConfig(config('none', { file: 'models/default.tflite', verifyOn: 'inputs' }));
    expect(() => verifyInputs(none, importTfliteFile(none.model.file!))).toThrow(/\/model\/verifyOn: "inputs" needs model\.inputs/);
  });
});
