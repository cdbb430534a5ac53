// IR -> C99 library: model.h / model.c / model_weights.{c,h} / README.md from the Handlebars
// templates in templates/*.hbs, plus the kernel sources in templates/kernels/ that the model
// uses (copied verbatim). See docs/c-api.md for the generated API.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { IrModel, IrTensor, OpKind } from '../ir/types.js';
import { tensorSize } from '../ir/types.js';
import { validateIr } from '../ir/validate.js';
import { stageDirectory } from '../util/atomic-dir.js';
import { commentSafe, formatArray, shapeText, uniqueIdentifiers } from './format.js';
import { resolveLayers, type Layer } from './layers.js';
import { packageRoot } from '../paths.js';
import { kernelsDir, templatesDir } from './paths.js';
import { liveBuffers, planArena } from './planner.js';
import { DEFAULT_PREFIX, modelHash, prefixProblem } from './prefix.js';
import { UserError } from '../util/errors.js';

export interface GenerateOptions {
  /**
   * Name prefix of every public symbol, macro, extern array and file of the model-specific part
   * (default 'model': model.h, model_predict, MODEL_INPUT_SIZE). See prefix.ts.
   */
  prefix?: string;
  /**
   * 'static' (default): the arena is a static array in <prefix>.c. 'external': the application
   * hands the library its buffer with <prefix>_set_arena (a shared RAM region, an RTOS block).
   */
  arena?: 'static' | 'external';
  /** The model's own version, for <PREFIX>_MODEL_VERSION and the packages (default 1.0.0). */
  modelVersion?: string;
}

export interface GeneratedLibrary {
  /** File name (no directories) -> contents. */
  files: Record<string, string>;
  /** The name prefix: <prefix>.h is the API header. */
  prefix: string;
  /** The shared kernel files among `files` (tinyforge_*). */
  kernelFiles: string[];
  arenaBytes: number;
  arenaLowerBoundBytes: number;
  /** Bytes of const data in model_weights.c. */
  weightsBytes: number;
  /** Multiply-accumulates per inference (valid taps only). */
  macs: number;
}

/** The generated files other than the kernels: the model-specific part is named by the prefix. */
function modelFiles(prefix: string): string[] {
  return [`${prefix}.h`, `${prefix}.c`, `${prefix}_weights.h`, `${prefix}_weights.c`, 'README.md'];
}

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

const MODEL_FILE_DESCRIPTIONS: Record<string, (p: string) => string> = {
  '.h': (p) => `the API: \`${p}_predict\`, \`${p}_predict_u8\`, the float I/O helpers and the model constants (input shape, classes, scales, arena size, version, hash, ...)`,
  '.c': () => 'the activation arena (also holding the convolutions\' im2col scratch) and the predict functions: one kernel call per layer',
  '_weights.h': () => 'declarations of the constant arrays (internal)',
  '_weights.c': () => 'int8 weights (conv2d: in the kernel\'s layout), int32 biases (conv2d, fully connected: input offset folded in) and requantization multipliers/shifts, all `const` (flash)',
};

const FILE_DESCRIPTIONS: Record<string, string> = {
  'README.md': 'this file',
  'tinyforge_kernels.h': 'kernel prototypes and parameter blocks (internal)',
  'tinyforge_requant.h': 'fixed-point requantization (gemmlowp rounding, the two roundings fused), static inline (internal)',
  'tinyforge_dsp.h': 'DSP path selection (`__ARM_FEATURE_DSP`, `TINYFORGE_PORTABLE`) and word access helpers (internal)',
  'tinyforge_conv2d.c': 'conv2d kernel: im2col of two pixels, 2 channels x 2 pixels per pass, portable and DSP (SMLAD) paths',
  'tinyforge_depthwise_conv2d.c': 'depthwise conv2d kernel',
  'tinyforge_fully_connected.c': 'fully connected kernel: 2 outputs per pass, portable and DSP (SMLAD) paths',
  'tinyforge_max_pool2d.c': 'max pooling kernel, portable and DSP (SSUB8/SEL) paths',
  'tinyforge_avg_pool2d.c': 'average pooling kernel',
};

/** Every file name a generation may write (used to clean up stale ones). */
export function allGeneratedFileNames(): string[] {
  const kernels = existsSync(kernelsDir()) ? readdirSync(kernelsDir()) : [];
  return [...modelFiles(DEFAULT_PREFIX), ...RETIRED_FILES, ...kernels];
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

export function tinyforgeVersion(ir: IrModel): string {
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

/** A C float literal holding exactly the float32 nearest to `x` (9 significant digits round-trip). */
function floatLiteral(x: number): string {
  const text = String(Number(Math.fround(x).toPrecision(9)));
  return `${/[.e]/.test(text) ? text : `${text}.0`}f`;
}

/** A C string literal's contents: printable ASCII (others become _), quotes, backslashes and ? (trigraphs) escaped. */
function cString(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '_').replace(/[\\"?]/g, (c) => `\\${c}`);
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

export function generateLibrary(ir: IrModel, opts: GenerateOptions = {}): GeneratedLibrary {
  // The IR contract first (chain, shapes, requant consistency), then what the C relies on.
  validateIr(ir, `IR '${ir.name}'`);
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const problem = prefixProblem(prefix);
  if (problem) throw new UserError(`codegen prefix '${prefix}': expected ${problem}`);
  const external = opts.arena === 'external';
  const layers = resolveLayers(ir);
  const plan = planArena(ir);
  const byId = new Map<number, IrTensor>(ir.tensors.map((t) => [t.id, t]));
  const idents = uniqueIdentifiers(ir.ops.map((op) => op.name));
  const at = (tensorId: number): string => `&${prefix}_arena[${plan.offsets.get(tensorId)}]`;
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
    const pName = `${prefix}_${id}_params`;
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
    else if (L.kind === 'conv2d') {
      layout =
        `OHWI ${shapeText([outC, L.kernel[0], L.kernel[1], L.inShape.c])}, rows zero-padded to a multiple of 4 taps` +
        `${outC % 2 ? ' (plus one zero row)' : ''}, channel pairs interleaved every 4 taps (see tinyforge_conv2d.c)`;
    }
    else layout = `[1, kH, kW, C * M] = ${shapeText([1, L.kernel[0], L.kernel[1], outC])}`;
    const arr = (type: WeightArray['type'], suffix: string, values: ArrayLike<number>, perLine: number, describe: string): WeightArray => ({
      type,
      name: `${prefix}_${id}_${suffix}`,
      length: values.length,
      body: formatArray(values, perLine),
      describe,
      bytes: values.length * (type === 'int8_t' ? 1 : 4),
    });
    const folded = L.kind !== 'depthwise_conv2d';
    const arrays = [
      arr('int8_t', 'weights', L.family === 'conv' ? L.kernelWeights : op.weights, 16, `weights, ${layout}`),
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
      ['weights', arrays[0]!.name],
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

    const { inShape: s, outShape: o, kernel, stride, padding: p } = L;
    const scratch = plan.scratch.get(i);
    if ((L.kind === 'conv2d') !== (scratch !== undefined)) throw new Error(`codegen: op ${i}: scratch plan does not match the kernel`);
    const geometry: [string, number][][] = [
      [['in_h', s.h], ['in_w', s.w], ['in_c', s.c]],
      [['out_h', o.h], ['out_w', o.w], ['out_c', o.c]],
      [['kernel_h', kernel[0]], ['kernel_w', kernel[1]]],
      [['stride_h', stride[0]], ['stride_w', stride[1]]],
      [['pad_top', p.top], ['pad_left', p.left]],
    ];
    const what =
      `${kernel[0]}x${kernel[1]}, stride ${stride[0]}x${stride[1]}, ` +
      `padding ${p.top}/${p.left}/${p.bottom}/${p.right} (t/l/b/r)` +
      (L.kind === 'depthwise_conv2d' ? `, depth multiplier ${L.depthMultiplier}` : '');
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
          // An external arena is known only at run time: its im2col pointer is set per call.
          ...(scratch && !external ? [[['im2col', `&${prefix}_arena[${scratch.offset}]`] as [string, string]]] : []),
        ],
      ),
      calls: scratch && external
        ? ['{ /* the im2col scratch lies in the caller\'s arena, known at run time */', `    tinyforge_conv2d_params_t params = ${pName};`, `    params.im2col = &${prefix}_arena[${scratch.offset}];`,
          `    ${call(`tinyforge_${L.kind}`).replace(`&${pName}`, '&params')}`, '}']
        : [call(`tinyforge_${L.kind}`)],
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

  const fileList = [...modelFiles(prefix), ...kernelFiles];
  const describeFile = (name: string): string => {
    const suffix = Object.keys(MODEL_FILE_DESCRIPTIONS).find((s) => name === `${prefix}${s}`);
    return suffix ? MODEL_FILE_DESCRIPTIONS[suffix]!(prefix) : FILE_DESCRIPTIONS[name] ?? '';
  };
  const view = {
    // Every model-specific name in the templates is built from these two (several models link
    // into one firmware); the kernels' tinyforge_ names are shared and carry no prefix.
    prefix,
    PREFIX: prefix.toUpperCase(),
    arenaExternal: external,
    model: {
      name: commentSafe(ir.name),
      nameString: cString(ir.name),
      version: cString(opts.modelVersion ?? '1.0.0'),
      hash: modelHash(ir),
    },
    version,
    provenance,
    input: {
      h: inShape[0],
      w: inShape[1],
      c: inShape[2],
      size: tensorSize(input),
      zeroPoint: input.zeroPoint,
      scale: scaleText(input.scale),
      scaleFloat: floatLiteral(input.scale),
      pixelOffsetSigned: signed(ir.input.pixelOffset ?? input.zeroPoint),
      offset: plan.offsets.get(input.id),
    },
    output: {
      numClasses: ir.output.numClasses,
      zeroPoint: output.zeroPoint,
      scale: scaleText(output.scale),
      scaleFloat: floatLiteral(output.scale),
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
    files: fileList.map((name) => ({ name, what: describeFile(name) })),
  };

  const files: Record<string, string> = {
    [`${prefix}.h`]: template('model.h.hbs')(view),
    [`${prefix}.c`]: template('model.c.hbs')(view),
    [`${prefix}_weights.h`]: template('model_weights.h.hbs')(view),
    [`${prefix}_weights.c`]: template('model_weights.c.hbs')(view),
    'README.md': template('README.md.hbs')(view),
  };
  for (const k of kernelFiles) files[k] = readFileSync(join(kernelsDir(), k), 'utf8');

  return {
    files,
    prefix,
    kernelFiles,
    arenaBytes: plan.arenaBytes,
    arenaLowerBoundBytes: plan.lowerBoundBytes,
    weightsBytes,
    macs,
  };
}

/**
 * Replaces the library in `dir` as one unit: every file is written into a temporary sibling folder
 * which is then swapped in (src/util/atomic-dir.ts), so `dir` always holds one model's complete
 * library, never a mix of two, whatever interrupts the write (ENOSPC, kill -9). Files the
 * generator never produces (a user's own, beside the library) are carried over; generated files
 * this model does not need are gone.
 */
export function writeLibrary(dir: string, lib: Pick<GeneratedLibrary, 'files'>): void {
  // The files the last generation wrote (perhaps under another prefix) are not carried over either.
  const manifest = join(dir, MANIFEST);
  const previous = existsSync(manifest) ? readFileSync(manifest, 'utf8').split('\n').filter((n) => n && !n.includes('/')) : [];
  const generated = new Set([...allGeneratedFileNames(), ...previous]);
  const stage = stageDirectory(dir, (entry) => !generated.has(entry) && !entry.startsWith('.'));
  try {
    for (const [name, text] of Object.entries(lib.files)) writeFileSync(join(stage.path, name), text);
    writeFileSync(join(stage.path, MANIFEST), Object.keys(lib.files).join('\n') + '\n');
  } catch (err) {
    stage.abort();
    throw err;
  }
  stage.commit();
}

/** The names of the files the last writeLibrary wrote into a directory (so that a later one,
 * perhaps with another prefix, removes those it no longer writes). */
const MANIFEST = '.tinyforge-files';
