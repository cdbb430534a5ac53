// .tflite -> IrModel. Decodes the file (tflite-model.ts), converts each operator with the op
// table (op-table.ts), and either returns a validated IR or throws: a TfliteFormatError for a
// file that is not a valid TFLite model, an UnsupportedModelError listing, one line per op,
// everything tinyforge cannot compile. Both are UserErrors (exit 2); nothing is written.
import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { UserError } from '../util/errors.js';
import { checkIr, type ValidIr } from '../ir/validate.js';
import { IR_VERSION, type IrModel, type IrOp, tensorSize } from '../ir/types.js';
import { ImportState, OpContext, type Unsupported } from './context.js';
import { FlatbufferError } from './flatbuffer.js';
import { checkGeneratedC, type OpOrigin } from './limits.js';
import { supportedOp, SUPPORTED_OP_NAMES } from './op-table.js';
import { decodeTflite, type TfliteModel } from './tflite-model.js';
import { operatorName } from './tflite-schema.js';

const VERSION = '0.1.0';

export class TfliteFormatError extends UserError {
  constructor(file: string, detail: string) {
    super(`${file}: not a valid TFLite model: ${detail}`);
    this.name = 'TfliteFormatError';
  }
}

export class UnsupportedModelError extends UserError {
  constructor(
    file: string,
    readonly problems: Unsupported[],
  ) {
    const lines = problems.map((p) => `  ${p.index === undefined ? 'model' : `op ${p.index}`} ${p.op}: ${p.what}; supported: ${p.supported}`);
    super(
      `${file}: ${problems.length} thing${problems.length === 1 ? '' : 's'} tinyforge cannot compile (nothing written):\n` +
        `${lines.join('\n')}\nSee docs/ops.md for every supported op and its constraints.`,
    );
    this.name = 'UnsupportedModelError';
  }
}

export interface ImportOptions {
  /** How the file is named in messages and in the IR's metadata.source. */
  label: string;
  /** For metadata (default: now). */
  createdAt?: string;
}

/** Imports a .tflite file's bytes; see the file comment for what it throws. */
export function importTflite(bytes: Uint8Array, options: ImportOptions): ValidIr {
  const file = options.label;
  try {
    return convert(bytes, decode(bytes, file), options);
  } catch (err) {
    // Options tables are read while converting; a corrupt one is still a broken file.
    if (err instanceof FlatbufferError) throw new TfliteFormatError(file, err.message);
    throw err;
  }
}

function convert(bytes: Uint8Array, model: TfliteModel, options: ImportOptions): ValidIr {
  const file = options.label;
  const state = new ImportState(model);
  model.inputs.forEach((i) => state.irTensor(model.tensors[i]));
  const ops: IrOp[] = [];
  const origins: OpOrigin[] = [];
  for (const op of liveOperators(model)) {
    const support = supportedOp(op.code);
    const ctx = new OpContext(state, op);
    if (!support) {
      ctx.unsupported('operator not supported', SUPPORTED_OP_NAMES);
      continue;
    }
    const converted = support.convert(ctx);
    if (converted && ctx.ok) {
      ops.push(converted);
      origins.push({ index: op.index, op: ctx.opName });
    }
  }
  checkModelLevel(model, state);
  if (state.problems.length > 0) throw new UnsupportedModelError(file, state.problems);
  const outputTensor = model.tensors[model.outputs[0]];
  const output = state.irTensor(outputTensor);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const name = modelName(file);
  const [input, ...extraInputs] = model.inputs.map((i) => ({ tensor: state.irTensor(model.tensors[i]) }));
  const ir: IrModel = {
    irVersion: IR_VERSION,
    name,
    tensors: state.tensors,
    ops,
    input,
    ...(extraInputs.length > 0 ? { extraInputs } : {}),
    output: { tensor: output, numClasses: tensorSize(state.tensors[output]) },
    metadata: {
      configName: name,
      configHash: sha256,
      dataset: 'none',
      architecture: `tflite:${name}`,
      calibration: { method: 'tflite', samples: 0 },
      createdAt: options.createdAt ?? new Date().toISOString(),
      tinyforgeVersion: VERSION,
      source: { format: 'tflite', file, sha256 },
    },
  };
  // A file whose shapes contradict its own ops (an output size no padding gives, say) is not
  // a valid model: say so in TFLite terms, with the IR check that caught it.
  const { valid, problems } = checkIr(ir);
  if (!valid) {
    throw new TfliteFormatError(file, `its tensors and ops disagree:\n${problems.map((p) => `  ${describeIrPath(ir, p.path)}: expected ${p.expected}, found ${p.found}`).join('\n')}`);
  }
  const cannotGenerate = checkGeneratedC(valid, origins);
  if (cannotGenerate) throw new UnsupportedModelError(file, [cannotGenerate]);
  return valid;
}

/** The file's name without .tflite; for a generic "model.tflite", its folder's name. */
function modelName(file: string): string {
  const base = basename(file).replace(/\.tflite$/i, '');
  return base === 'model' && basename(dirname(file)) !== '' && basename(dirname(file)) !== '.' ? basename(dirname(file)) : base;
}

function decode(bytes: Uint8Array, file: string): TfliteModel {
  try {
    return decodeTflite(bytes);
  } catch (err) {
    if (err instanceof FlatbufferError) throw new TfliteFormatError(file, err.message);
    // The accessors check every offset; anything else escaping them is still a broken file.
    throw new TfliteFormatError(file, `cannot decode the FlatBuffer (${(err as Error).message})`);
  }
}

/**
 * The operators the graph output depends on, in file order: an op whose outputs nothing reads
 * (a converter leftover) is valid TFLite, but the IR keeps no dead ops.
 */
function liveOperators(model: TfliteModel): TfliteModel['operators'] {
  const needed = new Set(model.outputs);
  const live = new Set<number>();
  for (let i = model.operators.length - 1; i >= 0; i--) {
    const op = model.operators[i];
    if (!op.outputs.some((t) => needed.has(t))) continue;
    live.add(i);
    for (const t of op.inputs) if (t >= 0) needed.add(t);
  }
  return model.operators.filter((_, i) => live.has(i));
}

function checkModelLevel(model: TfliteModel, state: ImportState): void {
  const report = (what: string, supported: string): void => void state.problems.push({ op: 'graph', what, supported });
  if (model.inputs.length === 0) report('no graph inputs', 'at least one input');
  if (model.outputs.length !== 1) report(`${model.outputs.length} graph outputs`, 'exactly one output');
  if (model.operators.length === 0) report('no operators', 'at least one operator');
  const out = model.outputs[0];
  if (out !== undefined && !model.operators.some((op) => op.outputs.includes(out))) {
    report(`output "${model.tensors[out].name}" is not written by any operator`, 'an output computed by the graph');
  }
}

/** "/ops/3/output" -> "op 3 (CONV_2D ...)/output" for messages about the file. */
function describeIrPath(ir: IrModel, path: string): string {
  const m = /^\/ops\/(\d+)(.*)$/.exec(path);
  if (!m) return path;
  const op = ir.ops[Number(m[1])];
  return `op "${op?.name}" (${op?.kind})${m[2]}`;
}

export { operatorName };
