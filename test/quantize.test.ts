import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { loadDataset } from '../src/data/datasets.js';
import { validateIr } from '../src/ir/validate.js';
import { compareArithmetic } from '../src/export/compare.js';
import { exportTflite } from '../src/export/export.js';
import { importTflite } from '../src/import/import.js';
import { readFloatGraph, explicitPadding, type FloatWeightedOp } from '../src/quantize/float-graph.js';
import { roundHalfAwayFromZero as roundHalfAway } from '../src/quantize/multiplier.js';
import { activationClamp, activationQuant, quantizeWeights } from '../src/quantize/quantize.js';
import { quantizeModel } from '../src/pipeline/quantize-stage.js';
import { evaluateReference } from '../src/reference/interpreter.js';
import { initBackend } from '../src/train/backend.js';
import { accuracyOf, predictClasses, toFloatImages, trainModel } from '../src/train/train.js';
import { setLogLevel } from '../src/util/log.js';

beforeAll(async () => {
  setLogLevel('warn');
  await initBackend('wasm');
});

describe('activation quantization (asymmetric, per tensor)', () => {
  it('maps a ReLU range [0, 6] onto the full int8 range with zero point -128', () => {
    const q = activationQuant({ min: 0, max: 6 });
    expect(q.scale).toBe(Math.fround(6 / 255));
    expect(q.zeroPoint).toBe(-128);
  });
  it('keeps scales float32 (what a .tflite stores), or float64 as before when asked', () => {
    expect(activationQuant({ min: -0.3, max: 1.7 }).scale).toBe(Math.fround(2 / 255));
    expect(activationQuant({ min: -0.3, max: 1.7 }, 'float64').scale).toBe(2 / 255);
    expect(Math.fround(2 / 255)).not.toBe(2 / 255);
  });
  it('widens a range to include zero', () => {
    const q = activationQuant({ min: 2, max: 4 });
    expect(q.scale).toBeCloseTo(4 / 255, 8);
    expect(q.zeroPoint).toBe(-128);
  });
  it('rounds the zero point half away from zero, like std::round', () => {
    // [-1, 1]: zero point = -128 - (-1) / (2/255) = -0.5 -> -1
    expect(activationQuant({ min: -1, max: 1 }).zeroPoint).toBe(-1);
    expect(roundHalfAway(-2.5)).toBe(-3);
    expect(roundHalfAway(2.5)).toBe(3);
  });
  it('turns ReLU and ReLU6 into clamps in the int8 domain', () => {
    const q = { scale: 0.05, zeroPoint: -20 };
    expect(activationClamp('relu', q)).toEqual({ min: -20, max: 127 });
    expect(activationClamp('relu6', q)).toEqual({ min: -20, max: 100 }); // -20 + 6 / 0.05
    expect(activationClamp('linear', q)).toEqual({ min: -128, max: 127 });
  });
});

describe('weights (symmetric, per output channel)', () => {
  const op = (kind: FloatWeightedOp['kind'], weights: number[], outChannels: number): FloatWeightedOp => ({
    kind, name: 'w', inputShape: [], outputShape: [], outputLayer: 'w', kernel: [1, 1], stride: [1, 1],
    padding: { top: 0, left: 0, bottom: 0, right: 0 }, depthMultiplier: 1, weights: Float32Array.from(weights),
    bias: new Float32Array(outChannels), outChannels, activation: 'linear',
  });

  it('gives each output channel its own scale (outermost index for conv/dense)', () => {
    // Two output channels of two weights each: max |w| is 0.5 and 2.
    const { weights, scales } = quantizeWeights(op('fully_connected', [0.5, -0.25, 1, -2], 2));
    expect(scales[0]).toBe(Math.fround(0.5 / 127));
    expect(scales[1]).toBe(Math.fround(2 / 127));
    expect(Array.from(weights)).toEqual([127, -64, 64, -127]); // -0.25/(0.5/127) = -63.5 -> -64
  });

  it('uses the innermost index for depthwise weights', () => {
    // [1, 1, 2, C=2]: channel of element i is i % 2.
    const { weights } = quantizeWeights(op('depthwise_conv2d', [1, 4, -0.5, -2], 2));
    expect(Array.from(weights)).toEqual([127, 127, -64, -64]);
  });

  it('keeps an all-zero channel at zero with a positive scale', () => {
    const { weights, scales } = quantizeWeights(op('fully_connected', [0, 0, 1, 1], 2));
    expect(scales[0]).toBeGreaterThan(0);
    expect(Array.from(weights)).toEqual([0, 0, 127, 127]);
  });
});

describe('padding', () => {
  it('resolves TF "same" padding, extra padding after', () => {
    expect(explicitPadding('same', [28, 28], [3, 3], [1, 1])).toEqual({ top: 1, left: 1, bottom: 1, right: 1 });
    expect(explicitPadding('same', [28, 28], [3, 3], [2, 2])).toEqual({ top: 0, left: 0, bottom: 1, right: 1 });
    expect(explicitPadding('same', [7, 7], [2, 2], [2, 2])).toEqual({ top: 0, left: 0, bottom: 1, right: 1 });
    expect(explicitPadding('valid', [7, 7], [3, 3], [1, 1])).toEqual({ top: 0, left: 0, bottom: 0, right: 0 });
  });
});

describe('batch-norm folding', () => {
  it('the folded conv computes what conv + batch norm + ReLU computed', () => {
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape: [5, 5, 2] }));
    model.add(tf.layers.conv2d({ name: 'c', filters: 3, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) }));
    model.add(tf.layers.batchNormalization({ name: 'c_bn', epsilon: 1e-3 }));
    model.add(tf.layers.reLU({ name: 'c_act' }));
    model.add(tf.layers.flatten({ name: 'f' }));
    model.add(tf.layers.dense({ name: 'd', units: 2 }));
    const bn = model.getLayer('c_bn');
    bn.setWeights([tf.tensor([1.5, -0.5, 2]), tf.tensor([0.1, 0.2, -0.3]), tf.tensor([0.3, -0.1, 0.05]), tf.tensor([0.5, 2, 0.01])]);
    const graph = readFloatGraph(model);
    const conv = graph.ops[0] as FloatWeightedOp;
    expect(conv.activation).toBe('relu');
    expect(conv.outputLayer).toBe('c_act');
    // bias = beta - mean * gamma / sqrt(var + eps), channel 0: 0.1 - 0.3 * 1.5 / sqrt(0.501)
    expect(conv.bias[0]).toBeCloseTo(0.1 - (0.3 * 1.5) / Math.sqrt(0.501), 5);
    // Recompute the layer from the folded OHWI weights and compare with tfjs's output.
    const x = tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 2);
    const hwio = tf.tensor4d(conv.weights, [3, 3, 3, 2]).transpose([1, 2, 3, 0]) as tf.Tensor4D;
    const folded = tf.relu(tf.conv2d(x as tf.Tensor4D, hwio, 1, 'same').add(tf.tensor1d(conv.bias)));
    const taps = tf.model({ inputs: model.inputs, outputs: model.getLayer('c_act').output as tf.SymbolicTensor });
    const expected = (taps.predict(x) as tf.Tensor).dataSync();
    const actual = folded.dataSync();
    for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], 4);
    // The dense layer's kernel was transposed to [out, in].
    const dense = graph.ops[2] as FloatWeightedOp;
    const kernel = model.getLayer('d').getWeights()[0].dataSync();
    expect(dense.weights[1 * 75 + 4]).toBeCloseTo(kernel[4 * 2 + 1], 6);
  });
});

describe('post-training quantization of a trained model', () => {
  it('keeps the int8 reference close to the float model', async () => {
    const c = loadConfig('configs/default.json');
    c.dataset.trainLimit = 3000;
    c.dataset.testLimit = 500;
    c.training.epochs = 2;
    c.training.batchSize = 32;
    c.quantization.calibration.samples = 300;
    const data = loadDataset(c.dataset);
    const trained = await trainModel(c, data, { backend: 'wasm', trainingHash: 't' });
    const ir = quantizeModel(c, trained.model, data, trained.metrics);
    expect(() => validateIr(ir, 'test')).not.toThrow();
    // Trained, it still exports exactly (float32 scales): the .tflite re-imports as this IR.
    const back = importTflite(exportTflite(ir, 'trained').bytes, { label: 'trained.tflite' });
    expect(compareArithmetic(ir, back)).toEqual({ mismatches: [], differingMultipliers: 0 });
    expect(ir.ops.map((o) => o.kind)).toEqual([
      'conv2d', 'max_pool2d', 'conv2d', 'max_pool2d', 'conv2d', 'max_pool2d', 'reshape', 'fully_connected',
    ]);
    const float = predictClasses(trained.model, toFloatImages(data.test), data.test.count, [28, 28, 1]);
    const int8 = evaluateReference(ir, data.test.images, data.test.labels);
    let agree = 0;
    for (let i = 0; i < float.length; i++) if (float[i] === int8.predictions[i]) agree++;
    expect(agree / float.length).toBeGreaterThan(0.95);
    expect(Math.abs(accuracyOf(float, data.test.labels) - int8.accuracy)).toBeLessThan(0.03);
  });
});
