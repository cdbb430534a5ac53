// IR -> C99 library: model.h / model.c / model_weights.{c,h} / README.md from the Handlebars
// templates in templates/*.hbs, plus the kernel sources in templates/kernels/ that the model
// uses (copied verbatim). See docs/c-api.md for the generated API.
import { readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { IrModel, IrTensor, OpKind } from '../ir/types.js';
import { tensorSize } from '../ir/types.js';
import { validateIr } from '../ir/validate.js';
import { writeFileAtomic } from '../util/atomic.js';
import { commentSafe, formatArray, shapeText, uniqueIdentifiers } from './format.js';
import { resolveLayers, type Layer } from './layers.js';
import { packageRoot } from '../paths.js';
import { kernelsDir, templatesDir } from './paths.js';
import { liveBuffers, planArena } from './planner.js';
import { fuseConvPool } from './fuse.js';

export interface GenerateOptions {
  /** Fuse each conv2d with the max pooling that follows it (src/codegen/fuse.ts); default true. */
  fusePools?: boolean;
}

export interface GeneratedLibrary {
  /** File name (no directories) -> contents. */
  files: Record<string, string>;
  arenaBytes: number;
  arenaLowerBoundBytes: number;
  /** The lower bound of a layer-by-layer schedule (every op's whole input and output live, nothing fused). */
  layerByLayerBoundBytes: number;
  /** Bytes of const data in model_weights.c. */
  weightsBytes: number;
  /** Multiply-accumulates per inference (valid taps only). */
  macs: number;
}

/** The generated files that do not depend on the model. */
const FIXED_FILES = ['model.h', 'model.c', 'model_weights.h', 'model_weights.c', 'README.md'] as const;

/** Files earlier versions generated and this one no longer does: removed by writeLibrary. */
const RETIRED_FILES = ['tinyforge_dot.c'] as const;

/** Kernel source per op kind (reshape needs none). */
const KERNEL_FILE: Partial<Record<Exclude<OpKind, 'reshape'>, string>> = {
  conv2d: 'tinyforge_conv2d.c',
  depthwise_conv2d: 'tinyforge_depthwise_conv2d.c',
  fully_connected: 'tinyforge_fully_connected.c',
  max_pool2d: 'tinyforge_max_pool2d.c',
  avg_pool2d: 'tinyforge_avg_pool2d.c',
};

const FILE_DESCRIPTIONS: Record<string, string> = {
  'model.h': 'the API: `model_predict`, `model_predict_u8` and the model constants (input shape, classes, arena size, ...)',
  'model.c': 'the activation arena (one static array, also holding the convolutions\' im2col scratch) and the predict functions: one kernel call per layer',
  'model_weights.h': 'declarations of the constant arrays (internal)',
  'model_weights.c': 'int8 weights (conv2d: in the kernel\'s layout), int32 biases (conv2d, fully connected: input offset folded in) and requantization multipliers/shifts, all `const` (flash)',
  'README.md': 'this file',
  'tinyforge_kernels.h': 'kernel prototypes and parameter blocks (internal)',
  'tinyforge_requant.h': 'fixed-point requantization (gemmlowp rounding, the two roundings fused), static inline (internal)',
  'tinyforge_dsp.h': 'DSP path selection (`__ARM_FEATURE_DSP`, `TINYFORGE_PORTABLE`) and word access helpers (internal)',
  'tinyforge_conv2d.c': 'conv2d kernel: im2col of four pixels, 2 channels x 4 pixels per inner loop, a max pooling that follows fused in, portable and DSP (SMLAD) paths',
  'tinyforge_depthwise_conv2d.c': 'depthwise conv2d kernel',
  'tinyforge_fully_connected.c': 'fully connected kernel: 2 outputs per pass, portable and DSP (SMLAD) paths',
  'tinyforge_max_pool2d.c': 'max pooling kernel, portable and DSP (SSUB8/SEL) paths',
  'tinyforge_avg_pool2d.c': 'average pooling kernel',
};

/** Every file name a generation may write (used to clean up stale ones). */
export function allGeneratedFileNames(): string[] {
  const kernels = existsSync(kernelsDir()) ? readdirSync(kernelsDir()) : [];
  return [...FIXED_FILES, ...RETIRED_FILES, ...kernels];
}

let compiled: Map<string, Handlebars.TemplateDelegate> | undefined;

function template(name: string): Handlebars.TemplateDelegate {
  compiled ??= new Map();
  let t = compiled.get(name);
  if (!t) {
    const src = readFileSync(join(templatesDir(), name), 'utf8');
    t = Handlebars.compile(src, { noEscape: true, strict: true });
    compiled.set(name, t);
  }
  return t;
}

function tinyforgeVersion(ir: IrModel): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    if (pkg.version) return pkg.version;
  } catch {
    /* fall through */
  }
  return ir.metadata?.tinyforgeVersion ?? 'unknown';
}

function scaleText(scale: number): string {
  const inv = 1 / scale;
  const nice = Math.abs(inv - Math.round(inv)) < 1e-9 * inv ? ` (1/${Math.round(inv)})` : '';
  return `${Number(scale.toPrecision(9))}${nice}`;
}

function signed(n: number): string {
  return n < 0 ? `- ${-n}` : `+ ${n}`;
}

function clampText(min: number, max: number, zeroPoint: number): string {
  if (min === zeroPoint && max === 127) return `ReLU (clamp [${min}, ${max}])`;
  if (min === -128 && max === 127) return 'no activation';
  if (min === zeroPoint) return `capped ReLU (clamp [${min}, ${max}])`;
  return `clamp [${min}, ${max}]`;
}

interface WeightArray {
  type: 'int8_t' | 'int32_t';
  name: string;
  length: number;
  body: string;
  describe: string;
  bytes: number;
}

interface LayerView {
  /** Full description, above the parameter block. */
  comment: string;
  /** One line, above the kernel call. */
  brief: string;
  params: string;
  calls: string[];
}

function initializer(type: string, name: string, fields: [string, string | number][][]): string {
  const lines = fields.map((group) => '    ' + group.map(([k, v]) => `.${k} = ${v},`).join(' '));
  return `static const ${type} ${name} = {\n${lines.join('\n')}\n};`;
}

export function generateLibrary(original: IrModel, opts: GenerateOptions = {}): GeneratedLibrary {
  // The IR contract first (chain, shapes, requant consistency), then what the C relies on.
  validateIr(original, `IR '${original.name}'`);
  // From here on `ir` is the fused view: the ops the C calls, the tensors the arena holds.
  const fused = fuseConvPool(original, opts.fusePools ?? true);
  const ir = fused.ir;
  const layers = resolveLayers(ir, fused.pools);
  const plan = planArena(ir);
  const layerByLayer = fused.pools.size > 0 ? planArena(original).lowerBoundBytes : plan.lowerBoundBytes;
  const byId = new Map<number, IrTensor>(ir.tensors.map((t) => [t.id, t]));
  const idents = uniqueIdentifiers(ir.ops.map((op) => op.name));
  const at = (tensorId: number): string => `&model_arena[${plan.offsets.get(tensorId)}]`;
  const version = tinyforgeVersion(ir);
  const md = ir.metadata;
  const provenance = commentSafe(
    md
      ? `From config '${md.configName}' (hash ${md.configHash}), dataset ${md.dataset}, architecture ${md.architecture}.`
      : `From IR '${ir.name}'.`,
  );

  const layerViews: LayerView[] = [];
  const weightLayers: { comment: string; arrays: WeightArray[] }[] = [];
  const layerTable: Record<string, string | number>[] = [];

  layers.forEach((L: Layer, i) => {
    const id = idents[i]!;
    const name = commentSafe(L.op.name);
    const shapes = `${shapeText(L.input.shape)} -> ${shapeText(L.output.shape)}`;
    const pName = `model_${id}_params`;
    const push = (v: Omit<LayerView, 'brief'>): void => {
      layerViews.push({ ...v, brief: L.family === 'reshape' ? v.comment : `${name} (${L.kind}): ${shapes}` });
    };
    const call = (fn: string): string => `${fn}(&${pName}, ${at(L.input.id)}, ${at(L.output.id)});`;
    layerTable.push({
      index: i,
      name: name.replace(/\|/g, '\\|'),
      kind: L.kind,
      inShape: shapeText(L.input.shape),
      outShape: shapeText(L.output.shape),
      arena: `${plan.offsets.get(L.input.id)} -> ${plan.offsets.get(L.output.id)}`,
    });

    if (L.family === 'reshape') {
      push({
        comment: `${name}: reshape ${shapes}, no data movement (same arena bytes, offset ${plan.offsets.get(L.input.id)})`,
        params: '',
        calls: [],
      });
      return;
    }

    if (L.family === 'pool') {
      const { inShape: s, outShape: o, kernel, stride, padding: p } = L;
      const comment =
        `${name}: ${L.kind} ${kernel[0]}x${kernel[1]}, stride ${stride[0]}x${stride[1]}, ` +
        `padding ${p.top}/${p.left}/${p.bottom}/${p.right} (t/l/b/r)` +
        (L.clamp.min === -128 && L.clamp.max === 127 ? '' : `, clamp [${L.clamp.min}, ${L.clamp.max}]`) +
        `: ${shapes}`;
      push({
        comment,
        params: initializer('tinyforge_pool2d_params_t', pName, [
          [['in_h', s.h], ['in_w', s.w], ['channels', s.c]],
          [['out_h', o.h], ['out_w', o.w]],
          [['pool_h', kernel[0]], ['pool_w', kernel[1]]],
          [['stride_h', stride[0]], ['stride_w', stride[1]]],
          [['pad_top', p.top], ['pad_left', p.left]],
          [['act_min', L.clamp.min], ['act_max', L.clamp.max]],
        ]),
        calls: [call(`tinyforge_${L.kind}`)],
      });
      return;
    }

    // Layers with weights.
    const op = L.op;
    const outC = L.family === 'fc' ? L.outN : L.outShape.c;
    let layout: string;
    if (L.family === 'fc') layout = `[out, in] = ${shapeText([L.outN, L.inN])}`;
    else if (L.kind === 'conv2d' && L.kernelWeights instanceof Int32Array) {
      layout =
        `OHWI ${shapeText([outC, L.kernel[0], L.kernel[1], L.inShape.c])} as int16 pairs of taps packed in int32 words, rows ` +
        `zero-padded to an even tap count${outC % 2 ? ' (plus one zero row)' : ''}, channel pairs interleaved pair by pair (see tinyforge_conv2d.c)`;
    } else if (L.kind === 'conv2d') {
      layout =
        `OHWI ${shapeText([outC, L.kernel[0], L.kernel[1], L.inShape.c])}, rows zero-padded to a multiple of 4 taps` +
        `${outC % 2 ? ' (plus one zero row)' : ''}, channel pairs interleaved every 4 taps, 4 zero bytes at the end (see tinyforge_conv2d.c)`;
    }
    else layout = `[1, kH, kW, C * M] = ${shapeText([1, L.kernel[0], L.kernel[1], outC])}`;
    const arr = (type: WeightArray['type'], suffix: string, values: ArrayLike<number>, perLine: number, describe: string): WeightArray => ({
      type,
      name: `model_${id}_${suffix}`,
      length: values.length,
      body: formatArray(values, perLine),
      describe,
      bytes: values.length * (type === 'int8_t' ? 1 : 4),
    });
    const folded = L.kind !== 'depthwise_conv2d';
    const arrays = [
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
    weightLayers.push({ comment: `${name} (${L.kind}): ${shapes}`, arrays });
    const data: [string, string][] = [
      ['weights', arrays[0]!.type === 'int8_t' ? arrays[0]!.name : `(const int8_t *)${arrays[0]!.name}`],
      ['bias', arrays[1]!.name],
      ['multiplier', arrays[2]!.name],
      ['shift', arrays[3]!.name],
    ];
    const act = clampText(L.clamp.min, L.clamp.max, L.output.zeroPoint);
    const offsets: [string, number][] = [
      ...(L.family === 'fc' ? [] : [['input_offset', L.inputOffset] as [string, number]]),
      ['output_offset', L.outputOffset],
    ];
    const clamp: [string, number][] = [
      ['act_min', L.clamp.min],
      ['act_max', L.clamp.max],
    ];

    if (L.family === 'fc') {
      push({
        comment: `${name}: fully_connected ${L.inN} -> ${L.outN}, ${act}: ${shapes}`,
        params: initializer('tinyforge_fully_connected_params_t', pName, [
          [['in_n', L.inN], ['out_n', L.outN]],
          offsets,
          clamp,
          ...data.map((d) => [d]),
        ]),
        calls: [call('tinyforge_fully_connected')],
      });
      return;
    }

    const { inShape: s, kernel, stride, padding: p } = L;
    const o = L.pool?.outShape ?? L.outShape;
    const scratch = plan.scratch.get(i);
    if ((L.kind === 'conv2d') !== (scratch !== undefined)) throw new Error(`codegen: op ${i}: scratch plan does not match the kernel`);
    const geometry: [string, number][][] = [
      [['in_h', s.h], ['in_w', s.w], ['in_c', s.c]],
      [['out_h', o.h], ['out_w', o.w], ['out_c', o.c]],
      ...(L.kind === 'conv2d' ? [[['pool_h', L.pool?.size[0] ?? 1], ['pool_w', L.pool?.size[1] ?? 1]] as [string, number][]] : []),
      [['kernel_h', kernel[0]], ['kernel_w', kernel[1]]],
      [['stride_h', stride[0]], ['stride_w', stride[1]]],
      [['pad_top', p.top], ['pad_left', p.left]],
    ];
    const what =
      `${kernel[0]}x${kernel[1]}, stride ${stride[0]}x${stride[1]}, ` +
      `padding ${p.top}/${p.left}/${p.bottom}/${p.right} (t/l/b/r)` +
      (L.kind === 'depthwise_conv2d' ? `, depth multiplier ${L.depthMultiplier}` : '') +
      (L.pool
        ? `, fused with ${commentSafe(L.pool.op.name)} (max_pool2d ${L.pool.size[0]}x${L.pool.size[1]}, stride ${L.pool.size[0]}x${L.pool.size[1]}: ` +
          `the ${shapeText([L.outShape.h, L.outShape.w, L.outShape.c])} conv output is pooled as it is computed, never stored)`
        : '');
    push({
      comment: `${name}: ${L.kind} ${what}, ${act}: ${shapes}`,
      params: initializer(
        L.kind === 'conv2d' ? 'tinyforge_conv2d_params_t' : 'tinyforge_depthwise_conv2d_params_t',
        pName,
        [
          ...geometry,
          ...(L.kind === 'depthwise_conv2d' ? [[['depth_multiplier', L.depthMultiplier] as [string, number]]] : []),
          offsets,
          clamp,
          ...data.map((d) => [d]),
          ...(scratch ? [[['im2col', `&model_arena[${scratch.offset}]`] as [string, string]]] : []),
        ],
      ),
      calls: [call(`tinyforge_${L.kind}`)],
    });
  });

  // Placement table for the comment at the top of model.c.
  const buffers = liveBuffers(ir);
  const width = String(plan.arenaBytes).length;
  const placement = buffers.map((b) => {
    const off = plan.offsets.get(b.tensors[0]!)!;
    const names = b.tensors.map((t) => {
      const tensor = byId.get(t)!;
      return `${commentSafe(tensor.name)} ${shapeText(tensor.shape)}`;
    });
    const from = b.first < 0 ? 'input' : `op ${b.first}`;
    const to = b.last >= ir.ops.length ? 'output' : `op ${b.last}`;
    return `[${String(off).padStart(width)}, ${String(off + b.bytes).padStart(width)})  ${names.join(' = ')}, live ${from} .. ${to}`;
  });
  for (const [opIndex, sc] of [...plan.scratch].sort((a, b) => a[0] - b[0])) {
    placement.push(
      `[${String(sc.offset).padStart(width)}, ${String(sc.offset + sc.bytes).padStart(width)})  ` +
        `im2col scratch of ${commentSafe(ir.ops[opIndex]!.name)}, live op ${opIndex} only`,
    );
  }

  const weightsBytes = weightLayers.reduce((s, l) => s + l.arrays.reduce((a, x) => a + x.bytes, 0), 0);
  const macs = layers.reduce((s, l) => s + l.macs, 0);
  const input = byId.get(ir.input.tensor)!;
  const output = byId.get(ir.output.tensor)!;
  const inShape = input.shape.length === 3 ? input.shape : input.shape.length === 2 ? [...input.shape, 1] : [1, 1, tensorSize(input)];

  // Kernel sources the model needs.
  const kinds = new Set(layers.map((l) => l.kind));
  const kernelFiles = ['tinyforge_kernels.h'];
  if (kinds.has('conv2d') || kinds.has('depthwise_conv2d') || kinds.has('fully_connected')) kernelFiles.push('tinyforge_requant.h');
  if (kinds.has('conv2d') || kinds.has('depthwise_conv2d') || kinds.has('fully_connected') || kinds.has('max_pool2d')) kernelFiles.push('tinyforge_dsp.h');
  for (const [kind, file] of Object.entries(KERNEL_FILE)) if (kinds.has(kind as Layer["kind"])) kernelFiles.push(file!);

  const fileList = [...FIXED_FILES, ...kernelFiles];
  const view = {
    model: { name: commentSafe(ir.name) },
    version,
    provenance,
    input: {
      h: inShape[0],
      w: inShape[1],
      c: inShape[2],
      size: tensorSize(input),
      zeroPoint: input.zeroPoint,
      scale: scaleText(input.scale),
      pixelOffsetSigned: signed(ir.input.pixelOffset ?? input.zeroPoint),
      offset: plan.offsets.get(input.id),
    },
    output: {
      numClasses: ir.output.numClasses,
      zeroPoint: output.zeroPoint,
      scale: scaleText(output.scale),
      offset: plan.offsets.get(output.id),
    },
    arenaBytes: plan.arenaBytes,
    lowerBound: plan.lowerBoundBytes,
    strategy: plan.strategy,
    weightsBytes,
    macs,
    summary: [
      `Layers: ${layers.length}. Activation arena: ${plan.arenaBytes} bytes (RAM). Constant data: ${weightsBytes} bytes (flash).`,
      `Multiply-accumulates per inference: ${macs}.`,
    ],
    placement,
    layers: layerViews,
    weightLayers,
    layerTable,
    files: fileList.map((name) => ({ name, what: FILE_DESCRIPTIONS[name] ?? '' })),
  };

  const files: Record<string, string> = {
    'model.h': template('model.h.hbs')(view),
    'model.c': template('model.c.hbs')(view),
    'model_weights.h': template('model_weights.h.hbs')(view),
    'model_weights.c': template('model_weights.c.hbs')(view),
    'README.md': template('README.md.hbs')(view),
  };
  for (const k of kernelFiles) files[k] = readFileSync(join(kernelsDir(), k), 'utf8');

  return {
    files,
    arenaBytes: plan.arenaBytes,
    arenaLowerBoundBytes: plan.lowerBoundBytes,
    layerByLayerBoundBytes: layerByLayer,
    weightsBytes,
    macs,
  };
}

/**
 * Writes the library into `dir` (each file atomically) and removes files a previous generation
 * left there that this one no longer produces (only names the generator can produce).
 */
export function writeLibrary(dir: string, lib: Pick<GeneratedLibrary, 'files'>): void {
  for (const [name, text] of Object.entries(lib.files)) writeFileAtomic(join(dir, name), text);
  for (const name of allGeneratedFileNames()) {
    if (!(name in lib.files)) rmSync(join(dir, name), { force: true });
  }
}
