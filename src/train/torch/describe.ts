// The tfjs model as the libtorch addon's layer list. The tfjs LayersModel stays the one
// definition: the addon builds exactly its layers, with its current weights.
import * as tf from '@tensorflow/tfjs';
import type { TorchLayer } from './addon.js';

/** Thrown for a layer or setting the addon does not implement; training then stays on tfjs. */
export class UnsupportedByTorch extends Error {}

type LayerConfig = Record<string, unknown>;

function square(value: unknown, what: string, layer: string): number {
  const [a, b] = Array.isArray(value) ? (value as number[]) : [value as number, value as number];
  if (a !== b) throw new UnsupportedByTorch(`layer ${layer}: non-square ${what} ${a}x${b}`);
  return a;
}

function requireLinear(config: LayerConfig, layer: string): void {
  const activation = config.activation ?? 'linear';
  if (activation !== 'linear') throw new UnsupportedByTorch(`layer ${layer}: fused activation '${String(activation)}'`);
}

function requireUnitDilation(config: LayerConfig, layer: string): void {
  if (config.dilationRate !== undefined && square(config.dilationRate, 'dilation', layer) !== 1) {
    throw new UnsupportedByTorch(`layer ${layer}: dilated convolution`);
  }
}

function describeLayer(layer: tf.layers.Layer): Omit<TorchLayer, 'weights'> {
  const config = layer.getConfig() as LayerConfig;
  const name = layer.name;
  switch (layer.getClassName()) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      requireLinear(config, name);
      requireUnitDilation(config, name);
      return {
        name,
        type: layer.getClassName() === 'Conv2D' ? 'conv2d' : 'depthwise_conv2d',
        kernel: square(config.kernelSize, 'kernel', name),
        stride: square(config.strides, 'stride', name),
        padding: config.padding as 'same' | 'valid',
        depthMultiplier: (config.depthMultiplier as number | undefined) ?? 1,
      };
    case 'Dense':
      requireLinear(config, name);
      return { name, type: 'dense' };
    case 'BatchNormalization':
      if (config.center === false || config.scale === false) throw new UnsupportedByTorch(`layer ${name}: batch norm without centre or scale`);
      return { name, type: 'batch_norm', epsilon: config.epsilon as number, momentum: config.momentum as number };
    case 'ReLU':
      return { name, type: 'relu', maxValue: (config.maxValue as number | null) ?? 0 };
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      if (config.padding !== 'valid') throw new UnsupportedByTorch(`layer ${name}: '${String(config.padding)}' pooling`);
      return {
        name,
        type: layer.getClassName() === 'MaxPooling2D' ? 'max_pool2d' : 'avg_pool2d',
        kernel: square(config.poolSize, 'pool', name),
        stride: square(config.strides ?? config.poolSize, 'stride', name),
      };
    case 'GlobalAveragePooling2D':
      return { name, type: 'global_avg_pool' };
    case 'Flatten':
      return { name, type: 'flatten' };
    case 'Dropout':
      return { name, type: 'dropout', rate: config.rate as number };
    default:
      throw new UnsupportedByTorch(`layer ${name}: ${layer.getClassName()} is not implemented by the libtorch backend`);
  }
}

/** Every layer of a sequential tfjs model with its weights (copied out of tfjs). */
export function describeModel(model: tf.LayersModel): TorchLayer[] {
  return model.layers
    .filter((layer) => layer.getClassName() !== 'InputLayer')
    .map((layer) => ({
      ...describeLayer(layer),
      weights: layer.getWeights().map((w) => ({ shape: w.shape, data: w.dataSync() as Float32Array })),
    }));
}

/** Writes the addon's weights (per layer, tfjs layout and order) into the tfjs model. */
export function assignWeights(model: tf.LayersModel, weights: Float32Array[][]): void {
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  layers.forEach((layer, i) => {
    const current = layer.getWeights();
    if (current.length === 0) return;
    const next = current.map((w, j) => tf.tensor(weights[i][j], w.shape, 'float32'));
    layer.setWeights(next);
    next.forEach((t) => t.dispose());
  });
}
