// JSON Schema (draft-07) of the IR document on disk (model.ir.json). schema/ir.schema.json is
// the same schema as a file for editors and other tools; test/ir-io.test.ts asserts the two are
// equal. This schema checks structure, types and per-value ranges; src/ir/validate.ts checks what
// a schema cannot (tensor references, shapes, array lengths against shapes, the op chain).
//
// On-disk encoding of the typed arrays of src/ir/types.ts:
//  - weights (Int8Array): base64 of the raw int8 bytes, in the layout the op documents.
//  - bias, requant.multiplier, requant.shift (Int32Array): plain JSON integer arrays. They hold
//    one value per output channel, so they are small; plain integers keep them readable and
//    exact (every int32 is exactly representable in JSON/double).
//  - requant.weightScale (Float64Array): plain JSON numbers (JS prints doubles so that they parse
//    back to the identical double).
import { IR_VERSIONS_READ } from './types.js';

const INT8 = { type: 'integer', minimum: -128, maximum: 127 };
const INT32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 };

const windowOpCommon = {
  stride: { $ref: '#/definitions/positivePair', description: '[strideH, strideW].' },
  padding: { $ref: '#/definitions/padding' },
  clamp: { $ref: '#/definitions/clamp' },
};

const opCommon = {
  name: { type: 'string', description: 'Name of the layer this op came from.' },
  input: { $ref: '#/definitions/tensorId', description: 'Id of the tensor the op reads.' },
  output: { $ref: '#/definitions/tensorId', description: 'Id of the tensor the op writes.' },
};

const requantized = {
  bias: {
    type: 'array',
    items: INT32,
    description: 'int32 biases, one per output channel, scale inputScale * weightScale[c], zero point 0.',
  },
  requant: { $ref: '#/definitions/requant' },
};

/** Op kind -> its definition in the schema. */
const OP_SCHEMAS = [
  ['conv2d', 'conv2d'],
  ['depthwise_conv2d', 'depthwiseConv2d'],
  ['fully_connected', 'fullyConnected'],
  ['max_pool2d', 'maxPool2d'],
  ['avg_pool2d', 'avgPool2d'],
  ['reshape', 'reshape'],
  ['add', 'add'],
  ['concatenation', 'concatenation'],
  ['pad', 'pad'],
  ['mean', 'mean'],
  ['softmax', 'softmax'],
  ['quantize', 'quantize'],
  ['dequantize', 'dequantize'],
] as const;

function opSchema(
  kind: string,
  description: string,
  properties: Record<string, unknown>,
  optional: string[] = [],
): Record<string, unknown> {
  const all = { kind: { const: kind }, ...opCommon, ...properties };
  return {
    type: 'object',
    description,
    required: Object.keys(all).filter((key) => !optional.includes(key)),
    additionalProperties: false,
    properties: all,
  };
}

const RESCALE = { $ref: '#/definitions/rescale' };

const graphOpSchemas = {
  add: opSchema('add', "Elementwise int8 ADD of input and input2 (same shape), TFLite's arithmetic.", {
    input2: { $ref: '#/definitions/tensorId', description: 'Id of the second tensor added.' },
    leftShift: { type: 'integer', minimum: 0, maximum: 30, description: '20 for int8.' },
    input1Rescale: RESCALE,
    input2Rescale: RESCALE,
    outputRescale: RESCALE,
    clamp: { $ref: '#/definitions/clamp' },
  }),
  concatenation: opSchema('concatenation', 'Concatenation of inputs along axis; one shared quantization.', {
    inputs: { type: 'array', minItems: 1, items: { $ref: '#/definitions/tensorId' }, description: 'Every input, inputs[0] = input.' },
    axis: { type: 'integer', minimum: 0, description: 'Axis of the IR shape (no batch dimension).' },
  }),
  pad: opSchema('pad', "Constant padding with the input's zero point.", {
    paddings: {
      type: 'array',
      items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'integer', minimum: 0 } },
      description: '[before, after] per IR dimension.',
    },
  }),
  mean: opSchema('mean', "Mean over axes, TFLite Micro's int8 arithmetic (see src/ir/types.ts).", {
    axes: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 } },
    keepDims: { type: 'boolean' },
    rescale: RESCALE,
  }),
  softmax: opSchema('softmax', "int8 softmax over the last dimension, TFLite's fixed-point exp.", {
    beta: { type: 'number', exclusiveMinimum: 0 },
    inputMultiplier: { type: 'integer', minimum: 0, maximum: 2147483647 },
    inputLeftShift: { type: 'integer', minimum: 0, maximum: 31 },
    diffMin: { type: 'integer', maximum: 0 },
  }),
  quantize: opSchema(
    'quantize',
    'float32 -> int8 (no rescale), or int8 -> int8 requantization (rescale present).',
    { rescale: RESCALE },
    ['rescale'],
  ),
  dequantize: opSchema('dequantize', 'int8 -> float32: scale * (q - zeroPoint).', {}),
};

export const irJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'tinyforge int8 IR',
  description:
    'One int8 graph (TFLite int8 quantization spec): the contract between quantization and the ' +
    'reference interpreter, C generation and verification. Layout NHWC without the batch ' +
    'dimension. Weights are base64 of int8 bytes; bias, multiplier and shift are plain integer ' +
    'arrays (one per output channel); weightScale is a plain number array.',
  type: 'object',
  required: ['irVersion', 'name', 'tensors', 'ops', 'input', 'output', 'metadata'],
  additionalProperties: false,
  // Version 1 (zoo models before graphs): one image input, whose pixelOffset is required.
  if: { type: 'object', required: ['irVersion'], properties: { irVersion: { const: 1 } } },
  then: {
    type: 'object',
    properties: { input: { type: 'object', required: ['tensor', 'pixelOffset'], properties: { tensor: {}, pixelOffset: {} } } },
  },
  properties: {
    irVersion: {
      enum: [...IR_VERSIONS_READ],
      description: 'Version of this format (1: chains of layer ops; 2: graphs); a reader refuses newer versions.',
    },
    name: { type: 'string', minLength: 1 },
    tensors: { type: 'array', minItems: 1, items: { $ref: '#/definitions/tensor' } },
    ops: {
      type: 'array',
      minItems: 1,
      description: 'In topological order: every tensor an op reads is a graph input or written by an earlier op.',
      items: { $ref: '#/definitions/op' },
    },
    input: { $ref: '#/definitions/graphInput', description: 'The first (often the only) graph input.' },
    extraInputs: {
      type: 'array',
      items: { $ref: '#/definitions/graphInput' },
      description: 'Further graph inputs, in the source model\'s order.',
    },
    output: {
      type: 'object',
      required: ['tensor', 'numClasses'],
      additionalProperties: false,
      properties: {
        tensor: { $ref: '#/definitions/tensorId', description: 'The output tensor; for classifiers the class is the argmax.' },
        numClasses: { type: 'integer', minimum: 1 },
      },
    },
    metadata: {
      type: 'object',
      required: ['configName', 'configHash', 'dataset', 'architecture', 'calibration', 'createdAt', 'tinyforgeVersion'],
      additionalProperties: false,
      properties: {
        configName: { type: 'string' },
        configHash: { type: 'string' },
        dataset: { type: 'string' },
        architecture: { type: 'string' },
        floatTestAccuracy: { type: 'number', minimum: 0, maximum: 1 },
        calibration: {
          type: 'object',
          required: ['method', 'samples'],
          additionalProperties: false,
          properties: {
            method: { type: 'string' },
            samples: { type: 'integer', minimum: 0 },
            percentile: { type: 'number' },
          },
        },
        createdAt: { type: 'string' },
        tinyforgeVersion: { type: 'string' },
        source: {
          type: 'object',
          description: 'Where an imported model came from.',
          required: ['format', 'file', 'sha256'],
          additionalProperties: false,
          properties: {
            format: { const: 'tflite' },
            file: { type: 'string' },
            sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          },
        },
      },
    },
  },
  definitions: {
    tensorId: { type: 'integer', minimum: 0 },
    graphInput: {
      type: 'object',
      required: ['tensor'],
      additionalProperties: false,
      properties: {
        tensor: { $ref: '#/definitions/tensorId' },
        pixelOffset: { type: 'integer', description: 'Image inputs: q = pixel + pixelOffset for a 0..255 pixel (-128).' },
      },
    },
    rescale: {
      type: 'object',
      description: 'One (Q31 multiplier, TFLite shift) pair: real = multiplier * 2^(shift - 31).',
      required: ['multiplier', 'shift'],
      additionalProperties: false,
      properties: {
        multiplier: { type: 'integer', minimum: 0, maximum: 2147483647 },
        shift: { type: 'integer', minimum: -31, maximum: 30 },
      },
    },
    positivePair: {
      type: 'array',
      minItems: 2,
      maxItems: 2,
      items: { type: 'integer', minimum: 1 },
    },
    padding: {
      type: 'object',
      description: "Explicit padding in elements, resolved from TF's 'same'/'valid'.",
      required: ['top', 'left', 'bottom', 'right'],
      additionalProperties: false,
      properties: {
        top: { type: 'integer', minimum: 0 },
        left: { type: 'integer', minimum: 0 },
        bottom: { type: 'integer', minimum: 0 },
        right: { type: 'integer', minimum: 0 },
      },
    },
    clamp: {
      type: 'object',
      description: 'Output clamp in the int8 domain (fused ReLU/ReLU6, or [-128, 127]).',
      required: ['min', 'max'],
      additionalProperties: false,
      properties: { min: INT8, max: INT8 },
    },
    int8Base64: {
      type: 'string',
      description: 'base64 (RFC 4648, with padding) of int8 bytes (two\'s complement).',
      pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
    },
    requant: {
      type: 'object',
      description: 'Per output channel: real multiplier = multiplier[c] * 2^(shift[c] - 31) = inputScale * weightScale[c] / outputScale.',
      required: ['multiplier', 'shift', 'weightScale'],
      additionalProperties: false,
      properties: {
        multiplier: {
          type: 'array',
          items: { type: 'integer', minimum: 0, maximum: 2147483647 },
          description: 'Q31 multipliers from QuantizeMultiplier (plain integers).',
        },
        shift: {
          type: 'array',
          items: { type: 'integer', minimum: -31, maximum: 30 },
          description: 'TFLite shifts, positive = left (plain integers).',
        },
        weightScale: {
          type: 'array',
          items: { type: 'number', exclusiveMinimum: 0 },
          description: 'Real per-channel weight scales (weights are symmetric, zero point 0).',
        },
      },
    },
    tensor: {
      type: 'object',
      required: ['id', 'name', 'shape', 'scale', 'zeroPoint'],
      additionalProperties: false,
      properties: {
        id: { $ref: '#/definitions/tensorId' },
        name: { type: 'string' },
        shape: {
          type: 'array',
          minItems: 1,
          items: { type: 'integer', minimum: 1 },
          description: '[H, W, C] for feature maps, [N] for vectors.',
        },
        dtype: { enum: ['int8', 'float32'], description: 'Absent means int8; float32 only at the graph edges (scale 1, zero point 0).' },
        scale: { type: 'number', exclusiveMinimum: 0 },
        zeroPoint: INT8,
      },
    },
    op: {
      type: 'object',
      required: ['kind'],
      properties: {
        kind: { enum: OP_SCHEMAS.map(([kind]) => kind) },
      },
      // Dispatch on kind so that an error is reported against the one schema that applies.
      allOf: OP_SCHEMAS.map(([kind, definition]) => ({
        if: { type: 'object', required: ['kind'], properties: { kind: { const: kind } } },
        then: { $ref: `#/definitions/${definition}` },
      })),
    },
    conv2d: opSchema('conv2d', 'Convolution; weights OHWI [outC, kH, kW, inC].', {
      kernel: { $ref: '#/definitions/positivePair', description: '[kH, kW].' },
      ...windowOpCommon,
      weights: { $ref: '#/definitions/int8Base64' },
      ...requantized,
    }),
    depthwiseConv2d: opSchema(
      'depthwise_conv2d',
      'Depthwise convolution; weights [1, kH, kW, C * M]; output channel c = i * M + m.',
      {
        kernel: { $ref: '#/definitions/positivePair', description: '[kH, kW].' },
        ...windowOpCommon,
        depthMultiplier: { type: 'integer', minimum: 1 },
        weights: { $ref: '#/definitions/int8Base64' },
        ...requantized,
      },
    ),
    fullyConnected: opSchema('fully_connected', 'Fully connected; weights [outUnits, inUnits] row-major.', {
      weights: { $ref: '#/definitions/int8Base64' },
      ...requantized,
      clamp: { $ref: '#/definitions/clamp' },
    }),
    maxPool2d: opSchema('max_pool2d', 'Max pooling over valid window positions; keeps scale and zero point.', {
      pool: { $ref: '#/definitions/positivePair', description: '[poolH, poolW].' },
      ...windowOpCommon,
    }),
    avgPool2d: opSchema(
      'avg_pool2d',
      'Average pooling over valid window positions, dividing rounding half away from zero; keeps scale and zero point.',
      {
        pool: { $ref: '#/definitions/positivePair', description: '[poolH, poolW].' },
        ...windowOpCommon,
      },
    ),
    reshape: opSchema('reshape', 'Reshape/flatten: the bytes do not move; keeps scale and zero point.', {}),
    ...graphOpSchemas,
  },
};
