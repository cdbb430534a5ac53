// Semantic checks of an IrModel, beyond what the JSON Schema can say: tensor references, the
// graph from the inputs to the output (topological order, fan-out, every op used), element
// types (float32 only at the graph's edges), and each op's own checks (check-layers.ts for the
// layer ops, check-graph-ops.ts for the version-2 graph ops).
//
// The same checks run on a model loaded from disk (after schema validation), before a model is
// saved, and before the reference interpreter runs one, so downstream code can trust an IrModel.
// Paths in the messages are JSON pointers into the on-disk document, whose layout mirrors IrModel.
import { checkGraphOp } from './check-graph-ops.js';
import { checkLayerOp } from './check-layers.js';
import { checkInt8, IrValidationError, json, type IrProblem, type Report } from './problems.js';
import { IR_VERSION, graphInputs, opInputs, tensorSize, type IrDtype, type IrModel, type IrOp, type IrTensor } from './types.js';

export { windowOutputHW, windowOutputSize } from './check-layers.js';
export { formatProblems, IrValidationError, type IrProblem } from './problems.js';

declare const validBrand: unique symbol;

/**
 * An IrModel that passed validation. The stage boundaries make one (loadIr / irFromJson,
 * importTflite, quantizeModel, validateIr); what runs after them (generate, build, the reference,
 * save, export, verify) takes it and does not validate again: the IR is validated once per run.
 * The pipeline never edits an IR in place, so a ValidIr stays valid; code that edits one edits a
 * copy (structuredClone), which is a plain IrModel again and is validated where it is used.
 */
export type ValidIr = IrModel & { readonly [validBrand]: true };

// The objects validation accepted: what lets functions that also take a plain IrModel (the public
// generateLibrary, runReference, saveIr) skip a second pass over one that is already checked.
const accepted = new WeakSet<IrModel>();
let passes = 0;

/** Validates the model; throws an IrValidationError naming `source` and every problem. */
export function validateIr(ir: IrModel, source: string): ValidIr {
  const { valid, problems } = checkIr(ir);
  if (!valid) throw new IrValidationError(source, problems);
  return valid;
}

/** The model as a ValidIr when it has no problem, else its problems. */
export function checkIr(ir: IrModel): { valid: ValidIr; problems: [] } | { valid: null; problems: IrProblem[] } {
  const problems = findIrProblems(ir);
  if (problems.length > 0) return { valid: null, problems };
  accepted.add(ir);
  return { valid: ir as ValidIr, problems: [] };
}

/** `ir` itself when validation already accepted it, else validated now (see ValidIr). */
export function ensureValidIr(ir: IrModel, source: string): ValidIr {
  return accepted.has(ir) ? (ir as ValidIr) : validateIr(ir, source);
}

/** How many validation passes this process has run (a test shows a run makes one). */
export function irValidationPasses(): number {
  return passes;
}

/** Every semantic problem of the model (empty when it is valid). */
export function findIrProblems(ir: IrModel): IrProblem[] {
  passes++;
  const problems: IrProblem[] = [];
  const report: Report = (path, expected, found) => void problems.push({ path, expected, found });
  if (ir.irVersion !== IR_VERSION) report('/irVersion', `irVersion ${IR_VERSION}`, String(ir.irVersion));
  const tensors = checkTensors(report, ir);
  const tensorAt = (path: string, id: number): IrTensor | undefined => {
    const t = tensors.get(id);
    if (!t) report(path, `the id of a tensor in /tensors (${[...tensors.keys()].join(', ')})`, String(id));
    return t;
  };
  checkInputs(report, ir, tensorAt);
  checkOutput(report, ir, tensorAt);
  checkGraph(report, ir, tensorAt);
  checkDtypes(report, ir, tensors);
  return problems;
}

/** Unique ids, sane shapes and quantization; returns the tensors by id. */
function checkTensors(report: Report, ir: IrModel): Map<number, IrTensor> {
  const tensors = new Map<number, IrTensor>();
  ir.tensors.forEach((t, i) => {
    const at = `/tensors/${i}`;
    if (!Number.isInteger(t.id) || t.id < 0) report(`${at}/id`, 'a non-negative integer', String(t.id));
    const first = ir.tensors.findIndex((other) => other.id === t.id);
    if (first !== i) report(`${at}/id`, `a unique tensor id`, `${t.id}, already used by /tensors/${first}`);
    else tensors.set(t.id, t);
    if (t.shape.length === 0 || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
      report(`${at}/shape`, 'a non-empty list of positive integers', json(t.shape));
    }
    if (t.dtype === 'float32') {
      if (t.scale !== 1 || t.zeroPoint !== 0) report(at, 'a float32 tensor with scale 1 and zero point 0', `scale ${t.scale}, zero point ${t.zeroPoint}`);
      return;
    }
    if (!(Number.isFinite(t.scale) && t.scale > 0)) report(`${at}/scale`, 'a finite number > 0', String(t.scale));
    checkInt8(report, `${at}/zeroPoint`, 'zero point', t.zeroPoint);
  });
  return tensors;
}

type TensorAt = (path: string, id: number) => IrTensor | undefined;

/**
 * Graph inputs: distinct tensors. An image input (pixelOffset present) maps pixels 0..255 onto
 * q = pixel + pixelOffset, which must land in int8: pixelOffset -128, the tensor's zero point,
 * an [H, W, C] int8 tensor (real = pixel / 255 = scale * (q - zeroPoint)).
 */
function checkInputs(report: Report, ir: IrModel, tensorAt: TensorAt): void {
  const seen = new Set<number>();
  graphInputs(ir).forEach((input, k) => {
    const at = k === 0 ? '/input' : `/extraInputs/${k - 1}`;
    const t = tensorAt(`${at}/tensor`, input.tensor);
    if (seen.has(input.tensor)) report(`${at}/tensor`, 'a tensor no other graph input names', String(input.tensor));
    seen.add(input.tensor);
    if (input.pixelOffset === undefined) return;
    if (input.pixelOffset !== -128) {
      report(`${at}/pixelOffset`, '-128 (maps pixels 0..255 onto int8 -128..127)', String(input.pixelOffset));
    }
    if (!t) return;
    if (t.shape.length !== 3 || t.dtype === 'float32') {
      report(`${at}/tensor`, `an int8 [H, W, C] image tensor`, `tensor ${t.id} with shape ${json(t.shape)}`);
    }
    if (t.zeroPoint !== input.pixelOffset) {
      report(`/tensors/${ir.tensors.indexOf(t)}/zeroPoint`, `the input's pixelOffset ${input.pixelOffset}`, String(t.zeroPoint));
    }
  });
}

function checkOutput(report: Report, ir: IrModel, tensorAt: TensorAt): void {
  const t = tensorAt('/output/tensor', ir.output.tensor);
  if (!Number.isInteger(ir.output.numClasses) || ir.output.numClasses < 1) {
    report('/output/numClasses', 'a positive integer', String(ir.output.numClasses));
  } else if (t && tensorSize(t) !== ir.output.numClasses) {
    report('/output/numClasses', `the size of output tensor ${t.id} (shape ${json(t.shape)})`, String(ir.output.numClasses));
  }
}

/**
 * The ops in topological order: every tensor an op reads is a graph input or written by an
 * earlier op (a tensor may feed several ops); no tensor is written twice; every op's output is
 * read by a later op or is the graph output, which the last op writes.
 */
function checkGraph(report: Report, ir: IrModel, tensorAt: TensorAt): void {
  if (ir.ops.length === 0) report('/ops', 'at least one op', 'an empty list');
  const written = new Map<number, number>(graphInputs(ir).map((input) => [input.tensor, -1]));
  const lastRead = new Map<number, number>();
  ir.ops.forEach((op, i) => {
    const at = `/ops/${i}`;
    const ids = opInputs(op);
    const inputs: IrTensor[] = [];
    ids.forEach((id, k) => {
      const field = inputField(op, k);
      if (!written.has(id)) {
        report(`${at}/${field}`, 'a graph input or the output of an earlier op (ops in topological order)', `tensor ${id}`);
      }
      lastRead.set(id, i);
      const t = tensorAt(`${at}/${field}`, id);
      if (t) inputs.push(t);
    });
    const previous = written.get(op.output);
    if (previous !== undefined) {
      const by = previous === -1 ? 'a graph input' : `/ops/${previous}/output`;
      report(`${at}/output`, 'a tensor no other op writes', `tensor ${op.output}, also ${by}`);
    }
    written.set(op.output, i);
    const outT = tensorAt(`${at}/output`, op.output);
    if (outT && inputs.length === ids.length) checkOp(report, op, at, inputs, outT);
  });
  ir.ops.forEach((op, i) => {
    if (op.output !== ir.output.tensor && !((lastRead.get(op.output) ?? -1) > i)) {
      report(`/ops/${i}/output`, 'a tensor read by a later op or the graph output (no dead ops)', `tensor ${op.output}, read by no later op`);
    }
  });
  const last = ir.ops[ir.ops.length - 1];
  if (last && last.output !== ir.output.tensor) {
    report('/output/tensor', `tensor ${last.output} (the output of the last op, /ops/${ir.ops.length - 1})`, String(ir.output.tensor));
  }
}

function inputField(op: IrOp, k: number): string {
  if (op.kind === 'concatenation') return `inputs/${k}`;
  return k === 0 ? 'input' : 'input2';
}

function checkOp(report: Report, op: IrOp, at: string, inputs: IrTensor[], outT: IrTensor): void {
  if (checkLayerOp(report, op, at, inputs[0], outT)) return;
  if (checkGraphOp(report, op, at, inputs, outT)) return;
  report(
    `${at}/kind`,
    'a known op kind (conv2d, depthwise_conv2d, fully_connected, max_pool2d, avg_pool2d, reshape, add, ' +
      'concatenation, pad, mean, softmax, quantize, dequantize)',
    json((op as { kind: unknown }).kind),
  );
}

/**
 * Element types: QUANTIZE reads float32 or int8 and writes int8, DEQUANTIZE reads int8 and
 * writes float32, every other op reads and writes int8; a float32 tensor is a graph input or
 * the graph output (float I/O around an int8 graph, never in the middle of one).
 */
function checkDtypes(report: Report, ir: IrModel, tensors: Map<number, IrTensor>): void {
  const dtypeOf = (id: number): IrDtype => tensors.get(id)?.dtype ?? 'int8';
  const expect = (path: string, id: number, allowed: IrDtype[]): void => {
    const found = dtypeOf(id);
    if (tensors.has(id) && !allowed.includes(found)) report(path, `a ${allowed.join(' or ')} tensor`, `${found} tensor ${id}`);
  };
  ir.ops.forEach((op, i) => {
    const inAllowed: IrDtype[] = op.kind === 'quantize' ? ['float32', 'int8'] : ['int8'];
    opInputs(op).forEach((id, k) => expect(`/ops/${i}/${inputField(op, k)}`, id, inAllowed));
    expect(`/ops/${i}/output`, op.output, op.kind === 'dequantize' ? ['float32'] : ['int8']);
  });
  const edges = new Set([...graphInputs(ir).map((input) => input.tensor), ir.output.tensor]);
  ir.tensors.forEach((t, i) => {
    if (t.dtype === 'float32' && !edges.has(t.id)) {
      report(`/tensors/${i}/dtype`, 'int8 (float32 only for a graph input or the graph output)', `float32 (tensor ${t.id})`);
    }
  });
}
