// A model is a list of layer specs: the zoo writes them, the factory turns them into tfjs layers,
// the profiler counts their parameters and MACs without touching tfjs.
import type { Activation, Architecture } from '../config/types.js';

export type Padding = 'same' | 'valid';
export type LayerActivation = Activation | 'linear';

export interface Conv2DSpec {
  kind: 'conv2d';
  filters: number;
  kernel: number;
  stride: number;
  padding: Padding;
  batchNorm: boolean;
  activation: LayerActivation;
}

export interface DepthwiseConv2DSpec {
  kind: 'depthwise_conv2d';
  kernel: number;
  stride: number;
  padding: Padding;
  depthMultiplier: number;
  batchNorm: boolean;
  activation: LayerActivation;
}

export interface PoolSpec {
  kind: 'max_pool2d' | 'avg_pool2d';
  pool: number;
  stride: number;
  padding: Padding;
}

export interface DenseSpec {
  kind: 'dense';
  units: number;
  batchNorm: boolean;
  activation: LayerActivation;
}

export type LayerSpec =
  | Conv2DSpec
  | DepthwiseConv2DSpec
  | PoolSpec
  | DenseSpec
  | { kind: 'global_avg_pool' }
  | { kind: 'flatten' }
  | { kind: 'dropout'; rate: number };

export interface ModelSpec {
  architecture: Architecture;
  /** [H, W, C] */
  inputShape: [number, number, number];
  /** The last layer is a linear dense (or 1x1 conv + GAP) producing numClasses logits. */
  layers: LayerSpec[];
  numClasses: number;
}
