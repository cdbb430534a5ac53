// Compares the arithmetic of two IRs op by op: what an export followed by an import must keep.
// Used after every export (the CLI refuses to write a file that does not re-import as the IR)
// and by the tests and bench. Names, metadata and scales beyond float32 precision are not
// arithmetic; multipliers are counted apart, since an IR quantized with float64 scales is
// expected to differ there (exactness() in export.ts predicts by how much).
import type { IrModel, IrOp, IrTensor } from '../ir/types.js';

export interface ArithmeticComparison {
  /** Differences that no export may introduce (op kinds, shapes, weights, biases, zero points, clamps). */
  mismatches: string[];
  /** Output channels whose (multiplier, shift) differ. */
  differingMultipliers: number;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, i) => v === b[i]);

export function compareArithmetic(original: IrModel, imported: IrModel): ArithmeticComparison {
  const mismatches: string[] = [];
  let differingMultipliers = 0;
  if (original.ops.length !== imported.ops.length) {
    return { mismatches: [`${original.ops.length} ops, imported ${imported.ops.length}`], differingMultipliers };
  }
  const tensorCheck = (at: string, a: IrTensor, b: IrTensor): void => {
    if (!same(a.shape, b.shape)) mismatches.push(`${at}: shape ${JSON.stringify(a.shape)}, imported ${JSON.stringify(b.shape)}`);
    if (Math.fround(a.scale) !== b.scale) mismatches.push(`${at}: scale ${a.scale} (float32 ${Math.fround(a.scale)}), imported ${b.scale}`);
    if (a.zeroPoint !== b.zeroPoint) mismatches.push(`${at}: zero point ${a.zeroPoint}, imported ${b.zeroPoint}`);
  };
  tensorCheck('input', original.tensors[original.input.tensor], imported.tensors[imported.input.tensor]);
  original.ops.forEach((a, i) => {
    const b = imported.ops[i];
    const at = `op ${i} ${a.kind} "${a.name}"`;
    if (a.kind !== b.kind) {
      mismatches.push(`${at}: imported as ${b.kind}`);
      return;
    }
    tensorCheck(`${at} output`, original.tensors[a.output], imported.tensors[b.output]);
    for (const [field, x, y] of opFields(a, b)) {
      if (!same(x, y)) mismatches.push(`${at}: ${field} differ`);
    }
    if ('requant' in a && 'requant' in b) {
      a.requant.multiplier.forEach((m, c) => {
        if (m !== b.requant.multiplier[c] || a.requant.shift[c] !== b.requant.shift[c]) differingMultipliers++;
      });
    }
  });
  return { mismatches, differingMultipliers };
}

/** The numeric fields of two ops of the same kind, flattened, multipliers excluded. */
function opFields(a: IrOp, b: IrOp): [string, ArrayLike<number>, ArrayLike<number>][] {
  const fields: [string, ArrayLike<number>, ArrayLike<number>][] = [];
  const pad = (p: { top: number; left: number; bottom: number; right: number }): number[] => [p.top, p.left, p.bottom, p.right];
  if ('weights' in a && 'weights' in b) {
    fields.push(['weights', a.weights, b.weights], ['biases', a.bias, b.bias]);
    fields.push(['weight scales (float32)', a.requant.weightScale.map((s) => Math.fround(s)), b.requant.weightScale]);
  }
  if ('kernel' in a && 'kernel' in b) fields.push(['kernel', a.kernel, b.kernel]);
  if ('pool' in a && 'pool' in b) fields.push(['pool', a.pool, b.pool]);
  if ('stride' in a && 'stride' in b) fields.push(['stride', a.stride, b.stride]);
  if ('padding' in a && 'padding' in b) fields.push(['padding', pad(a.padding), pad(b.padding)]);
  if ('depthMultiplier' in a && 'depthMultiplier' in b) fields.push(['depth multiplier', [a.depthMultiplier], [b.depthMultiplier]]);
  if ('clamp' in a && 'clamp' in b) fields.push(['clamp', [a.clamp.min, a.clamp.max], [b.clamp.min, b.clamp.max]]);
  return fields;
}
