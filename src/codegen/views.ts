// One resolved layer -> what the templates print for it: the comment and parameter block in
// <prefix>.c, the kernel call, the const arrays in <prefix>_weights.c, and the row of the README's
// layer table. One function per op family.
import type { Layer, ConvLayer, FcLayer, PoolLayer } from './layers.js';
import { conv2dFunction } from './layers.js';
import type { AddLayer, ConcatLayer, MeanLayer, PadLayer, QuantizeLayer, SoftmaxLayer } from './graph-layers.js';
import { commentSafe, formatArray, shapeText } from './format.js';
import type { ArenaPlan } from './planner.js';

export interface WeightArray {
  type: 'int8_t' | 'int32_t';
  name: string;
  length: number;
  body: string;
  describe: string;
  bytes: number;
}

export interface LayerView {
  /** Full description, above the parameter block. */
  comment: string;
  /** One line, above the kernel call. */
  brief: string;
  /** Parameter block (and any small tables it points to); empty when there is none. */
  params: string;
  calls: string[];
}

export interface WeightLayer {
  comment: string;
  arrays: WeightArray[];
}

export interface LayerOutput {
  view: LayerView;
  weights?: WeightLayer;
  tableRow: Record<string, string | number>;
}

/** What the per-family functions need besides the layer. */
interface Ctx {
  /** C identifier of the layer (unique in the model). */
  id: string;
  /** Name of its parameter block. */
  pName: string;
  name: string;
  shapes: string;
  plan: ArenaPlan;
  at: (tensorId: number) => string;
  /** The name prefix of the model's symbols (the kernels' tinyforge_ names carry none). */
  prefix: string;
  /** The arena is the caller's (set at run time): no arena address in a const initializer. */
  externalArena: boolean;
}

/** How layerOutput names and places things: the prefix, and whether the arena is the caller's. */
export interface NamingOptions {
  prefix: string;
  externalArena: boolean;
}

type Field = [string, string | number];

function initializer(type: string, name: string, fields: Field[][]): string {
  const lines = fields.map((group) => '    ' + group.map(([k, v]) => `.${k} = ${v},`).join(' '));
  return `static const ${type} ${name} = {\n${lines.join('\n')}\n};`;
}

/** A C float literal that reads back as the float32 value of `v`. */
export function floatLiteral(v: number): string {
  const text = String(Number(Math.fround(v).toPrecision(9)));
  return `${/[.e]/.test(text) ? text : `${text}.0`}f`;
}

function clampText(min: number, max: number, zeroPoint: number): string {
  if (min === zeroPoint && max === 127) return `ReLU (clamp [${min}, ${max}])`;
  if (min === -128 && max === 127) return 'no activation';
  if (min === zeroPoint) return `capped ReLU (clamp [${min}, ${max}])`;
  return `clamp [${min}, ${max}]`;
}

function windowText(L: ConvLayer | PoolLayer): string {
  const { kernel, stride, padding: p } = L;
  return `${kernel[0]}x${kernel[1]}, stride ${stride[0]}x${stride[1]}, padding ${p.top}/${p.left}/${p.bottom}/${p.right} (t/l/b/r)`;
}

function call(c: Ctx, fn: string, L: Layer): string {
  return `${fn}(&${c.pName}, ${c.at(L.input.id)}, ${c.at(L.output.id)});`;
}

function poolView(L: PoolLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  const { inShape: s, outShape: o, kernel, stride, padding: p } = L;
  const clamp = L.clamp.min === -128 && L.clamp.max === 127 ? '' : `, clamp [${L.clamp.min}, ${L.clamp.max}]`;
  return {
    view: {
      comment: `${c.name}: ${L.kind} ${windowText(L)}${clamp}: ${c.shapes}`,
      brief: '',
      params: initializer('tinyforge_pool2d_params_t', c.pName, [
        [['in_h', s.h], ['in_w', s.w], ['channels', s.c]],
        [['out_h', o.h], ['out_w', o.w]],
        [['pool_h', kernel[0]], ['pool_w', kernel[1]]],
        [['stride_h', stride[0]], ['stride_w', stride[1]]],
        [['pad_top', p.top], ['pad_left', p.left]],
        [['act_min', L.clamp.min], ['act_max', L.clamp.max]],
      ]),
      calls: [call(c, `tinyforge_${L.kind}`, L)],
    },
  };
}

function weightArrays(L: ConvLayer | FcLayer, c: Ctx): WeightArray[] {
  const op = L.op;
  const outC = L.family === 'fc' ? L.outN : L.outShape.c;
  let layout: string;
  if (L.family === 'fc') layout = `[out, in] = ${shapeText([L.outN, L.inN])}`;
  else if (L.kind === 'conv2d' && L.kernelWeights instanceof Int32Array) {
    layout =
      `OHWI ${shapeText([outC, L.kernel[0], L.kernel[1], L.inShape.c])} as int16 pairs of taps packed in int32 words, kernel ` +
      `row by kernel row in SXTB16 order${L.kernel[1] * L.inShape.c === 3 ? ' (rows of 3 taps merged in twos)' : ''}` +
      `${outC % 2 ? ' (plus one zero row)' : ''}, channel pairs interleaved pair by pair (see tinyforge_conv2d.c)`;
  } else if (L.kind === 'conv2d') {
    layout =
      `OHWI ${shapeText([outC, L.kernel[0], L.kernel[1], L.inShape.c])}, rows zero-padded to a multiple of 4 taps` +
      `${outC % 2 ? ' (plus one zero row)' : ''}, channel pairs interleaved every 4 taps, 4 zero bytes at the end (see tinyforge_conv2d.c)`;
  } else if (L.kernelWeights instanceof Int32Array) {
    layout =
      `[1, kH, kW, M] = ${shapeText([1, L.kernel[0], L.kernel[1], outC])} as int16 pairs of taps packed in int32 words: blocks of 4 ` +
      `channels, kernel row by kernel row, groups of 4 taps in SXTB16 order (see tinyforge_depthwise_conv2d.c)`;
  } else layout = `[1, kH, kW, C * M] = ${shapeText([1, L.kernel[0], L.kernel[1], outC])}`;
  const arr = (type: WeightArray['type'], suffix: string, values: ArrayLike<number>, perLine: number, describe: string): WeightArray => ({
    type,
    name: `${c.prefix}_${c.id}_${suffix}`,
    length: values.length,
    body: formatArray(values, perLine),
    describe,
    bytes: values.length * (type === 'int8_t' ? 1 : 4),
  });
  const folded = L.kind !== 'depthwise_conv2d';
  return [
    // A few-input-channel conv2d takes int16 pairs packed in int32 words (conv2dPairWeights).
    L.family === 'conv' && L.kernelWeights instanceof Int32Array
      ? arr('int32_t', 'weights', L.kernelWeights, 8, `weights, ${layout}`)
      : arr('int8_t', 'weights', L.family === 'conv' ? L.kernelWeights : op.weights, 16, `weights, ${layout}`),
    arr(
      'int32_t',
      'bias',
      L.kernelBias,
      8,
      folded
        ? `bias [${outC}], int32 (scale = input scale * weight scale[c]), input offset folded in: bias[c] + (${L.inputOffset}) * sum(weights[c])`
        : `bias [${outC}], int32 (scale = input scale * weight scale[c])`,
    ),
    arr('int32_t', 'multiplier', op.requant.multiplier, 6, `requantization multipliers [${outC}], Q31`),
    arr('int32_t', 'shift', op.requant.shift, 16, `requantization shifts [${outC}], positive = left`),
  ];
}

/** The kernel entry point: a depthwise layer with packed weights (depthwisePacked) has its own. */
function kernelFunction(L: ConvLayer): string {
  if (L.kind === 'conv2d') return conv2dFunction(L.inShape.c);
  return L.kernelWeights instanceof Int32Array ? 'tinyforge_depthwise_conv2d_rows' : 'tinyforge_depthwise_conv2d';
}

function weightedView(L: ConvLayer | FcLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  const arrays = weightArrays(L, c);
  const weights = { comment: `${c.name} (${L.kind}): ${c.shapes}`, arrays };
  // The params' weights field is const int8_t *: an int32 weight array is passed by a cast.
  const data: Field[][] = ['weights', 'bias', 'multiplier', 'shift'].map((k, i) => {
    const a = arrays[i]!;
    return [[k, k === 'weights' && a.type !== 'int8_t' ? `(const int8_t *)${a.name}` : a.name]];
  });
  const act = clampText(L.clamp.min, L.clamp.max, L.output.zeroPoint);
  const offsets: Field[] = [...(L.family === 'fc' ? [] : [['input_offset', L.inputOffset] as Field]), ['output_offset', L.outputOffset]];
  const clamp: Field[] = [['act_min', L.clamp.min], ['act_max', L.clamp.max]];

  if (L.family === 'fc') {
    const params = initializer('tinyforge_fully_connected_params_t', c.pName, [[['in_n', L.inN], ['out_n', L.outN]], offsets, clamp, ...data]);
    const comment = `${c.name}: fully_connected ${L.inN} -> ${L.outN}, ${act}: ${c.shapes}`;
    return { view: { comment, brief: '', params, calls: [call(c, 'tinyforge_fully_connected', L)] }, weights };
  }

  const { inShape: s, kernel, stride, padding: p } = L;
  // A fused max pooling (fuse.ts): the kernel writes the pooled shape.
  const o = L.pool?.outShape ?? L.outShape;
  const scratch = c.plan.scratch.get(L.index);
  if ((L.kind === 'conv2d') !== (scratch !== undefined)) throw new Error(`codegen: op ${L.index}: scratch plan does not match the kernel`);
  const params = initializer(L.kind === 'conv2d' ? 'tinyforge_conv2d_params_t' : 'tinyforge_depthwise_conv2d_params_t', c.pName, [
    [['in_h', s.h], ['in_w', s.w], ['in_c', s.c]],
    [['out_h', o.h], ['out_w', o.w], ['out_c', o.c]],
    ...(L.kind === 'conv2d' ? [[['pool_h', L.pool?.size[0] ?? 1], ['pool_w', L.pool?.size[1] ?? 1]] as Field[]] : []),
    [['kernel_h', kernel[0]], ['kernel_w', kernel[1]]],
    [['stride_h', stride[0]], ['stride_w', stride[1]]],
    [['pad_top', p.top], ['pad_left', p.left]],
    ...(L.kind === 'depthwise_conv2d' ? [[['depth_multiplier', L.depthMultiplier] as Field]] : []),
    offsets,
    clamp,
    ...data,
    // An external arena is known only at run time: its im2col pointer is set per call.
    ...(scratch && !c.externalArena ? [[['im2col', `&${c.prefix}_arena[${scratch.offset}]`] as Field]] : []),
  ]);
  const what =
    windowText(L) +
    (L.kind === 'depthwise_conv2d' ? `, depth multiplier ${L.depthMultiplier}` : '') +
    (L.pool
      ? `, fused with ${commentSafe(L.pool.op.name)} (max_pool2d ${L.pool.size[0]}x${L.pool.size[1]}, stride ${L.pool.size[0]}x${L.pool.size[1]}: ` +
        `the ${shapeText([L.outShape.h, L.outShape.w, L.outShape.c])} conv output is pooled as it is computed, never stored)`
      : '');
  const fn = kernelFunction(L);
  const calls = scratch && c.externalArena
    ? [
        '{ /* the im2col scratch lies in the caller\'s arena, known at run time */',
        `    tinyforge_conv2d_params_t params = ${c.pName};`,
        `    params.im2col = &${c.prefix}_arena[${scratch.offset}];`,
        `    ${call(c, fn, L).replace(`&${c.pName}`, '&params')}`,
        '}',
      ]
    : [call(c, fn, L)];
  return { view: { comment: `${c.name}: ${L.kind} ${what}, ${act}: ${c.shapes}`, brief: '', params, calls }, weights };
}

function addView(L: AddLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  const op = L.op;
  const params = initializer('tinyforge_add_params_t', c.pName, [
    [['size', L.size]],
    [['input1_offset', -L.input.zeroPoint], ['input2_offset', -L.input2.zeroPoint]],
    [['left_shift', op.leftShift], ['output_offset', L.output.zeroPoint]],
    [['act_min', op.clamp.min], ['act_max', op.clamp.max]],
    [['input1_multiplier', op.input1Rescale.multiplier], ['input1_shift', op.input1Rescale.shift]],
    [['input2_multiplier', op.input2Rescale.multiplier], ['input2_shift', op.input2Rescale.shift]],
    [['output_multiplier', op.outputRescale.multiplier], ['output_shift', op.outputRescale.shift]],
  ]);
  const act = clampText(op.clamp.min, op.clamp.max, L.output.zeroPoint);
  return {
    view: {
      comment: `${c.name}: add of '${commentSafe(L.input.name)}' and '${commentSafe(L.input2.name)}', ${act}: ${c.shapes}`,
      brief: '',
      params,
      calls: [`tinyforge_add(&${c.pName}, ${c.at(L.input.id)}, ${c.at(L.input2.id)}, ${c.at(L.output.id)});`],
    },
  };
}

function padView(L: PadLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  const list = (v: number[]) => `{ ${v.join(', ')} }`;
  const params = initializer('tinyforge_pad_params_t', c.pName, [
    [['in_dims', list(L.inDims)], ['out_dims', list(L.outDims)]],
    [['before', list(L.before)], ['pad_value', L.input.zeroPoint]],
  ]);
  const pads = L.op.paddings.map(([b, a]) => `${b}/${a}`).join(', ');
  return { view: { comment: `${c.name}: pad (before/after per dimension: ${pads}) with the zero point: ${c.shapes}`, brief: '', params, calls: [call(c, 'tinyforge_pad', L)] } };
}

function concatView(L: ConcatLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  const n = L.inputs.length;
  const base = `${c.prefix}_${c.id}`;
  const pointers = L.inputs.map((t) => c.at(t.id)).join(', ');
  // The input pointers are arena addresses: constants for a static arena, built per call for an
  // external one (its address is known only at run time).
  const tables =
    `static const int32_t ${base}_copy_bytes[${n}] = { ${L.copyBytes.join(', ')} };\n` +
    (c.externalArena ? '' : `static const int8_t *const ${base}_inputs[${n}] = { ${pointers} };\n`);
  const params = initializer('tinyforge_concatenation_params_t', c.pName, [
    [['outer', L.outer], ['num_inputs', n]],
    [['copy_bytes', `${base}_copy_bytes`]],
  ]);
  const names = L.inputs.map((t) => `'${commentSafe(t.name)}' ${shapeText(t.shape)}`).join(' + ');
  const calls = c.externalArena
    ? [
        '{ /* the inputs lie in the caller\'s arena, known at run time */',
        `    const int8_t *const inputs[${n}] = { ${pointers} };`,
        `    tinyforge_concatenation(&${c.pName}, inputs, ${c.at(L.output.id)});`,
        '}',
      ]
    : [`tinyforge_concatenation(&${c.pName}, ${base}_inputs, ${c.at(L.output.id)});`];
  return {
    view: {
      comment: `${c.name}: concatenation on axis ${L.op.axis} of ${names} -> ${shapeText(L.output.shape)}`,
      brief: '',
      params: tables + params,
      calls,
    },
  };
}

function meanView(L: MeanLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  const r = L.folded;
  const params = initializer('tinyforge_mean_params_t', c.pName, [
    [['outer', L.outer], ['reduced', L.reduced], ['inner', L.inner]],
    [['input_offset', -L.input.zeroPoint], ['output_offset', L.output.zeroPoint]],
    [['multiplier', r.multiplier], ['shift', r.shift]],
  ]);
  return {
    view: { comment: `${c.name}: mean over axes [${L.op.axes.join(', ')}] (${L.reduced} values, 1/${L.reduced} folded into the multiplier): ${c.shapes}`, brief: '', params, calls: [call(c, 'tinyforge_mean', L)] },
  };
}

function softmaxView(L: SoftmaxLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  const op = L.op;
  const params = initializer('tinyforge_softmax_params_t', c.pName, [
    [['rows', L.rows], ['depth', L.depth]],
    [['input_multiplier', op.inputMultiplier], ['input_left_shift', op.inputLeftShift], ['diff_min', op.diffMin]],
  ]);
  return { view: { comment: `${c.name}: softmax (beta ${op.beta}) over rows of ${L.depth}, output scale 1/256, zero point -128: ${c.shapes}`, brief: '', params, calls: [call(c, 'tinyforge_softmax', L)] } };
}

function quantizeView(L: QuantizeLayer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  if (L.mode === 's8_to_s8') {
    const r = L.op.kind === 'quantize' && L.op.rescale ? L.op.rescale : { multiplier: 0, shift: 0 };
    const params = initializer('tinyforge_requantize_params_t', c.pName, [
      [['size', L.size], ['input_offset', -L.input.zeroPoint], ['output_offset', L.output.zeroPoint]],
      [['multiplier', r.multiplier], ['shift', r.shift]],
    ]);
    return { view: { comment: `${c.name}: requantize int8 (scale ${L.input.scale}, zero point ${L.input.zeroPoint}) -> int8: ${c.shapes}`, brief: '', params, calls: [call(c, 'tinyforge_requantize_s8', L)] } };
  }
  const q = L.mode === 'f32_to_s8' ? L.output : L.input;
  const params = initializer('tinyforge_quantize_params_t', c.pName, [
    [['size', L.size], ['scale', floatLiteral(q.scale)], ['zero_point', q.zeroPoint]],
  ]);
  const fn = L.mode === 'f32_to_s8' ? 'tinyforge_quantize_f32' : 'tinyforge_dequantize';
  const what = L.mode === 'f32_to_s8' ? 'quantize float32 -> int8' : 'dequantize int8 -> float32';
  return { view: { comment: `${c.name}: ${what} (scale ${floatLiteral(q.scale)}, zero point ${q.zeroPoint}): ${c.shapes}`, brief: '', params, calls: [call(c, fn, L)] } };
}

function familyView(L: Layer, c: Ctx): Omit<LayerOutput, 'tableRow'> {
  switch (L.family) {
    case 'reshape': {
      const comment = `${c.name}: reshape ${c.shapes}, no data movement (same arena bytes, offset ${c.plan.offsets.get(L.input.id)})`;
      return { view: { comment, brief: comment, params: '', calls: [] } };
    }
    case 'pool':
      return poolView(L, c);
    case 'conv':
    case 'fc':
      return weightedView(L, c);
    case 'add':
      return addView(L, c);
    case 'pad':
      return padView(L, c);
    case 'concat':
      return concatView(L, c);
    case 'mean':
      return meanView(L, c);
    case 'softmax':
      return softmaxView(L, c);
    case 'quantize':
      return quantizeView(L, c);
  }
}

/** Every tensor a layer reads, in argument order. */
function layerInputs(L: Layer): { id: number; shape: number[] }[] {
  if (L.family === 'add') return [L.input, L.input2];
  if (L.family === 'concat') return L.inputs;
  return [L.input];
}

export function layerOutput(L: Layer, id: string, plan: ArenaPlan, naming: NamingOptions = { prefix: 'model', externalArena: false }): LayerOutput {
  const inputs = layerInputs(L);
  const name = commentSafe(L.op.name);
  const shapes = `${inputs.map((t) => shapeText(t.shape)).join(' + ')} -> ${shapeText(L.output.shape)}`;
  const { prefix, externalArena } = naming;
  const c: Ctx = { id, pName: `${prefix}_${id}_params`, name, shapes, plan, at: (t) => `&${prefix}_arena[${plan.offsets.get(t)}]`, prefix, externalArena };
  const out = familyView(L, c);
  if (!out.view.brief) out.view.brief = `${name} (${L.kind}): ${shapes}`;
  return {
    ...out,
    tableRow: {
      index: L.index,
      name: name.replace(/\|/g, '\\|'),
      kind: L.kind,
      inShape: inputs.map((t) => shapeText(t.shape)).join(' + '),
      outShape: shapeText(L.output.shape),
      arena: `${inputs.map((t) => plan.offsets.get(t.id)).join(' + ')} -> ${plan.offsets.get(L.output.id)}`,
    },
  };
}
