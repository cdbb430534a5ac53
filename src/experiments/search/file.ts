// Reads and checks a search file (configs/search/*.json): a board, budgets, a search space over
// config fields (checked like a sweep's grid), and the successive-halving schedule.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import AjvModule from 'ajv';
import { configSchema } from '../../config/schema.js';
import { loadBoard, type Board } from '../../toolchain/boards.js';
import { UserError } from '../../util/errors.js';
import { describeValue, explainErrors } from '../json-errors.js';
import { checkGrid, shownPath, type GridField, type JsonObject } from '../sweep-file.js';
import type { SearchBudgets } from './bounds.js';

export interface HalvingSchedule {
  /** How many points of the space are tried (a seeded sample when the space is larger). */
  candidates: number;
  /** Each rung keeps the best 1/eta and trains it eta times longer. */
  eta: number;
  minEpochs: number;
  maxEpochs: number;
  /** Test images each rung before the last verifies on target (the last verifies all). */
  rungTestImages: number;
  seed: number;
}

export interface SearchSpec {
  file: string;
  name: string;
  description: string;
  base: string | null;
  board: Board;
  budgets: SearchBudgets;
  /** Hand-made configs (absolute paths) the winner is compared with on the same board and budget. */
  baselines: string[];
  space: GridField[];
  fixed: JsonObject;
  halving: HalvingSchedule;
}

const budgetField = (description: string) => ({ type: ['number', 'null'], exclusiveMinimum: 0, default: null, description });

export const searchSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://tinyforge.dev/schema/search.schema.json',
  title: 'tinyforge search',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'board', 'budgets', 'space'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 100, description: 'Results go to results/<name>/.' },
    description: { type: 'string', default: '' },
    base: { type: 'string', description: 'The config (relative to this file) every candidate extends; none = the defaults.' },
    board: { type: 'string', description: 'Board profile name (`tinyforge boards`).' },
    baselines: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string' },
      description: 'Hand-made configs (relative to this file) run with the finalists\' training budget and compared with the winner on target.',
    },
    budgets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        flashBytes: budgetField('Deployable flash, bytes.'),
        ramBytes: budgetField('Deployable RAM (arena + stack), bytes.'),
        latencyMs: budgetField('Latency at the board clock, one instruction per cycle.'),
        maxInstructionsPerInference: budgetField('Instructions per inference.'),
        minAccuracy: { type: ['number', 'null'], minimum: 0, maximum: 1, default: null, description: 'On-target test accuracy, 0..1.' },
      },
    },
    space: {
      type: 'object',
      minProperties: 1,
      description: 'Dotted config field -> values to search, as a sweep grid.',
      additionalProperties: { type: 'array', minItems: 1, uniqueItems: true, items: { type: ['string', 'number', 'boolean', 'null'] } },
    },
    fixed: { description: 'A partial config applied to every candidate.', allOf: [{ $ref: 'config.schema.json' }] },
    halving: {
      type: 'object',
      additionalProperties: false,
      properties: {
        candidates: { type: 'integer', minimum: 1, default: 12 },
        eta: { type: 'integer', minimum: 2, default: 3 },
        minEpochs: { type: 'integer', minimum: 1, default: 1 },
        maxEpochs: { type: 'integer', minimum: 1, default: 9 },
        rungTestImages: { type: 'integer', minimum: 1, default: 500 },
        seed: { type: 'integer', minimum: 0, default: 1 },
      },
    },
  },
} as const;

const Ajv = AjvModule.default ?? AjvModule;
/** Compiled on first use (as the sweep file's): most commands never read a search file. */
let compiledSearch: ReturnType<InstanceType<typeof Ajv>['compile']> | undefined;
function searchValidator() {
  if (!compiledSearch) {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    ajv.addSchema(configSchema);
    compiledSearch = ajv.compile(searchSchema);
  }
  return compiledSearch;
}

function fail(file: string, lines: string[]): never {
  throw new UserError(`${shownPath(file)}: invalid search\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

export function readSearchFile(file: string): SearchSpec {
  const path = resolve(file);
  if (!existsSync(path)) throw new UserError(`${shownPath(path)}: search file not found`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${shownPath(path)}: not valid JSON: ${(err as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) fail(path, [`/: expected an object, found ${describeValue(data)}`]);
  const raw = data as JsonObject & { budgets?: JsonObject; halving?: JsonObject };
  const validateSearch = searchValidator();
  if (!validateSearch(raw)) fail(path, explainErrors(validateSearch.errors ?? [], raw));
  // The schema's defaults, applied here (ajv's useDefaults would also fill `fixed` with config defaults).
  const defaults = (node: { properties: Record<string, { default?: unknown }> }) =>
    Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, v.default]));
  raw.budgets = { ...defaults(searchSchema.properties.budgets), ...raw.budgets };
  raw.halving = { ...defaults(searchSchema.properties.halving), ...raw.halving };
  const spec = raw as unknown as Omit<SearchSpec, 'space' | 'board' | 'file' | 'base' | 'baselines'> & {
    baselines?: string[];
    space: Record<string, (string | number | boolean | null)[]>;
    board: string;
    base?: string;
  };
  const problems: string[] = [];
  const fixed = spec.fixed ?? {};
  const space = checkGrid(spec.space, fixed, 'space', problems);
  if ('target' in fixed && typeof fixed.target === 'object' && fixed.target && 'board' in fixed.target) {
    problems.push('/fixed/target/board: set by "board"');
  }
  if (spec.halving.minEpochs > spec.halving.maxEpochs) {
    problems.push(`/halving/minEpochs: expected at most maxEpochs (${spec.halving.maxEpochs}), found ${spec.halving.minEpochs}`);
  }
  const base = spec.base === undefined ? null : resolve(dirname(path), spec.base);
  if (base && !existsSync(base)) problems.push(`/base: expected an existing config file, found "${spec.base}"`);
  const baselines = (spec.baselines ?? []).map((b) => resolve(dirname(path), b));
  baselines.forEach((b, i) => {
    if (!existsSync(b)) problems.push(`/baselines/${i}: expected an existing config file, found "${spec.baselines![i]}"`);
    else if (baselines.findIndex((o) => basename(o) === basename(b)) < i) problems.push(`/baselines/${i}: another baseline has the file name ${basename(b)}`);
  });
  if (problems.length) fail(path, problems);
  let board: Board;
  try {
    board = loadBoard(spec.board);
  } catch (err) {
    fail(path, [`/board: ${(err as Error).message}`]);
  }
  return { file: path, name: spec.name, description: spec.description ?? '', base, board, budgets: spec.budgets, baselines, space, fixed, halving: spec.halving };
}
