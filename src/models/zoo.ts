// The model zoo. Lightweight models take width/depth multipliers; the two baselines are the
// "traditional CNNs" lightweight models are measured against (LeNet-5 and the Keras MNIST CNN).
// Only layers the int8 C backend runs appear here (see docs/architecture.md).
import type { Architecture, ModelConfig } from '../config/types.js';
import type { LayerActivation, LayerSpec, ModelSpec, Padding } from './spec.js';

interface Knobs {
  width: (channels: number) => number;
  repeat: (blocks: number) => number;
  act: LayerActivation;
  bn: boolean;
  dropout: number;
}

const conv = (k: Knobs, filters: number, kernel: number, stride = 1, padding: Padding = 'same'): LayerSpec => ({
  kind: 'conv2d', filters: k.width(filters), kernel, stride, padding, batchNorm: k.bn, activation: k.act,
});
const depthwise = (k: Knobs, kernel: number, stride = 1): LayerSpec => ({
  kind: 'depthwise_conv2d', kernel, stride, padding: 'same', depthMultiplier: 1, batchNorm: k.bn, activation: k.act,
});
const maxPool = (pool = 2): LayerSpec => ({ kind: 'max_pool2d', pool, stride: pool, padding: 'valid' });
const dense = (units: number, activation: LayerActivation, batchNorm = false): LayerSpec => ({
  kind: 'dense', units, batchNorm, activation,
});
const dropout = (rate: number): LayerSpec[] => (rate > 0 ? [{ kind: 'dropout', rate }] : []);
const times = <T>(n: number, make: (i: number) => T[]): T[] => Array.from({ length: n }, (_, i) => make(i)).flat();

const builders: Record<Architecture, (k: Knobs, classes: number) => LayerSpec[]> = {
  // Plain 3x3 convolutions, pooling after each so that activations (the RAM arena) stay small;
  // a flattened 3x3 map feeds the classifier (a global-average-pool head trained much slower).
  'tiny-cnn': (k, classes) => [
    conv(k, 8, 3), maxPool(),
    conv(k, 16, 3), maxPool(),
    ...times(k.repeat(1), () => [conv(k, 32, 3)]), maxPool(),
    { kind: 'flatten' },
    ...dropout(k.dropout),
    dense(classes, 'linear'),
  ],
  // MobileNet-style: a plain stem, then depthwise 3x3 + pointwise 1x1 pairs in place of full
  // 3x3 convolutions (about 8x fewer weights and MACs at these widths).
  'separable-cnn': (k, classes) => [
    conv(k, 8, 3), maxPool(),
    depthwise(k, 3), conv(k, 16, 1), maxPool(),
    ...times(k.repeat(1), () => [depthwise(k, 3), conv(k, 32, 1)]), maxPool(),
    { kind: 'flatten' },
    ...dropout(k.dropout),
    dense(classes, 'linear'),
  ],
  // 1x1 bottlenecks squeeze channels before each 3x3; global average pooling replaces a big
  // dense head.
  'bottleneck-cnn': (k, classes) => [
    conv(k, 8, 3), maxPool(),
    conv(k, 16, 3),
    conv(k, 8, 1), conv(k, 16, 3), maxPool(),
    ...times(k.repeat(1), () => [conv(k, 12, 1), conv(k, 24, 3)]),
    { kind: 'global_avg_pool' },
    ...dropout(k.dropout),
    dense(classes, 'linear'),
  ],
  mlp: (k, classes) => [
    { kind: 'flatten' },
    ...times(k.repeat(1), () => [dense(k.width(64), k.act, k.bn)]),
    dense(k.width(32), k.act, k.bn),
    ...dropout(k.dropout),
    dense(classes, 'linear'),
  ],
  // LeCun et al. 1998, with ReLU: conv5x5(6, same) - avgpool - conv5x5(16) - avgpool - 120 - 84.
  lenet5: (k, classes) => [
    conv(k, 6, 5, 1, 'same'), { kind: 'avg_pool2d', pool: 2, stride: 2, padding: 'valid' },
    conv(k, 16, 5, 1, 'valid'), { kind: 'avg_pool2d', pool: 2, stride: 2, padding: 'valid' },
    { kind: 'flatten' },
    dense(k.width(120), k.act), dense(k.width(84), k.act),
    ...dropout(k.dropout),
    dense(classes, 'linear'),
  ],
  // The Keras examples' MNIST CNN: conv32 - conv64 - maxpool - dropout - dense128 - dropout.
  'keras-cnn': (k, classes) => [
    conv(k, 32, 3, 1, 'valid'), conv(k, 64, 3, 1, 'valid'), maxPool(),
    { kind: 'dropout', rate: 0.25 },
    { kind: 'flatten' },
    dense(k.width(128), k.act),
    { kind: 'dropout', rate: Math.max(0.5, k.dropout) },
    dense(classes, 'linear'),
  ],
};

export const ARCHITECTURES = Object.keys(builders) as Architecture[];

export function buildSpec(model: ModelConfig, inputShape: [number, number, number] = [28, 28, 1], numClasses = 10): ModelSpec {
  const knobs: Knobs = {
    width: (c) => Math.max(1, Math.round(c * model.widthMultiplier)),
    repeat: (n) => Math.max(1, Math.round(n * model.depthMultiplier)),
    act: model.activation,
    bn: model.batchNorm,
    dropout: model.dropout,
  };
  return { architecture: model.architecture, inputShape, layers: builders[model.architecture](knobs, numClasses), numClasses };
}
