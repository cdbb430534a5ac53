// Reads a trained tfjs model into a chain of fused float ops, the shape the IR will take:
// batch normalization folded into the conv/dense before it, ReLU/ReLU6 fused as the op's
// activation, dropout dropped, global average pooling as a full-window average pool + reshape.
// Weights are rearranged into the IR layouts (OHWI for conv, [out, in] for dense).
import * as tf from '@tensorflow/tfjs';
import type { Padding } from '../ir/types.js';
import { UserError } from '../util/errors.js';

export type FusedActivation = 'linear' | 'relu' | 'relu6';

interface FloatOpBase {
  name: string;
  inputShape: number[];
  outputShape: number[];
  /** The tfjs layer whose output is this op's output (for calibration). */
  outputLayer: string;
}

export interface FloatWeightedOp extends FloatOpBase {
  kind: 'conv2d' | 'depthwise_conv2d' | 'fully_connected';
  kernel: [number, number];
  stride: [number, number];
  padding: Padding;
  depthMultiplier: number;
  /** IR layout, batch norm folded in. */
  weights: Float32Array;
  bias: Float32Array;
  outChannels: number;
  activation: FusedActivation;
}

export interface FloatPoolOp extends FloatOpBase {
  kind: 'max_pool2d' | 'avg_pool2d';
  pool: [number, number];
  stride: [number, number];
  padding: Padding;
}

export interface FloatReshapeOp extends FloatOpBase {
  kind: 'reshape';
}

export type FloatOp = FloatWeightedOp | FloatPoolOp | FloatReshapeOp;

export function isWeighted(op: FloatOp): op is FloatWeightedOp {
  return op.kind === 'conv2d' || op.kind === 'depthwise_conv2d' || op.kind === 'fully_connected';
}

export interface FloatGraph {
  inputShape: number[];
  ops: FloatOp[];
}

const NO_PADDING: Padding = { top: 0, left: 0, bottom: 0, right: 0 };

/** TF's 'same' padding: the output is ceil(in / stride), extra padding goes after. */
export function explicitPadding(
  mode: string, inputHW: number[], kernel: [number, number], stride: [number, number],
): Padding {
  if (mode === 'valid') return NO_PADDING;
  const total = (i: 0 | 1) => {
    const out = Math.ceil(inputHW[i] / stride[i]);
    return Math.max((out - 1) * stride[i] + kernel[i] - inputHW[i], 0);
  };
  const th = total(0);
  const tw = total(1);
  return { top: Math.floor(th / 2), bottom: th - Math.floor(th / 2), left: Math.floor(tw / 2), right: tw - Math.floor(tw / 2) };
}

function pair(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v];
}

function shapeOf(layer: tf.layers.Layer): number[] {
  return (layer.outputShape as number[]).slice(1);
}

function read(variable: tf.LayerVariable | undefined): Float32Array | null {
  return variable ? (variable.read().dataSync() as Float32Array) : null;
}

/** Folds y = gamma * (x - mean) / sqrt(var + eps) + beta into per-channel scale and shift. */
function foldBatchNorm(op: FloatWeightedOp, bn: tf.layers.Layer): void {
  const config = bn.getConfig() as { epsilon: number };
  const byName = (suffix: string) => bn.weights.find((w) => w.originalName.endsWith(suffix));
  const gamma = read(byName('gamma'));
  const beta = read(byName('beta'));
  const mean = read(byName('moving_mean'))!;
  const variance = read(byName('moving_variance'))!;
  const c = op.outChannels;
  const factor = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    factor[i] = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + config.epsilon);
    op.bias[i] = (op.bias[i] - mean[i]) * factor[i] + (beta ? beta[i] : 0);
  }
  scaleOutputChannels(op, factor);
}

/** Multiplies every weight by its output channel's factor, whatever the layout. */
function scaleOutputChannels(op: FloatWeightedOp, factor: Float32Array): void {
  const c = op.outChannels;
  if (op.kind === 'depthwise_conv2d') {
    // [1, kH, kW, C*M]: the output channel is the innermost index.
    for (let i = 0; i < op.weights.length; i++) op.weights[i] *= factor[i % c];
  } else {
    // OHWI / [out, in]: the output channel is the outermost index.
    const per = op.weights.length / c;
    for (let i = 0; i < op.weights.length; i++) op.weights[i] *= factor[Math.floor(i / per)];
  }
}

function weightedOp(layer: tf.layers.Layer, inputShape: number[]): FloatWeightedOp {
  const cls = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  const kernelVar = layer.weights.find((w) => /kernel$/.test(w.originalName));
  const kernel = read(kernelVar)!;
  const kernelShape = kernelVar!.shape as number[];
  const biasVar = layer.weights.find((w) => /bias$/.test(w.originalName));
  const outputShape = shapeOf(layer);
  const outChannels = outputShape[outputShape.length - 1];
  const bias = new Float32Array(outChannels);
  const b = read(biasVar);
  if (b) bias.set(b);
  const base = { name: layer.name, inputShape, outputShape, outputLayer: layer.name, bias, outChannels, activation: 'linear' as FusedActivation };

  if (cls === 'Dense') {
    // tfjs [in, out] -> IR [out, in]
    const [nIn, nOut] = kernelShape;
    const weights = new Float32Array(nIn * nOut);
    for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) weights[o * nIn + i] = kernel[i * nOut + o];
    return { ...base, kind: 'fully_connected', kernel: [1, 1], stride: [1, 1], padding: NO_PADDING, depthMultiplier: 1, weights };
  }
  const k = pair(config.kernelSize as number | number[]);
  const stride = pair(config.strides as number | number[]);
  const padding = explicitPadding(config.padding as string, inputShape, k, stride);
  if ((config.dilationRate && pair(config.dilationRate as number | number[]).some((d) => d !== 1))) {
    throw new UserError(`layer ${layer.name}: dilated convolutions are not supported by the int8 backend`);
  }
  if (cls === 'Conv2D') {
    // tfjs [kH, kW, in, out] -> IR OHWI [out, kH, kW, in]
    const [kh, kw, cin, cout] = kernelShape;
    const weights = new Float32Array(kernel.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < cin; i++)
          for (let o = 0; o < cout; o++)
            weights[((o * kh + y) * kw + x) * cin + i] = kernel[((y * kw + x) * cin + i) * cout + o];
    return { ...base, kind: 'conv2d', kernel: k, stride, padding, depthMultiplier: 1, weights };
  }
  // DepthwiseConv2D: tfjs [kH, kW, C, M] flattened is exactly TFLite's [1, kH, kW, C*M].
  return {
    ...base, kind: 'depthwise_conv2d', kernel: k, stride, padding,
    depthMultiplier: kernelShape[3], weights: Float32Array.from(kernel),
  };
}

export function readFloatGraph(model: tf.LayersModel): FloatGraph {
  const inputShape = (model.inputs[0].shape as number[]).slice(1);
  const ops: FloatOp[] = [];
  let shape = inputShape;
  let last: FloatWeightedOp | null = null;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const config = layer.getConfig() as Record<string, unknown>;
    const outputShape = shapeOf(layer);
    switch (cls) {
      case 'InputLayer':
      case 'Dropout':
        continue;
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'Dense':
        last = weightedOp(layer, shape);
        ops.push(last);
        break;
      case 'BatchNormalization':
        if (!last || last.activation !== 'linear' || ops[ops.length - 1] !== last) {
          throw new UserError(`layer ${layer.name}: batch normalization must directly follow a conv or dense layer to be folded`);
        }
        foldBatchNorm(last, layer);
        last.outputLayer = layer.name;
        break;
      case 'ReLU': {
        if (!last || last.activation !== 'linear' || ops[ops.length - 1] !== last) {
          throw new UserError(`layer ${layer.name}: ReLU must follow a conv or dense layer to be fused`);
        }
        const maxValue = config.maxValue as number | null | undefined;
        if (maxValue !== null && maxValue !== undefined && maxValue !== 6) {
          throw new UserError(`layer ${layer.name}: only ReLU and ReLU6 can be fused, found ReLU(maxValue=${maxValue})`);
        }
        last.activation = maxValue === 6 ? 'relu6' : 'relu';
        last.outputLayer = layer.name;
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pool = pair(config.poolSize as number | number[]);
        const stride = pair((config.strides as number | number[] | null) ?? pool);
        ops.push({
          kind: cls === 'MaxPooling2D' ? 'max_pool2d' : 'avg_pool2d', name: layer.name, inputShape: shape,
          outputShape, outputLayer: layer.name, pool, stride, padding: explicitPadding(config.padding as string, shape, pool, stride),
        });
        break;
      }
      case 'GlobalAveragePooling2D': {
        const [h, w, c] = shape;
        ops.push({
          kind: 'avg_pool2d', name: layer.name, inputShape: shape, outputShape: [1, 1, c], outputLayer: layer.name,
          pool: [h, w], stride: [h, w], padding: NO_PADDING,
        });
        ops.push({ kind: 'reshape', name: `${layer.name}_reshape`, inputShape: [1, 1, c], outputShape: [c], outputLayer: layer.name });
        break;
      }
      case 'Flatten':
        ops.push({ kind: 'reshape', name: layer.name, inputShape: shape, outputShape, outputLayer: layer.name });
        break;
      default:
        throw new UserError(`layer ${layer.name}: ${cls} is not supported by the int8 backend`);
    }
    shape = outputShape;
  }
  const tail = ops[ops.length - 1];
  if (!tail || tail.kind !== 'fully_connected' || tail.activation !== 'linear') {
    throw new UserError('the model must end in a linear dense layer producing the logits');
  }
  return { inputShape, ops };
}
