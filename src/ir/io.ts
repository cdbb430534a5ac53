// IrModel <-> the JSON document on disk (model.ir.json), described by schema/ir.schema.json.
// Reading checks, in order: the version (so a newer file gets a clear message rather than a
// list of schema errors), the schema, then the semantic checks of validate.ts. A version-1
// document (a chain of layer ops with an image input) is also a valid version-2 model: it loads
// as version 2, unchanged otherwise, and is written back as version 2.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import AjvModule, { type ErrorObject } from 'ajv';
import { writeJsonAtomic } from '../util/atomic.js';
import { locatedIn, UserError } from '../util/errors.js';
import { irJsonSchema } from './schema.js';
import { opFromJson, opToJson, tensorFromJson, tensorToJson, type OpDoc } from './op-json.js';
import { IR_VERSION, type IrModel, type IrTensor } from './types.js';
import { ensureValidIr, IrValidationError, validateIr, type IrProblem, type ValidIr } from './validate.js';

// ajv ships CommonJS; under NodeNext its default export is the module object.
const Ajv = AjvModule.default ?? AjvModule;
let schemaValidator: ReturnType<InstanceType<typeof Ajv>['compile']> | undefined;

function validator(): NonNullable<typeof schemaValidator> {
  // verbose: errors carry the offending value, which the messages show as "found".
  schemaValidator ??= new Ajv({ allErrors: true, verbose: true, strict: true }).compile(irJsonSchema);
  return schemaValidator;
}

// ---------------------------------------------------------------------------------------------
// IrModel <-> JSON

/** The JSON document of an IR (plain data, ready for JSON.stringify). */
export function irToJson(ir: IrModel): object {
  return {
    irVersion: ir.irVersion,
    name: ir.name,
    tensors: ir.tensors.map(tensorToJson),
    ops: ir.ops.map(opToJson),
    input: { ...ir.input },
    ...(ir.extraInputs?.length ? { extraInputs: ir.extraInputs.map((i) => ({ ...i })) } : {}),
    output: { ...ir.output },
    metadata: structuredClone(ir.metadata),
  };
}

// The document's shape once the schema has accepted it (ops: see op-json.ts).
interface IrDoc {
  name: string;
  tensors: IrTensor[];
  ops: OpDoc[];
  input: IrModel['input'];
  extraInputs?: IrModel['extraInputs'];
  output: IrModel['output'];
  metadata: IrModel['metadata'];
}

/**
 * Parses and validates an IR document. `source` names where it came from (a file path) in
 * error messages. Throws a UserError (IrValidationError for schema/semantic problems).
 */
export function irFromJson(doc: unknown, source: string): ValidIr {
  checkVersion(doc, source);
  const validate = validator();
  if (!validate(doc)) {
    throw new IrValidationError(source, schemaProblems(validate.errors ?? [], doc));
  }
  const d = doc as IrDoc;
  const ir: IrModel = {
    irVersion: IR_VERSION,
    name: d.name,
    tensors: d.tensors.map(tensorFromJson),
    ops: d.ops.map(opFromJson),
    input: { ...d.input },
    ...(d.extraInputs?.length ? { extraInputs: d.extraInputs.map((i) => ({ ...i })) } : {}),
    output: { ...d.output },
    metadata: structuredClone(d.metadata),
  };
  return validateIr(ir, source);
}

function checkVersion(doc: unknown, source: string): void {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new IrValidationError(source, [{ path: '/', expected: 'an IR document (a JSON object)', found: describe(doc) }]);
  }
  const version = (doc as { irVersion?: unknown }).irVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version > IR_VERSION) {
    throw new UserError(
      `${source}: /irVersion: expected irVersion ${IR_VERSION} or older, found ${version}: this IR was ` +
        `written by a newer tinyforge; upgrade tinyforge, or re-run the quantize step with this version`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Files

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') || rel === '' ? path : rel;
}

/** Writes the IR atomically (a crash never leaves half a model.ir.json), validated unless it is a ValidIr already. */
export function saveIr(path: string, ir: IrModel): void {
  ensureValidIr(ir, shown(path));
  writeJsonAtomic(path, irToJson(ir));
}

/** Reads, parses and validates an IR file. */
export function loadIr(path: string): ValidIr {
  try {
    return readIrFile(path);
  } catch (err) {
    throw locatedIn(err, path);
  }
}

function readIrFile(path: string): ValidIr {
  const source = shown(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${source}: IR file not found (run the quantize step first)`);
    throw new UserError(`${source}: cannot read the IR file: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${source}: expected a JSON document, found invalid JSON (${(err as Error).message})`);
  }
  return irFromJson(doc, source);
}

// ---------------------------------------------------------------------------------------------
// Schema errors -> "path: expected ..., found ..."

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? text.slice(0, 37) + '...' : text}`;
}

function schemaProblems(errors: ErrorObject[], doc: unknown): IrProblem[] {
  const problems: IrProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // "must match then schema" only repeats the errors of the op schema it dispatched to.
    if (e.keyword === 'if') continue;
    const problem = schemaProblem(e, doc);
    const key = `${problem.path}|${problem.expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function schemaProblem(e: ErrorObject, doc: unknown): IrProblem {
  const path = e.instancePath;
  const p = e.params as Record<string, unknown>;
  const found = describe(e.data);
  switch (e.keyword) {
    case 'required':
      return { path: `${path}/${String(p.missingProperty)}`, expected: `the required field "${String(p.missingProperty)}"`, found: 'nothing' };
    case 'additionalProperties':
      return {
        path: `${path}/${String(p.additionalProperty)}`,
        expected: `only the fields ${knownFields(e)}`,
        found: `an unknown field "${String(p.additionalProperty)}"`,
      };
    case 'type':
      return { path, expected: `${String(p.type)}`, found };
    case 'const':
      return { path, expected: JSON.stringify(p.allowedValue), found };
    case 'enum':
      return { path, expected: `one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, found };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, expected: `a number ${String(p.comparison)} ${String(p.limit)}`, found };
    case 'minItems':
      return { path, expected: `at least ${String(p.limit)} items`, found };
    case 'maxItems':
      return { path, expected: `at most ${String(p.limit)} items`, found };
    case 'minLength':
      return { path, expected: 'a non-empty string', found };
    case 'pattern':
      return { path, expected: 'base64 text (A-Z a-z 0-9 + /, = padding)', found };
    default:
      return { path, expected: `a value that ${e.message ?? 'matches the schema'}`, found: describe(valueAt(doc, path)) };
  }
}

function knownFields(e: ErrorObject): string {
  const properties = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties).join(', ') : 'the schema allows';
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}
