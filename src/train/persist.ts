// Saves and loads a tfjs LayersModel as model.json + weights.bin without tfjs-node (whose file://
// handler is unavailable here). Both files are written atomically, weights.bin first; model.json
// records its size and sha256, and every load checks them, so a truncated or damaged weights.bin
// is reported with its path (CorruptModelError) instead of failing somewhere inside tfjs.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

/** The saved model files are damaged: `run` and `train` retrain, the other stages refuse. */
export class CorruptModelError extends UserError {
  /** `problem`: what is wrong with which file, without the advice the message adds. */
  constructor(readonly problem: string, readonly path: string) {
    super(`${problem}: the trained model is damaged; delete it or run \`tinyforge train <config>\` (or \`run\`), which retrain it`);
    this.name = 'CorruptModelError';
  }
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  /** sha256 of weights.bin, hex (absent in models saved before checksums were stored). */
  weightsSha256?: string;
  weightsBytes?: number;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

const dtypeBytes: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1 };

/** Bytes of weight data the manifest describes. */
function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((n, d) => n * d, 1) * (dtypeBytes[s.dtype] ?? 4), 0);
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      writeFileAtomic(join(dir, 'weights.bin'), weights);
      writeJsonAtomic(join(dir, 'model.json'), {
        format: 'layers-model',
        generatedBy: 'tinyforge',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        weightsSha256: sha256(weights),
        weightsBytes: weights.byteLength,
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Reads the model's files and checks them (sizes, checksum) without building the model. */
export function readModelFiles(dir: string): { json: ModelJson; weights: Uint8Array } {
  const jsonPath = join(dir, 'model.json');
  const binPath = join(dir, 'weights.bin');
  if (!existsSync(jsonPath) || !existsSync(binPath)) {
    throw new UserError(`${dir}: no trained model (model.json + weights.bin); run \`tinyforge train\` first`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new CorruptModelError(`${jsonPath}: not valid JSON (${(err as Error).message})`, jsonPath);
  }
  const specs = json.weightsManifest?.[0]?.weights;
  if (!json.modelTopology || !Array.isArray(specs)) {
    throw new CorruptModelError(`${jsonPath}: expected modelTopology and weightsManifest[0].weights`, jsonPath);
  }
  const weights = new Uint8Array(readFileSync(binPath));
  const expected = json.weightsBytes ?? manifestBytes(specs);
  if (weights.byteLength !== expected) {
    throw new CorruptModelError(
      `${binPath}: ${weights.byteLength} bytes, but model.json describes ${expected} (truncated?)`,
      binPath,
    );
  }
  if (json.weightsSha256 !== undefined && sha256(weights) !== json.weightsSha256) {
    throw new CorruptModelError(
      `${binPath}: sha256 ${sha256(weights)} differs from the ${json.weightsSha256} recorded in model.json when it was saved`,
      binPath,
    );
  }
  return { json, weights };
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const { json, weights } = readModelFiles(dir);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
    );
  } catch (err) {
    throw new CorruptModelError(`${join(dir, 'model.json')}: tfjs cannot build the model from it (${(err as Error).message})`, join(dir, 'model.json'));
  }
}
