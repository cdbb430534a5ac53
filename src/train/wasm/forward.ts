// The training-mode forward pass of a zoo model (a Sequential), layer by layer, with batch
// normalisation through tinyforge's own op (batchnorm.ts) instead of tfjs-layers' composite.
// The layers, their names and their variables are the model's own: gradients land on the same
// variables the optimiser updates, and the moving statistics are written into the layer's own
// moving_mean / moving_variance exactly as tfjs-layers writes them. Anything other than a
// last-axis batch norm with both gamma and beta goes through the layer's own apply().
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining } from './batchnorm.js';

interface BatchNormParts {
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
  momentum: number;
  epsilon: number;
}

const partsCache = new WeakMap<tf.layers.Layer, BatchNormParts | null>();

/** The variables and settings of a batch-norm layer the fused op can stand in for, else null. */
export function batchNormParts(layer: tf.layers.Layer): BatchNormParts | null {
  if (partsCache.has(layer)) return partsCache.get(layer)!;
  let parts: BatchNormParts | null = null;
  if (layer.getClassName() === 'BatchNormalization') {
    const config = layer.getConfig() as { axis?: number | number[]; momentum: number; epsilon: number; center: boolean; scale: boolean };
    const axis = Array.isArray(config.axis) ? config.axis : [config.axis ?? -1];
    const rank = layer.inputSpec?.[0]?.ndim ?? (layer.input as tf.SymbolicTensor).shape.length;
    const lastAxis = axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1);
    const byName = (suffix: string) => layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
    const [gamma, beta, movingMean, movingVariance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map(byName);
    if (lastAxis && config.center && config.scale && gamma && beta && movingMean && movingVariance) {
      // LayerVariable.read() is the tf.Variable itself (the one the optimiser sees).
      parts = {
        gamma: gamma.read() as tf.Variable, beta: beta.read() as tf.Variable,
        movingMean: movingMean.read() as tf.Variable, movingVariance: movingVariance.read() as tf.Variable,
        momentum: config.momentum, epsilon: config.epsilon,
      };
    }
  }
  partsCache.set(layer, parts);
  return parts;
}

/** As tfjs-layers' doMovingAverage: moving -= (moving - batch) * (1 - momentum). */
function updateMovingAverage(variable: tf.Variable, batch: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const current = variable;
    variable.assign(tf.sub(current, tf.mul(tf.sub(current, batch), 1 - momentum)));
  });
}

/** Forward pass in training mode; `fusedBatchNorm` false runs every layer's own apply(). */
export function trainingForward(model: tf.LayersModel, x: tf.Tensor, fusedBatchNorm: boolean): tf.Tensor {
  let h = x;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const parts = fusedBatchNorm ? batchNormParts(layer) : null;
    if (!parts) {
      h = layer.apply(h, { training: true }) as tf.Tensor;
      continue;
    }
    const { y, mean, variance } = batchNormTraining(h, parts.gamma, parts.beta, parts.epsilon);
    updateMovingAverage(parts.movingMean, mean, parts.momentum);
    updateMovingAverage(parts.movingVariance, variance, parts.momentum);
    h = y;
  }
  return h;
}
