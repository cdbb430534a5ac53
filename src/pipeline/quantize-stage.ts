// Quantize stage: trained tfjs model -> calibrated int8 IR (model.ir.json).
// Evaluate stage: float vs int8-reference accuracy, agreement, and per-layer quantization error.
import type * as tf from '@tensorflow/tfjs';
import { configHash, irHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import { loadDataset, subset, type Dataset } from '../data/datasets.js';
import { splitTrainValidation } from '../data/split.js';
import { saveIr } from '../ir/io.js';
import type { IrModel } from '../ir/types.js';
import { validateIr, type ValidIr } from '../ir/validate.js';
import type { RunPaths } from '../paths.js';
import { calibrate, forEachTapBatch, tapModel } from '../quantize/calibrate.js';
import { readFloatGraph } from '../quantize/float-graph.js';
import { quantizeGraph, type ScaleFormat } from '../quantize/quantize.js';
import { evaluateReferenceAsync, pixelsToInput, runReferenceTrace, type ReferenceEvaluation } from '../reference/interpreter.js';
import { accuracyOf, predictClassesAsync, toFloatImages, type TrainMetrics } from '../train/train.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';
import { Rng } from '../util/random.js';
import { timed, timedAsync } from '../util/timing.js';
import { nextTurn } from '../util/turn.js';

const VERSION = '0.1.0';

/** `format` 'float64' reproduces IRs quantized before scales became float32 (for measurements). */
export function quantizeModel(
  config: Config, model: tf.LayersModel, data: Dataset, metrics: TrainMetrics | null, format: ScaleFormat = 'float32',
): ValidIr {
  const { calibration } = config.quantization;
  // Calibration images come from the training split only, in a seeded random order.
  const { train } = splitTrainValidation(data.train, config.training.validationSplit, config.training.seed);
  const count = Math.min(calibration.samples, train.count);
  const picked = subset(train, new Rng(config.training.seed ^ 0xca11b).permutation(train.count).subarray(0, count));
  const graph = readFloatGraph(model);
  const ranges = calibrate(model, graph, toFloatImages(picked), count, calibration);
  const ir = quantizeGraph(graph, ranges, config.name, {
    configName: config.name,
    configHash: configHash(config),
    irHash: irHash(config),
    dataset: data.name,
    architecture: config.model.architecture,
    ...(metrics ? { floatTestAccuracy: metrics.floatTestAccuracy } : {}),
    calibration: {
      method: calibration.method,
      samples: count,
      ...(calibration.method === 'percentile' ? { percentile: calibration.percentile } : {}),
    },
    createdAt: new Date().toISOString(),
    tinyforgeVersion: VERSION,
  }, format);
  return validateIr(ir, `${config.name} (quantizer output)`);
}

/** `data` is the config's dataset when the caller already loaded it (run loads it once). */
export function quantizeStage(
  config: Config, paths: RunPaths, model: tf.LayersModel, metrics: TrainMetrics | null, data = loadDataset(config.dataset),
): ValidIr {
  const ir = timed('quantize', () => quantizeModel(config, model, data, metrics));
  saveIr(paths.ir, ir);
  log.info(`wrote ${paths.ir} (${ir.ops.length} ops, calibrated on ${ir.metadata.calibration.samples} training images)`);
  return ir;
}

export interface LayerError {
  op: string;
  kind: string;
  /** Signal-to-quantization-noise ratio of the dequantized int8 output against the float one. */
  sqnrDb: number;
}

export interface Evaluation {
  config: string;
  /** The IR's hash (src/config/load.ts irHash): which model these figures belong to. */
  irHash: string | null;
  testImages: number;
  floatAccuracy: number;
  int8Accuracy: number;
  accuracyDrop: number;
  /** Fraction of test images where float and int8 predict the same class. */
  agreement: number;
  layerErrorImages: number;
  layers: LayerError[];
}

/** Per-layer SQNR on the first `images` test images. */
function layerErrors(ir: IrModel, model: tf.LayersModel, data: Dataset, images: number): LayerError[] {
  const graph = readFloatGraph(model);
  // A global average pool becomes two IR ops (pool + reshape) that share one tfjs layer output.
  const layers = [...new Set(graph.ops.map((op) => op.outputLayer))];
  const tapOf = graph.ops.map((op) => layers.indexOf(op.outputLayer));
  const taps = tapModel(model, layers);
  const n = Math.min(images, data.test.count);
  const pixels = data.test.images.subarray(0, n * 784);
  const floats: Float32Array[][] = layers.map(() => []);
  forEachTapBatch(taps, toFloatImages({ images: pixels, labels: data.test.labels, count: n }), n, graph.inputShape, (i, v) => {
    floats[i].push(Float32Array.from(v));
  });
  const signal = new Float64Array(ir.ops.length);
  const noise = new Float64Array(ir.ops.length);
  for (let img = 0; img < n; img++) {
    const trace = runReferenceTrace(ir, pixelsToInput(ir, pixels.subarray(img * 784, (img + 1) * 784)));
    ir.ops.forEach((op, i) => {
      const t = ir.tensors[op.output];
      const q = trace.get(op.output)!;
      const batch = floats[tapOf[i]][Math.floor(img / 100)];
      const per = q.length;
      const start = (img % 100) * per;
      for (let j = 0; j < per; j++) {
        const f = batch[start + j];
        const d = t.scale * (q[j] - t.zeroPoint);
        signal[i] += f * f;
        noise[i] += (f - d) * (f - d);
      }
    });
  }
  return ir.ops.map((op, i) => ({
    op: op.name,
    kind: op.kind,
    sqnrDb: noise[i] === 0 ? Infinity : 10 * Math.log10(signal[i] / noise[i]),
  }));
}

export interface EvaluateOptions {
  /**
   * The float model's class for each test image, when training has just computed them: the same
   * model on the same images, so the same classes, and not computed a second time.
   */
  floatPredictions?: Uint8Array;
  /** Stops the evaluation between turns with the signal's reason (run: the firmware side failed). */
  signal?: AbortSignal;
}

/**
 * Also returns the reference's per-image results, which verify compares the firmware against.
 * The two test-set passes give the event loop back between short turns (run builds and runs the
 * firmware meanwhile, in child processes); the results are the same as in one go.
 */
export async function evaluateStage(
  config: Config, paths: RunPaths, model: tf.LayersModel, ir: IrModel, data = loadDataset(config.dataset), opts: EvaluateOptions = {},
): Promise<Evaluation & { reference: ReferenceEvaluation }> {
  // Starts on a later turn, so that a caller can start its own work (run: generate and the first
  // gcc processes) first. The reference goes first: its turns are the short ones.
  await nextTurn();
  const reference = await timedAsync('int8 reference on the test set',
    () => evaluateReferenceAsync(ir, data.test.images, data.test.labels, opts.signal));
  const given = opts.floatPredictions?.length === data.test.count ? opts.floatPredictions : undefined;
  const floatPredictions = given ?? await timedAsync('float test predictions',
    () => predictClassesAsync(model, toFloatImages(data.test), data.test.count, [28, 28, 1], opts.signal));
  let agree = 0;
  for (let i = 0; i < data.test.count; i++) if (floatPredictions[i] === reference.predictions[i]) agree++;
  const floatAccuracy = accuracyOf(floatPredictions, data.test.labels);
  const layerErrorImages = Math.min(200, data.test.count);
  const evaluation: Evaluation = {
    config: config.name,
    irHash: ir.metadata.irHash ?? null,
    testImages: data.test.count,
    floatAccuracy,
    int8Accuracy: reference.accuracy,
    accuracyDrop: floatAccuracy - reference.accuracy,
    agreement: agree / data.test.count,
    layerErrorImages,
    layers: timed('per-layer errors', () => layerErrors(ir, model, data, layerErrorImages)),
  };
  writeJsonAtomic(paths.evaluation, evaluation);
  return { ...evaluation, reference };
}

export function formatEvaluation(e: Evaluation): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const lines = [
    `test images:        ${e.testImages}`,
    `float accuracy:     ${pct(e.floatAccuracy)}`,
    `int8 accuracy:      ${pct(e.int8Accuracy)} (reference interpreter)`,
    `accuracy drop:      ${(e.accuracyDrop * 100).toFixed(2)} points`,
    `float/int8 agree:   ${pct(e.agreement)}`,
    `per-layer SQNR (first ${e.layerErrorImages} test images):`,
    ...e.layers.map((l) => `  ${l.op.padEnd(28)} ${l.kind.padEnd(18)} ${l.sqnrDb.toFixed(1).padStart(6)} dB`),
  ];
  return lines.join('\n');
}
