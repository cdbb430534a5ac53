// The one table of what tinyforge imports from a .tflite file: each supported TFLite operator,
// the IR op it becomes, its constraints (docs/ops.md is generated from these lines, and a test
// keeps the two in sync) and the converter the importer runs.
import type { IrOp } from '../ir/types.js';
import type { OpContext } from './context.js';
import { convertConv, convertDepthwise, convertFullyConnected, convertPool, FUSED_SUPPORTED } from './convert-layers.js';
import {
  convertAdd,
  convertConcatenation,
  convertDequantize,
  convertMean,
  convertPad,
  convertQuantize,
  convertReshape,
  convertSoftmax,
} from './convert-graph-ops.js';
import { BuiltinOperator } from './tflite-schema.js';
import { LIMITS } from './limits.js';

export interface SupportedOp {
  /** TFLite's name of the operator (BuiltinOperator). */
  op: keyof typeof BuiltinOperator;
  /** The IR op kind it becomes. */
  ir: IrOp['kind'];
  /** What tinyforge accepts, one constraint a line (int8 activations are implied). */
  constraints: string[];
  convert: (ctx: OpContext) => IrOp | undefined;
}

const PADDING = 'padding SAME or VALID (resolved to explicit padding as TFLite computes it)';
const NO_REQUANT = "output scale and zero point equal to the input's";

export const SUPPORTED_OPS: SupportedOp[] = [
  {
    op: 'CONV_2D',
    ir: 'conv2d',
    constraints: [
      'any kernel height and width (non-square included), any stride >= 1 per direction, dilation 1',
      PADDING,
      'int8 OHWI weights, per-channel (axis 0) or per-tensor scales, zero point 0, values in [-127, 127]; int32 bias or none',
      FUSED_SUPPORTED,
      LIMITS.int16,
      LIMITS.requantShift,
      LIMITS.accumulator,
    ],
    convert: convertConv,
  },
  {
    op: 'DEPTHWISE_CONV_2D',
    ir: 'depthwise_conv2d',
    constraints: [
      'any depth multiplier >= 1 (output channels = input channels x multiplier), any kernel, any stride >= 1, dilation 1',
      PADDING,
      'int8 [1, kH, kW, C x M] weights, per-channel (axis 3) or per-tensor scales, zero point 0, values in [-127, 127]; int32 bias or none',
      FUSED_SUPPORTED,
      `${LIMITS.int16}; the same for the depth multiplier`,
      LIMITS.requantShift,
      LIMITS.accumulator,
    ],
    convert: convertDepthwise,
  },
  {
    op: 'FULLY_CONNECTED',
    ir: 'fully_connected',
    constraints: [
      'input of any rank with as many elements as the weight rows have columns (one row: batch 1), keep_num_dims either way',
      'int8 [units, inputs] weights, per-channel or per-tensor scales (expanded to per-channel), zero point 0, values in [-127, 127]; int32 bias or none',
      'weights_format DEFAULT',
      FUSED_SUPPORTED,
      LIMITS.fcUnits,
      LIMITS.requantShift,
      LIMITS.accumulator,
    ],
    convert: convertFullyConnected,
  },
  {
    op: 'MAX_POOL_2D',
    ir: 'max_pool2d',
    constraints: ['any filter and stride', PADDING, NO_REQUANT, FUSED_SUPPORTED, LIMITS.int16],
    convert: (ctx) => convertPool(ctx, 'max_pool2d'),
  },
  {
    op: 'AVERAGE_POOL_2D',
    ir: 'avg_pool2d',
    constraints: ['any filter and stride; divides by the taps inside the input, rounding half away from zero', PADDING, NO_REQUANT, FUSED_SUPPORTED, LIMITS.int16],
    convert: (ctx) => convertPool(ctx, 'avg_pool2d'),
  },
  {
    op: 'MEAN',
    ir: 'mean',
    constraints: [
      'over H and W (axes [1, 2], a constant) of an NHWC input, keep_dims true or false',
      "TFLite Micro's arithmetic: 1/N folded into the input/output rescale (not AVERAGE_POOL_2D's rounded division)",
      LIMITS.meanHeadroom,
    ],
    convert: convertMean,
  },
  {
    op: 'ADD',
    ir: 'add',
    constraints: ['two int8 inputs of the same shape as the output (no broadcasting), any scales and zero points', LIMITS.addOutput, FUSED_SUPPORTED],
    convert: convertAdd,
  },
  {
    op: 'CONCATENATION',
    ir: 'concatenation',
    constraints: ['any number of inputs, on any axis but the batch', 'every input quantized like the output (one scale and zero point for all)', 'no fused activation'],
    convert: convertConcatenation,
  },
  {
    op: 'PAD',
    ir: 'pad',
    constraints: ['constant int32 paddings, none on the batch; pads with the zero point', NO_REQUANT, LIMITS.padRank],
    convert: convertPad,
  },
  {
    op: 'SOFTMAX',
    ir: 'softmax',
    constraints: ['over the last dimension, any beta with beta x input scale x 2^26 > 1 (what TFLite accepts)', 'output scale 1/256, zero point -128', LIMITS.softmaxDepth],
    convert: convertSoftmax,
  },
  {
    op: 'RESHAPE',
    ir: 'reshape',
    constraints: ['target shape from the output tensor (constant shape input or new_shape option)', NO_REQUANT],
    convert: convertReshape,
  },
  {
    op: 'SQUEEZE',
    ir: 'reshape',
    constraints: ['any squeeze_dims (becomes a reshape)', NO_REQUANT],
    convert: convertReshape,
  },
  {
    op: 'QUANTIZE',
    ir: 'quantize',
    constraints: ['float32 -> int8 on a graph input, or int8 -> int8 requantization anywhere', LIMITS.requantizeRatio],
    convert: convertQuantize,
  },
  {
    op: 'DEQUANTIZE',
    ir: 'dequantize',
    constraints: ['int8 -> float32 on the graph output'],
    convert: convertDequantize,
  },
];

const byCode = new Map(SUPPORTED_OPS.map((s) => [BuiltinOperator[s.op] as number, s]));

export function supportedOp(code: number): SupportedOp | undefined {
  return byCode.get(code);
}

export const SUPPORTED_OP_NAMES = SUPPORTED_OPS.map((s) => s.op).join(', ');
