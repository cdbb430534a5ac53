// Turns a ModelSpec into a tfjs LayersModel. Layer names follow profile.layerName with suffixes
// for the batch-norm and activation layers a spec layer expands to ("03_conv2d", "03_conv2d_bn",
// "03_conv2d_act"), so the quantizer can find what to fold into what.
import * as tf from '@tensorflow/tfjs';
import type { LayerActivation, LayerSpec, ModelSpec } from './spec.js';
import { layerName } from './profile.js';

function activationLayers(name: string, activation: LayerActivation): tf.layers.Layer[] {
  if (activation === 'linear') return [];
  return [tf.layers.reLU({ name: `${name}_act`, ...(activation === 'relu6' ? { maxValue: 6 } : {}) })];
}

function batchNorm(name: string, enabled: boolean): tf.layers.Layer[] {
  return enabled ? [tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-3 })] : [];
}

function layersFor(spec: LayerSpec, index: number, seed: number): tf.layers.Layer[] {
  const name = layerName(index, spec);
  const init = (kind: 'heNormal' | 'glorotUniform') =>
    kind === 'heNormal' ? tf.initializers.heNormal({ seed: seed + index }) : tf.initializers.glorotUniform({ seed: seed + index });
  switch (spec.kind) {
    case 'conv2d':
      return [
        tf.layers.conv2d({
          name, filters: spec.filters, kernelSize: spec.kernel, strides: spec.stride, padding: spec.padding,
          useBias: !spec.batchNorm, kernelInitializer: init('heNormal'),
        }),
        ...batchNorm(name, spec.batchNorm),
        ...activationLayers(name, spec.activation),
      ];
    case 'depthwise_conv2d':
      return [
        tf.layers.depthwiseConv2d({
          name, kernelSize: spec.kernel, strides: spec.stride, padding: spec.padding,
          depthMultiplier: spec.depthMultiplier, useBias: !spec.batchNorm, depthwiseInitializer: init('heNormal'),
        }),
        ...batchNorm(name, spec.batchNorm),
        ...activationLayers(name, spec.activation),
      ];
    case 'max_pool2d':
      return [tf.layers.maxPooling2d({ name, poolSize: spec.pool, strides: spec.stride, padding: spec.padding })];
    case 'avg_pool2d':
      return [tf.layers.averagePooling2d({ name, poolSize: spec.pool, strides: spec.stride, padding: spec.padding })];
    case 'global_avg_pool':
      return [tf.layers.globalAveragePooling2d({ name })];
    case 'flatten':
      return [tf.layers.flatten({ name })];
    case 'dense':
      return [
        tf.layers.dense({
          name, units: spec.units, useBias: !spec.batchNorm,
          kernelInitializer: init(spec.activation === 'linear' ? 'glorotUniform' : 'heNormal'),
        }),
        ...batchNorm(name, spec.batchNorm),
        ...activationLayers(name, spec.activation),
      ];
    case 'dropout':
      return [tf.layers.dropout({ name, rate: spec.rate, seed: seed + index })];
  }
}

/** The model outputs logits (no softmax): training applies softmax cross-entropy itself. */
export function createModel(spec: ModelSpec, seed: number): tf.LayersModel {
  const model = tf.sequential({ name: spec.architecture.replace(/-/g, '_') });
  model.add(tf.layers.inputLayer({ inputShape: spec.inputShape, name: 'input' }));
  spec.layers.forEach((layer, i) => layersFor(layer, i, seed).forEach((l) => model.add(l)));
  return model;
}
