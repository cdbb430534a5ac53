// Compares the arithmetic of two IRs op by op: what an export followed by an import must keep.
// Used after every export (the CLI refuses to write a file that does not re-import as the IR)
// and by the tests and bench. Names, metadata and scales beyond float32 precision are not
// arithmetic; multipliers are counted apart, since an IR quantized with float64 scales is
// expected to differ there (exactness() in export.ts predicts by how much).
import { graphInputs, opInputs, type IrModel, type IrOp, type IrTensor } from '../ir/types.js';
import { countDiffering, rescalesOf } from './rescales.js';

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
    if ((a.dtype ?? 'int8') !== (b.dtype ?? 'int8')) mismatches.push(`${at}: ${a.dtype ?? 'int8'}, imported ${b.dtype ?? 'int8'}`);
  };
  // The wiring: original tensor id -> imported tensor id, from the graph inputs and op outputs.
  const [inA, inB] = [graphInputs(original), graphInputs(imported)];
  if (inA.length !== inB.length) mismatches.push(`${inA.length} graph inputs, imported ${inB.length}`);
  const idOf = new Map(inA.map((x, k) => [x.tensor, inB[k]?.tensor]));
  inA.forEach((x, k) => inB[k] && tensorCheck(`input ${k}`, original.tensors[x.tensor], imported.tensors[inB[k].tensor]));
  original.ops.forEach((a, i) => {
    const b = imported.ops[i];
    const at = `op ${i} ${a.kind} "${a.name}"`;
    if (a.kind !== b.kind) {
      mismatches.push(`${at}: imported as ${b.kind}`);
      return;
    }
    if (opInputs(a).map((id) => idOf.get(id)).join() !== opInputs(b).join()) mismatches.push(`${at}: reads other tensors`);
    idOf.set(a.output, b.output);
    tensorCheck(`${at} output`, original.tensors[a.output], imported.tensors[b.output]);
    for (const [field, x, y] of opFields(a, b)) {
      if (!same(x, y)) mismatches.push(`${at}: ${field} differ`);
    }
    differingMultipliers += countDiffering(rescalesOf(a), rescalesOf(b));
  });
  if (idOf.get(original.output.tensor) !== imported.output.tensor) mismatches.push('the graph output is another tensor');
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
  if (a.kind === 'add' && b.kind === 'add') fields.push(['left shift', [a.leftShift], [b.leftShift]]);
  if (a.kind === 'concatenation' && b.kind === 'concatenation') fields.push(['axis', [a.axis], [b.axis]], ['input count', [a.inputs.length], [b.inputs.length]]);
  if (a.kind === 'pad' && b.kind === 'pad') fields.push(['paddings', a.paddings.flat(), b.paddings.flat()]);
  if (a.kind === 'mean' && b.kind === 'mean') fields.push(['axes', a.axes, b.axes], ['keep dims', [Number(a.keepDims)], [Number(b.keepDims)]]);
  if (a.kind === 'softmax' && b.kind === 'softmax') fields.push(['beta (float32)', [Math.fround(a.beta)], [b.beta]]);
  return fields;
}
