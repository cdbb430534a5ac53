// The training loop: seeded shuffles and augmentation, a per-step learning-rate schedule, early
// stopping on the validation split (the test set is only ever evaluated once, at the end).
// A hand-written loop rather than model.fit: it avoids fit's per-batch callback and copy overhead
// and lets augmentation write straight into the batch buffer.
import * as tf from '@tensorflow/tfjs';
import type { Config, TrainingConfig } from '../config/types.js';
import { augmentBatch } from '../data/augment.js';
import type { Dataset, ImageSet } from '../data/datasets.js';
import { splitTrainValidation } from '../data/split.js';
import { createModel } from '../models/factory.js';
import { profileSpec } from '../models/profile.js';
import { buildSpec } from '../models/zoo.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { Rng } from '../util/random.js';
import { EpochProgress } from './progress.js';
import { learningRateAt } from './schedule.js';

export interface EpochRecord {
  epoch: number;
  learningRate: number;
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  seconds: number;
  samplesPerSecond: number;
}

export interface TrainMetrics {
  config: string;
  trainingHash: string;
  architecture: string;
  dataset: string;
  backend: string;
  params: number;
  deployedParams: number;
  macs: number;
  trainImages: number;
  validationImages: number;
  testImages: number;
  epochsRun: number;
  bestEpoch: number;
  validationAccuracy: number | null;
  floatTestAccuracy: number;
  trainingSeconds: number;
  samplesPerSecond: number;
}

export interface TrainResult {
  model: tf.LayersModel;
  history: EpochRecord[];
  metrics: TrainMetrics;
}

/** Pixels 0..255 to the float input the model sees: pixel / 255. */
export function toFloatImages(set: ImageSet): Float32Array {
  const out = new Float32Array(set.images.length);
  for (let i = 0; i < out.length; i++) out[i] = set.images[i] / 255;
  return out;
}

/** Class predictions in batches, so that the 10k test set never sits in one tensor. */
export function predictClasses(model: tf.LayersModel, images: Float32Array, count: number, shape: number[], batch = 500): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count);
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const classes = tf.tidy(() => {
      const x = tf.tensor(images.subarray(start * size, (start + n) * size), [n, ...shape]);
      return (model.predict(x) as tf.Tensor).argMax(-1);
    });
    out.set(classes.dataSync() as Int32Array, start);
    classes.dispose();
  }
  return out;
}

export function accuracyOf(predictions: Uint8Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) correct++;
  return predictions.length ? correct / predictions.length : 0;
}

function makeOptimizer(training: TrainingConfig): tf.Optimizer {
  const { name, learningRate, momentum } = training.optimizer;
  if (name === 'sgd') return tf.train.momentum(learningRate, momentum, true);
  if (name === 'rmsprop') return tf.train.rmsprop(learningRate, 0.9, momentum);
  return tf.train.adam(learningRate);
}

/** tfjs optimizers read their rate from a field (SGD keeps a cached scalar behind a setter). */
function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as { setLearningRate?: (r: number) => void; learningRate: number };
  if (o.setLearningRate) o.setLearningRate(rate);
  else o.learningRate = rate;
}

export interface TrainOptions {
  backend: string;
  trainingHash: string;
  /** Called after each epoch (e.g. to checkpoint). */
  onEpoch?: (record: EpochRecord) => void;
}

export async function trainModel(config: Config, data: Dataset, options: TrainOptions): Promise<TrainResult> {
  const { training } = config;
  const spec = buildSpec(config.model, [data.height, data.width, data.channels], data.classNames.length);
  const profile = profileSpec(spec);
  const model = createModel(spec, training.seed);
  const shape = [data.height, data.width, data.channels];
  const size = data.height * data.width * data.channels;
  const classes = data.classNames.length;

  const split = splitTrainValidation(data.train, training.validationSplit, training.seed);
  const trainX = toFloatImages(split.train);
  const valX = toFloatImages(split.validation);
  const n = split.train.count;
  if (n === 0) {
    throw new UserError(
      `${config.path}: no images left to train on: ${data.train.count} training image(s), all taken by ` +
        `training.validationSplit ${training.validationSplit}`, undefined, { file: config.path, field: '/training/validationSplit' },
    );
  }
  log.info(
    `training ${config.model.architecture} (${profile.params} params, ${profile.macs} MACs) on ${n} images, ` +
      `validating on ${split.validation.count}, backend ${options.backend}`,
  );

  const optimizer = makeOptimizer(training);
  const rng = new Rng(training.seed);
  const batchSize = Math.min(training.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const batchX = new Float32Array(batchSize * size);
  const augmented = new Float32Array(batchSize * size);
  const batchY = new Int32Array(batchSize);

  const history: EpochRecord[] = [];
  let best = { accuracy: -1, epoch: 0, weights: null as tf.Tensor[] | null };
  let stale = 0;
  const started = performance.now();

  for (let epoch = 0; epoch < training.epochs; epoch++) {
    const order = rng.permutation(n);
    const progress = new EpochProgress(epoch + 1, training.epochs, n);
    const epochStart = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let rate = training.optimizer.learningRate;
    for (let step = 0; step < stepsPerEpoch; step++) {
      const m = Math.min(batchSize, n - step * batchSize);
      for (let i = 0; i < m; i++) {
        const j = order[step * batchSize + i];
        batchX.set(trainX.subarray(j * size, (j + 1) * size), i * size);
        batchY[i] = split.train.labels[j];
      }
      let input = batchX;
      if (training.augmentation.enabled) {
        augmentBatch(batchX, augmented, m, data.height, data.width, {
          maxShift: training.augmentation.maxShift,
          maxRotationDeg: training.augmentation.maxRotation,
        }, rng);
        input = augmented;
      }
      rate = learningRateAt(training.optimizer.learningRate, training.schedule, epoch + step / stepsPerEpoch, training.epochs);
      setLearningRate(optimizer, rate);
      const [loss, hits] = tf.tidy(() => {
        const x = tf.tensor(input.subarray(0, m * size), [m, ...shape]);
        const y = tf.tensor1d(batchY.subarray(0, m), 'int32');
        // minimize() disposes everything made inside its closure but the loss, so the batch
        // accuracy is computed there and kept explicitly.
        let right: tf.Tensor | undefined;
        const cost = optimizer.minimize(() => {
          const logits = model.apply(x, { training: true }) as tf.Tensor;
          right = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'int32')));
          return tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), logits) as tf.Scalar;
        }, true)!;
        return [tf.keep(cost), right!];
      });
      // One sync per batch: on the CPU-side backends it costs little and keeps the bar honest.
      lossSum += (await loss.data())[0] * m;
      correct += (await hits.data())[0];
      loss.dispose();
      hits.dispose();
      seen += m;
      progress.update(seen, lossSum / seen, correct / seen, (performance.now() - epochStart) / 1000);
    }
    const seconds = (performance.now() - epochStart) / 1000;
    let valLoss: number | null = null;
    let valAccuracy: number | null = null;
    if (split.validation.count > 0) {
      const v = evaluateLossAndAccuracy(model, valX, split.validation.labels, split.validation.count, shape, classes);
      valLoss = v.loss;
      valAccuracy = v.accuracy;
    }
    const record: EpochRecord = {
      epoch: epoch + 1, learningRate: rate, loss: lossSum / seen, accuracy: correct / seen,
      valLoss, valAccuracy, seconds, samplesPerSecond: seen / seconds,
    };
    history.push(record);
    progress.finish(record);
    options.onEpoch?.(record);

    // Model selection uses validation accuracy only (the last epoch when there is no split).
    const score = valAccuracy ?? epoch;
    if (score > best.accuracy + (valAccuracy === null ? 0 : training.earlyStopping.minDelta)) {
      best.weights?.forEach((w) => w.dispose());
      best = { accuracy: score, epoch: epoch + 1, weights: model.getWeights().map((w) => w.clone()) };
      stale = 0;
    } else if (training.earlyStopping.enabled && ++stale >= training.earlyStopping.patience) {
      log.info(`early stopping: validation accuracy has not improved for ${stale} epochs`);
      break;
    }
  }
  const trainingSeconds = (performance.now() - started) / 1000;
  if (best.weights) {
    model.setWeights(best.weights);
    best.weights.forEach((w) => w.dispose());
  }
  optimizer.dispose();

  const testPredictions = predictClasses(model, toFloatImages(data.test), data.test.count, shape);
  const floatTestAccuracy = accuracyOf(testPredictions, data.test.labels);
  const samples = history.reduce((a, h) => a + h.samplesPerSecond * h.seconds, 0);
  const metrics: TrainMetrics = {
    config: config.name,
    trainingHash: options.trainingHash,
    architecture: config.model.architecture,
    dataset: data.name,
    backend: options.backend,
    params: profile.params,
    deployedParams: profile.deployedParams,
    macs: profile.macs,
    trainImages: n,
    validationImages: split.validation.count,
    testImages: data.test.count,
    epochsRun: history.length,
    bestEpoch: best.epoch,
    validationAccuracy: history[best.epoch - 1]?.valAccuracy ?? null,
    floatTestAccuracy,
    trainingSeconds,
    samplesPerSecond: samples / history.reduce((a, h) => a + h.seconds, 0),
  };
  log.info(
    `float test accuracy ${(floatTestAccuracy * 100).toFixed(2)}% (best epoch ${best.epoch} by validation), ` +
      `${trainingSeconds.toFixed(0)} s, ${metrics.samplesPerSecond.toFixed(0)} samples/s`,
  );
  return { model, history, metrics };
}

function evaluateLossAndAccuracy(
  model: tf.LayersModel, images: Float32Array, labels: Uint8Array, count: number, shape: number[], classes: number,
): { loss: number; accuracy: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += 500) {
    const m = Math.min(500, count - start);
    const [loss, hits] = tf.tidy(() => {
      const x = tf.tensor(images.subarray(start * size, (start + m) * size), [m, ...shape]);
      const y = tf.tensor1d(Int32Array.from(labels.subarray(start, start + m)), 'int32');
      const logits = model.predict(x) as tf.Tensor2D;
      const l = tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), logits);
      return [l.dataSync()[0], tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'int32')).dataSync()[0]];
    });
    lossSum += loss * m;
    correct += hits;
  }
  return { loss: lossSum / count, accuracy: correct / count };
}
