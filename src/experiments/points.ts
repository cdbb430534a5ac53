// Expands a sweep into points and prepares each one on disk. A point's config file `extends` its
// source config and adds its grid values and then `fixed` on top, so the ordinary config loader
// resolves it (and reports any error in it) exactly as it would a hand-written config.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { configHash, loadConfig } from '../config/load.js';
import { summaryPassed, type RunSummary } from '../pipeline/summary.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { GridField, GridValue, JsonObject, SweepSpec } from './sweep-file.js';
import { shownPath } from './sweep-file.js';

export interface PlannedPoint {
  name: string;
  /** Absolute path of the config the point extends; null = the schema defaults. */
  source: string | null;
  /** Name of the source config ("defaults" when there is none), the `config` column of results. */
  sourceName: string;
  /** This point's grid values by field ({} for a point from `configs`). */
  grid: Record<string, GridValue>;
  /** Everything the point config sets besides `extends` and the output dir. */
  overrides: JsonObject;
}

/** A planned point whose config file is written and resolved. */
export interface SweepPoint extends Omit<PlannedPoint, 'overrides' | 'source'> {
  /** Source config path relative to the sweep file's folder (null = defaults). */
  source: string | null;
  configHash: string;
}

/** What `results/<name>/manifest.json` holds: the sweep as it was expanded, for results and reports. */
export interface SweepManifest {
  name: string;
  description: string;
  sweepFile: string;
  grid: GridField[];
  points: SweepPoint[];
}

// Short labels keep point names readable; any other field is labelled with its last segment.
// An empty label means the value names itself (architectures and boards are distinctive words).
const fieldLabels: Record<string, string> = {
  'model.architecture': '',
  'model.widthMultiplier': 'w',
  'model.depthMultiplier': 'd',
  'model.activation': '',
  'training.augmentation.enabled': 'aug',
  'training.epochs': 'e',
  'quantization.calibration.samples': 'cal',
  'quantization.calibration.method': '',
  'target.board': '',
};

function valueLabel(value: GridValue): string {
  if (value === true) return 'on';
  if (value === false) return 'off';
  if (value === null) return 'none';
  return String(value);
}

/** e.g. ("model.widthMultiplier", 0.5) -> "w0.5", ("training.augmentation.enabled", true) -> "aug-on". */
export function gridLabel(field: string, value: GridValue): string {
  // A model file is named by its file name: "models/kws.tflite" -> "kws".
  if (MODEL_PATH_FIELDS.includes(field) && typeof value === 'string') return basename(value).replace(/\.[^.]*$/, '');
  const label = fieldLabels[field] ?? field.split('.').at(-1)!;
  const text = valueLabel(value);
  if (label === '') return text;
  return typeof value === 'number' ? `${label}${text}` : `${label}-${text}`;
}

/** Config fields holding a path relative to the file that sets them (src/config/load.ts). */
const MODEL_PATH_FIELDS = ['model.file', 'model.inputs', 'model.outputs'];

/**
 * The model paths a sweep file sets (in `grid` or `fixed`) are relative to the sweep file; the
 * point config that carries them lives in the point's folder, so they are rewritten relative to it.
 */
function rebaseModelPaths(overrides: JsonObject, sweepFile: string, pointDir: string): JsonObject {
  const model = overrides.model;
  if (!isObject(model)) return overrides;
  const rebased: JsonObject = { ...model };
  for (const field of MODEL_PATH_FIELDS) {
    const key = field.split('.')[1]!;
    const value = model[key];
    if (typeof value === 'string') rebased[key] = relative(pointDir, resolve(dirname(sweepFile), value));
  }
  return { ...overrides, model: rebased };
}

/** Point names become folder names: keep them to portable characters. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-');
}

function configName(path: string): string {
  return basename(path).replace(/\.json$/i, '');
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `over` wins; objects merge key by key, like `extends`. */
export function mergeOverrides(under: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...under };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isObject(out[key]) && isObject(value) ? mergeOverrides(out[key] as JsonObject, value) : value;
  }
  return out;
}

function setDotted(target: JsonObject, field: string, value: GridValue): void {
  const keys = field.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[keys.at(-1)!] = value;
}

/** Every combination of the grid's values, the first field varying slowest. */
export function cartesian(grid: GridField[]): Record<string, GridValue>[] {
  let combos: Record<string, GridValue>[] = [{}];
  for (const { field, values } of grid) {
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [field]: value })));
  }
  return combos;
}

/** The sweep's points in order: the listed configs, then the grid combinations over the base. */
export function expandSweep(spec: SweepSpec): PlannedPoint[] {
  const points: PlannedPoint[] = spec.configs.map((path) => ({
    name: safeName(configName(path)),
    source: path,
    sourceName: configName(path),
    grid: {},
    overrides: spec.fixed,
  }));
  if (spec.grid) {
    const sourceName = spec.base ? configName(spec.base) : 'defaults';
    for (const combo of cartesian(spec.grid)) {
      const own: JsonObject = {};
      for (const [field, value] of Object.entries(combo)) setDotted(own, field, value);
      const labels = Object.entries(combo).map(([field, value]) => gridLabel(field, value));
      points.push({
        name: safeName([sourceName, ...labels].join('_')),
        source: spec.base,
        sourceName,
        grid: combo,
        overrides: mergeOverrides(own, spec.fixed),
      });
    }
  }
  const firstWithName = new Map<string, PlannedPoint>();
  for (const point of points) {
    const other = firstWithName.get(point.name);
    if (other) {
      const from = (p: PlannedPoint) => (Object.keys(p.grid).length ? `grid ${JSON.stringify(p.grid)}` : shownPath(p.source!));
      throw new UserError(
        `${shownPath(spec.file)}: two points would both be named "${point.name}" (${from(other)} and ${from(point)}); ` +
          'rename one of the configs so every point has its own folder',
      );
    }
    firstWithName.set(point.name, point);
  }
  return points;
}

export function pointDir(sweepDir: string, point: string): string {
  return join(sweepDir, 'points', point);
}

export function pointPaths(sweepDir: string, point: string) {
  const dir = pointDir(sweepDir, point);
  return {
    dir,
    // Named after the point so that the resolved config (and its summary) carry the point's name.
    config: join(dir, `${point}.json`),
    runDir: join(dir, 'run'),
    summary: join(dir, 'run', 'summary.json'),
    workerLog: join(dir, 'worker.log'),
  };
}

/**
 * Writes each point's <point>.json and resolves it with loadConfig (which reports any error in it),
 * then writes the manifest. Rewriting an unchanged point config changes nothing it determines.
 */
export function preparePoints(spec: SweepSpec, planned: PlannedPoint[], sweepDir: string): SweepManifest {
  const points = planned.map((point): SweepPoint => {
    const paths = pointPaths(sweepDir, point.name);
    const text: JsonObject = {};
    if (point.source) text.extends = relative(paths.dir, point.source);
    Object.assign(text, rebaseModelPaths(point.overrides, spec.file, paths.dir));
    // Absolute, so the point runs the same whatever the worker's working directory.
    text.output = { dir: paths.runDir };
    writeJsonAtomic(paths.config, text);
    const config = loadConfig(paths.config);
    return {
      name: point.name,
      source: point.source ? relative(dirname(spec.file), point.source) : null,
      sourceName: point.sourceName,
      grid: point.grid,
      configHash: configHash(config),
    };
  });
  const manifest: SweepManifest = {
    name: spec.name,
    description: spec.description,
    sweepFile: spec.file,
    grid: spec.grid ?? [],
    points,
  };
  writeJsonAtomic(join(sweepDir, 'manifest.json'), manifest);
  return manifest;
}

/** The point's summary when its run finished (passed or not) with the point's current config, else null. */
export function pointSummary(sweepDir: string, point: SweepPoint): RunSummary | null {
  const path = pointPaths(sweepDir, point.name).summary;
  if (!existsSync(path)) return null;
  try {
    const summary = JSON.parse(readFileSync(path, 'utf8')) as RunSummary;
    return summary.configHash === point.configHash ? summary : null;
  } catch {
    // Summaries are written atomically, so an unreadable one was damaged by hand: rerun the point.
    return null;
  }
}

/**
 * The point's summary when it is done: its run finished with the point's current config and its
 * verification passed (bit-exact, every budget met). A failed run's summary is not a result.
 */
export function finishedSummary(sweepDir: string, point: SweepPoint): RunSummary | null {
  const summary = pointSummary(sweepDir, point);
  return summary && summaryPassed(summary) ? summary : null;
}

export function readManifest(sweepDir: string): SweepManifest {
  const path = join(resolve(sweepDir), 'manifest.json');
  if (!existsSync(path)) {
    throw new UserError(`${shownPath(path)}: not found; expected a sweep results folder (run \`tinyforge sweep\` first)`);
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SweepManifest;
  } catch (err) {
    throw new UserError(`${shownPath(path)}: not valid JSON: ${(err as Error).message}`);
  }
}
