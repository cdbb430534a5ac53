// Hand-built int8 .tflite files for what the conformance models do not cover (depth multiplier 8
// at stride 1, 5x1 and 15x1 depthwise kernels, 1-D inputs): one CONV_2D, DEPTHWISE_CONV_2D or
// FULLY_CONNECTED op with seeded random int8 weights, per-channel (or per-tensor) scales and
// int32 biases, written with src/export/tflite-writer.ts. They have no TFLM goldens; tests use
// them to check that the reference and the generated C agree on shapes TFLM models also use.
import { writeTflite } from '../../src/export/tflite-writer.js';
import { Activation, BuiltinOperator, BuiltinOptions, PaddingType, TensorType } from '../../src/import/tflite-schema.js';
import { Rng } from '../../src/util/random.js';

export interface HandBuiltOp {
  op: 'CONV_2D' | 'DEPTHWISE_CONV_2D' | 'FULLY_CONNECTED';
  /** TFLite shapes, batch included. */
  input: number[];
  output: number[];
  filter: number[];
  stride?: [number, number];
  padding?: 'SAME' | 'VALID';
  activation?: keyof typeof Activation;
  perTensor?: boolean;
  seed: number;
}

export const HAND_BUILT: Record<string, HandBuiltOp> = {
  dwconv_dm8_s1: { op: 'DEPTHWISE_CONV_2D', input: [1, 9, 7, 2], output: [1, 9, 7, 16], filter: [1, 3, 3, 16], activation: 'RELU', seed: 1 },
  dwconv_5x1: { op: 'DEPTHWISE_CONV_2D', input: [1, 49, 10, 8], output: [1, 49, 10, 8], filter: [1, 5, 1, 8], seed: 2 },
  dwconv_15x1_s2_valid: { op: 'DEPTHWISE_CONV_2D', input: [1, 40, 3, 4], output: [1, 13, 3, 4], filter: [1, 15, 1, 4], stride: [2, 1], padding: 'VALID', activation: 'RELU6', seed: 3 },
  conv_1d_1x5_s2: { op: 'CONV_2D', input: [1, 1, 40, 4], output: [1, 1, 20, 8], filter: [8, 1, 5, 4], stride: [1, 2], seed: 4 },
  fc_1d_per_tensor: { op: 'FULLY_CONNECTED', input: [1, 64], output: [1, 10], filter: [10, 64], perTensor: true, activation: 'RELU_N1_TO_1', seed: 5 },
};

export function handBuiltTflite(spec: HandBuiltOp): Uint8Array {
  const rng = new Rng(spec.seed);
  const channels = spec.op === 'DEPTHWISE_CONV_2D' ? spec.filter[3] : spec.filter[0];
  const weightScales = Array.from({ length: spec.perTensor ? 1 : channels }, () => Math.fround(rng.uniform(0.002, 0.01)));
  const weights = Int8Array.from({ length: spec.filter.reduce((a, b) => a * b, 1) }, () => rng.int(255) - 127);
  const bias = Int32Array.from({ length: channels }, () => rng.int(10001) - 5000);
  const inScale = Math.fround(rng.uniform(0.01, 0.05));
  const quant = (scale: number[], dim = 0) => ({ scale, zeroPoint: scale.map(() => 0), quantizedDimension: dim });
  const axis = spec.op === 'DEPTHWISE_CONV_2D' ? 3 : 0;
  const options =
    spec.op === 'FULLY_CONNECTED'
      ? { type: BuiltinOptions.FullyConnectedOptions, values: { 0: Activation[spec.activation ?? 'NONE'] } }
      : {
          type: spec.op === 'CONV_2D' ? BuiltinOptions.Conv2DOptions : BuiltinOptions.DepthwiseConv2DOptions,
          values: {
            0: PaddingType[spec.padding ?? 'SAME'],
            1: spec.stride?.[1] ?? 1,
            2: spec.stride?.[0] ?? 1,
            ...(spec.op === 'CONV_2D'
              ? { 3: Activation[spec.activation ?? 'NONE'], 4: 1, 5: 1 }
              : { 3: spec.filter[3] / spec.input[3], 4: Activation[spec.activation ?? 'NONE'], 5: 1, 6: 1 }),
          },
        };
  return writeTflite({
    operatorCodes: [{ code: BuiltinOperator[spec.op] }],
    buffers: [undefined, new Uint8Array(weights.buffer), new Uint8Array(bias.buffer)],
    tensors: [
      { name: 'input', shape: spec.input, type: TensorType.INT8, buffer: 0, quantization: { scale: [inScale], zeroPoint: [-3] } },
      { name: 'filter', shape: spec.filter, type: TensorType.INT8, buffer: 1, quantization: quant(weightScales, axis) },
      { name: 'bias', shape: [channels], type: TensorType.INT32, buffer: 2, quantization: quant(weightScales.map((s) => Math.fround(s * inScale))) },
      { name: 'output', shape: spec.output, type: TensorType.INT8, buffer: 0, quantization: { scale: [Math.fround(rng.uniform(0.02, 0.08))], zeroPoint: [-10] } },
    ],
    inputs: [0],
    outputs: [3],
    operators: [{ opcodeIndex: 0, inputs: [0, 1, 2], outputs: [3], optionsType: options.type, options: options.values }],
  });
}
