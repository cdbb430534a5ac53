// CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D and AVERAGE_POOL_2D -> IR layer ops.
import type { IrOp } from '../ir/types.js';
import type { OpContext } from './context.js';
import type { FbTable } from './flatbuffer.js';
import { requantFor } from '../quantize/multiplier.js';
import { activationClamp, explicitPadding } from './tflm-params.js';
import { Activation, activationNames, BuiltinOptions, F, PaddingType } from './tflite-schema.js';
import type { TfliteTensor } from './tflite-model.js';
import { readBias, readWeights, type Weights } from './weights.js';
import { checkFcLimits, checkRequantShift, checkWindowLimits } from './limits.js';

const FUSED = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1] as number[];
export const FUSED_SUPPORTED = 'fused NONE, RELU, RELU6 or RELU_N1_TO_1';

/** The fused activation of `options` (field `id`), reported when tinyforge has no clamp for it. */
export function fusedActivation(ctx: OpContext, options: FbTable | undefined, id: number): number {
  const act = options?.scalar(id, 'i8', 'fused_activation_function') ?? Activation.NONE;
  if (!FUSED.includes(act)) ctx.unsupported(`fused activation ${activationNames[act] ?? act}`, FUSED_SUPPORTED);
  return act;
}

interface Window {
  same: boolean;
  stride: [number, number];
}

/** padding and strides (stride_h/stride_w), with dilation 1 where the table has dilations. */
function windowOptions(ctx: OpContext, o: FbTable | undefined, ids: { padding: number; stride_w: number; stride_h: number; dilation_w_factor?: number; dilation_h_factor?: number }): Window {
  const padding = o?.scalar(ids.padding, 'i8', 'padding') ?? PaddingType.SAME;
  const stride: [number, number] = [o?.scalar(ids.stride_h, 'i32', 'stride_h') ?? 1, o?.scalar(ids.stride_w, 'i32', 'stride_w') ?? 1];
  if (padding !== PaddingType.SAME && padding !== PaddingType.VALID) ctx.unsupported(`padding type ${padding}`, 'SAME or VALID');
  if (!stride.every((s) => Number.isInteger(s) && s >= 1)) ctx.unsupported(`stride ${JSON.stringify(stride)}`, 'strides >= 1');
  if (ids.dilation_h_factor !== undefined && ids.dilation_w_factor !== undefined) {
    const dilation = [o?.scalar(ids.dilation_h_factor, 'i32', 'dilation_h_factor', 1) ?? 1, o?.scalar(ids.dilation_w_factor, 'i32', 'dilation_w_factor', 1) ?? 1];
    if (dilation.some((d) => d !== 1)) ctx.unsupported(`dilation ${JSON.stringify(dilation)}`, 'dilation 1');
  }
  return { same: padding === PaddingType.SAME, stride };
}

/** Input/output activations of a single-input op; undefined (reported) when unusable. */
function io(ctx: OpContext, rank?: number): { x: NonNullable<ReturnType<OpContext['input']>>; y: NonNullable<ReturnType<OpContext['output']>> } | undefined {
  const x = ctx.input(0, 'input');
  const y = ctx.output();
  if (!x || !y || !ctx.activation(x, 'input') || !ctx.activation(y, 'output')) return undefined;
  if (rank !== undefined && (x.shape.length !== rank || y.shape.length !== rank)) {
    ctx.unsupported(`input ${JSON.stringify(x.shape)} / output ${JSON.stringify(y.shape)}`, `rank-${rank} NHWC tensors`);
    return undefined;
  }
  return { x, y };
}

export function convertConv(ctx: OpContext): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.Conv2DOptions, 'Conv2DOptions');
  const t = io(ctx, 4);
  const window = windowOptions(ctx, o, F.Conv2DOptions);
  const act = fusedActivation(ctx, o, F.Conv2DOptions.fused_activation_function);
  if (!t) return undefined;
  const f = ctx.input(1, 'filter');
  const outC = t.y.shape[3];
  const w = readWeights(ctx, f, 4, 0, outC);
  const bias = readBias(ctx, ctx.optionalInput(2), outC);
  if (!w || !bias || !f) return undefined;
  if (f.shape[0] !== outC || f.shape[3] !== t.x.shape[3]) {
    ctx.unsupported(`filter ${JSON.stringify(f.shape)} for input ${JSON.stringify(t.x.shape)}`, `an OHWI filter [${outC}, kH, kW, ${t.x.shape[3]}] (no grouped convolution)`);
  }
  if (!ctx.ok) return undefined;
  const layer = windowLayer(ctx, t, f, window, act, w, bias);
  checkWindowLimits(ctx, [t.x.shape, t.y.shape], [...layer.kernel, ...layer.stride, layer.padding.top, layer.padding.left]);
  checkRequantShift(ctx, layer.requant);
  return ctx.ok ? { kind: 'conv2d', ...layer } : undefined;
}

export function convertDepthwise(ctx: OpContext): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.DepthwiseConv2DOptions, 'DepthwiseConv2DOptions');
  const t = io(ctx, 4);
  const window = windowOptions(ctx, o, F.DepthwiseConv2DOptions);
  const act = fusedActivation(ctx, o, F.DepthwiseConv2DOptions.fused_activation_function);
  if (!t) return undefined;
  const f = ctx.input(1, 'filter');
  const [inC, outC] = [t.x.shape[3], t.y.shape[3]];
  const w = readWeights(ctx, f, 4, 3, outC);
  const bias = readBias(ctx, ctx.optionalInput(2), outC);
  if (!w || !bias || !f) return undefined;
  const multiplier = outC / inC;
  const declared = o?.scalar(F.DepthwiseConv2DOptions.depth_multiplier, 'i32', 'depth_multiplier') ?? 0;
  if (f.shape[0] !== 1 || f.shape[3] !== outC || !Number.isInteger(multiplier) || (declared !== 0 && declared !== multiplier)) {
    ctx.unsupported(
      `filter ${JSON.stringify(f.shape)}, depth_multiplier ${declared}, ${inC} -> ${outC} channels`,
      'a [1, kH, kW, C * M] filter with outChannels = inChannels * depth_multiplier',
    );
  }
  if (!ctx.ok) return undefined;
  const layer = windowLayer(ctx, t, f, window, act, w, bias);
  checkWindowLimits(ctx, [t.x.shape, t.y.shape], [...layer.kernel, ...layer.stride, layer.padding.top, layer.padding.left, multiplier]);
  checkRequantShift(ctx, layer.requant);
  return ctx.ok ? { kind: 'depthwise_conv2d', ...layer, depthMultiplier: multiplier } : undefined;
}

export function convertFullyConnected(ctx: OpContext): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.FullyConnectedOptions, 'FullyConnectedOptions');
  const t = io(ctx);
  const act = fusedActivation(ctx, o, F.FullyConnectedOptions.fused_activation_function);
  const format = o?.scalar(F.FullyConnectedOptions.weights_format, 'i8', 'weights_format') ?? 0;
  if (format !== 0) ctx.unsupported(`weights_format ${format} (shuffled)`, 'weights_format DEFAULT');
  if (!t) return undefined;
  const f = ctx.input(1, 'filter');
  const units = f?.shape[0] ?? 0;
  const w = readWeights(ctx, f, 2, 0, units);
  const bias = readBias(ctx, ctx.optionalInput(2), units);
  if (!w || !bias || !f) return undefined;
  const inUnits = t.x.shape.reduce((a, b) => a * b, 1);
  const outUnits = t.y.shape.reduce((a, b) => a * b, 1);
  if (inUnits !== f.shape[1] || outUnits !== units) {
    ctx.unsupported(
      `input ${JSON.stringify(t.x.shape)} and output ${JSON.stringify(t.y.shape)} for filter ${JSON.stringify(f.shape)}`,
      'one row: input elements = filter columns, output elements = filter rows (batch 1)',
    );
  }
  checkFcLimits(ctx, inUnits, outUnits);
  const rq = requant(t, w.scales);
  checkRequantShift(ctx, rq);
  if (!ctx.ok) return undefined;
  return {
    kind: 'fully_connected',
    name: ctx.name,
    input: ctx.state.irTensor(t.x),
    output: ctx.state.irTensor(t.y, [units]),
    weights: w.values,
    bias,
    requant: rq,
    clamp: clampOf(act, t.y),
  };
}

export function convertPool(ctx: OpContext, kind: 'max_pool2d' | 'avg_pool2d'): IrOp | undefined {
  const o = ctx.options(BuiltinOptions.Pool2DOptions, 'Pool2DOptions');
  const t = io(ctx, 4);
  const window = windowOptions(ctx, o, F.Pool2DOptions);
  const act = fusedActivation(ctx, o, F.Pool2DOptions.fused_activation_function);
  const pool: [number, number] = [o?.scalar(F.Pool2DOptions.filter_height, 'i32', 'filter_height') ?? 0, o?.scalar(F.Pool2DOptions.filter_width, 'i32', 'filter_width') ?? 0];
  if (!pool.every((p) => p >= 1)) ctx.unsupported(`filter ${JSON.stringify(pool)}`, 'a filter of at least 1x1');
  if (!t) return undefined;
  const [qi, qo] = [t.x.quantization!, t.y.quantization!];
  if (qi.scale[0] !== qo.scale[0] || (qi.zeroPoint[0] ?? 0) !== (qo.zeroPoint[0] ?? 0)) {
    ctx.unsupported('output quantization differs from the input\'s', "the input's scale and zero point (TFLite's pooling does not rescale)");
  }
  if (!ctx.ok) return undefined;
  const padding = explicitPadding(window.same, t.x.shape.slice(1), pool, window.stride);
  checkWindowLimits(ctx, [t.x.shape, t.y.shape], [...pool, ...window.stride, padding.top, padding.left]);
  if (!ctx.ok) return undefined;
  return { kind, ...layerCommon(ctx, t), pool, stride: window.stride, padding, clamp: clampOf(act, t.y) };
}

type Io = NonNullable<ReturnType<typeof io>>;

function layerCommon(ctx: OpContext, t: Io): { name: string; input: number; output: number } {
  return { name: ctx.name, input: ctx.state.irTensor(t.x), output: ctx.state.irTensor(t.y) };
}

/** PopulateConvolutionQuantizationParams: (double)sIn * (double)sW / (double)sOut per channel. */
function requant(t: Io, weightScale: Float64Array): ReturnType<typeof requantFor> {
  return requantFor(t.x.quantization!.scale[0], weightScale, t.y.quantization!.scale[0]);
}

/** The fields conv and depthwise share once their filter and bias are read. */
function windowLayer(ctx: OpContext, t: Io, f: TfliteTensor, window: Window, act: number, w: Weights, bias: Int32Array) {
  const kernel: [number, number] = [f.shape[1], f.shape[2]];
  return {
    ...layerCommon(ctx, t),
    kernel,
    stride: window.stride,
    padding: explicitPadding(window.same, t.x.shape.slice(1), kernel, window.stride),
    weights: w.values,
    bias,
    requant: requant(t, w.scales),
    clamp: clampOf(act, t.y),
  };
}

function clampOf(act: number, y: Io['y']): { min: number; max: number } {
  return activationClamp(act, y.quantization!.scale[0], y.quantization!.zeroPoint[0] ?? 0);
}
