// New quantizations export exactly: with float32 scales the quantizer derives every multiplier,
// bias, zero point and clamp the way TFLite Micro derives them from the .tflite, so importing the
// export gives the same IR arithmetic and the same reference outputs. Small untrained zoo models
// (random weights, calibrated on real images) cover conv, depthwise, pools, the global average
// pool, dense stacks, ReLU and ReLU6.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { loadDataset } from '../src/data/datasets.js';
import { compareArithmetic } from '../src/export/compare.js';
import { exactness, exportTflite } from '../src/export/export.js';
import { importTflite } from '../src/import/import.js';
import type { IrModel } from '../src/ir/types.js';
import { createModel } from '../src/models/factory.js';
import { buildSpec } from '../src/models/zoo.js';
import { quantizeModel } from '../src/pipeline/quantize-stage.js';
import { pixelsToInput, runReference } from '../src/reference/interpreter.js';
import { initBackend } from '../src/train/backend.js';
import { setLogLevel } from '../src/util/log.js';

beforeAll(async () => {
  setLogLevel('warn');
  await initBackend('wasm');
});

function smallConfig(architecture: Config['model']['architecture'], activation: Config['model']['activation']): Config {
  const c = loadConfig('configs/default.json');
  c.model.architecture = architecture;
  c.model.activation = activation;
  c.dataset.trainLimit = 400;
  c.dataset.testLimit = 30;
  c.quantization.calibration.samples = 200;
  return c;
}

const cases: [Config['model']['architecture'], Config['model']['activation']][] = [
  ['separable-cnn', 'relu6'],
  ['bottleneck-cnn', 'relu'],
  ['lenet5', 'relu6'],
  ['mlp', 'relu'],
];

describe('quantize -> export -> import', () => {
  it.each(cases)('%s (%s): the imported IR has the same arithmetic and reference outputs', (architecture, activation) => {
    const c = smallConfig(architecture, activation);
    const data = loadDataset(c.dataset);
    const model = createModel(buildSpec(c.model), 7);
    const ir = quantizeModel(c, model, data, null);
    const back = importTflite(exportTflite(ir, architecture).bytes, { label: `${architecture}.tflite` });
    // Multipliers, shifts, biases, zero points, weights, clamps, shapes: all equal.
    expect(compareArithmetic(ir, back)).toEqual({ mismatches: [], differingMultipliers: 0 });
    ir.ops.forEach((op, i) => {
      const b = back.ops[i];
      if ('requant' in op && 'requant' in b) {
        expect(b.requant.multiplier, op.name).toEqual(op.requant.multiplier);
        expect(b.requant.shift, op.name).toEqual(op.requant.shift);
        expect(b.bias, op.name).toEqual(op.bias);
      }
    });
    expect(sameOutputs(ir, back, data.test.images, data.test.count)).toBe(true);

    // The old float64 quantization of the same model does not export exactly: the check can fail.
    const old = quantizeModel(c, model, data, null, 'float64');
    expect(exactness(old).differingMultipliers).toBeGreaterThan(0);
    model.dispose();
  }, 60_000);
});

function sameOutputs(a: IrModel, b: IrModel, images: Uint8Array, count: number): boolean {
  for (let i = 0; i < count; i++) {
    const x = pixelsToInput(a, images.subarray(i * 784, (i + 1) * 784));
    const [ya, yb] = [runReference(a, x), runReference(b, x)];
    if (ya.some((v, k) => v !== yb[k])) return false;
  }
  return true;
}
