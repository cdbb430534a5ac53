// How exactly a .tflite export computes what tinyforge verified, in logits on the test set.
//
//   node dist/bench/export.js [--images N] [model.ir.json ...]
//     Exports each IR (default: the committed default model's), imports the file back as TFLite
//     Micro would derive it (multipliers from the float32 scales) and runs both IRs through the
//     int8 reference on the first N test images of the IR's dataset (default: all 10,000):
//     differing logits, largest difference, differing predictions, both accuracies.
//
//   node dist/bench/export.js --requantize <config> [--images N]
//     Re-quantizes the config's trained model (run `tinyforge train <config>` first) with float64
//     scales (the quantizer before float32 scales, which produced every committed IR) and with
//     float32 scales (now), and compares the two on the test set: how many logits would move if
//     the committed model were quantized again. Says whether the float64 IR equals the IR at
//     out/<name>/model.ir.json when there is one.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig, trainingHash } from '../config/load.js';
import type { DatasetName } from '../config/types.js';
import { loadDataset } from '../data/datasets.js';
import { compareArithmetic } from '../export/compare.js';
import { exactness, exportTflite } from '../export/export.js';
import { importTflite } from '../import/import.js';
import { irToJson, loadIr } from '../ir/io.js';
import type { IrModel } from '../ir/types.js';
import { runPaths } from '../paths.js';
import { quantizeModel } from '../pipeline/quantize-stage.js';
import { readTrainMetrics } from '../pipeline/train-stage.js';
import { argmax, pixelsToInput, runReference } from '../reference/interpreter.js';
import { initBackend } from '../train/backend.js';
import { loadModel } from '../train/persist.js';
import { UserError } from '../util/errors.js';
import { setLogLevel } from '../util/log.js';
import { runBench } from './main.js';

const DEFAULT_IR = 'results/lightweight-vs-baselines/points/default/run/model.ir.json';

interface OutputComparison {
  images: number;
  logits: number;
  differingLogits: number;
  maxDifference: number;
  differingPredictions: number;
  accuracyA: number;
  accuracyB: number;
}

/** Both IRs on the first `limit` test images of `dataset`, logit by logit. */
function compareOutputs(a: IrModel, b: IrModel, dataset: string, limit: number | null): OutputComparison {
  const test = loadDataset({ name: dataset as DatasetName, dir: null, trainLimit: 1, testLimit: limit }).test;
  const pixels = test.images.length / test.count;
  const r: OutputComparison = { images: test.count, logits: 0, differingLogits: 0, maxDifference: 0, differingPredictions: 0, accuracyA: 0, accuracyB: 0 };
  for (let i = 0; i < test.count; i++) {
    const x = pixelsToInput(a, test.images.subarray(i * pixels, (i + 1) * pixels));
    const [ya, yb] = [runReference(a, x), runReference(b, x)];
    ya.forEach((v, k) => {
      const d = Math.abs(v - yb[k]);
      if (d > 0) r.differingLogits++;
      r.maxDifference = Math.max(r.maxDifference, d);
    });
    r.logits += ya.length;
    const [pa, pb] = [argmax(ya), argmax(yb)];
    if (pa !== pb) r.differingPredictions++;
    if (pa === test.labels[i]) r.accuracyA++;
    if (pb === test.labels[i]) r.accuracyB++;
  }
  r.accuracyA /= test.count;
  r.accuracyB /= test.count;
  return r;
}

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

function describeOutputs(r: OutputComparison, a: string, b: string): string {
  return (
    `  ${r.differingLogits} of ${r.logits} logits differ (largest difference ${r.maxDifference}) on ${r.images} test images; ` +
    `${r.differingPredictions} predictions differ; accuracy ${a} ${pct(r.accuracyA)}, ${b} ${pct(r.accuracyB)}`
  );
}

function benchExport(path: string, limit: number | null): void {
  const ir = loadIr(path);
  const { bytes } = exportTflite(ir, path);
  const back = importTflite(bytes, { label: `${ir.name}.tflite` });
  const e = exactness(ir);
  const arithmetic = compareArithmetic(ir, back);
  console.log(`${path}: ${bytes.length}-byte .tflite; ${e.differingMultipliers} of ${e.multipliers} multipliers derived differently from its float32 scales; other arithmetic ${arithmetic.mismatches.length === 0 ? 'identical' : `DIFFERS: ${arithmetic.mismatches.join('; ')}`}`);
  console.log(describeOutputs(compareOutputs(ir, back, ir.metadata.dataset, limit), 'IR', 'export'));
}

async function benchRequantize(configPath: string, limit: number | null): Promise<void> {
  const config = loadConfig(configPath);
  const paths = runPaths(config.output.dir);
  const metrics = readTrainMetrics(paths);
  if (!metrics || metrics.trainingHash !== trainingHash(config)) {
    throw new UserError(`${paths.modelDir}: no model trained from ${configPath}; run \`tinyforge train ${configPath}\` first`);
  }
  await initBackend(config.training.backend);
  const model = await loadModel(paths.modelDir);
  const data = loadDataset(config.dataset);
  const f64 = quantizeModel(config, model, data, metrics, 'float64');
  const f32 = quantizeModel(config, model, data, metrics, 'float32');
  if (existsSync(paths.ir)) {
    const saved = loadIr(paths.ir);
    // Everything but the metadata (creation time, accuracy), as the JSON document holds it.
    const arithmetic = (ir: IrModel): string => JSON.stringify({ ...(irToJson(ir) as object), metadata: null });
    const equals = (ir: IrModel): boolean => arithmetic(saved) === arithmetic(ir);
    const which = equals(f64) ? 'the float64 re-quantization' : equals(f32) ? 'the float32 re-quantization' : 'neither re-quantization';
    console.log(`${paths.ir} equals ${which}`);
  }
  const e = exactness(f64);
  console.log(`${configPath} (trained on ${metrics.backend}): re-quantized with float32 scales; the float64 IR's export has ${e.differingMultipliers} of ${e.multipliers} multipliers inexact, the float32 IR's ${exactness(f32).differingMultipliers}`);
  console.log(describeOutputs(compareOutputs(f64, f32, config.dataset.name, limit ?? config.dataset.testLimit), 'float64', 'float32'));
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const { values, positionals } = parseArgs({
    options: { images: { type: 'string' }, requantize: { type: 'string' } },
    allowPositionals: true,
  });
  const limit = values.images === undefined ? null : Number.parseInt(values.images, 10);
  if (limit !== null && !(limit > 0)) throw new UserError(`--images: expected a positive integer, found ${values.images}`);
  if (values.requantize) return benchRequantize(values.requantize, limit);
  for (const path of positionals.length > 0 ? positionals : [DEFAULT_IR]) benchExport(path, limit);
}

await runBench(main);
