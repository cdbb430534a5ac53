// The resolved experiment config: every field present, defaults applied (see schema.ts, the one
// place defaults are written down). Each pipeline stage reads only its own section.

export type DatasetName = 'mnist' | 'fashion-mnist';
export type Architecture =
  | 'tiny-cnn'
  | 'separable-cnn'
  | 'bottleneck-cnn'
  | 'mlp'
  | 'lenet5'
  | 'keras-cnn';
export type Activation = 'relu' | 'relu6';
export type BackendPreference = 'auto' | 'torch' | 'tensorflow' | 'wasm' | 'cpu';

export interface DatasetConfig {
  name: DatasetName;
  /** Directory holding the four IDX files (optionally .gz); null = the dataset's standard place. */
  dir: string | null;
  /** Use only the first N training / test images (tests and quick runs); null = all. */
  trainLimit: number | null;
  testLimit: number | null;
}

export interface ModelConfig {
  /** An int8 .tflite model to compile instead of a zoo architecture (absolute once loaded). */
  file: string | null;
  /** For a model file: raw input records to verify on (absolute once loaded); null = random. */
  inputs: string | null;
  /** For a model file with inputs: another runtime's outputs for them (absolute once loaded). */
  outputs: string | null;
  /** For a model file without inputs: the number of seeded random inputs. */
  randomInputs: number;
  inputSeed: number;
  /**
   * For a model file: what verify runs it on. 'auto': model.inputs when set, else random records;
   * 'dataset': the config's dataset's test images (the model must take them), with labels.
   */
  verifyOn: 'auto' | 'inputs' | 'dataset' | 'random';
  architecture: Architecture;
  /** Scales every layer's channel count (rounded, at least 1). */
  widthMultiplier: number;
  /** Scales the number of repeated blocks where the architecture has them. */
  depthMultiplier: number;
  activation: Activation;
  batchNorm: boolean;
  dropout: number;
}

export interface OptimizerConfig {
  name: 'adam' | 'sgd' | 'rmsprop';
  learningRate: number;
  momentum: number;
}

export interface ScheduleConfig {
  type: 'constant' | 'cosine' | 'step' | 'exponential';
  /** Linear warm-up from learningRate/10 over this many epochs. */
  warmupEpochs: number;
  /** Final learning rate as a fraction of the initial one (cosine). */
  minFactor: number;
  /** step: multiply by gamma every stepEpochs; exponential: multiply by gamma every epoch. */
  stepEpochs: number;
  gamma: number;
}

export interface AugmentationConfig {
  enabled: boolean;
  /** Maximum shift in pixels along each axis. */
  maxShift: number;
  /** Maximum rotation in degrees, either way. */
  maxRotation: number;
}

export interface EarlyStoppingConfig {
  enabled: boolean;
  patience: number;
  minDelta: number;
}

export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  seed: number;
  augmentation: AugmentationConfig;
  validationSplit: number;
  earlyStopping: EarlyStoppingConfig;
  backend: BackendPreference;
}

export interface QuantizationConfig {
  calibration: {
    samples: number;
    method: 'minmax' | 'percentile';
    percentile: number;
  };
}

export interface TargetConfig {
  board: string;
  /** Use the DSP kernels where the core has them ('auto'), never ('off'). */
  dsp: 'auto' | 'off';
  optimization: '-Os' | '-O2' | '-O3';
}

export interface BudgetsConfig {
  flashBytes: number | null;
  ramBytes: number | null;
  minAccuracy: number | null;
  maxInstructionsPerInference: number | null;
  /** Latency at the board's clock, assuming one instruction per cycle. */
  maxLatencyMs: number | null;
}

export type PackageKind = 'cmake' | 'zephyr' | 'arduino' | 'platformio' | 'esp-idf';

export interface CodegenConfig {
  /** Resolved: the config's prefix, or its name as a C identifier (src/codegen/prefix.ts). */
  prefix: string;
  arena: 'static' | 'external';
  /** The model's version, major.minor.patch. */
  version: string;
  /** Row bands where they lower the arena (src/codegen/bands.ts); false: layer by layer. */
  rowBands: boolean;
  /** The most MACs row bands may add, as a fraction of the model's; null = no limit. */
  rowBandsMaxExtraMacs: number | null;
  author: string;
  url: string | null;
  package: PackageKind[];
}

export interface Config {
  /** Name of the config file without .json (the leaf of any extends chain). */
  name: string;
  /** Absolute path of the config file. */
  path: string;
  description: string;
  dataset: DatasetConfig;
  model: ModelConfig;
  training: TrainingConfig;
  quantization: QuantizationConfig;
  target: TargetConfig;
  budgets: BudgetsConfig;
  codegen: CodegenConfig;
  output: { dir: string };
}
