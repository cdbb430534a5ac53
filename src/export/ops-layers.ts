// The layer ops -> TFLite operators: CONV_2D and DEPTHWISE_CONV_2D (per-channel int8 filters,
// int32 biases), FULLY_CONNECTED, MAX_POOL_2D and AVERAGE_POOL_2D, RESHAPE with its shape tensor.
import type { IrOp } from '../ir/types.js';
import { BuiltinOperator, BuiltinOptions, F } from '../import/tflite-schema.js';
import type { OptionValues } from '../import/options.js';
import { fusedActivationOf, OpExportProblem, optionValues, paddingTypeOf, type ExportedOperator, type OpWriterContext } from './op-common.js';
import { tfliteShape } from './tensors.js';

export function writeConvolution(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'conv2d' | 'depthwise_conv2d' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  const padding = paddingTypeOf(op.padding, x, y, op.kernel, op.stride);
  const fused = fusedActivationOf(op.clamp, y);
  const [kh, kw] = op.kernel;
  const outC = y.shape[2];
  const depthwise = op.kind === 'depthwise_conv2d';
  // Conv filters are OHWI (scales along dimension 0); depthwise filters [1, kH, kW, C * M] (along 3).
  const filterShape = depthwise ? [1, kh, kw, outC] : [outC, kh, kw, x.shape[2]];
  const filter = ctx.table.weights(`${op.name}/filter`, filterShape, op.weights, op.requant.weightScale, depthwise ? 3 : 0);
  const bias = ctx.table.bias(`${op.name}/bias`, op.bias, x.scale, op.requant.weightScale);
  const window = { padding, stride_h: op.stride[0], stride_w: op.stride[1] };
  const options: OptionValues = depthwise
    ? optionValues(F.DepthwiseConv2DOptions, {
        ...window, depth_multiplier: op.depthMultiplier, fused_activation_function: fused, dilation_w_factor: 1, dilation_h_factor: 1,
      })
    : optionValues(F.Conv2DOptions, { ...window, fused_activation_function: fused, dilation_w_factor: 1, dilation_h_factor: 1 });
  return {
    code: depthwise ? BuiltinOperator.DEPTHWISE_CONV_2D : BuiltinOperator.CONV_2D,
    version: 3,
    inputs: [ctx.table.activation(x), filter, bias],
    outputs: [ctx.table.activation(y)],
    optionsType: depthwise ? BuiltinOptions.DepthwiseConv2DOptions : BuiltinOptions.Conv2DOptions,
    options,
  };
}

export function writeFullyConnected(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'fully_connected' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  const fused = fusedActivationOf(op.clamp, y);
  const units = op.bias.length;
  const filter = ctx.table.weights(`${op.name}/weights`, [units, op.weights.length / units], op.weights, op.requant.weightScale, 0);
  const bias = ctx.table.bias(`${op.name}/bias`, op.bias, x.scale, op.requant.weightScale);
  return {
    code: BuiltinOperator.FULLY_CONNECTED,
    version: 4,
    inputs: [ctx.table.activation(x), filter, bias],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.FullyConnectedOptions,
    options: optionValues(F.FullyConnectedOptions, { fused_activation_function: fused, weights_format: 0, keep_num_dims: 0 }),
  };
}

export function writePool(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'max_pool2d' | 'avg_pool2d' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  if (x.scale !== y.scale || x.zeroPoint !== y.zeroPoint) {
    throw new OpExportProblem("output quantization differs from the input's", "the input's scale and zero point (TFLite's pooling does not rescale)");
  }
  // A global average pool is this op with the window the whole feature map (not MEAN, whose
  // arithmetic differs).
  const options = optionValues(F.Pool2DOptions, {
    padding: paddingTypeOf(op.padding, x, y, op.pool, op.stride),
    stride_h: op.stride[0],
    stride_w: op.stride[1],
    filter_height: op.pool[0],
    filter_width: op.pool[1],
    fused_activation_function: fusedActivationOf(op.clamp, y),
  });
  return {
    code: op.kind === 'max_pool2d' ? BuiltinOperator.MAX_POOL_2D : BuiltinOperator.AVERAGE_POOL_2D,
    version: 2,
    inputs: [ctx.table.activation(x)],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.Pool2DOptions,
    options,
  };
}

export function writeReshape(ctx: OpWriterContext, op: Extract<IrOp, { kind: 'reshape' }>): ExportedOperator {
  const [x, y] = [ctx.tensor(op.input), ctx.tensor(op.output)];
  if (x.scale !== y.scale || x.zeroPoint !== y.zeroPoint) {
    throw new OpExportProblem("output quantization differs from the input's", "the input's scale and zero point");
  }
  const newShape = tfliteShape(y.shape);
  // The shape as a constant second input (what TFLite Micro reads) and in the options (older readers).
  const shapeTensor = ctx.table.int32s(`${op.name}/shape`, newShape);
  return {
    code: BuiltinOperator.RESHAPE,
    version: 1,
    inputs: [ctx.table.activation(x), shapeTensor],
    outputs: [ctx.table.activation(y)],
    optionsType: BuiltinOptions.ReshapeOptions,
    options: optionValues(F.ReshapeOptions, { new_shape: newShape }),
  };
}

