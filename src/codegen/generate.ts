// IR -> C99 library: <prefix>.h / <prefix>.c / <prefix>_weights.{c,h} / README.md from the Handlebars
// templates in templates/*.hbs, plus the kernel sources in templates/kernels/ that the model
// uses (copied verbatim). See docs/c-api.md for the generated API.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { IrModel, IrTensor, OpKind } from '../ir/types.js';
import { ensureValidIr } from '../ir/validate.js';
import { stageDirectory } from '../util/atomic-dir.js';
import { inputView, outputView } from './api.js';
import { commentSafe, shapeText, uniqueIdentifiers } from './format.js';
import { resolveLayers, type Layer } from './layers.js';
import { packageRoot } from '../paths.js';
import { kernelsDir, templatesDir } from './paths.js';
import { liveBuffers, planArena, type ArenaPlan } from './planner.js';
import { DEFAULT_PREFIX, modelHash, prefixProblem } from './prefix.js';
import { UserError } from '../util/errors.js';
import { layerOutput } from './views.js';
import { fuseConvPool } from './fuse.js';
import { planRowBands, type BandPlan, type BandRequest } from './bands.js';
import { bandBrief, bandHelper, bandLoop, bandPlacementLines, type BandLayerNames } from './band-view.js';

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
  /** Fuse each conv2d with the max pooling that follows it (src/codegen/fuse.ts); default true. */
  fusePools?: boolean;
  /**
   * Run the first layers (or another run of spatial layers) in row bands where that lowers the
   * arena (src/codegen/bands.ts); default true. false: the layer-by-layer schedule. A BandRequest
   * runs the given ops in bands of the given height whatever the arena (tests, experiments).
   */
  rowBands?: boolean | BandRequest;
  /**
   * With rowBands true: the most MACs the recomputed halo rows may add, as a fraction of the
   * model's (0.1: 10%); the planner then takes the smallest arena within that budget. Default: no limit.
   */
  rowBandsMaxExtraMacs?: number;
}

/** The row-band run the generated C uses, if any (see bands.ts). */
export interface RowBandSummary {
  /** First and last layer of the run (op names). */
  first: string;
  last: string;
  layers: number;
  /** Output rows of the run's last layer per band, and the number of bands. */
  rows: number;
  bands: number;
  /** MACs the recomputed halo rows add per inference. */
  extraMacs: number;
  /** Bytes of the workspace (band buffers and im2col scratch). */
  workspaceBytes: number;
}

export interface GeneratedLibrary {
  /** File name (no directories) -> contents. */
  files: Record<string, string>;
  /** The name prefix: <prefix>.h is the API header. */
  prefix: string;
  /** The shared kernel files among `files` (tinyforge_*). */
  kernelFiles: string[];
  /** <prefix>_predict_u8 exists (an image model: IR input with a pixelOffset). */
  hasPredictU8: boolean;
  arenaBytes: number;
  arenaLowerBoundBytes: number;
  /** The lower bound of a layer-by-layer schedule (every op's whole input and output live, nothing fused). */
  layerByLayerBoundBytes: number;
  /** The arena the same generation plans without row bands (= arenaBytes when no run is banded). */
  unbandedArenaBytes: number;
  /** The row-band run, if the planner chose one. */
  rowBands?: RowBandSummary;
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
const KERNEL_FILE: Record<Exclude<OpKind, 'reshape'>, string> = {
  conv2d: 'tinyforge_conv2d.c',
  depthwise_conv2d: 'tinyforge_depthwise_conv2d.c',
  fully_connected: 'tinyforge_fully_connected.c',
  max_pool2d: 'tinyforge_max_pool2d.c',
  avg_pool2d: 'tinyforge_avg_pool2d.c',
  add: 'tinyforge_add.c',
  pad: 'tinyforge_pad.c',
  concatenation: 'tinyforge_concatenation.c',
  mean: 'tinyforge_mean.c',
  softmax: 'tinyforge_softmax.c',
  quantize: 'tinyforge_quantize.c',
  dequantize: 'tinyforge_dequantize.c',
};

/** What the API header declares besides <prefix>_predict and the constants. */
interface ApiExtras {
  image: boolean;
  floatHelpers: boolean;
}

const MODEL_FILE_DESCRIPTIONS: Record<string, (p: string, api: ApiExtras) => string> = {
  '.h': (p, api) => `the API: \`${p}_predict\`${api.image ? `, \`${p}_predict_u8\`` : ''}${api.floatHelpers ? ', the float I/O helpers' : ''} and the model constants (input and output shape, type and quantization, arena size, version, hash, ...)`,
  '.c': () => 'the activation arena (also holding the convolutions\' im2col scratch) and the predict functions: one kernel call per layer',
  '_weights.h': () => 'declarations of the constant arrays (internal)',
  '_weights.c': () => 'int8 weights (conv2d: in the kernel\'s layout), int32 biases (conv2d, fully connected: input offset folded in) and requantization multipliers/shifts, all `const` (flash)',
};

const FILE_DESCRIPTIONS: Record<string, string> = {
  'README.md': 'this file',
  'tinyforge_kernels.h': 'kernel prototypes and parameter blocks (internal)',
  'tinyforge_requant.h': 'fixed-point requantization (gemmlowp rounding, the two roundings fused), static inline (internal)',
  'tinyforge_dsp.h': 'DSP path selection (`__ARM_FEATURE_DSP`, `TINYFORGE_PORTABLE`) and word access helpers (internal)',
  'tinyforge_conv2d.c': 'conv2d kernel: im2col of four pixels, 2 channels x 4 pixels per inner loop, a max pooling that follows fused in, portable and DSP (SMLAD) paths',
  'tinyforge_depthwise_conv2d.c': 'depthwise conv2d kernel',
  'tinyforge_fully_connected.c': 'fully connected kernel: 2 outputs per pass, portable and DSP (SMLAD) paths',
  'tinyforge_max_pool2d.c': 'max pooling kernel, portable and DSP (SSUB8/SEL) paths',
  'tinyforge_avg_pool2d.c': 'average pooling kernel',
  'tinyforge_add.c': 'elementwise add of two int8 tensors (TFLite\'s rescale to a common scale), portable and DSP (SXTAB16) paths',
  'tinyforge_pad.c': 'constant padding with the zero point',
  'tinyforge_concatenation.c': 'concatenation along one axis (one shared quantization: a byte copy)',
  'tinyforge_mean.c': 'mean over contiguous axes, 1/N folded into the multiplier (TFLite Micro\'s arithmetic)',
  'tinyforge_softmax.c': 'int8 softmax with TFLite\'s fixed-point exp and reciprocal (output scale 1/256, zero point -128)',
  'tinyforge_quantize.c': 'quantization of the float32 input to int8',
  'tinyforge_requantize.c': 'int8 -> int8 requantization (QUANTIZE between two int8 scales)',
  'tinyforge_float_io.h': 'declarations of the float32 input/output kernels (the only floating point in the library)',
  'tinyforge_dequantize.c': 'dequantization of the int8 output to float32',
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

/**
 * Placement table for the comment at the top of model.c: every buffer and scratch, with its live
 * range. With a band run, `ir` and `plan` are the banded view's (the run is one op) and the run's
 * workspace is listed with its contents.
 */
function placementLines(ir: IrModel, plan: ArenaPlan, band?: { plan: BandPlan; names: BandLayerNames[] }): string[] {
  const byId = new Map<number, IrTensor>(ir.tensors.map((t) => [t.id, t]));
  const width = String(plan.arenaBytes).length;
  const range = (off: number, bytes: number) => `[${String(off).padStart(width)}, ${String(off + bytes).padStart(width)})`;
  const lines = liveBuffers(ir).map((b) => {
    const names = b.tensors.map((t) => {
      const tensor = byId.get(t)!;
      return `${commentSafe(tensor.name)} ${shapeText(tensor.shape)}${tensor.dtype === 'float32' ? ' float32' : ''}`;
    });
    const from = b.first < 0 ? 'input' : `op ${b.first}`;
    const to = b.last >= ir.ops.length ? 'output' : `op ${b.last}`;
    return `${range(plan.offsets.get(b.tensors[0]!)!, b.bytes)}  ${names.join(' = ')}, live ${from} .. ${to}`;
  });
  for (const [opIndex, sc] of [...plan.scratch].sort((a, b) => a[0] - b[0])) {
    if (band && opIndex === band.plan.start) {
      const { names } = band;
      lines.push(`${range(sc.offset, sc.bytes)}  row-band workspace of ${names[0]!.name} .. ${names[names.length - 1]!.name}, live op ${opIndex} only:`);
      lines.push(...bandPlacementLines(band.plan, names, sc.offset, width));
      continue;
    }
    lines.push(`${range(sc.offset, sc.bytes)}  im2col scratch of ${commentSafe(ir.ops[opIndex]!.name)}, live op ${opIndex} only`);
  }
  for (const [opIndex, victim] of plan.inPlace) {
    const op = ir.ops[opIndex]!;
    lines.push(`in place: op ${opIndex} ${commentSafe(op.name)} (${op.kind}) writes its output over ${commentSafe(byId.get(victim)!.name)}`);
  }
  return lines;
}

/** The row-band run in one sentence, for the comments and the README. */
function bandText(b: RowBandSummary, unbanded: number, arena: number, macs: number): string {
  return (
    `${commentSafe(b.first)} .. ${commentSafe(b.last)} (${b.layers} layers) run in ${b.bands} row bands of ${b.rows} output ` +
    `row${b.rows === 1 ? '' : 's'}, their intermediate tensors held as bands (workspace ${b.workspaceBytes} bytes): arena ${arena} bytes ` +
    `instead of ${unbanded} layer by layer, for ${b.extraMacs} MACs of recomputed halo rows ` +
    `(+${((100 * b.extraMacs) / macs).toFixed(1)}% of the model's ${macs})`
  );
}

/** Words of `text` in lines of at most `width` characters (a longer word on a line of its own). */
function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A C string literal's contents: printable ASCII (others become _), quotes, backslashes and ? (trigraphs) escaped. */
function cString(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '_').replace(/[\\"?]/g, (c) => `\\${c}`);
}

/** The kernel source of a layer (reshape needs none; QUANTIZE's depends on its types). */
function kernelFile(L: Layer): string | undefined {
  if (L.family === 'quantize') {
    return { f32_to_s8: 'tinyforge_quantize.c', s8_to_s8: 'tinyforge_requantize.c', s8_to_f32: 'tinyforge_dequantize.c' }[L.mode];
  }
  return KERNEL_FILE[L.kind as keyof typeof KERNEL_FILE];
}

/** The kernel sources (and internal headers) the model's layers need, in a stable order. */
function kernelFiles(layers: Layer[]): string[] {
  const needed = new Set(layers.map(kernelFile).filter((f): f is string => f !== undefined));
  const uses = (...files: string[]) => files.some((f) => needed.has(f));
  const headers = ['tinyforge_kernels.h'];
  const requant = ['conv2d', 'depthwise_conv2d', 'fully_connected', 'add', 'mean', 'softmax', 'requantize'];
  if (uses(...requant.map((k) => `tinyforge_${k}.c`))) headers.push('tinyforge_requant.h');
  if (uses(...['conv2d', 'depthwise_conv2d', 'fully_connected', 'max_pool2d', 'add'].map((k) => `tinyforge_${k}.c`))) headers.push('tinyforge_dsp.h');
  if (uses('tinyforge_quantize.c', 'tinyforge_dequantize.c')) headers.push('tinyforge_float_io.h');
  const order = [...Object.values(KERNEL_FILE), 'tinyforge_requantize.c'];
  return [...headers, ...order.filter((f) => needed.has(f))];
}

export function generateLibrary(original: IrModel, opts: GenerateOptions = {}): GeneratedLibrary {
  // The IR contract first (graph, shapes, requant consistency; already checked for a ValidIr,
  // the pipeline's case), then what the C relies on.
  ensureValidIr(original, `IR '${original.name}'`);
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const problem = prefixProblem(prefix);
  if (problem) throw new UserError(`codegen prefix '${prefix}': expected ${problem}`);
  const external = opts.arena === 'external';
  // From here on `ir` is the fused view: the ops the C calls, the tensors the arena holds.
  const fused = fuseConvPool(original, opts.fusePools ?? true);
  const ir = fused.ir;
  const layers = resolveLayers(ir, fused.pools);
  const maxExtra = opts.rowBandsMaxExtraMacs;
  if (maxExtra !== undefined && !(maxExtra >= 0)) throw new UserError(`codegen rowBandsMaxExtraMacs: expected a fraction >= 0, found ${maxExtra}`);
  const bands = planRowBands(ir, layers, opts.rowBands ?? false, (maxExtra ?? Infinity) * layers.reduce((s, l) => s + l.macs, 0));
  const plan = bands.plan;
  const band = bands.band;
  // Every op's whole input and output live: no fusion, no bands, nothing in place.
  const layerByLayer =
    fused.pools.size > 0 || band || plan.inPlace.size > 0 ? planArena(original, { inPlace: false }).lowerBoundBytes : plan.lowerBoundBytes;
  const byId = new Map<number, IrTensor>(ir.tensors.map((t) => [t.id, t]));
  const idents = uniqueIdentifiers(ir.ops.map((op) => op.name));
  const md = ir.metadata;
  const provenance = commentSafe(
    md
      ? `From ${md.source ? `${md.source.format} file ${md.source.file} (sha256 ${md.source.sha256.slice(0, 16)}...)` : `config '${md.configName}' (hash ${md.configHash}), dataset ${md.dataset}`}, architecture ${md.architecture}.`
      : `From IR '${ir.name}'.`,
  );

  const outputs = layers.map((L, i) => layerOutput(L, idents[i]!, plan, { prefix, externalArena: external }));
  // What <prefix>_run runs: one step per layer, or one for a whole band run.
  const steps = outputs.map((o) => ({ brief: o.view.brief, calls: o.view.calls }));
  let bandNames: BandLayerNames[] = [];
  let rowBands: RowBandSummary | undefined;
  if (band) {
    bandNames = band.layers.map((L) => ({ pName: `${prefix}_${idents[L.layer.index]!}_params`, name: commentSafe(L.layer.op.name) }));
    const workspace = band.bandedPlan.scratch.get(band.start)!.offset;
    const first = band.layers[0]!.layer;
    const last = band.layers[band.layers.length - 1]!.layer;
    const loop = bandLoop(band, bandNames, prefix, { input: plan.offsets.get(first.input.id)!, output: plan.offsets.get(last.output.id)!, workspace }, external);
    steps.splice(band.start, band.end - band.start + 1, { brief: bandBrief(band, bandNames), calls: loop });
    rowBands = {
      first: first.op.name,
      last: last.op.name,
      layers: band.layers.length,
      rows: band.rows,
      bands: band.bands,
      extraMacs: band.extraMacs,
      workspaceBytes: band.workspaceBytes,
    };
  }
  const weightLayers = outputs.flatMap((o) => (o.weights ? [o.weights] : []));
  const weightsBytes = weightLayers.reduce((s, l) => s + l.arrays.reduce((a, x) => a + x.bytes, 0), 0);
  const macs = layers.reduce((s, l) => s + l.macs, 0);
  const input = inputView(ir, plan);
  const output = outputView(ir, byId.get(ir.output.tensor)!, plan);
  const kernels = kernelFiles(layers);

  const fileList = [...modelFiles(prefix), ...kernels];
  // The float helpers convert between real values and the int8 API arrays: only where that
  // array is int8 (a float32 edge is already quantized / dequantized by the graph itself) and,
  // for the input, where one scale covers it (a single graph input).
  const quantizeInputHelper = input.ctype === 'int8_t' && !input.multi;
  const dequantizeOutputHelper = output.ctype === 'int8_t';
  const api = { image: input.image, floatHelpers: quantizeInputHelper || dequantizeOutputHelper };
  const describeFile = (name: string): string => {
    const suffix = Object.keys(MODEL_FILE_DESCRIPTIONS).find((s) => name === `${prefix}${s}`);
    return suffix ? MODEL_FILE_DESCRIPTIONS[suffix]!(prefix, api) : FILE_DESCRIPTIONS[name] ?? '';
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
      hash: modelHash(original),
    },
    version: tinyforgeVersion(ir),
    provenance,
    input,
    output,
    quantizeInputHelper,
    dequantizeOutputHelper,
    arenaBytes: plan.arenaBytes,
    lowerBound: plan.lowerBoundBytes,
    layerByLayerBound: layerByLayer,
    unbandedArenaBytes: bands.unbandedArenaBytes,
    strategy: plan.strategy,
    rowBands: rowBands && {
      ...rowBands,
      text: bandText(rowBands, bands.unbandedArenaBytes, plan.arenaBytes, macs),
      lines: wrapText(
        `Row bands: ${bandText(rowBands, bands.unbandedArenaBytes, plan.arenaBytes, macs)}. The run is planned as one op ` +
          `(op ${band!.start} in the live ranges below, which count the run as one op) whose workspace holds the band ` +
          "buffers and the convolutions' scratch; each band recomputes the rows of the earlier layers it reads.",
        96,
      ),
    },
    bandHelper: band ? bandHelper(prefix) : '',
    weightsBytes,
    macs,
    summary: [
      `Layers: ${layers.length}. Activation arena: ${plan.arenaBytes} bytes (RAM). Constant data: ${weightsBytes} bytes (flash).`,
      `Multiply-accumulates per inference: ${macs}.`,
    ],
    placement: band ? placementLines(band.bandedIr, band.bandedPlan, { plan: band, names: bandNames }) : placementLines(ir, plan),
    layers: outputs.map((o) => o.view),
    steps,
    weightLayers,
    layerTable: outputs.map((o) => o.tableRow),
    floatIo: kernels.includes('tinyforge_float_io.h'),
    files: fileList.map((name) => ({ name, what: describeFile(name) })),
  };

  const files: Record<string, string> = {
    [`${prefix}.h`]: template('model.h.hbs')(view),
    [`${prefix}.c`]: template('model.c.hbs')(view),
    [`${prefix}_weights.h`]: template('model_weights.h.hbs')(view),
    [`${prefix}_weights.c`]: template('model_weights.c.hbs')(view),
    'README.md': template('README.md.hbs')(view),
  };
  for (const k of kernels) files[k] = readFileSync(join(kernelsDir(), k), 'utf8');
  return {
    files,
    prefix,
    kernelFiles: kernels,
    hasPredictU8: input.image,
    arenaBytes: plan.arenaBytes,
    arenaLowerBoundBytes: plan.lowerBoundBytes,
    layerByLayerBoundBytes: layerByLayer,
    unbandedArenaBytes: bands.unbandedArenaBytes,
    ...(rowBands ? { rowBands } : {}),
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
