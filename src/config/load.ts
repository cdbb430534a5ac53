// Loads a config file: parse, validate each file of the `extends` chain on its own (so an error
// names the file it is in), merge, apply the schema's defaults, and resolve paths.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import AjvModule, { type ErrorObject } from 'ajv';
import { UserError } from '../util/errors.js';
import { listBoards } from '../toolchain/boards.js';
import { readJsonText } from './json-text.js';
import { configSchema } from './schema.js';
import { prefixFromName, prefixProblem } from '../codegen/prefix.js';
import type { Config } from './types.js';

// ajv ships CommonJS; under NodeNext its default export is the module object.
const Ajv = AjvModule.default ?? AjvModule;
const strictValidator = new Ajv({ allErrors: true, strict: false }).compile(configSchema);
const defaultsValidator = new Ajv({ useDefaults: true, strict: false }).compile(configSchema);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function parseJsonFile(path: string): JsonObject {
  const value = readJsonText(path, shown(path), 'config file');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`${shown(path)}: expected a JSON object at the top level, found ${describe(value)}`, undefined, { file: path, field: '/' });
  }
  return value as JsonObject;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'number' && !Number.isFinite(value)) return `a number too large to represent (${value})`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${truncate(JSON.stringify(value))}`;
}

function truncate(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function schemaAt(pointer: string): Record<string, unknown> | undefined {
  let node: Record<string, unknown> | undefined = configSchema as unknown as Record<string, unknown>;
  for (const key of pointer.split('/').slice(1)) {
    const props = node?.properties as Record<string, Record<string, unknown>> | undefined;
    node = props?.[key];
  }
  return node;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function explain(error: ErrorObject, data: unknown): string {
  const at = error.instancePath || '/';
  const found = describe(valueAt(data, error.instancePath));
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const known = Object.keys((schemaAt(error.instancePath)?.properties as object) ?? {});
      const close = known.filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
      const hint = close.length ? ` (did you mean "${close[0]}"?)` : '';
      return `${error.instancePath || ''}/${key}: unknown key${hint}; expected one of: ${known.join(', ')}`;
    }
    case 'type':
      return `${at}: expected ${String(p.type).replace(',', ' or ')}, found ${found}`;
    case 'enum':
      return `${at}: expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${found}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at}: expected a number ${p.comparison} ${p.limit}, found ${found}`;
    default:
      return `${at}: ${error.message ?? 'invalid'}, found ${found}`;
  }
}

function validateFile(path: string, data: JsonObject): void {
  if (strictValidator(data)) return;
  // Report each location once: a value of the wrong type inside a nullable field gives two errors.
  const seen = new Set<string>();
  const lines: string[] = [];
  const errors = strictValidator.errors ?? [];
  for (const error of errors) {
    const line = explain(error, data);
    const key = error.instancePath + (error.keyword === 'additionalProperties' ? line : '');
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`  ${line}`);
  }
  const first = errors[0];
  const field = first?.keyword === 'additionalProperties'
    ? `${first.instancePath}/${String((first.params as Record<string, unknown>).additionalProperty)}`
    : first?.instancePath || '/';
  throw new UserError(`${shown(path)}: invalid config\n${lines.join('\n')}`, undefined, { file: path, field });
}

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Child values override the base's; objects merge key by key, arrays are replaced whole. */
function merge(base: JsonObject, child: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(child)) {
    const prior = out[key];
    out[key] = isObject(prior) && isObject(value) ? merge(prior, value) : value;
  }
  return out;
}

function readChain(path: string, seen: string[]): JsonObject {
  if (seen.includes(path)) {
    throw new UserError(`${shown(path)}: "extends" forms a cycle: ${[...seen, path].map(shown).join(' -> ')}`);
  }
  const data = parseJsonFile(path);
  validateFile(path, data);
  const { extends: parent, $schema: _schema, ...own } = data;
  resolveModelPaths(own, path);
  if (typeof parent !== 'string') return own;
  const parentPath = resolve(dirname(path), parent);
  if (!existsSync(parentPath)) {
    throw new UserError(`${shown(path)}: /extends: file ${shown(parentPath)} not found`, undefined, { file: path, field: '/extends' });
  }
  if (statSync(parentPath).isDirectory()) {
    throw new UserError(`${shown(path)}: /extends: ${shown(parentPath)} is a directory; expected a config file (.json)`, undefined, { file: path, field: '/extends' });
  }
  return merge(readChain(parentPath, [...seen, path]), own);
}

/** model.file, model.inputs and model.outputs are relative to the config file that sets them. */
function resolveModelPaths(own: JsonObject, path: string): void {
  const model = own.model;
  if (!isObject(model)) return;
  const resolved: JsonObject = { ...model };
  for (const key of ['file', 'inputs', 'outputs']) {
    const value = model[key];
    if (typeof value !== 'string') continue;
    const target = resolve(dirname(path), value);
    if (!existsSync(target)) throw new UserError(`${shown(path)}: /model/${key}: file ${shown(target)} not found`);
    resolved[key] = target;
  }
  own.model = resolved;
}

export function loadConfig(file: string): Config {
  const path = resolve(file);
  const merged = readChain(path, []);
  defaultsValidator(merged);
  const resolved = merged as unknown as Omit<Config, 'name' | 'path' | 'codegen'> & {
    output: { dir: string | null };
    codegen: Omit<Config['codegen'], 'prefix'> & { prefix: string | null };
  };
  const boards = listBoards();
  if (!boards.includes(resolved.target.board)) {
    throw new UserError(
      `${shown(path)}: invalid config\n  /target/board: expected one of ${boards.map((b) => `"${b}"`).join(', ')} ` +
        `(firmware/boards/*.json), found string "${resolved.target.board}"`,
      undefined, { file: path, field: '/target/board' },
    );
  }
  const name = basename(path).replace(/\.json$/i, '');
  const prefix = resolved.codegen.prefix;
  const problem = prefix === null ? null : prefixProblem(prefix);
  if (problem) {
    throw new UserError(`${shown(path)}: invalid config\n  /codegen/prefix: expected ${problem}, found string ${JSON.stringify(prefix)}`);
  }
  return {
    ...resolved,
    codegen: { ...resolved.codegen, prefix: prefix ?? prefixFromName(name) },
    name,
    path,
    output: { dir: resolve(resolved.output.dir ?? `out/${name}`) },
  };
}

/** JSON with object keys sorted, so that equal configs hash equally whatever order merging left. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/**
 * The model section as hashed: a zoo model hashes without the model-file fields (so the hashes
 * of configs written before those fields existed, and of every committed result, stay as they
 * were); a model file hashes as its path and verification inputs only.
 */
function hashedModel(model: Config['model']): object {
  const { file, inputs, outputs, randomInputs, inputSeed, verifyOn, ...zoo } = model;
  if (file === null) return zoo;
  // The files' contents too: a model file replaced under the same name is another model (a sweep
  // point on it must run again).
  const contents = [file, inputs, outputs].map((f) => (f !== null && existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex') : null));
  return { file, inputs, outputs, randomInputs, inputSeed, verifyOn, contents };
}

/** Everything that determines the trained float model (a retrain is needed when it changes). */
export function trainingHash(config: Config): string {
  const { dataset, model, training } = config;
  return hashOf({ dataset, model: hashedModel(model), training: { ...training, backend: undefined } });
}

/**
 * Everything that determines the IR (the trained model and its quantization): stored in the IR's
 * metadata, so that a stage reading model.ir.json can tell whether it belongs to the config.
 */
export function irHash(config: Config): string {
  const { dataset, model, training, quantization } = config;
  // verifyOn (a model file's verification inputs) came later than the IRs it would otherwise restale.
  return hashOf({ dataset, model: { ...model, verifyOn: undefined }, training: { ...training, backend: undefined }, quantization });
}

/** Everything that determines the IR and the firmware; budgets and paths excluded. */
export function configHash(config: Config): string {
  const { dataset, model, training, quantization, target } = config;
  return hashOf({ dataset, model: hashedModel(model), training: { ...training, backend: undefined }, quantization, target });
}
