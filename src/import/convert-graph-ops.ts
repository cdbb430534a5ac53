// ADD, CONCATENATION, PAD, MEAN, SOFTMAX, QUANTIZE, DEQUANTIZE, RESHAPE and SQUEEZE -> IR ops.
import type { IrOp } from '../ir/types.js';
import type { OpContext } from './context.js';
import type { TfliteTensor } from './tflite-model.js';
import { fusedActivation } from './convert-layers.js';
import { activationClamp, addParams, scaleRatio, softmaxParams } from './tflm-params.js';
import { Activation, activationNames, BuiltinOptions, F, TensorType } from './tflite-schema.js';
import { checkAddOutput, checkMeanHeadroom, checkPadLimits, checkRequantizeRatio, checkSoftmaxDepth } from './limits.js';

const ADD_LEFT_SHIFT = 20;

const scaleOf = (t: TfliteTensor): number => t.quantization!.scale[0];
const zeroOf = (t: TfliteTensor): number => t.quantization!.zeroPoint[0] ?? 0;
const sameQuant = (a: TfliteTensor, b: TfliteTensor): boolean => scaleOf(a) === scaleOf(b) && zeroOf(a) === zeroOf(b);
const shapeText = (t: TfliteTensor): string => JSON.stringify(t.shape);

/** TFLite axis (negative counts from the end) -> IR axis (batch dropped); undefined for batch. */
function irAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 1 && a < rank ? a - 1 : undefined;
}

export function convertAdd(ctx: OpContext): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.AddOptions, 'AddOptions');
  const act = fusedActivation(ctx, o, F.AddOptions.fused_activation_function);
  const [a, b, y] = [ctx.input(0, 'input'), ctx.input(1, 'second input'), ctx.output()];
  if (!a || !b || !y) return undefined;
  const ok = [ctx.activation(a, 'input'), ctx.activation(b, 'second input'), ctx.activation(y, 'output')].every(Boolean);
  if (!ok) return undefined;
  if (shapeText(a) !== shapeText(b) || shapeText(a) !== shapeText(y)) {
    ctx.unsupported(`inputs ${shapeText(a)} + ${shapeText(b)} -> ${shapeText(y)} (broadcasting)`, 'two inputs and an output of the same shape');
  }
  const params = addParams(scaleOf(a), scaleOf(b), scaleOf(y), ADD_LEFT_SHIFT);
  checkAddOutput(ctx, params.outputRescale, { a: scaleOf(a), b: scaleOf(b), out: scaleOf(y) });
  if (!ctx.ok) return undefined;
  return {
    kind: 'add',
    name: ctx.name,
    input: ctx.state.irTensor(a),
    input2: ctx.state.irTensor(b),
    output: ctx.state.irTensor(y),
    leftShift: ADD_LEFT_SHIFT,
    ...params,
    clamp: activationClamp(act, scaleOf(y), zeroOf(y)),
  };
}

export function convertConcatenation(ctx: OpContext): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.ConcatenationOptions, 'ConcatenationOptions');
  const act = o?.scalar(F.ConcatenationOptions.fused_activation_function, 'i8', 'fused_activation_function') ?? 0;
  if (act !== Activation.NONE) ctx.unsupported(`fused activation ${activationNames[act] ?? act}`, 'no fused activation (TFLite Micro refuses one)');
  const y = ctx.output();
  const inputs = ctx.op.inputs.map((_, k) => ctx.input(k, `input ${k}`));
  if (!y || inputs.some((t) => !t) || inputs.length === 0) return undefined;
  const xs = inputs as TfliteTensor[];
  if (![...xs.map((x, k) => ctx.activation(x, `input ${k}`)), ctx.activation(y, 'output')].every(Boolean)) return undefined;
  const axis = irAxis(o?.scalar(F.ConcatenationOptions.axis, 'i32', 'axis') ?? 0, y.shape.length);
  if (axis === undefined) ctx.unsupported(`axis ${o?.scalar(F.ConcatenationOptions.axis, 'i32', 'axis') ?? 0} (the batch)`, 'an axis other than the batch');
  xs.forEach((x, k) => {
    if (!sameQuant(x, y)) {
      ctx.unsupported(`input ${k} "${x.name}" quantized unlike the output`, "one shared scale and zero point (the converter's QUANTIZE before CONCATENATION otherwise)");
    }
  });
  if (!ctx.ok || axis === undefined) return undefined;
  const ids = xs.map((x) => ctx.state.irTensor(x));
  return { kind: 'concatenation', name: ctx.name, input: ids[0], inputs: ids, axis, output: ctx.state.irTensor(y) };
}

export function convertPad(ctx: OpContext): IrOp | undefined {
  ctx.options(BuiltinOptions.PadOptions, 'PadOptions');
  const [x, y] = [ctx.input(0, 'input'), ctx.output()];
  const paddings = ctx.constantInts(ctx.input(1, 'paddings'), 'paddings');
  if (!x || !y || !paddings || !ctx.activation(x, 'input') || !ctx.activation(y, 'output')) return undefined;
  const rank = x.shape.length;
  if (paddings.length !== 2 * rank) {
    ctx.unsupported(`paddings of ${paddings.length} values for a rank-${rank} input`, `[${rank}, 2] paddings`);
    return undefined;
  }
  if (paddings[0] !== 0 || paddings[1] !== 0) ctx.unsupported(`batch padding [${paddings[0]}, ${paddings[1]}]`, 'no padding of the batch dimension');
  if (paddings.some((p) => p < 0)) ctx.unsupported(`negative padding ${JSON.stringify(paddings)}`, 'paddings >= 0');
  if (!sameQuant(x, y)) ctx.unsupported("output quantization differs from the input's", "the input's scale and zero point (PAD does not rescale)");
  checkPadLimits(ctx, x.shape, y.shape);
  if (!ctx.ok) return undefined;
  const pairs: [number, number][] = [];
  for (let d = 1; d < rank; d++) pairs.push([paddings[2 * d], paddings[2 * d + 1]]);
  return { kind: 'pad', name: ctx.name, input: ctx.state.irTensor(x), output: ctx.state.irTensor(y), paddings: rank === 1 ? [[paddings[0], paddings[1]]] : pairs };
}

export function convertMean(ctx: OpContext): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.ReducerOptions, 'ReducerOptions');
  const keepDims = (o?.scalar(F.ReducerOptions.keep_dims, 'u8', 'keep_dims') ?? 0) !== 0;
  const [x, y] = [ctx.input(0, 'input'), ctx.output()];
  const axes = ctx.constantInts(ctx.input(1, 'axes'), 'axes');
  if (!x || !y || !axes || !ctx.activation(x, 'input') || !ctx.activation(y, 'output')) return undefined;
  const resolved = [...new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)))].sort((p, q) => p - q);
  if (x.shape.length !== 4 || resolved.join(',') !== '1,2') {
    ctx.unsupported(`axes ${JSON.stringify(axes)} of a ${shapeText(x)} input`, 'the mean over H and W (axes [1, 2]) of an NHWC input');
    return undefined;
  }
  const rescale = scaleRatio(scaleOf(x), scaleOf(y));
  checkMeanHeadroom(ctx, rescale, x.shape[1] * x.shape[2]);
  if (!ctx.ok) return undefined;
  return {
    kind: 'mean',
    name: ctx.name,
    input: ctx.state.irTensor(x),
    output: ctx.state.irTensor(y),
    axes: [0, 1],
    keepDims,
    rescale,
  };
}

export function convertSoftmax(ctx: OpContext): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.SoftmaxOptions, 'SoftmaxOptions');
  const beta = o?.scalar(F.SoftmaxOptions.beta, 'f32', 'beta') ?? 0;
  const [x, y] = [ctx.input(0, 'input'), ctx.output()];
  if (!x || !y || !ctx.activation(x, 'input') || !ctx.activation(y, 'output')) return undefined;
  if (scaleOf(y) !== 1 / 256 || zeroOf(y) !== -128) {
    ctx.unsupported(`output scale ${scaleOf(y)} and zero point ${zeroOf(y)}`, 'output scale 1/256 and zero point -128 (int8 softmax)');
  }
  const params = softmaxParams(beta, scaleOf(x));
  if (!params) ctx.unsupported(`beta ${beta} with input scale ${scaleOf(x)}`, 'beta * input scale * 2^26 > 1 (what TFLite accepts)');
  checkSoftmaxDepth(ctx, x.shape);
  if (!ctx.ok || !params) return undefined;
  return { kind: 'softmax', name: ctx.name, input: ctx.state.irTensor(x), output: ctx.state.irTensor(y), beta, ...params };
}

export function convertQuantize(ctx: OpContext): IrOp | undefined {
  const [x, y] = [ctx.input(0, 'input'), ctx.output()];
  if (!x || !y || !ctx.activation(x, 'input', true) || !ctx.activation(y, 'output')) return undefined;
  if (x.type === TensorType.FLOAT32) return { kind: 'quantize', name: ctx.name, input: ctx.state.irTensor(x), output: ctx.state.irTensor(y) };
  const rescale = scaleRatio(scaleOf(x), scaleOf(y));
  checkRequantizeRatio(ctx, rescale, scaleOf(x), scaleOf(y));
  if (!ctx.ok) return undefined;
  return { kind: 'quantize', name: ctx.name, input: ctx.state.irTensor(x), output: ctx.state.irTensor(y), rescale };
}

export function convertDequantize(ctx: OpContext): IrOp | undefined {
  const [x, y] = [ctx.input(0, 'input'), ctx.output()];
  if (!x || !y || !ctx.activation(x, 'input')) return undefined;
  if (y.type !== TensorType.FLOAT32) {
    ctx.unsupported(`output "${y.name}" of type ${y.type}`, 'a float32 output');
    return undefined;
  }
  if (!ctx.activation(y, 'output', true)) return undefined;
  return { kind: 'dequantize', name: ctx.name, input: ctx.state.irTensor(x), output: ctx.state.irTensor(y) };
}

/** RESHAPE and SQUEEZE: the output tensor's shape says it all; the bytes do not move. */
export function convertReshape(ctx: OpContext): IrOp | undefined {
  const [x, y] = [ctx.input(0, 'input'), ctx.output()];
  if (!x || !y || !ctx.activation(x, 'input') || !ctx.activation(y, 'output')) return undefined;
  if (!sameQuant(x, y)) ctx.unsupported("output quantization differs from the input's", "the input's scale and zero point");
  const count = (t: TfliteTensor): number => t.shape.reduce((a, b) => a * b, 1);
  if (count(x) !== count(y)) ctx.unsupported(`${shapeText(x)} -> ${shapeText(y)}`, 'the same number of elements');
  if (!ctx.ok) return undefined;
  return { kind: 'reshape', name: ctx.name, input: ctx.state.irTensor(x), output: ctx.state.irTensor(y) };
}
