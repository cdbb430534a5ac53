// The training loop: seeded shuffles and augmentation, a per-step learning-rate schedule, early
// stopping on the validation split (the test set is only ever evaluated once, at the end).
// A hand-written loop rather than model.fit: it avoids fit's per-batch callback and copy overhead
// and lets augmentation write straight into the batch buffer.
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config/types.js';
import { augmentBatch } from '../data/augment.js';
import type { Dataset, ImageSet } from '../data/datasets.js';
import { splitTrainValidation } from '../data/split.js';
import { createModel } from '../models/factory.js';
import { profileSpec } from '../models/profile.js';
import type { ModelSpec } from '../models/spec.js';
import { buildSpec } from '../models/zoo.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { Rng } from '../util/random.js';
import { timed } from '../util/timing.js';
import { EpochProgress } from './progress.js';
import { learningRateAt } from './schedule.js';
import type { Stepper } from './stepper.js';
import { TfjsStepper } from './tfjs-stepper.js';
import { loadTorchAddon, torchThreads } from './torch/addon.js';
import { UnsupportedByTorch } from './torch/describe.js';
import { TorchStepper } from './torch/stepper.js';
import { ParallelWasmStepper, wasmThreads } from './wasm/parallel/stepper.js';
import { nextTurn } from '../util/turn.js';

export interface EpochRecord {
  epoch: number;
  learningRate: number;
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  seconds: number;
  /** CPU time of the whole process (every thread) during the epoch's steps. */
  cpuSeconds: number;
  samplesPerSecond: number;
}

export interface TrainMetrics {
  config: string;
  trainingHash: string;
  architecture: string;
  dataset: string;
  backend: string;
  /** Threads the step ran on: libtorch's intra-op threads, or wasm's data-parallel workers. */
  threads?: number;
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
  /** The trained model's class for each test image (what floatTestAccuracy counts). */
  testPredictions: Uint8Array;
}

/** Pixels 0..255 to the float input the model sees: pixel / 255. */
export function toFloatImages(set: ImageSet): Float32Array {
  const out = new Float32Array(set.images.length);
  for (let i = 0; i < out.length; i++) out[i] = set.images[i] / 255;
  return out;
}

/** Writes the predicted classes of images [start, start + n) into `out`. */
function predictBatch(model: tf.LayersModel, images: Float32Array, start: number, n: number, shape: number[], out: Uint8Array): void {
  const size = shape.reduce((a, b) => a * b, 1);
  const classes = tf.tidy(() => {
    const x = tf.tensor(images.subarray(start * size, (start + n) * size), [n, ...shape]);
    return (model.predict(x) as tf.Tensor).argMax(-1);
  });
  out.set(classes.dataSync() as Int32Array, start);
  classes.dispose();
}

/** Class predictions in batches, so that the 10k test set never sits in one tensor. */
export function predictClasses(model: tf.LayersModel, images: Float32Array, count: number, shape: number[], batch = 500): Uint8Array {
  const out = new Uint8Array(count);
  for (let start = 0; start < count; start += batch) predictBatch(model, images, start, Math.min(batch, count - start), shape, out);
  return out;
}

/**
 * predictClasses, the same batches and results, giving the event loop back after each batch
 * (as evaluateReferenceAsync does); stops with `signal`'s reason when it is aborted.
 */
export async function predictClassesAsync(
  model: tf.LayersModel, images: Float32Array, count: number, shape: number[], signal?: AbortSignal, batch = 500,
): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  for (let start = 0; start < count; start += batch) {
    signal?.throwIfAborted();
    predictBatch(model, images, start, Math.min(batch, count - start), shape, out);
    await nextTurn();
  }
  return out;
}

export function accuracyOf(predictions: Uint8Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) correct++;
  return predictions.length ? correct / predictions.length : 0;
}

/**
 * The stepper for the chosen backend. "torch" trains on libtorch, unless the model has a layer
 * the addon lacks: then the active tfjs backend trains it, with a warning, and is reported.
 * wasm trains data-parallel on one worker per core (TINYFORGE_WASM_THREADS) when the batch
 * gives every worker at least one image.
 */
function makeStepper(model: tf.LayersModel, spec: ModelSpec, config: Config, backend: string, batchSize: number):
  { stepper: Stepper; backend: string; threads: number } {
  const { optimizer, seed } = config.training;
  const classes = spec.numClasses;
  const onTfjs = (name: string) => {
    const threads = name === 'wasm' ? Math.min(wasmThreads(), batchSize) : 1;
    if (threads > 1) return { stepper: new ParallelWasmStepper(model, spec, seed, optimizer, batchSize, threads), backend: name, threads };
    return { stepper: new TfjsStepper(model, optimizer, classes), backend: name, threads: 1 };
  };
  if (backend !== 'torch') return onTfjs(backend);
  const loaded = loadTorchAddon();
  if (!loaded.ok) throw new UserError(`backend torch: ${loaded.reason}`);
  try {
    const macs = profileSpec(spec).macs;
    const threads = torchThreads(macs);
    const stepper = new TorchStepper(loaded.addon, model, optimizer, { threads, seed });
    log.info(`libtorch ${loaded.addon.torchVersion}: ${threads} thread(s) for ${macs} MACs per image`);
    return { stepper, backend, threads };
  } catch (err) {
    if (!(err instanceof UnsupportedByTorch)) throw err;
    log.warn(`backend torch: ${err.message}; training on tfjs ${tf.getBackend()} instead`);
    return onTfjs(tf.getBackend());
  }
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

  const batchSize = Math.min(training.batchSize, n);
  let { stepper, backend, threads } = makeStepper(model, spec, config, options.backend, batchSize);
  if (stepper instanceof ParallelWasmStepper) {
    try {
      // Worker start-up (a wasm instance per thread) is not training speed: before the clock.
      await stepper.ready();
      log.info(`wasm: data-parallel over ${threads} worker threads`);
    } catch (err) {
      stepper.dispose();
      log.warn(`wasm: data-parallel workers failed to start (${(err as Error).message}); training on one thread`);
      ({ stepper, backend, threads } = { stepper: new TfjsStepper(model, config.training.optimizer, spec.numClasses), backend, threads: 1 });
    }
  }
  const rng = new Rng(training.seed);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  // Two batch buffers: the next batch is drawn and augmented while the current step runs.
  const buffers = [0, 1].map(() => ({ images: new Float32Array(batchSize * size), labels: new Int32Array(batchSize) }));
  const scratch = new Float32Array(batchSize * size);
  const fillBatch = (order: Uint32Array | number[], step: number, into: (typeof buffers)[number]): number => {
    const m = Math.min(batchSize, n - step * batchSize);
    const target = training.augmentation.enabled ? scratch : into.images;
    for (let i = 0; i < m; i++) {
      const j = order[step * batchSize + i];
      target.set(trainX.subarray(j * size, (j + 1) * size), i * size);
      into.labels[i] = split.train.labels[j];
    }
    if (training.augmentation.enabled) {
      augmentBatch(scratch, into.images, m, data.height, data.width, {
        maxShift: training.augmentation.maxShift,
        maxRotationDeg: training.augmentation.maxRotation,
      }, rng);
    }
    return m;
  };

  const history: EpochRecord[] = [];
  let best = { accuracy: -1, epoch: 0, weights: undefined as unknown };
  let stale = 0;
  const started = performance.now();
  let trainingSeconds = 0;

  // finally: a failed step must not leave worker threads (data-parallel wasm) behind.
  try {
    for (let epoch = 0; epoch < training.epochs; epoch++) {
      const order = rng.permutation(n);
      const progress = new EpochProgress(epoch + 1, training.epochs, n);
      const epochStart = performance.now();
      const cpuStart = process.cpuUsage();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let rate = training.optimizer.learningRate;
      let m = fillBatch(order, 0, buffers[0]);
      for (let step = 0; step < stepsPerEpoch; step++) {
        const current = buffers[step % 2];
        rate = learningRateAt(training.optimizer.learningRate, training.schedule, epoch + step / stepsPerEpoch, training.epochs);
        const pending = stepper.step(current.images, current.labels, m, rate);
        // Augmentation draws from the same seeded generator in the same order either way.
        const nextM = step + 1 < stepsPerEpoch ? fillBatch(order, step + 1, buffers[(step + 1) % 2]) : 0;
        const result = await pending;
        lossSum += result.loss * m;
        correct += result.correct;
        seen += m;
        m = nextM;
        progress.update(seen, lossSum / seen, correct / seen, (performance.now() - epochStart) / 1000);
      }
      const seconds = (performance.now() - epochStart) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      let valLoss: number | null = null;
      let valAccuracy: number | null = null;
      if (split.validation.count > 0) {
        const v = timed(`epoch ${epoch + 1} validation`, () => stepper.evaluate(valX, split.validation.labels, split.validation.count));
        valLoss = v.loss;
        valAccuracy = v.accuracy;
      }
      const record: EpochRecord = {
        epoch: epoch + 1, learningRate: rate, loss: lossSum / seen, accuracy: correct / seen,
        valLoss, valAccuracy, seconds, cpuSeconds, samplesPerSecond: seen / seconds,
      };
      history.push(record);
      progress.finish(record);
      options.onEpoch?.(record);

      // Model selection uses validation accuracy only (the last epoch when there is no split).
      const score = valAccuracy ?? epoch;
      if (score > best.accuracy + (valAccuracy === null ? 0 : training.earlyStopping.minDelta)) {
        if (best.weights) stepper.release(best.weights);
        best = { accuracy: score, epoch: epoch + 1, weights: stepper.snapshot() };
        stale = 0;
      } else if (training.earlyStopping.enabled && ++stale >= training.earlyStopping.patience) {
        log.info(`early stopping: validation accuracy has not improved for ${stale} epochs`);
        break;
      }
    }
    trainingSeconds = (performance.now() - started) / 1000;
    // The trained weights go back into the tfjs model: the one definition quantization reads.
    stepper.restore(best.weights);
    if (best.weights) stepper.release(best.weights);
  } finally {
    stepper.dispose();
  }

  const testPredictions = timed('float test predictions', () => predictClasses(model, toFloatImages(data.test), data.test.count, shape));
  const floatTestAccuracy = accuracyOf(testPredictions, data.test.labels);
  const samples = history.reduce((a, h) => a + h.samplesPerSecond * h.seconds, 0);
  const metrics: TrainMetrics = {
    config: config.name,
    trainingHash: options.trainingHash,
    architecture: config.model.architecture,
    dataset: data.name,
    backend,
    threads,
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
  return { model, history, metrics, testPredictions };
}
