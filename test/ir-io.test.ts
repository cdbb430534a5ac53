// IR JSON: the round trip is lossless, the schema file cannot drift from the TS schema, and
// every kind of malformed document is rejected with an error naming the file and the JSON path.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { irFromJson, irToJson, loadIr, saveIr } from '../src/ir/io.js';
import { irJsonSchema } from '../src/ir/schema.js';
import { IrValidationError } from '../src/ir/validate.js';
import { UserError } from '../src/util/errors.js';
import { randomIr } from './helpers/random-ir.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

const dir = mkdtempSync(join(tmpdir(), 'tinyforge-ir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The document as it comes back from disk. */
function diskDoc(seed: number): Doc {
  return JSON.parse(JSON.stringify(irToJson(randomIr(seed))));
}

describe('IR JSON round trip', () => {
  it('irFromJson(irToJson(x)) deep-equals x for random IRs', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const ir = randomIr(seed);
      expect(irFromJson(JSON.parse(JSON.stringify(irToJson(ir))), `seed-${seed}.ir.json`)).toEqual(ir);
    }
    const cnn = randomIr(1, { architecture: 'mnist-cnn' });
    expect(irFromJson(JSON.parse(JSON.stringify(irToJson(cnn))), 'cnn.ir.json')).toEqual(cnn);
  });

  it('keeps optional metadata and exact doubles', () => {
    const ir = randomIr(2);
    ir.metadata.floatTestAccuracy = 0.9873;
    ir.metadata.calibration.percentile = 99.99;
    // One ulp away from what randomIr drew: the exact double must survive the text round trip.
    const conv = ir.ops[0] as { requant: { weightScale: Float64Array } };
    const before = conv.requant.weightScale[0];
    conv.requant.weightScale[0] = before * (1 + Number.EPSILON);
    expect(conv.requant.weightScale[0]).not.toBe(before);
    expect(irFromJson(JSON.parse(JSON.stringify(irToJson(ir))), 'x.ir.json')).toEqual(ir);
  });

  it('stores weights as base64 and per-channel arrays as plain integers', () => {
    const doc = diskDoc(3);
    const ir = randomIr(3);
    const conv = ir.ops[0] as { weights: Int8Array; bias: Int32Array };
    expect(doc.ops[0].weights).toBe(Buffer.from(conv.weights.buffer).toString('base64'));
    expect(doc.ops[0].bias).toEqual(Array.from(conv.bias));
  });

  it('saveIr/loadIr write and read a file atomically', () => {
    const path = join(dir, 'sub', 'model.ir.json');
    const ir = randomIr(5);
    saveIr(path, ir);
    expect(loadIr(path)).toEqual(ir);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('saveIr refuses an invalid IR and writes nothing', () => {
    const path = join(dir, 'bad.ir.json');
    const ir = randomIr(5);
    ir.tensors[1].zeroPoint = 300;
    expect(() => saveIr(path, ir)).toThrow(/\/tensors\/1\/zeroPoint/);
    expect(existsSync(path)).toBe(false);
  });

  it('loadIr names the file when it is missing or not JSON', () => {
    expect(() => loadIr(join(dir, 'missing.ir.json'))).toThrow(/missing\.ir\.json: IR file not found/);
    const path = join(dir, 'garbage.ir.json');
    writeFileSync(path, '{ "irVersion": 1, ');
    expect(() => loadIr(path)).toThrow(/garbage\.ir\.json: expected a JSON document, found invalid JSON/);
  });
});

describe('schema/ir.schema.json', () => {
  it('is the same schema as src/ir/schema.ts', () => {
    const file = JSON.parse(readFileSync(new URL('../schema/ir.schema.json', import.meta.url), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(irJsonSchema)));
  });
});

describe('malformed IRs are rejected with the file and the JSON path', () => {
  // randomIr(1): ops conv2d, depthwise_conv2d, max_pool2d, conv2d, avg_pool2d, reshape,
  // fully_connected; tensors 0 (input) .. 7 (logits), op i writes tensor i + 1.
  const cases: { name: string; path: string; mention?: RegExp; mutate: (d: Doc) => Doc | void }[] = [
    { name: 'missing field', path: '/ops/0/stride', mention: /required/, mutate: (d) => void delete d.ops[0].stride },
    { name: 'missing top-level field', path: '/metadata', mutate: (d) => void delete d.metadata },
    { name: 'wrong type', path: '/tensors/0/scale', mention: /expected number, found string "0.1"/, mutate: (d) => void (d.tensors[0].scale = '0.1') },
    { name: 'wrong type (array)', path: '/ops/0/bias', mention: /expected array/, mutate: (d) => void (d.ops[0].bias = 5) },
    { name: 'newer version', path: '/irVersion', mention: /newer tinyforge/, mutate: (d) => void (d.irVersion = 3) },
    { name: 'bad version', path: '/irVersion', mention: /expected one of 1, 2, found number 0/, mutate: (d) => void (d.irVersion = 0) },
    { name: 'version 1 without pixelOffset', path: '/input/pixelOffset', mutate: (d) => void ((d.irVersion = 1), delete d.input.pixelOffset) },
    {
      name: 'wrong weight length',
      path: '/ops/0/weights',
      mention: /expected 36 values \(OHWI 6x3x1x2\), found 35/,
      mutate: (d) => void (d.ops[0].weights = Buffer.from(d.ops[0].weights, 'base64').subarray(1).toString('base64')),
    },
    { name: 'weight -128', path: '/ops/0/weights', mention: /\[-127, 127\]/, mutate: (d) => {
      const w = Buffer.from(d.ops[0].weights, 'base64');
      w[0] = 0x80;
      d.ops[0].weights = w.toString('base64');
    } },
    { name: 'invalid base64', path: '/ops/0/weights', mention: /base64/, mutate: (d) => void (d.ops[0].weights = 'not base64!') },
    { name: 'bad tensor id', path: '/ops/1/input', mention: /tensor/, mutate: (d) => void (d.ops[1].input = 99) },
    { name: 'bad output tensor id', path: '/output/tensor', mutate: (d) => void (d.output.tensor = 42) },
    { name: 'duplicate tensor id', path: '/tensors/2/id', mention: /unique/, mutate: (d) => void (d.tensors[2].id = 1) },
    { name: 'zero point out of range', path: '/tensors/1/zeroPoint', mention: /<= 127, found number 200/, mutate: (d) => void (d.tensors[1].zeroPoint = 200) },
    { name: 'zero scale', path: '/tensors/1/scale', mention: /> 0/, mutate: (d) => void (d.tensors[1].scale = 0) },
    { name: 'shape mismatch', path: '/ops/0/output', mention: /shape/, mutate: (d) => void (d.tensors[1].shape[0] += 1) },
    { name: 'unknown op kind', path: '/ops/2/kind', mention: /conv2d/, mutate: (d) => void (d.ops[2].kind = 'conv3d') },
    { name: 'unknown field', path: '/ops/0/extra', mention: /unknown field/, mutate: (d) => void (d.ops[0].extra = 1) },
    { name: 'clamp min > max', path: '/ops/0/clamp', mention: /min <= max/, mutate: (d) => void (d.ops[0].clamp = { min: 10, max: 0 }) },
    { name: 'clamp outside int8', path: '/ops/0/clamp/max', mutate: (d) => void (d.ops[0].clamp.max = 128) },
    { name: 'bias length', path: '/ops/0/bias', mention: /one int32 per output channel/, mutate: (d) => void d.ops[0].bias.pop() },
    { name: 'multiplier count', path: '/ops/3/requant/shift', mutate: (d) => void d.ops[3].requant.shift.push(0) },
    { name: 'dead op', path: '/ops/0/output', mention: /read by a later op/, mutate: (d) => void (d.ops[1].input = 0) },
    { name: 'ops out of order', path: '/ops/1/input', mention: /topological/, mutate: (d) => void ([d.ops[1], d.ops[2]] = [d.ops[2], d.ops[1]]) },
    { name: 'requant disagrees with scales', path: '/ops/0/requant/multiplier/0', mention: /inputScale \* weightScale/, mutate: (d) => void (d.ops[0].requant.shift[0] += 1) },
    { name: 'shift out of range', path: '/ops/0/requant/shift/0', mutate: (d) => void (d.ops[0].requant.shift[0] = 31) },
    { name: 'padding as large as the window', path: '/ops/2/padding/top', mention: /less than the pool size/, mutate: (d) => void (d.ops[2].padding.top = d.ops[2].pool[0]) },
    { name: 'pool changes quantization', path: '/ops/2/output', mention: /does not requantize/, mutate: (d) => void (d.tensors[3].scale *= 2) },
    { name: 'numClasses mismatch', path: '/output/numClasses', mutate: (d) => void (d.output.numClasses = 9) },
    { name: 'output not the last op', path: '/output/tensor', mention: /last op/, mutate: (d) => void (d.output.tensor = 3) },
    { name: 'pixel offset', path: '/input/pixelOffset', mutate: (d) => void (d.input.pixelOffset = 0) },
    { name: 'kernel not a pair', path: '/ops/0/kernel', mention: /at most 2 items/, mutate: (d) => void d.ops[0].kernel.push(1) },
    { name: 'not an object', path: '/', mention: /found an array/, mutate: () => [] },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.path}`, () => {
      const doc = diskDoc(1);
      const replaced = c.mutate(doc);
      const bad = replaced === undefined ? doc : replaced;
      let error: unknown;
      try {
        irFromJson(bad, 'bad.ir.json');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UserError);
      const message = (error as Error).message;
      const line = message.split('\n').find((l) => l.startsWith(`bad.ir.json: ${c.path}: expected `));
      expect(line, message).toBeDefined();
      if (c.mention) expect(line).toMatch(c.mention);
    });
  }

  it('lists several problems at once, each with its path', () => {
    const doc = diskDoc(1);
    doc.tensors[1].zeroPoint = 999;
    doc.ops[0].kernel = 'three';
    let error: unknown;
    try {
      irFromJson(doc, 'multi.ir.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IrValidationError);
    const paths = (error as IrValidationError).problems.map((p) => p.path);
    expect(paths).toContain('/tensors/1/zeroPoint');
    expect(paths).toContain('/ops/0/kernel');
  });
});
