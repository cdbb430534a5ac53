// The libtorch backend (native/torch) against tfjs: forward outputs, loss gradients and
// batch-norm statistics of every zoo layer type on the cpu backend, and short training runs.
// Skipped, with a message, where the addon is not built (scripts/build-torch.sh builds it).
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { loadDataset } from '../src/data/datasets.js';
import { initBackend } from '../src/train/backend.js';
import { trainModel } from '../src/train/train.js';
import { addonPath, loadTorchAddon, type TorchAddon } from '../src/train/torch/addon.js';
import { describeModel } from '../src/train/torch/describe.js';
import { setLogLevel } from '../src/util/log.js';
import { Rng } from '../src/util/random.js';
import { relativeError as compare } from './helpers/compare.js';

const loaded = loadTorchAddon();
if (!loaded.ok) console.warn(`test/torch.test.ts skipped: ${loaded.reason}`);
const addon = (loaded.ok ? loaded.addon : undefined) as TorchAddon;

const L = tf.layers;
const seeded = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
/** Batch-norm layers with non-trivial gamma/beta/statistics, so that every term shows. */
const bn = (name: string) => L.batchNormalization({
  name, momentum: 0.9, epsilon: 1e-3,
  gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 7 }),
  betaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 8 }),
  movingMeanInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 9 }),
  movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 10 }),
});

/** Small models that together use every layer type and setting the zoo uses (and a few more). */
const models: Record<string, () => tf.layers.Layer[]> = {
  'conv2d same + batch norm + ReLU + max pool + dense': () => [
    L.conv2d({ name: 'c', filters: 4, kernelSize: 3, padding: 'same', useBias: false, ...seeded(1) }),
    bn('c_bn'), L.reLU({ name: 'c_act' }), L.maxPooling2d({ name: 'p', poolSize: 2, strides: 2 }),
    L.flatten({ name: 'f' }), L.dense({ name: 'd', units: 10, ...seeded(2) }),
  ],
  'conv2d valid 5x5 with bias + ReLU6 + avg pool': () => [
    L.conv2d({ name: 'c', filters: 3, kernelSize: 5, padding: 'valid', ...seeded(3) }),
    L.reLU({ name: 'c_act', maxValue: 6 }), L.averagePooling2d({ name: 'p', poolSize: 2, strides: 2 }),
    L.flatten({ name: 'f' }), L.dense({ name: 'd', units: 10, ...seeded(4) }),
  ],
  'conv2d same, stride 2, even kernel (asymmetric padding)': () => [
    L.conv2d({ name: 'c', filters: 3, kernelSize: 2, strides: 2, padding: 'same', ...seeded(5) }),
    L.flatten({ name: 'f' }), L.dense({ name: 'd', units: 10, ...seeded(6) }),
  ],
  'depthwise conv (multiplier 2) + batch norm + pointwise conv + global average pool': () => [
    L.conv2d({ name: 'stem', filters: 3, kernelSize: 3, padding: 'same', ...seeded(11) }),
    L.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2, useBias: false,
      depthwiseInitializer: tf.initializers.glorotUniform({ seed: 12 }) }),
    bn('dw_bn'), L.reLU({ name: 'dw_act' }),
    L.conv2d({ name: 'pw', filters: 5, kernelSize: 1, ...seeded(13) }),
    L.globalAveragePooling2d({ name: 'gap' }), L.dense({ name: 'd', units: 10, ...seeded(14) }),
  ],
  'flatten + dense + batch norm (per feature) + ReLU + dense': () => [
    L.flatten({ name: 'f' }), L.dense({ name: 'h', units: 16, useBias: false, ...seeded(15) }), bn('h_bn'),
    L.reLU({ name: 'h_act' }), L.dense({ name: 'd', units: 10, ...seeded(16) }),
  ],
};

const H = 8;
const W = 8;
const BATCH = 6;

function build(layers: tf.layers.Layer[]): tf.LayersModel {
  const model = tf.sequential();
  model.add(L.inputLayer({ inputShape: [H, W, 1] }));
  layers.forEach((l) => model.add(l));
  return model;
}

function batch(seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  return {
    x: Float32Array.from({ length: BATCH * H * W }, () => rng.uniform(-1, 1)),
    y: Int32Array.from({ length: BATCH }, () => Math.floor(rng.uniform(0, 10))),
  };
}

function newNetwork(model: tf.LayersModel, optimizer: 'adam' | 'sgd' | 'rmsprop' = 'adam') {
  return new addon.Network({
    inputShape: [H, W, 1], layers: describeModel(model), optimizer: { name: optimizer, momentum: 0.9 }, threads: 1, seed: 1,
  });
}

/** Errors relative to the reference's largest magnitude, at least 1 (logits and gradients here are O(1)). */
const relativeError = (actual: ArrayLike<number>, expected: ArrayLike<number>) => compare(actual, expected, 1);

/** The layers the addon builds, in its order (the input layer has no counterpart). */
const computing = (model: tf.LayersModel) => model.layers.filter((l) => l.getClassName() !== 'InputLayer');

function trainable(model: tf.LayersModel): Array<{ layer: number; index: number; variable: tf.Variable }> {
  const out: Array<{ layer: number; index: number; variable: tf.Variable }> = [];
  computing(model).forEach((layer, i) => {
    // Layer weights in getWeights() order: trainable first (kernel, bias / gamma, beta).
    layer.trainableWeights.forEach((w, j) => out.push({ layer: i, index: j, variable: w.read() as tf.Variable }));
  });
  return out;
}

describe.skipIf(!loaded.ok)('libtorch backend: layers against tfjs (cpu)', () => {
  beforeAll(async () => {
    setLogLevel('warn');
    await initBackend('cpu');
  });

  for (const [name, layers] of Object.entries(models)) {
    it(`${name}: inference logits, loss, gradients and batch-norm statistics match`, () => {
      const model = build(layers());
      const net = newNetwork(model);
      const { x, y } = batch(name.length);
      const xTensor = tf.tensor(x, [BATCH, H, W, 1]);

      // Inference: moving batch-norm statistics, no dropout.
      const expected = (model.predict(xTensor) as tf.Tensor).dataSync();
      expect(relativeError(net.predict(x, BATCH), expected)).toBeLessThan(1e-5);

      // Training mode: batch statistics; gradients of the mean softmax cross-entropy.
      const got = net.gradients(x, y, BATCH);
      const input = tf.variable(xTensor);
      const weights = trainable(model);
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(input, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y, 'int32'), 10), logits) as tf.Scalar;
      }, [input, ...weights.map((w) => w.variable)]);
      expect(Math.abs(got.loss - value.dataSync()[0])).toBeLessThan(1e-5);
      expect(relativeError(got.input, grads[input.name].dataSync())).toBeLessThan(1e-4);
      for (const w of weights) {
        expect(relativeError(got.weights[w.layer][w.index], grads[w.variable.name].dataSync()), w.variable.name).toBeLessThan(1e-4);
      }
      // Both forward passes in training mode updated the moving statistics the same way.
      const after = net.weights();
      computing(model).forEach((layer, i) => layer.getWeights().forEach((t, j) => {
        expect(relativeError(after[i][j], t.dataSync()), `${layer.name} weight ${j}`).toBeLessThan(1e-5);
      }));
      model.dispose();
    });
  }

  it('weights survive the trip to libtorch and back bit for bit (layouts)', () => {
    const model = build(models['depthwise conv (multiplier 2) + batch norm + pointwise conv + global average pool']());
    const back = newNetwork(model).weights();
    computing(model).forEach((layer, i) => layer.getWeights().forEach((t, j) => {
      expect(Array.from(back[i][j])).toEqual(Array.from(t.dataSync()));
    }));
    model.dispose();
  });

  it('dropout: identity in inference, rate-scaled masks in training', () => {
    const model = build([L.flatten({ name: 'f' }), L.dropout({ name: 'drop', rate: 0.5 }), L.dense({ name: 'd', units: 10, ...seeded(17) })]);
    const net = newNetwork(model);
    const { x, y } = batch(3);
    expect(relativeError(net.predict(x, BATCH), (model.predict(tf.tensor(x, [BATCH, H, W, 1])) as tf.Tensor).dataSync())).toBeLessThan(1e-5);
    // d loss / d x through a dropout mask: zero where dropped; about half the inputs are.
    const g = net.gradients(x, y, BATCH).input;
    const dropped = g.filter((v) => v === 0).length / g.length;
    expect(dropped).toBeGreaterThan(0.35);
    expect(dropped).toBeLessThan(0.65);
    model.dispose();
  });

  for (const optimizer of ['adam', 'sgd', 'rmsprop'] as const) {
    it(`${optimizer}: three steps move the weights as tfjs's optimizer does`, async () => {
      const layers = models['flatten + dense + batch norm (per feature) + ReLU + dense'];
      const model = build(layers());
      const net = newNetwork(model, optimizer);
      const reference = build(layers());
      const opt = optimizer === 'adam' ? tf.train.adam(0.01)
        : optimizer === 'sgd' ? tf.train.momentum(0.01, 0.9, true) : tf.train.rmsprop(0.01, 0.9, 0.9);
      for (let step = 0; step < 3; step++) {
        const { x, y } = batch(100 + step);
        await net.trainStep(x, y, BATCH, 0.01);
        opt.minimize(() => tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d(y, 'int32'), 10), reference.apply(tf.tensor(x, [BATCH, H, W, 1]), { training: true }) as tf.Tensor,
        ) as tf.Scalar);
      }
      const after = net.weights();
      computing(reference).forEach((layer, i) => layer.getWeights().forEach((t, j) => {
        expect(relativeError(after[i][j], t.dataSync()), `${layer.name} weight ${j}`).toBeLessThan(1e-4);
      }));
      model.dispose();
      reference.dispose();
    });
  }
});

function shortRun(over: (c: Config) => void = () => {}): Config {
  const c = loadConfig('configs/default.json');
  Object.assign(c.dataset, { trainLimit: 400, testLimit: 300 });
  Object.assign(c.training, { epochs: 2, batchSize: 32 });
  over(c);
  return c;
}

describe.skipIf(!loaded.ok)('libtorch backend: training', () => {
  beforeAll(async () => {
    setLogLevel('warn');
  });

  it('a short run reaches the accuracy wasm reaches, and repeats exactly with the same seed', async () => {
    const c = shortRun();
    const data = loadDataset(c.dataset);
    await initBackend('torch');
    const first = await trainModel(c, data, { backend: 'torch', trainingHash: 't' });
    const again = await trainModel(c, data, { backend: 'torch', trainingHash: 't' });
    await initBackend('wasm');
    // One thread: data-parallel wasm normalises each worker's half batch on its own (other maths).
    process.env.TINYFORGE_WASM_THREADS = '1';
    const wasm = await trainModel(c, data, { backend: 'wasm', trainingHash: 't' }).finally(() => delete process.env.TINYFORGE_WASM_THREADS);
    expect(first.metrics.backend).toBe('torch');
    // Same maths, same seeded data and initial weights: the curves agree to float rounding.
    expect(Math.abs(first.history[1].loss - wasm.history[1].loss)).toBeLessThan(0.02);
    expect(Math.abs(first.metrics.floatTestAccuracy - wasm.metrics.floatTestAccuracy)).toBeLessThan(0.03);
    expect(first.metrics.floatTestAccuracy).toBeGreaterThan(0.5);
    // Repeatable on one backend and thread count: identical losses and weights.
    expect(again.history.map((h) => h.loss)).toEqual(first.history.map((h) => h.loss));
    const weights = (r: typeof first) => r.model.getWeights().flatMap((t) => Array.from(t.dataSync()));
    expect(weights(again)).toEqual(weights(first));
    [first, again, wasm].forEach((r) => r.model.dispose());
  }, 120_000);

  it("a failing step rejects with libtorch's message, and the network's step thread trains on", async () => {
    const model = build(models['flatten + dense + batch norm (per feature) + ReLU + dense']());
    const net = newNetwork(model);
    const { x, y } = batch(1);
    const outOfRange = Int32Array.from(y, (label, i) => (i === 0 ? 10 : label));
    await expect(net.trainStep(x, outOfRange, BATCH, 0.01)).rejects.toThrow(/10|out of bounds|Target/);
    const ok = await net.trainStep(x, y, BATCH, 0.01);
    expect(Number.isFinite(ok.loss)).toBe(true);
    model.dispose();
  });

  it('a process that trained on the addon exits by itself (the step thread holds no event-loop reference when idle)', () => {
    const script = `
      const addon = require(${JSON.stringify(addonPath())});
      const net = new addon.Network({ inputShape: [2, 2, 1], optimizer: { name: 'adam', momentum: 0 }, threads: 1, seed: 1,
        layers: [{ type: 'flatten', name: 'f' }, { type: 'dense', name: 'd', weights: [
          { shape: [4, 3], data: new Float32Array(12).fill(0.1) }, { shape: [3], data: new Float32Array(3) }] }] });
      net.trainStep(new Float32Array(8), Int32Array.from([0, 2]), 2, 0.1).then((r) => console.log('loss', r.loss));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(out).toMatch(/^loss \d/);
  });

  it('a network dropped with steps in flight is collected only after they resolve (the steps hold it)', () => {
    // Without that hold, the object (and its step thread) could be destroyed while the thread
    // still had completions to deliver into it.
    const script = `
      const addon = require(${JSON.stringify(addonPath())});
      const layers = [{ type: 'flatten', name: 'f' }, { type: 'dense', name: 'd', weights: [
        { shape: [4096, 10], data: new Float32Array(40960).fill(0.01) }, { shape: [10], data: new Float32Array(10) }] }];
      let net = new addon.Network({ inputShape: [64, 64, 1], optimizer: { name: 'adam', momentum: 0 }, threads: 1, seed: 1, layers });
      const registry = new FinalizationRegistry(() => console.log('collected'));
      registry.register(net, 0);
      const steps = Array.from({ length: 40 }, () => net.trainStep(new Float32Array(256 * 4096), new Int32Array(256), 256, 0.1));
      net = null;
      const collect = (rounds) => { global.gc(); if (rounds > 0) setTimeout(collect, 5, rounds - 1); };
      collect(20);
      Promise.all(steps).then((r) => { console.log('resolved', r.length); collect(20); });
      setTimeout(() => registry, 1000); // the registry must outlive the collections it reports`;
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(out.trim().split('\n')).toEqual(['resolved 40', 'collected']);
  });

  it('refuses, by layer name and reason, a layer the addon does not implement', async () => {
    // Not a zoo layer: an activation fused into the dense layer.
    const { describeModel: describe } = await import('../src/train/torch/describe.js');
    const model = build([L.flatten({}), L.dense({ units: 10, activation: 'tanh' })]);
    expect(() => describe(model)).toThrow(/fused activation 'tanh'/);
    model.dispose();
  });
});
