// Every conformance model (../shared/conformance: 3 real TFLM examples + 21 single-op models)
// imports into a valid IR whose ops, shapes and I/O quantization match the model's meta.json.
// Where the existing reference kernels cover a model's ops (conv, depthwise, FC, pools,
// reshape), the imported arithmetic is checked bit for bit against TensorFlow Lite Micro's
// golden outputs (or, for models ending in SOFTMAX, against the logits that feed it): this pins
// the multipliers, shifts, clamps and padding the importer derives.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importTflite } from '../src/import/import.js';
import { irShape } from '../src/import/context.js';
import { tensorSize, type IrModel, type OpKind } from '../src/ir/types.js';
import { findIrProblems } from '../src/ir/validate.js';
import { runReference } from '../src/reference/interpreter.js';

const root = new URL('../../shared/conformance/', import.meta.url).pathname;
const present = existsSync(root);
if (!present) console.warn(`import-conformance: ${root} is absent; skipping the conformance models`);

const models = present
  ? ['hello_world_int8', 'micro_speech_quantized', 'person_detect', ...readdirSync(`${root}ops`).filter((d) => existsSync(`${root}ops/${d}/meta.json`)).map((d) => `ops/${d}`)]
  : [];

const IR_KIND: Record<string, OpKind> = {
  CONV_2D: 'conv2d',
  DEPTHWISE_CONV_2D: 'depthwise_conv2d',
  FULLY_CONNECTED: 'fully_connected',
  MAX_POOL_2D: 'max_pool2d',
  AVERAGE_POOL_2D: 'avg_pool2d',
  RESHAPE: 'reshape',
  SQUEEZE: 'reshape',
  ADD: 'add',
  CONCATENATION: 'concatenation',
  PAD: 'pad',
  MEAN: 'mean',
  SOFTMAX: 'softmax',
  QUANTIZE: 'quantize',
  DEQUANTIZE: 'dequantize',
};

interface MetaTensor {
  shape: number[];
  dtype: string;
  scale?: number;
  zero_point?: number;
}

function load(model: string): { ir: IrModel; meta: { inputs: MetaTensor[]; outputs: MetaTensor[]; ops: { op: string }[]; N: number } } {
  const ir = importTflite(readFileSync(`${root}${model}/model.tflite`), { label: `${model}/model.tflite`, createdAt: 'test' });
  return { ir, meta: JSON.parse(readFileSync(`${root}${model}/meta.json`, 'utf8')) };
}

describe.skipIf(!present)('conformance models import', () => {
  it('finds the 24 models', () => expect(models.length).toBe(24));

  for (const model of models) {
    it(`${model}: valid IR, ops, shapes and I/O quantization as meta.json says`, () => {
      const { ir, meta } = load(model);
      expect(findIrProblems(ir)).toEqual([]);
      expect(ir.ops.map((o) => o.kind)).toEqual(meta.ops.map((o) => IR_KIND[o.op]));
      const inputs = [ir.input, ...(ir.extraInputs ?? [])].map((i) => ir.tensors[i.tensor]);
      const output = ir.tensors[ir.output.tensor];
      const pairs: [typeof output, MetaTensor][] = [...inputs.map((t, k): [typeof output, MetaTensor] => [t, meta.inputs[k]]), [output, meta.outputs[0]]];
      expect(inputs.length).toBe(meta.inputs.length);
      for (const [t, m] of pairs) {
        expect(t.shape).toEqual(irShape(m.shape));
        if (m.dtype.toLowerCase() === 'float32') {
          expect(t.dtype).toBe('float32');
        } else {
          expect(t.scale).toBe(Math.fround(m.scale!));
          expect(t.zeroPoint).toBe(m.zero_point);
        }
      }
    });
  }
});

const LAYER_KINDS = new Set<OpKind>(['conv2d', 'depthwise_conv2d', 'fully_connected', 'max_pool2d', 'avg_pool2d', 'reshape']);

/** A file's bytes as int8 (a copy: small files come back as slices of a shared pool). */
function readInt8(path: string): Int8Array {
  const bytes = readFileSync(path);
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice();
}

/** The IR without its final SOFTMAX, whose input (the logits) becomes the output. */
function withoutSoftmax(ir: IrModel): IrModel {
  const ops = ir.ops.slice(0, -1);
  const logits = ir.tensors[ops[ops.length - 1].output];
  return { ...ir, ops, output: { tensor: logits.id, numClasses: tensorSize(logits) } };
}

// Inferences to run: all of them except for person_detect (7 M MACs each in TypeScript), where the
// structured, a few random and the two real images are enough.
const PERSON_DETECT_SAMPLE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 64, 65];

describe.skipIf(!present)('imported arithmetic equals TFLite Micro (layer ops, existing reference kernels)', () => {
  for (const model of models) {
    const { ir } = present ? load(model) : { ir: undefined };
    const endsInSoftmax = ir !== undefined && ir.ops.length > 1 && ir.ops[ir.ops.length - 1].kind === 'softmax';
    const body = ir && (endsInSoftmax ? withoutSoftmax(ir) : ir);
    const runnable = body && !body.extraInputs && body.ops.every((o) => LAYER_KINDS.has(o.kind));
    it.skipIf(!runnable)(`${model}: every ${endsInSoftmax ? 'logit' : 'output'} byte equals the golden file`, () => {
      const { meta } = load(model);
      const inputs = readInt8(`${root}${model}/inputs.bin`);
      const golden = readInt8(`${root}${model}/${endsInSoftmax ? 'logits' : 'outputs'}.bin`);
      const inSize = tensorSize(body!.tensors[body!.input.tensor]);
      const outSize = tensorSize(body!.tensors[body!.output.tensor]);
      const indices = model === 'person_detect' ? PERSON_DETECT_SAMPLE : [...Array(meta.N).keys()];
      let mismatches = 0;
      for (const n of indices) {
        const out = runReference(body!, inputs.subarray(n * inSize, (n + 1) * inSize));
        const want = golden.subarray(n * outSize, (n + 1) * outSize);
        out.forEach((v, i) => void (v !== want[i] && mismatches++));
      }
      expect(mismatches).toBe(0);
    });
  }
});
