// Static memory planning for the activation arena.
//
// Every activation tensor gets a byte offset in one static arena. A tensor is live from the op
// that writes it (the network input: from before the first op) to the last op that reads it
// (the network output: until after the last op, when predict copies the logits out). The IR is
// a graph: an op may read several tensors (ADD, CONCATENATION) and a tensor may feed several
// ops (a residual branch), so a tensor stays live until its last reader, whichever op that is.
// Sizes are in bytes (float32 tensors at the graph's edges take 4 per element). Two
// tensors that are live at the same time never overlap, so in particular the input and the
// output of every op are disjoint and kernels never have to cope with aliasing.
//
// Reshape moves no data (NHWC row-major): its output is the same bytes as its input, so both
// tensors form one buffer with one offset and the union of their live ranges.
//
// Alignment: every offset is a multiple of ALIGN (4) so kernels may use word loads and the
// arena can be declared aligned(4). Placement works on sizes rounded up to ALIGN; the lower
// bound is stated on the same rounded sizes (that is the true optimum under the alignment
// constraint for the ping-pong chains below). For tensors of a multiple of 4 bytes (every
// feature map with C % 4 == 0) rounding costs nothing; otherwise it costs at most 3 bytes per
// live tensor, and `exactLowerBoundBytes` gives the unrounded figure.
//
// Scratch: a kernel may need working memory while it runs (conv2d's im2col columns, see
// scratchBytes). It is planned like a tensor that is live during that op only, so it shares bytes
// with every tensor not live at that op, and counts towards the lower bound at that op.
//
// In place: an elementwise op whose kernel reads element i of its inputs before it writes element
// i of its output, and never looks back (ADD, int8 -> int8 QUANTIZE, SOFTMAX: each row's input is
// read in full before its outputs are written), may write its output over an int8 input of the
// same size that nothing reads afterwards (inPlaceOps). The two then form one buffer, like a
// reshape; the layer-by-layer bound is stated without this (planArena(ir, { inPlace: false })).
//
// Placement: for a chain (every buffer overlaps in time only with its predecessor and its
// successor, which is what a sequential CNN gives) buffers alternate between the two ends of
// the arena (ping-pong), which reaches the lower bound exactly. For anything else, and as a
// cross-check, two greedy strategies (largest first, and in order of definition, each putting a
// buffer into the best-fitting gap among the buffers it overlaps in time) are run and the
// smallest valid plan wins.
import type { IrModel, IrOp, IrTensor } from '../ir/types.js';
import { dtypeBytes, graphInputs, opInputs, tensorSize } from '../ir/types.js';
import { conv2dPairCount, conv2dTakesTapPairs } from './layers.js';

export const ALIGN = 4;

export interface ArenaPlan {
  /** Tensor id -> byte offset in the arena (multiple of ALIGN). */
  offsets: Map<number, number>;
  /** Arena size in bytes (a multiple of ALIGN). */
  arenaBytes: number;
  /** max over all ops of the sum of the (ALIGN-rounded) sizes of the buffers live at that op. */
  lowerBoundBytes: number;
  /** The same bound without rounding sizes up to ALIGN. */
  exactLowerBoundBytes: number;
  /** Which strategy produced the plan. */
  strategy: 'ping-pong' | 'greedy-by-size' | 'greedy-by-time';
  /** Op index -> the scratch memory of that op (ops that need none are absent). */
  scratch: Map<number, { offset: number; bytes: number }>;
  /** Op index -> the input tensor whose bytes that op's output reuses (ops run in place). */
  inPlace: Map<number, number>;
}

/**
 * Bytes of working memory the op's kernel needs while it runs. conv2d works on four output
 * pixels at a time: their im2col columns, Kp values each (K = kernel_h * kernel_w * in_c rounded
 * up to a multiple of 4), on the DSP path as int16 (SMLAD takes pairs of int16), 8 * Kp bytes;
 * then the eight int32 sums of a pass (32 bytes); with in_c not a multiple of 4, after them the
 * int8 window gathered before it is widened (Kp bytes). The portable path's int8 columns, sums and
 * int8 gather area (5 * Kp + 32 bytes) fit in that. Few input channels (in_c below 4,
 * conv2dTakesTapPairs, see tinyforge_column_rows): the four columns as P = conv2dPairCount pairs of taps, 16 * P
 * bytes on the DSP path (8 * P portable), the sums, and two kernel rows as whole words for the
 * borders (2 * 4 * ceil(kernel_w * in_c / 4) bytes). Every other kernel works directly on its
 * input and output.
 */
export function scratchBytes(ir: IrModel, op: IrOp): number {
  if (op.kind !== 'conv2d') return 0;
  const input = ir.tensors.find((t) => t.id === op.input);
  if (!input || input.shape.length !== 3) throw new Error(`planner: conv2d '${op.name}' needs an [H, W, C] input`);
  const inC = input.shape[2]!;
  if (conv2dTakesTapPairs(inC)) {
    const rowLen = op.kernel[1] * inC;
    return 16 * conv2dPairCount(op.kernel[0], rowLen) + 32 + 2 * alignUp(rowLen, 4);
  }
  const kp = alignUp(op.kernel[0] * op.kernel[1] * inC, 4);
  return 8 * kp + 32 + (inC % 4 === 0 ? 0 : kp);
}

/** A set of tensors sharing bytes (a tensor plus the reshapes of it), with its live range. */
export interface Buffer {
  /** Empty for a scratch buffer. */
  tensors: number[];
  /** Set for the scratch memory of op `scratchOf` (live during that op only). */
  scratchOf?: number;
  bytes: number;
  /** First time step the buffer is live; -1 = written by predict before the first op. */
  first: number;
  /** Last time step the buffer is live; ops.length = read by predict after the last op. */
  last: number;
}

export function alignUp(n: number, a = ALIGN): number {
  return Math.ceil(n / a) * a;
}

/** The ops that may run in place (see the header): ADD, int8 -> int8 QUANTIZE, SOFTMAX. */
function elementwiseInt8(op: IrOp, byId: Map<number, IrTensor>): boolean {
  const int8 = (id: number) => byId.has(id) && dtypeBytes(byId.get(id)!) === 1;
  if (op.kind === 'add' || op.kind === 'softmax') return true;
  return op.kind === 'quantize' && int8(op.input) && int8(op.output);
}

/**
 * Op index -> the input tensor its output may overwrite: an int8 input of the output's size that
 * is no graph input and whose bytes (with their reshape aliases) nothing reads after this op.
 */
export function inPlaceOps(ir: IrModel): Map<number, number> {
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const bytesOf = (id: number) => {
    const t = byId.get(id);
    return t ? tensorSize(t) * dtypeBytes(t) : -1;
  };
  // Last op reading each tensor, through reshapes (a reshape's output is its input's bytes).
  const aliasOf = new Map<number, number>();
  const root = (id: number): number => (aliasOf.has(id) ? root(aliasOf.get(id)!) : id);
  const lastRead = new Map<number, number>();
  ir.ops.forEach((op, i) => {
    if (op.kind === 'reshape') aliasOf.set(op.output, op.input);
    for (const id of opInputs(op)) lastRead.set(root(id), i);
  });
  lastRead.set(root(ir.output.tensor), ir.ops.length);
  const graphIn = new Set(graphInputs(ir).map((input) => root(input.tensor)));
  const inPlace = new Map<number, number>();
  ir.ops.forEach((op, i) => {
    if (!elementwiseInt8(op, byId)) return;
    const victim = opInputs(op).find(
      (id) =>
        byId.has(id) &&
        dtypeBytes(byId.get(id)!) === 1 &&
        bytesOf(id) === bytesOf(op.output) &&
        lastRead.get(root(id)) === i &&
        !graphIn.has(root(id)),
    );
    if (victim !== undefined) inPlace.set(i, victim);
  });
  return inPlace;
}

/** Buffers (after merging reshape aliases, and in-place outputs unless `inPlace` is false) with their live ranges, ordered by first use. */
export function liveBuffers(ir: IrModel, inPlace = true): Buffer[] {
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const sizeOf = (id: number): number => {
    const t = byId.get(id);
    if (!t) throw new Error(`planner: tensor ${id} is not in the IR's tensor list`);
    return tensorSize(t) * dtypeBytes(t);
  };

  // Union-find over reshape aliases.
  const parent = new Map<number, number>();
  const find = (id: number): number => {
    let r = id;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(id, r);
    return r;
  };
  const used = new Set<number>([...graphInputs(ir).map((i) => i.tensor), ir.output.tensor]);
  for (const op of ir.ops) {
    for (const id of opInputs(op)) used.add(id);
    used.add(op.output);
  }
  for (const id of used) parent.set(id, id);
  for (const op of ir.ops) {
    if (op.kind === 'reshape') parent.set(find(op.output), find(op.input));
  }
  if (inPlace) {
    for (const [i, victim] of inPlaceOps(ir)) parent.set(find(ir.ops[i]!.output), find(victim));
  }

  const groups = new Map<number, Buffer>();
  const touch = (id: number, time: number): void => {
    const root = find(id);
    let b = groups.get(root);
    if (!b) {
      b = { tensors: [], bytes: 0, first: time, last: time };
      groups.set(root, b);
    }
    if (!b.tensors.includes(id)) {
      b.tensors.push(id);
      b.bytes = Math.max(b.bytes, sizeOf(id));
    }
    b.first = Math.min(b.first, time);
    b.last = Math.max(b.last, time);
  };
  for (const input of graphInputs(ir)) touch(input.tensor, -1);
  ir.ops.forEach((op, i) => {
    for (const id of opInputs(op)) touch(id, i);
    touch(op.output, i);
  });
  touch(ir.output.tensor, ir.ops.length);

  return [...groups.values()].sort((a, b) => a.first - b.first || a.last - b.last);
}

export function overlapsInTime(a: Buffer, b: Buffer): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/**
 * Working memory an op needs in place of scratchBytes: a row-band run planned as one op (see
 * bands.ts) holds its band buffers and its convolutions' scratch in one workspace of this size.
 */
export type ScratchOverride = ReadonlyMap<IrOp, number>;

/** The scratch buffers of the ops that need one, live during their op only. */
export function scratchBuffers(ir: IrModel, override: ScratchOverride = new Map()): Buffer[] {
  return ir.ops.flatMap((op, i) => {
    const bytes = override.get(op) ?? scratchBytes(ir, op);
    return bytes > 0 ? [{ tensors: [], scratchOf: i, bytes, first: i, last: i }] : [];
  });
}

function label(b: Buffer): string {
  return b.scratchOf !== undefined ? `scratch of op ${b.scratchOf}` : `tensors ${b.tensors.join(',')}`;
}

function lowerBound(buffers: Buffer[], nOps: number, size: (b: Buffer) => number): number {
  let best = 0;
  for (let t = -1; t <= nOps; t++) {
    let sum = 0;
    for (const b of buffers) if (b.first <= t && t <= b.last) sum += size(b);
    best = Math.max(best, sum);
  }
  return best;
}

/** Chain: sorted by first use, each buffer overlaps in time only with its neighbours. */
function isChain(buffers: Buffer[]): boolean {
  for (let i = 0; i < buffers.length; i++) {
    for (let j = i + 2; j < buffers.length; j++) {
      if (overlapsInTime(buffers[i]!, buffers[j]!)) return false;
    }
  }
  return true;
}

/**
 * Chain placement: even buffers at the bottom, odd ones flush against the (aligned) top, and the
 * scratch of an op right above the even buffer live at that op. In a chain at most two
 * consecutive buffers are live at any time (one even, one odd), so with the arena as large as the
 * largest sum live at one time (the lower bound) everything fits.
 */
function pingPong(buffers: Buffer[], scratch: Buffer[], nOps: number): number[] {
  const arena = lowerBound([...buffers, ...scratch], nOps, (b) => alignUp(b.bytes));
  const offsets = buffers.map((b, i) => (i % 2 === 0 ? 0 : arena - alignUp(b.bytes)));
  for (const s of scratch) {
    const even = buffers.findIndex((b, i) => i % 2 === 0 && b.first <= s.first && s.first <= b.last);
    offsets.push(even >= 0 ? alignUp(buffers[even]!.bytes) : 0);
  }
  return offsets;
}

/** Place buffers in the given order, each in the best-fitting gap among placed overlapping ones. */
function greedy(buffers: Buffer[], order: number[]): number[] {
  const offsets = new Array<number>(buffers.length).fill(-1);
  for (const i of order) {
    const b = buffers[i]!;
    const need = alignUp(b.bytes);
    const busy = order
      .filter((j) => offsets[j]! >= 0 && overlapsInTime(b, buffers[j]!))
      .map((j) => ({ start: offsets[j]!, end: offsets[j]! + alignUp(buffers[j]!.bytes) }))
      .sort((x, y) => x.start - y.start);
    let bestOffset = -1;
    let bestGap = Infinity;
    let cursor = 0;
    for (const r of busy) {
      const gap = r.start - cursor;
      if (gap >= need && gap < bestGap) {
        bestGap = gap;
        bestOffset = cursor;
      }
      cursor = Math.max(cursor, r.end);
    }
    offsets[i] = bestOffset >= 0 ? bestOffset : cursor;
  }
  return offsets;
}

function extent(buffers: Buffer[], offsets: number[]): number {
  let top = 0;
  buffers.forEach((b, i) => (top = Math.max(top, offsets[i]! + b.bytes)));
  return alignUp(top);
}

/** Throws if two buffers live at the same time share a byte, or an offset is misaligned. */
export function checkPlacement(buffers: Buffer[], offsets: number[]): void {
  for (let i = 0; i < buffers.length; i++) {
    if (offsets[i]! % ALIGN !== 0 || offsets[i]! < 0) {
      throw new Error(`planner: bad offset ${offsets[i]} for ${label(buffers[i]!)}`);
    }
    for (let j = i + 1; j < buffers.length; j++) {
      const a = buffers[i]!;
      const b = buffers[j]!;
      if (a.bytes === 0 || b.bytes === 0 || !overlapsInTime(a, b)) continue;
      const disjoint = offsets[i]! + a.bytes <= offsets[j]! || offsets[j]! + b.bytes <= offsets[i]!;
      if (!disjoint) {
        throw new Error(`planner: ${label(a)} and ${label(b)} overlap`);
      }
    }
  }
}

export interface PlanOptions {
  /** Let elementwise ops write over a dead input (inPlaceOps); default true. */
  inPlace?: boolean;
  /** Scratch sizes that replace scratchBytes for some ops (a row-band run's workspace). */
  scratchOverride?: ScratchOverride;
}

export function planArena(ir: IrModel, options: PlanOptions = {}): ArenaPlan {
  const inPlace = options.inPlace ?? true;
  const tensorBuffers = liveBuffers(ir, inPlace);
  const scratch = scratchBuffers(ir, options.scratchOverride ?? new Map());
  // Scratch buffers last, so that indices below tensorBuffers.length are tensor buffers.
  const buffers = [...tensorBuffers, ...scratch];
  const lower = lowerBound(buffers, ir.ops.length, (b) => alignUp(b.bytes));
  const exact = lowerBound(buffers, ir.ops.length, (b) => b.bytes);

  const candidates: { strategy: ArenaPlan['strategy']; offsets: number[] }[] = [];
  if (isChain(tensorBuffers)) candidates.push({ strategy: 'ping-pong', offsets: pingPong(tensorBuffers, scratch, ir.ops.length) });
  const idx = buffers.map((_, i) => i);
  const bySize = [...idx].sort(
    (a, b) => buffers[b]!.bytes - buffers[a]!.bytes || buffers[a]!.first - buffers[b]!.first,
  );
  candidates.push({ strategy: 'greedy-by-size', offsets: greedy(buffers, bySize) });
  candidates.push({ strategy: 'greedy-by-time', offsets: greedy(buffers, idx) });

  let best: { strategy: ArenaPlan['strategy']; offsets: number[]; bytes: number } | undefined;
  for (const c of candidates) {
    checkPlacement(buffers, c.offsets);
    const bytes = extent(buffers, c.offsets);
    if (!best || bytes < best.bytes) best = { ...c, bytes };
  }
  const offsets = new Map<number, number>();
  const scratchPlan = new Map<number, { offset: number; bytes: number }>();
  buffers.forEach((b, i) => {
    b.tensors.forEach((t) => offsets.set(t, best!.offsets[i]!));
    if (b.scratchOf !== undefined) scratchPlan.set(b.scratchOf, { offset: best!.offsets[i]!, bytes: b.bytes });
  });
  return {
    offsets,
    arenaBytes: best!.bytes,
    lowerBoundBytes: lower,
    exactLowerBoundBytes: exact,
    strategy: best!.strategy,
    scratch: scratchPlan,
    inPlace: inPlace ? inPlaceOps(ir) : new Map(),
  };
}
