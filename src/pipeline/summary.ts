// The one-file summary `tinyforge run` writes into the output directory (summary.json) when the
// whole pipeline has finished: what experiments, profiles and reports read about a model.
// It is written whether or not the verification passed (a failed run keeps its figures for
// diagnosis); a run (or sweep point) is complete only when its summary has a matching configHash
// and `passed` is true (see summaryPassed).
import type { CodeVersion } from '../util/code-version.js';

export interface LayerResource {
  name: string;
  kind: string;
  outputShape: number[];
  params: number;
  macs: number;
  /** float32 weights + biases, bytes (4 per parameter). */
  floatWeightBytes: number;
  /** int8 weights + int32 biases + int32 multipliers/shifts, bytes. */
  int8WeightBytes: number;
  /** Output activation size, int8 bytes. */
  activationBytes: number;
}

export interface RunSummary {
  config: string;
  configHash: string;
  description: string;
  /** The dataset trained on (zoo) or verified on (a model file with verifyOn "dataset"); "none" for a model file verified on raw or random inputs. */
  dataset: string;
  /** A zoo architecture, or "tflite:<name>" for a model file. */
  architecture: string;
  /** Where the model came from: a zoo architecture trained here, or an imported .tflite file (absent in older summaries: zoo). */
  source?: 'zoo' | 'tflite';
  /** For a model file: the file and its sha256. */
  modelFile?: { file: string; sha256: string };
  board: string;
  /** 'dsp' when the SMLAD/SXTB16 kernels were compiled in, else 'portable'. */
  kernelPath: 'dsp' | 'portable';
  params: number;
  deployedParams: number;
  macs: number;
  /** null for a model file (no float model here). */
  floatAccuracy: number | null;
  /** The int8 reference's accuracy; null for a model file without labels. */
  int8Accuracy: number | null;
  /** null for a model file verified on raw or random inputs (no labels): such a point is never ranked on accuracy. */
  onTargetAccuracy: number | null;
  /** Images whose on-target logits differ from the reference (0 when bit-exact). */
  mismatches: number;
  testImages: number;
  flashBytes: number;
  ramBytes: number;
  weightsBytes: number;
  codeBytes: number;
  arenaBytes: number;
  arenaLowerBoundBytes: number;
  instructionsPerInference: number;
  instructionsPerMac: number;
  /** instructions / clock, assuming one instruction per cycle. */
  latencyMs: number;
  /** instructions x the board profile's energy per cycle (an estimate; source in the profile). */
  energyMicrojoules: number;
  trainingSeconds: number;
  samplesPerSecond: number;
  epochsRun: number;
  backend: string;
  layers: LayerResource[];
  /** Per-epoch training curve. */
  history: { epoch: number; loss: number; accuracy: number; valLoss: number | null; valAccuracy: number | null }[];
  budgets: { name: string; limit: number; actual: number; ok: boolean }[];
  /**
   * The verification passed: every logit bit-exact and every budget met, over at least one image.
   * Absent in summaries written before this field existed (summaryPassed derives it).
   */
  passed?: boolean;
  /** The IR (and its training and evaluation) came from an earlier run of the same config (`run --reuse-ir`). */
  reusedIr?: boolean;
  /** The code that produced it; absent in summaries written before this field existed. */
  code?: CodeVersion;
  finishedAt: string;
}

/** The footprint and speed figures a summary copies from its verification report (zoo or model file). */
const MEASURED = [
  'flashBytes', 'ramBytes', 'weightsBytes', 'codeBytes', 'arenaBytes', 'arenaLowerBoundBytes',
  'instructionsPerInference', 'instructionsPerMac', 'latencyMs', 'energyMicrojoules',
] as const;
export type MeasuredFigures = Pick<RunSummary, (typeof MEASURED)[number]>;

export function measuredFigures(report: MeasuredFigures): MeasuredFigures {
  return Object.fromEntries(MEASURED.map((key) => [key, report[key]])) as MeasuredFigures;
}

/** Why a run summary is not a pass, in words; null when it passed. */
export function summaryFailure(s: RunSummary): string | null {
  const reasons: string[] = [];
  if (!(s.testImages > 0)) reasons.push('no test image was verified');
  if (s.mismatches !== 0) reasons.push(`${s.mismatches} of ${s.testImages} images differ from the int8 reference`);
  for (const b of s.budgets ?? []) if (!b.ok) reasons.push(`budget ${b.name} failed (${b.actual} against a limit of ${b.limit})`);
  if (reasons.length === 0 && s.passed === false) reasons.push('the run reported a failed verification');
  return reasons.length ? reasons.join('; ') : null;
}

/** The on-target accuracy of a run that measured one: every zoo run does (search and its candidates). */
export function measuredAccuracy(s: RunSummary): number {
  if (s.onTargetAccuracy === null) throw new Error(`${s.config}: this run has no on-target accuracy (a model file verified without labels)`);
  return s.onTargetAccuracy;
}

/** A summary counts as a result only when its verification passed. */
export function summaryPassed(s: RunSummary): boolean {
  return summaryFailure(s) === null;
}

/** Was the summary produced by this very code (same code hash)? Old summaries without one were not. */
export function summaryFromCode(s: RunSummary, code: CodeVersion): boolean {
  return s.code?.codeHash === code.codeHash;
}
