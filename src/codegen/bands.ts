// Row-band execution (the row form of MCUNetV2's patch-based inference): a run of consecutive
// spatial layers of a chain (conv2d with or without a fused max pooling, depthwise conv2d, max and
// average pooling) computes its last output a band of rows at a time. Each band computes only the
// rows of every earlier layer of the run that it reads, so the run's intermediate tensors are held
// as bands of a few rows instead of whole tensors; the rows two neighbouring bands both read (the
// halo) are computed again by each, which costs extra MACs. The run's input and output stay whole.
//
// A band call is the layer's own kernel with three fields of a copy of its parameter block changed:
// in_h (the input rows the band holds), out_h (the output rows it computes) and pad_top (padding
// rows above the first held row: only the top band has any). Rows below the held ones are only ever
// needed at the bottom of the tensor, where they are the padding the kernel already skips, so the
// kernels need no change and compute the same integers as on whole tensors.
//
// Memory: a band run is planned as one op reading the run's input and writing its output, with a
// workspace (the band buffers and the convolutions' im2col scratch) as its scratch. Within a band
// the band buffers form a chain (layer k reads buffer k - 1 and writes buffer k), so the workspace
// is laid out ping-pong like the arena of a chain: even buffers at its bottom, odd ones at its top,
// a layer's scratch right above the even buffer it touches.
//
// The planner (planRowBands) tries every run of two or more such layers and several band heights,
// and keeps the one giving the smallest arena (fewest extra MACs among equals), only if that arena
// is smaller than the layer-by-layer schedule's.
import type { IrModel, IrOp } from '../ir/types.js';
import { graphInputs, opInputs } from '../ir/types.js';
import { validTaps, type ConvLayer, type Layer, type PoolLayer } from './layers.js';
import { alignUp, checkPlacement, planArena, scratchBytes, type ArenaPlan, type Buffer } from './planner.js';

/** One layer of a band run, with its geometry along the rows. */
export interface BandLayer {
  layer: ConvLayer | PoolLayer;
  /** Output row o reads input rows [o * stride - pad, o * stride - pad + span), those in [0, inH). */
  stride: number;
  pad: number;
  span: number;
  inH: number;
  outH: number;
  /** Bytes of one row of the layer's input and of its (stored) output. */
  inRowBytes: number;
  outRowBytes: number;
  /** MACs (valid taps) of each output row. */
  rowMacs: number[];
}

/** The rows one layer computes in one band, and the input rows they read. */
export interface BandRows {
  outFirst: number;
  outLast: number;
  inFirst: number;
  inLast: number;
  /** Padding rows above inFirst: the kernel's pad_top for the band. */
  padTop: number;
}

export interface BandPlan {
  /** First and last op of the run (indices into the fused view's ops). */
  start: number;
  end: number;
  layers: BandLayer[];
  /** Output rows of the last layer per band (the last band may have fewer). */
  rows: number;
  bands: number;
  /** Per intermediate tensor (the outputs of layers[0 .. n-2]): rows and bytes held. */
  bufferRows: number[];
  bufferBytes: number[];
  /** Offsets in the workspace of the band buffers, and of each layer's scratch (-1: none). */
  bufferOffsets: number[];
  scratchOffsets: number[];
  scratchSizes: number[];
  workspaceBytes: number;
  /** MACs the recomputed halo rows add per inference. */
  extraMacs: number;
  /** The view the arena was planned on: the run as one op (runOp) with the workspace as its scratch. */
  bandedIr: IrModel;
  runOp: IrOp;
  /** The arena plan of bandedIr. */
  bandedPlan: ArenaPlan;
}

/** The result of planRowBands: the plan the C uses (in the fused view's terms) and the band run, if any. */
export interface RowBandChoice {
  plan: ArenaPlan;
  band?: BandPlan;
  /** The arena without row bands (the layer-by-layer schedule of the fused view). */
  unbandedArenaBytes: number;
}

/** The rows layer L computes for output rows [outFirst, outLast), and the input rows they read. */
export function bandRows(L: Pick<BandLayer, 'stride' | 'pad' | 'span' | 'inH'>, outFirst: number, outLast: number): BandRows {
  const top = outFirst * L.stride - L.pad;
  const bottom = (outLast - 1) * L.stride - L.pad + L.span;
  const inFirst = Math.max(0, top);
  return { outFirst, outLast, inFirst, inLast: Math.min(L.inH, bottom), padTop: inFirst - top };
}

/** The row geometry of a layer, or undefined if it cannot run in bands (not a spatial layer). */
export function bandLayer(L: Layer): BandLayer | undefined {
  if (L.family !== 'conv' && L.family !== 'pool') return undefined;
  if ((L.input.dtype ?? 'int8') !== 'int8' || (L.output.dtype ?? 'int8') !== 'int8' || L.input.shape.length !== 3 || L.output.shape.length !== 3) return undefined;
  const [kh, kw] = L.kernel;
  const [sh, sw] = L.stride;
  const { inShape: i, outShape: o, padding: p } = L;
  // A fused max pooling of ph rows: output row o is conv rows o * ph .. o * ph + ph - 1.
  const ph = L.family === 'conv' && L.pool ? L.pool.size[0] : 1;
  const stored = L.family === 'conv' && L.pool ? L.pool.outShape : o;
  const colTaps = Array.from({ length: o.w }, (_, x) => validTaps(x, sw, p.left, kw, i.w)).reduce((a, b) => a + b, 0);
  const perTap = L.family === 'pool' ? 0 : L.kind === 'conv2d' ? i.c * o.c : o.c;
  const rowMacs = Array.from({ length: stored.h }, (_, y) => {
    let taps = 0;
    for (let r = y * ph; r < (y + 1) * ph; r++) taps += validTaps(r, sh, p.top, kh, i.h);
    return taps * colTaps * perTap;
  });
  return {
    layer: L,
    stride: sh * ph,
    pad: p.top,
    span: (ph - 1) * sh + kh,
    inH: i.h,
    outH: stored.h,
    inRowBytes: i.w * i.c,
    outRowBytes: stored.w * stored.c,
    rowMacs,
  };
}

/** The rows every layer of the run computes in each band, last layer first reversed to layer order. */
export function bandSchedule(layers: BandLayer[], rows: number): BandRows[][] {
  const last = layers[layers.length - 1]!;
  const schedule: BandRows[][] = [];
  for (let first = 0; first < last.outH; first += rows) {
    const band: BandRows[] = new Array(layers.length);
    let want = { first, last: Math.min(first + rows, last.outH) };
    for (let k = layers.length - 1; k >= 0; k--) {
      const r = bandRows(layers[k]!, want.first, want.last);
      band[k] = r;
      want = { first: r.inFirst, last: r.inLast };
    }
    schedule.push(band);
  }
  return schedule;
}

/** The runs of consecutive ops that may execute in bands: [start, end], two layers or more. */
export function bandRuns(ir: IrModel, layers: Layer[]): { start: number; end: number; layers: BandLayer[] }[] {
  const readers = new Map<number, number>();
  for (const op of ir.ops) for (const id of opInputs(op)) readers.set(id, (readers.get(id) ?? 0) + 1);
  const graphIn = new Set(graphInputs(ir).map((i) => i.tensor));
  const geometry = layers.map(bandLayer);
  const runs: { start: number; end: number; layers: BandLayer[] }[] = [];
  for (let start = 0; start < layers.length; start++) {
    if (!geometry[start]) continue;
    for (let end = start + 1; end < layers.length; end++) {
      const g = geometry[end];
      const prev = layers[end - 1]!;
      // The previous layer's output is an intermediate: read by this op alone, not an output of the graph.
      const chained =
        g !== undefined &&
        layers[end]!.input.id === prev.output.id &&
        readers.get(prev.output.id) === 1 &&
        prev.output.id !== ir.output.tensor &&
        !graphIn.has(prev.output.id);
      if (!chained) break;
      runs.push({ start, end, layers: geometry.slice(start, end + 1) as BandLayer[] });
    }
  }
  return runs;
}

/**
 * Band buffers and scratch of a run in bands of `rows` output rows, laid out ping-pong in one
 * workspace (see the top of this file), and the MACs the halos add.
 */
export function bandWorkspace(ir: IrModel, layers: BandLayer[], rows: number): Omit<BandPlan, 'start' | 'end' | 'bandedIr' | 'runOp' | 'bandedPlan'> {
  const schedule = bandSchedule(layers, rows);
  const n = layers.length;
  const bufferRows = layers.slice(0, n - 1).map((_, k) => Math.max(...schedule.map((band) => band[k]!.outLast - band[k]!.outFirst)));
  const bufferBytes = bufferRows.map((r, k) => r * layers[k]!.outRowBytes);
  const scratchSizes = layers.map((L) => scratchBytes(ir, L.layer.op));
  const size = (k: number) => (k < 0 || k >= n - 1 ? 0 : alignUp(bufferBytes[k]!));
  // Layer k reads buffer k - 1 and writes buffer k (the run's input and output are not in the workspace).
  let workspace = 0;
  for (let k = 0; k < n; k++) workspace = Math.max(workspace, size(k - 1) + size(k) + alignUp(scratchSizes[k]!));
  const bufferOffsets = bufferBytes.map((_, k) => (k % 2 === 0 ? 0 : workspace - size(k)));
  const scratchOffsets = scratchSizes.map((s, k) => {
    if (s === 0) return -1;
    const even = k % 2 === 0 ? k : k - 1;
    return size(even);
  });
  let extraMacs = 0;
  for (const band of schedule) {
    band.forEach((r, k) => {
      for (let o = r.outFirst; o < r.outLast; o++) extraMacs += layers[k]!.rowMacs[o]!;
    });
  }
  extraMacs -= layers.reduce((s, L) => s + L.rowMacs.reduce((a, b) => a + b, 0), 0);
  return { layers, rows, bands: schedule.length, bufferRows, bufferBytes, bufferOffsets, scratchOffsets, scratchSizes, workspaceBytes: workspace, extraMacs };
}

/** Throws if two things live at the same step of a band share a workspace byte. */
export function checkWorkspace(plan: Pick<BandPlan, 'layers' | 'bufferBytes' | 'bufferOffsets' | 'scratchOffsets' | 'scratchSizes' | 'workspaceBytes'>): void {
  const buffers: Buffer[] = plan.bufferBytes.map((bytes, k) => ({ tensors: [k], bytes, first: k, last: k + 1 }));
  const offsets = [...plan.bufferOffsets];
  plan.scratchSizes.forEach((bytes, k) => {
    if (bytes === 0) return;
    buffers.push({ tensors: [], scratchOf: k, bytes, first: k, last: k });
    offsets.push(plan.scratchOffsets[k]!);
  });
  checkPlacement(buffers, offsets);
  buffers.forEach((b, i) => {
    if (offsets[i]! + b.bytes > plan.workspaceBytes) throw new Error(`bands: a buffer of ${b.bytes} bytes at ${offsets[i]} overruns the workspace of ${plan.workspaceBytes}`);
  });
}

/** The fused view with the run [start, end] as one op reading its input and writing its output. */
function bandedView(ir: IrModel, start: number, end: number): { ir: IrModel; runOp: IrOp } {
  const runOp = { ...ir.ops[start]!, output: ir.ops[end]!.output } as IrOp;
  return { ir: { ...ir, ops: [...ir.ops.slice(0, start), runOp, ...ir.ops.slice(end + 1)] }, runOp };
}

/** Band heights tried: every height up to 4 rows, then doubling, each below the output's height. */
function heights(outH: number): number[] {
  const hs: number[] = [];
  for (let h = 1; h < outH; h = h < 4 ? h + 1 : h * 2) hs.push(h);
  return hs;
}

/** The arena plan in the fused view's terms: band buffers and the run's scratch inside the workspace. */
function mergedPlan(band: BandPlan): ArenaPlan {
  const p = band.bandedPlan;
  const removed = band.end - band.start;
  const ws = p.scratch.get(band.start);
  if (!ws) throw new Error('bands: the run has no workspace in the arena plan');
  const offsets = new Map(p.offsets);
  band.layers.slice(0, -1).forEach((L, k) => offsets.set(L.layer.output.id, ws.offset + band.bufferOffsets[k]!));
  const scratch = new Map<number, { offset: number; bytes: number }>();
  for (const [i, s] of p.scratch) if (i !== band.start) scratch.set(i < band.start ? i : i + removed, s);
  band.layers.forEach((L, k) => {
    if (band.scratchSizes[k]! > 0) scratch.set(L.layer.index, { offset: ws.offset + band.scratchOffsets[k]!, bytes: band.scratchSizes[k]! });
  });
  return { ...p, offsets, scratch };
}

/** A given band run: ops start .. end of the fused view, `rows` output rows per band (tests, experiments). */
export interface BandRequest {
  start: number;
  end: number;
  rows: number;
}

/** The band plan of one run at one height. */
function bandPlan(ir: IrModel, run: { start: number; end: number; layers: BandLayer[] }, rows: number): BandPlan {
  const ws = bandWorkspace(ir, run.layers, rows);
  const { ir: view, runOp } = bandedView(ir, run.start, run.end);
  const bandedPlan = planArena(view, { scratchOverride: new Map([[runOp, ws.workspaceBytes]]) });
  return { ...ws, start: run.start, end: run.end, bandedIr: view, runOp, bandedPlan };
}

/**
 * The arena plan of the fused view `ir` (its resolved `layers`), with the band run that gives the
 * smallest arena if one is smaller than without (`request` false: never; a BandRequest: that run,
 * whatever its arena). `maxExtraMacs`: only runs whose recomputed halo rows add at most that many
 * MACs are considered (the search then settles for taller bands or shorter runs).
 */
export function planRowBands(ir: IrModel, layers: Layer[], request: boolean | BandRequest = true, maxExtraMacs = Infinity): RowBandChoice {
  const plain = planArena(ir);
  if (request === false) return { plan: plain, unbandedArenaBytes: plain.arenaBytes };
  if (request !== true) {
    const run = bandRuns(ir, layers).find((r) => r.start === request.start && r.end === request.end);
    if (!run) throw new Error(`codegen: ops ${request.start} .. ${request.end} are not a run of spatial layers of a chain that can execute in row bands`);
    const outH = run.layers[run.layers.length - 1]!.outH;
    if (!Number.isInteger(request.rows) || request.rows < 1 || request.rows > outH) {
      throw new Error(`codegen: row bands of ${request.rows} rows: expected a whole number in [1, ${outH}]`);
    }
    const band = bandPlan(ir, run, request.rows);
    checkWorkspace(band);
    return { plan: mergedPlan(band), band, unbandedArenaBytes: plain.arenaBytes };
  }
  let best: BandPlan | undefined;
  for (const run of bandRuns(ir, layers)) {
    const { ir: view, runOp } = bandedView(ir, run.start, run.end);
    const ends = alignUp(run.layers[0]!.inH * run.layers[0]!.inRowBytes) + alignUp(run.layers[run.layers.length - 1]!.outH * run.layers[run.layers.length - 1]!.outRowBytes);
    for (const rows of heights(run.layers[run.layers.length - 1]!.outH)) {
      const ws = bandWorkspace(ir, run.layers, rows);
      if (ws.extraMacs > maxExtraMacs) continue;
      const target = best ? best.bandedPlan.arenaBytes : plain.arenaBytes;
      // The run's input, output and workspace are live together: a floor on the arena.
      if (ends + ws.workspaceBytes > target) continue;
      const bandedPlan = planArena(view, { scratchOverride: new Map([[runOp, ws.workspaceBytes]]) });
      const arena = bandedPlan.arenaBytes;
      const better = best
        ? arena < best.bandedPlan.arenaBytes || (arena === best.bandedPlan.arenaBytes && ws.extraMacs < best.extraMacs)
        : arena < plain.arenaBytes;
      if (better) best = { ...ws, start: run.start, end: run.end, bandedIr: view, runOp, bandedPlan };
    }
  }
  if (!best) return { plan: plain, unbandedArenaBytes: plain.arenaBytes };
  checkWorkspace(best);
  return { plan: mergedPlan(best), band: best, unbandedArenaBytes: plain.arenaBytes };
}
