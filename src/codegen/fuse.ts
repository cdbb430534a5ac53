// Layer fusion: a conv2d whose output only feeds a max pooling is computed as one kernel call
// that pools its output as it is produced, so the conv's full output is never stored. This is
// exact: requantization is monotone (multiplier >= 0, a rounding shift, a clamp), so the maximum
// of the requantized values is the requantized maximum, and the kernel pools the int32
// accumulators. The arena planner and the layer resolver see a view of the IR in which the conv
// writes the pool's output tensor and the pool op is gone; the IR itself is never changed (the
// reference interpreter runs it as it is).
import type { Clamp, Conv2DOp, IrModel, IrOp, IrTensor, MaxPool2DOp } from '../ir/types.js';
import { opInputs } from '../ir/types.js';

/** A max pooling folded into the conv2d before it. */
export interface FusedPool {
  pool: MaxPool2DOp;
  /** The conv's own output tensor (in the IR), which the fused kernel never stores. */
  convOutput: IrTensor;
}

export interface FusedView {
  /** The IR with every fused pool removed and its conv writing the pool's output. */
  ir: IrModel;
  /** View op (the conv, by identity) -> the pool folded into it. */
  pools: Map<IrOp, FusedPool>;
}

/** Largest pooling window the conv2d kernel fuses: it computes four pixels per pass. */
export const MAX_FUSED_POOL_PIXELS = 4;

/** Can `pool` be folded into `conv`: non-overlapping windows of at most four pixels, no padding, one quantization. */
function fusable(conv: Conv2DOp, pool: MaxPool2DOp, convOut: IrTensor, poolOut: IrTensor): boolean {
  const [ph, pw] = pool.pool;
  const p = pool.padding;
  return (
    ph * pw > 1 &&
    ph * pw <= MAX_FUSED_POOL_PIXELS &&
    pool.stride[0] === ph &&
    pool.stride[1] === pw &&
    p.top === 0 && p.left === 0 && p.bottom === 0 && p.right === 0 &&
    convOut.zeroPoint === poolOut.zeroPoint &&
    convOut.scale === poolOut.scale &&
    conv.output === pool.input
  );
}

/**
 * The clamp of conv then pool as one: clamping to [a1, b1] and then to [a2, b2] is clamping to
 * [c2(a1), c2(b1)] (c2: the second clamp), both monotone.
 */
export function composeClamps(first: Clamp, second: Clamp): Clamp {
  const c2 = (v: number) => Math.min(Math.max(v, second.min), second.max);
  return { min: c2(first.min), max: c2(first.max) };
}

/** The fused view of `ir` (with `enabled` false: the IR as it is, nothing fused). */
export function fuseConvPool(ir: IrModel, enabled = true): FusedView {
  const pools = new Map<IrOp, FusedPool>();
  if (!enabled) return { ir, pools };
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const readers = new Map<number, IrOp[]>();
  for (const op of ir.ops) for (const id of opInputs(op)) readers.set(id, [...(readers.get(id) ?? []), op]);

  const folded = new Set<IrOp>();
  const ops = ir.ops.map((op): IrOp => {
    if (op.kind !== 'conv2d' || op.output === ir.output.tensor) return op;
    const next = readers.get(op.output) ?? [];
    const pool = next[0];
    if (next.length !== 1 || pool?.kind !== 'max_pool2d') return op;
    const convOut = byId.get(op.output);
    const poolOut = byId.get(pool.output);
    if (!convOut || !poolOut || !fusable(op, pool, convOut, poolOut)) return op;
    const view: Conv2DOp = { ...op, output: pool.output };
    pools.set(view, { pool, convOutput: convOut });
    folded.add(pool);
    return view;
  });
  if (pools.size === 0) return { ir, pools };
  return { ir: { ...ir, ops: ops.filter((op) => !folded.has(op)) }, pools };
}
