// Backend selection. Tests in this file run in order and share one process (and one tfjs).
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend, listAvailableBackends } from '../src/train/backend.js';
import { loadTorchAddon } from '../src/train/torch/addon.js';
import { UserError } from '../src/util/errors.js';

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/** A few fit steps of a conv + batchnorm + pool model; returns how far the first kernel moved. */
async function trainBriefly(): Promise<number> {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', useBias: false }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.reLU());
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 3 }));
  model.compile({ optimizer: tf.train.adam(0.01), loss: tf.losses.softmaxCrossEntropy });
  const before = model.getWeights()[0].dataSync().slice();
  const xs = tf.randomNormal([16, 8, 8, 1]);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3).toFloat();
  const history = await model.fit(xs, ys, { epochs: 2, batchSize: 8, verbose: 0 });
  const after = model.getWeights()[0].dataSync();
  tf.dispose([xs, ys]);
  model.dispose();
  expect(history.history.loss.every((l) => Number.isFinite(l as number))).toBe(true);
  return Math.max(...after.map((v, i) => Math.abs(v - before[i])));
}

describe('initBackend', () => {
  it('starts wasm with SIMD; a request for threads is declined (tfjs has none under Node)', async () => {
    const info = await initBackend('wasm', { threads: 2 });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.detail).toContain('SIMD on');
    expect(info.detail).toContain('1 thread(s)');
  });

  it('is idempotent: a second wasm start keeps the running build', async () => {
    const first = await initBackend('wasm');
    const second = await initBackend('wasm');
    expect(second).toEqual(first);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('registers the gradient fill-ins with wasm, so conv and depthwise layers train', async () => {
    await initBackend('wasm');
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
    expect(await trainBriefly()).toBeGreaterThan(0);
  });

  it('switches to cpu and back', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it.skipIf(tfjsNodeInstalled())('explains that tfjs-node is optional when "tensorflow" is asked for', async () => {
    const attempt = initBackend('tensorflow');
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrow(/@tensorflow\/tfjs-node is not installed.*optional.*npm install/s);
    expect(tf.getBackend()).toBe('wasm'); // a refusal leaves the active backend alone
  });

  it.skipIf(tfjsNodeInstalled())('"auto" picks the libtorch addon when it loads, else wasm (without tfjs-node)', async () => {
    expect((await initBackend('auto')).name).toBe(loadTorchAddon().ok ? 'torch' : 'wasm');
    process.env.TINYFORGE_NO_TORCH = '1';
    try {
      expect((await initBackend('auto')).name).toBe('wasm');
      await expect(initBackend('torch')).rejects.toThrow(/TINYFORGE_NO_TORCH=1/);
    } finally {
      delete process.env.TINYFORGE_NO_TORCH;
    }
  });

  it.runIf(tfjsNodeInstalled())('"auto" picks tfjs-node when it is installed', async () => {
    expect((await initBackend('auto')).name).toBe('tensorflow');
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(initBackend('wasm', { threads: 0 })).rejects.toBeInstanceOf(UserError);
    await expect(initBackend('wasm', { threads: 1.5 })).rejects.toThrow(/positive integer/);
  });

  it('lists what can start here and leaves the active backend unchanged', async () => {
    await initBackend('cpu');
    const available = await listAvailableBackends();
    expect(available).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    expect(available.includes('tensorflow')).toBe(tfjsNodeInstalled());
    expect(available.includes('torch')).toBe(loadTorchAddon().ok);
    expect(tf.getBackend()).toBe('cpu');
  });
});
