// The one-file summary `tinyforge run` writes into the output directory (summary.json) when the
// whole pipeline has finished: what experiments, profiles and reports read about a model.
// Its presence with a matching configHash marks a run (or sweep point) as complete.

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
  dataset: string;
  architecture: string;
  board: string;
  /** 'dsp' when the SMLAD/SXTB16 kernels were compiled in, else 'portable'. */
  kernelPath: 'dsp' | 'portable';
  params: number;
  deployedParams: number;
  macs: number;
  floatAccuracy: number;
  int8Accuracy: number;
  onTargetAccuracy: number;
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
  finishedAt: string;
}
