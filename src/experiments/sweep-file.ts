// Reads and checks a sweep file. Everything that can be wrong with it is reported here, before a
// single point runs: schema errors, missing config files, grid keys that are not config fields,
// grid values a field cannot take, and `fixed` values that would silently cancel a grid field.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import AjvModule from 'ajv';
import { configSchema } from '../config/schema.js';
import { UserError } from '../util/errors.js';
import { describeValue, didYouMean, explainErrors } from './json-errors.js';
import { sweepSchema } from './sweep-schema.js';

export type GridValue = string | number | boolean | null;
export type JsonObject = { [key: string]: unknown };

export interface GridField {
  /** Dotted config field path, e.g. "model.widthMultiplier". */
  field: string;
  values: GridValue[];
}

export interface SweepSpec {
  /** Absolute path of the sweep file. */
  file: string;
  name: string;
  description: string;
  /** Absolute path of the config the grid extends; null = the schema defaults. */
  base: string | null;
  /** Absolute paths, in file order. */
  configs: string[];
  /** Null when the file has no grid; an empty list is a grid with one (empty) combination. */
  grid: GridField[] | null;
  /** Partial config applied to every point last. */
  fixed: JsonObject;
}

// ajv ships CommonJS; under NodeNext its default export is the module object.
const Ajv = AjvModule.default ?? AjvModule;
/**
 * The validators, compiled on first use: every command imports this module (the CLI registers
 * them all), few read a sweep file, and compiling the schemas takes a noticeable part of start-up.
 * verbose: errors carry their schema, which explainErrors needs to list the known keys.
 */
let compiled: { ajv: InstanceType<typeof Ajv>; validateSweep: ReturnType<InstanceType<typeof Ajv>['compile']> } | undefined;
function validators() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    ajv.addSchema(configSchema);
    compiled = { ajv, validateSweep: ajv.compile(sweepSchema) };
  }
  return compiled;
}

/** Paths relative to the working directory when that is shorter, as the config loader does. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

type SchemaNode = { properties?: Record<string, SchemaNode> } & Record<string, unknown>;

/** Fields a grid may not sweep: the sweep itself decides where each point's output goes. */
const notSweepable = new Set(['$schema', 'extends', 'output']);

/** The config schema of a dotted field, or an explanation of why there is none. */
function fieldSchema(field: string): { schema: SchemaNode } | { problem: string } {
  let node = configSchema as unknown as SchemaNode;
  const parts = field.split('.');
  for (let i = 0; i < parts.length; i++) {
    const known = Object.keys(node.properties ?? {}).filter((k) => i > 0 || !notSweepable.has(k));
    const next = node.properties?.[parts[i]];
    if (!next || (i === 0 && notSweepable.has(parts[i]))) {
      const where = i === 0 ? 'the config' : `"${parts.slice(0, i).join('.')}"`;
      const hint = known.length
        ? `${didYouMean(parts[i], known)}; fields of ${where}: ${known.join(', ')}`
        : `; "${parts.slice(0, i).join('.')}" has no fields`;
      return { problem: `"${field}" is not a config field: ${where} has no "${parts[i]}"${hint}` };
    }
    node = next;
  }
  return { schema: node };
}

function parseJsonFile(path: string): unknown {
  if (!existsSync(path)) throw new UserError(`${shownPath(path)}: sweep file not found`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${shownPath(path)}: not valid JSON: ${(err as Error).message}`);
  }
}

function fail(file: string, lines: string[]): never {
  throw new UserError(`${shownPath(file)}: invalid sweep\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

function hasDottedPath(object: JsonObject, field: string): boolean {
  let node: unknown = object;
  for (const key of field.split('.')) {
    if (node === null || typeof node !== 'object' || !(key in node)) return false;
    node = (node as JsonObject)[key];
  }
  return true;
}

/**
 * Checks that every key of a grid (`key` names it in messages: "grid", or a search's "space") is a
 * config field, that each value suits that field, and that `fixed` does not override it.
 */
export function checkGrid(raw: Record<string, GridValue[]>, fixed: JsonObject, key: string, problems: string[]): GridField[] {
  const grid: GridField[] = [];
  for (const [field, values] of Object.entries(raw)) {
    const pointer = `/${key}/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const found = fieldSchema(field);
    if ('problem' in found) {
      problems.push(`${pointer}: ${found.problem}`);
      continue;
    }
    const validateValue = validators().ajv.compile(found.schema);
    values.forEach((value, i) => {
      if (!validateValue(value)) problems.push(...explainErrors(validateValue.errors ?? [], value, `${pointer}/${i}`));
    });
    if (hasDottedPath(fixed, field)) {
      problems.push(`/fixed: sets "${field}", which the ${key} sweeps; "fixed" wins, so every point would get the same value`);
    }
    grid.push({ field, values });
  }
  return grid;
}

export function readSweepFile(file: string): SweepSpec {
  const path = resolve(file);
  const data = parseJsonFile(path);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    fail(path, [`/: expected an object, found ${describeValue(data)}`]);
  }
  const { validateSweep } = validators();
  if (!validateSweep(data)) fail(path, explainErrors(validateSweep.errors ?? [], data));
  const raw = data as {
    name: string;
    description?: string;
    base?: string;
    configs?: string[];
    grid?: Record<string, GridValue[]>;
    fixed?: JsonObject;
  };

  const problems: string[] = [];
  const here = dirname(path);
  const existing = (pointer: string, rel: string): string => {
    const abs = resolve(here, rel);
    if (!existsSync(abs)) problems.push(`${pointer}: expected an existing config file, found "${rel}" (${shownPath(abs)} does not exist)`);
    return abs;
  };
  if (raw.configs === undefined && raw.grid === undefined) {
    problems.push('/: expected "configs" or "grid" (or both), found neither: the sweep has no points');
  }
  if (raw.base !== undefined && raw.grid === undefined) {
    problems.push('/base: only used with "grid"; to run this config as it is, list it under "configs"');
  }
  const base = raw.base === undefined ? null : existing('/base', raw.base);
  const configs = (raw.configs ?? []).map((rel, i) => existing(`/configs/${i}`, rel));

  const fixed = raw.fixed ?? {};
  for (const key of ['extends', 'output']) {
    if (key in fixed) problems.push(`/fixed/${key}: not allowed; the sweep sets each point's "${key}" itself`);
  }

  const grid = raw.grid === undefined ? null : checkGrid(raw.grid, fixed, 'grid', problems);
  if (problems.length) fail(path, problems);

  return {
    file: path,
    name: raw.name,
    description: raw.description ?? '',
    base,
    configs,
    grid,
    fixed,
  };
}
