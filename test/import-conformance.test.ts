// Every conformance model (../shared/conformance: 3 real TFLM examples + 21 single-op models)
// imports into a valid IR whose ops, shapes and I/O quantization match the model's meta.json.
// The imported arithmetic is checked bit for bit against TensorFlow Lite Micro's golden outputs,
// logits and intermediates by test/conformance-reference.test.ts (every model, every input).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importTflite } from '../src/import/import.js';
import { irShape } from '../src/import/context.js';
import type { IrModel, OpKind } from '../src/ir/types.js';
import { findIrProblems } from '../src/ir/validate.js';

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
