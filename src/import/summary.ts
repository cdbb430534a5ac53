// What `tinyforge import` prints: one line per op (kind, input -> output shapes, parameters,
// MACs), the constant bytes the library will hold, and the arena the planner gives the graph.
import { fuseConvPool } from '../codegen/fuse.js';
import { planArena } from '../codegen/planner.js';
import { dtypeBytes, graphInputs, opInputs, tensorSize, type IrModel } from '../ir/types.js';
import { layerResources } from '../profile/resources.js';

export interface ImportSummary {
  rows: { index: number; kind: string; name: string; inputs: number[][]; output: number[]; params: number; macs: number }[];
  params: number;
  macs: number;
  /** int8 weights + int32 biases + an int32 multiplier and shift per output channel. */
  weightBytes: number;
  /** The planned activation arena, or why it could not be planned. */
  arena: { bytes: number; lowerBoundBytes: number } | { error: string };
}

export function summarizeImport(ir: IrModel): ImportSummary {
  const resources = layerResources(ir);
  const shapeOf = (id: number): number[] => ir.tensors.find((t) => t.id === id)!.shape;
  const rows = ir.ops.map((op, index) => ({
    index,
    kind: op.kind,
    name: op.name,
    inputs: opInputs(op).map(shapeOf),
    output: shapeOf(op.output),
    params: resources[index].params,
    macs: resources[index].macs,
  }));
  let arena: ImportSummary['arena'];
  try {
    // The view the library plans: each conv2d with the max pooling it absorbs (fuse.ts).
    const view = fuseConvPool(ir).ir;
    const plan = planArena(view);
    const clash = firstClash(view, plan.offsets, plan.inPlace);
    arena = clash ? { error: `the planner does not handle this graph yet: ${clash}` } : { bytes: plan.arenaBytes, lowerBoundBytes: plan.lowerBoundBytes };
  } catch (err) {
    arena = { error: (err as Error).message };
  }
  return {
    rows,
    params: rows.reduce((a, r) => a + r.params, 0),
    macs: rows.reduce((a, r) => a + r.macs, 0),
    weightBytes: resources.reduce((a, r) => a + r.int8WeightBytes, 0),
    arena,
  };
}

export function formatImportSummary(ir: IrModel, s: ImportSummary): string {
  const shape = (d: number[]): string => d.join('x');
  const header = ['#', 'op', 'input -> output', 'params', 'MACs'];
  const body = s.rows.map((r) => [String(r.index), r.kind, `${r.inputs.map(shape).join(' + ')} -> ${shape(r.output)}`, String(r.params), String(r.macs)]);
  const total = ['', 'total', '', String(s.params), String(s.macs)];
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((n) => '-'.repeat(n)).join('  ');
  const io = (id: number): string => {
    const t = ir.tensors.find((x) => x.id === id)!;
    return t.dtype === 'float32' ? `${shape(t.shape)} float32` : `${shape(t.shape)} int8 (scale ${t.scale}, zero point ${t.zeroPoint})`;
  };
  const inputs = [ir.input, ...(ir.extraInputs ?? [])].map((i) => io(i.tensor));
  const arena = 'error' in s.arena
    ? `arena: not planned (${s.arena.error})`
    : `arena: ${s.arena.bytes} bytes planned (lower bound ${s.arena.lowerBoundBytes})`;
  return [
    `${ir.name}: ${ir.ops.length} ops`,
    line(header),
    rule,
    ...body.map(line),
    rule,
    line(total),
    `input${inputs.length > 1 ? 's' : ''}: ${inputs.join('; ')}`,
    `output: ${io(ir.output.tensor)}`,
    `weights: ${s.weightBytes} bytes (int8 weights, int32 biases, per-channel multipliers and shifts)`,
    arena,
  ].join('\n');
}

/**
 * Checks a plan against the graph's own liveness (a tensor lives from the op writing it to the
 * last op reading it; graph inputs from the start, the output to the end; a reshape's output
 * may share its input's bytes): the first two live tensors whose bytes overlap, if any. The
 * chain planner knows neither fan-out nor float32 sizes; this keeps its figure honest.
 */
function firstClash(ir: IrModel, offsets: Map<number, number>, inPlace: Map<number, number>): string | undefined {
  const born = new Map<number, number>(graphInputs(ir).map((i) => [i.tensor, -1]));
  const dies = new Map<number, number>([[ir.output.tensor, ir.ops.length]]);
  const alias = new Set<string>();
  ir.ops.forEach((op, i) => {
    born.set(op.output, i);
    for (const id of opInputs(op)) dies.set(id, Math.max(dies.get(id) ?? i, i));
    if (op.kind === 'reshape') alias.add(`${op.input},${op.output}`);
  });
  // An op run in place writes its output over the input it names (planner.ts, inPlaceOps).
  for (const [i, victim] of inPlace) alias.add(`${victim},${ir.ops[i]!.output}`);
  const live = ir.tensors
    .filter((t) => born.has(t.id))
    .map((t) => ({ t, from: born.get(t.id)!, to: dies.get(t.id) ?? born.get(t.id)!, at: offsets.get(t.id), bytes: tensorSize(t) * dtypeBytes(t) }));
  for (const a of live) {
    if (a.at === undefined) return `tensor ${a.t.id} has no offset`;
    for (const b of live) {
      if (b.t.id <= a.t.id || b.at === undefined || alias.has(`${a.t.id},${b.t.id}`) || alias.has(`${b.t.id},${a.t.id}`)) continue;
      const together = a.from <= b.to && b.from <= a.to;
      const overlap = a.at < b.at + b.bytes && b.at < a.at + a.bytes;
      if (together && overlap) return `tensors "${a.t.name}" and "${b.t.name}" are live together but share bytes`;
    }
  }
  return undefined;
}
