// IrModel -> .tflite: the model writer. Checks the IR, writes every op with ops.ts into one
// subgraph (int8 input and output with their scale and zero point, the batch dimension put
// back), and says how exactly TFLite will compute what the IR computes: TFLite stores scales as
// float32 and TFLite Micro derives each requantization multiplier from them, so an IR quantized
// with float64 scales may get a few multipliers that differ from its own (see exactness()).
import { formatProblems } from '../ir/problems.js';
import { ensureValidIr, IrValidationError } from '../ir/validate.js';
import { graphInputs, type IrModel, type IrTensor } from '../ir/types.js';
import { UserError } from '../util/errors.js';
import { writeOp, OpExportProblem, type ExportedOperator } from './ops.js';
import { countDiffering, derivedRescalesOf, rescalesOf } from './rescales.js';
import { TensorTable } from './tensors.js';
import { writeTflite, type TfliteSpec } from './tflite-writer.js';

export interface ExportProblem {
  /** Op index in the IR, or undefined for the model as a whole. */
  index?: number;
  op: string;
  what: string;
  supported: string;
}

/** Everything that keeps an IR out of a .tflite file, one line each (exit 2, nothing written). */
export class UnexportableModelError extends UserError {
  constructor(source: string, readonly problems: ExportProblem[]) {
    const lines = problems.map((p) => `  ${p.index === undefined ? 'model' : `op ${p.index}`} ${p.op}: ${p.what}; supported: ${p.supported}`);
    super(`${source}: ${problems.length} thing${problems.length === 1 ? '' : 's'} cannot be exported to .tflite (nothing written):\n${lines.join('\n')}\nSee docs/export.md.`);
    this.name = 'UnexportableModelError';
  }
}

/** How the exported file's arithmetic compares with the IR's. */
export interface Exactness {
  /** Fixed-point rescales: one per output channel of conv, depthwise, FC; ADD's three, MEAN's, QUANTIZE's, SOFTMAX's. */
  multipliers: number;
  /** Of those, how many TFLite Micro derives differently from the float32 scales in the file. */
  differingMultipliers: number;
  /** Ops with at least one differing multiplier. */
  inexactOps: string[];
}

export interface ExportResult {
  bytes: Uint8Array;
  operators: number;
  tensors: number;
  exactness: Exactness;
}

/** Writes `ir` as a .tflite model; `source` names the IR in messages. */
export function exportTflite(ir: IrModel, source: string): ExportResult {
  try {
    ensureValidIr(ir, source);
  } catch (err) {
    if (!(err instanceof IrValidationError)) throw err;
    throw new UserError(`${source}: not a valid IR, cannot export it:\n${formatProblems(source, err.problems)}`);
  }
  const problems: ExportProblem[] = [];
  const table = new TensorTable();
  const tensor = (id: number): IrTensor => ir.tensors[id];
  // The graph inputs first, so that the (first) input is tensor 0 as in converter output.
  const inputs = graphInputs(ir).map((i) => table.activation(tensor(i.tensor)));
  const written: ExportedOperator[] = [];
  ir.ops.forEach((op, index) => {
    const result = writeOp({ ir, table, tensor }, op);
    if (result instanceof OpExportProblem) problems.push({ index, op: `${op.kind} "${op.name}"`, what: result.what, supported: result.supported });
    else written.push(result);
  });
  if (problems.length > 0) throw new UnexportableModelError(source, problems);

  const codes: { code: number; version: number }[] = [];
  const codeIndex = (w: ExportedOperator): number => {
    const at = codes.findIndex((c) => c.code === w.code);
    return at >= 0 ? at : codes.push({ code: w.code, version: w.version }) - 1;
  };
  const spec: TfliteSpec = {
    description: `tinyforge export of ${ir.name} (config hash ${ir.metadata.configHash})`,
    operatorCodes: codes,
    buffers: table.buffers,
    tensors: table.tensors,
    inputs,
    outputs: [table.activation(tensor(ir.output.tensor))],
    operators: written.map((w) => ({ opcodeIndex: codeIndex(w), inputs: w.inputs, outputs: w.outputs, optionsType: w.optionsType, options: w.options })),
  };
  return { bytes: writeTflite(spec), operators: written.length, tensors: table.tensors.length, exactness: exactness(ir) };
}

/**
 * The rescales TFLite Micro derives from the file (src/export/rescales.ts: conv/depthwise/FC
 * from (double)sIn * (double)sW / (double)sOut of the float32 scales, ADD, MEAN, QUANTIZE and
 * SOFTMAX from theirs), compared with the IR's own. Everything else the file holds (weights,
 * biases, zero points, clamps, which must match a fused activation) is the IR's exactly.
 */
export function exactness(ir: IrModel): Exactness {
  const result: Exactness = { multipliers: 0, differingMultipliers: 0, inexactOps: [] };
  for (const op of ir.ops) {
    const own = rescalesOf(op);
    const differing = countDiffering(own, derivedRescalesOf(ir, op));
    result.multipliers += own.length;
    result.differingMultipliers += differing;
    if (differing > 0) result.inexactOps.push(op.name);
  }
  return result;
}

/** One line for the CLI: exact, or how many multipliers TFLite derives differently. */
export function describeExactness(e: Exactness): string {
  if (e.differingMultipliers === 0) return `exact: TFLite Micro derives all ${e.multipliers} requantization multipliers as the IR has them`;
  return (
    `not exact: TFLite Micro derives ${e.differingMultipliers} of ${e.multipliers} requantization multipliers ` +
    `(in ${e.inexactOps.join(', ')}) from the float32 scales in the file differently than this IR has them ` +
    '(its scales are not all float32: quantized before tinyforge kept them so); a few outputs may differ by 1. ' +
    'Re-quantize (tinyforge quantize) for an exact export; see docs/export.md'
  );
}
