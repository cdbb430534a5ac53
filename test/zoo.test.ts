import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/config/types.js';
import { createModel } from '../src/models/factory.js';
import { profileSpec } from '../src/models/profile.js';
import { ARCHITECTURES, buildSpec } from '../src/models/zoo.js';

const base: ModelConfig = { architecture: 'tiny-cnn', widthMultiplier: 1, depthMultiplier: 1, activation: 'relu', batchNorm: true, dropout: 0 };
const model = (over: Partial<ModelConfig>) => ({ ...base, ...over });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Parameter counts written out by hand: weights + bias, or weights + 4 batch-norm values per channel.
describe('parameter counts against hand-computed values', () => {
  it('LeNet-5 (no batch norm): 61,706', () => {
    const conv1 = 5 * 5 * 1 * 6 + 6; // 156
    const conv2 = 5 * 5 * 6 * 16 + 16; // 2,416
    const fc1 = 5 * 5 * 16 * 120 + 120; // 48,120
    const fc2 = 120 * 84 + 84; // 10,164
    const fc3 = 84 * 10 + 10; // 850
    expect(conv1 + conv2 + fc1 + fc2 + fc3).toBe(61706);
    expect(profileSpec(buildSpec(model({ architecture: 'lenet5', batchNorm: false }))).params).toBe(61706);
  });

  it('Keras MNIST CNN: 1,199,882', () => {
    const expected = (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (12 * 12 * 64 * 128 + 128) + (128 * 10 + 10);
    expect(expected).toBe(1199882);
    expect(profileSpec(buildSpec(model({ architecture: 'keras-cnn', batchNorm: false }))).params).toBe(1199882);
  });

  it('tiny-cnn with batch norm', () => {
    const expected = (9 * 8 + 4 * 8) + (9 * 8 * 16 + 4 * 16) + (9 * 16 * 32 + 4 * 32) + (3 * 3 * 32 * 10 + 10);
    expect(expected).toBe(8946);
    const p = profileSpec(buildSpec(model({})));
    expect(p.params).toBe(expected);
    // After folding, each batch norm leaves one bias per channel.
    expect(p.deployedParams).toBe(expected - 3 * (8 + 16 + 32));
    expect(p.macs).toBe(28 * 28 * 9 * 8 + 14 * 14 * 9 * 8 * 16 + 7 * 7 * 9 * 16 * 32 + 288 * 10);
  });

  it('separable-cnn: depthwise 3x3 + pointwise 1x1 pairs', () => {
    const bn = (c: number) => 4 * c;
    const expected =
      (9 * 8 + bn(8)) + (9 * 8 + bn(8)) + (8 * 16 + bn(16)) +
      (9 * 16 + bn(16)) + (16 * 32 + bn(32)) + (3 * 3 * 32 * 10 + 10);
    expect(expected).toBe(4138);
    expect(profileSpec(buildSpec(model({ architecture: 'separable-cnn' }))).params).toBe(expected);
  });

  it('bottleneck-cnn', () => {
    const bn = (c: number) => 4 * c;
    const expected =
      (9 * 8 + bn(8)) + (9 * 8 * 16 + bn(16)) + (16 * 8 + bn(8)) + (9 * 8 * 16 + bn(16)) +
      (16 * 12 + bn(12)) + (9 * 12 * 24 + bn(24)) + (24 * 10 + 10);
    expect(profileSpec(buildSpec(model({ architecture: 'bottleneck-cnn' }))).params).toBe(expected);
  });

  it('mlp without batch norm', () => {
    expect(profileSpec(buildSpec(model({ architecture: 'mlp', batchNorm: false }))).params).toBe(
      784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10,
    );
  });

  it('width and depth multipliers scale channels and blocks', () => {
    const wide = buildSpec(model({ widthMultiplier: 2 }));
    expect(wide.layers.filter((l) => l.kind === 'conv2d').map((l) => (l as { filters: number }).filters)).toEqual([16, 32, 64]);
    const deep = buildSpec(model({ depthMultiplier: 3 }));
    expect(deep.layers.filter((l) => l.kind === 'conv2d')).toHaveLength(5);
  });
});

describe('the tfjs model agrees with the profile', () => {
  for (const architecture of ARCHITECTURES) {
    it(architecture, () => {
      const spec = buildSpec(model({ architecture, dropout: 0.1 }));
      const m = createModel(spec, 1);
      const profile = profileSpec(spec);
      expect(m.countParams()).toBe(profile.params);
      expect(m.outputs[0].shape).toEqual([null, 10]);
      // Every layer's output shape as tfjs computes it matches the profile's.
      for (const layer of profile.layers) {
        expect(m.getLayer(layer.name).outputShape.slice(1)).toEqual(layer.outputShape);
      }
      m.dispose();
    });
  }
});
