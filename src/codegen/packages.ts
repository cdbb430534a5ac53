// Package forms of a generated library: the files each embedded build ecosystem expects beside
// the C sources (templates/packages/<kind>/), written as a self-contained folder
// <out>/packages/<kind>/tinyforge_<prefix>/ (docs/integration.md says which spec each follows).
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { PackageKind } from '../config/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { formatArray } from './format.js';
import { floatLiteral } from './views.js';
import type { GeneratedLibrary } from './generate.js';
import { templatesDir } from './paths.js';

export const PACKAGE_KINDS: readonly PackageKind[] = ['cmake', 'zephyr', 'arduino', 'platformio', 'esp-idf'];

export interface PackageSample {
  /**
   * The input the example sketch classifies. Image models (those with <prefix>_predict_u8): the
   * pixels, 0..255. Other models: the values of the input tensor (int8, or float32 values for a
   * graph that takes float input), as <prefix>_predict takes them.
   */
  values: ArrayLike<number>;
  /** The sketch calls <prefix>_predict_u8 (true) or <prefix>_predict. */
  image: boolean;
  /** C element type of the sample array: uint8_t (pixels), int8_t or float. */
  ctype: 'uint8_t' | 'int8_t' | 'float';
  /** What the reference interpreter predicts for it. */
  expected: number;
  /** Where it comes from, for the header's comment. */
  what: string;
}

export interface PackageInfo {
  /** The model's name (the IR's). */
  name: string;
  /** major.minor.patch. */
  version: string;
  tinyforgeVersion: string;
  /** The first 16 hex digits of the model hash (<PREFIX>_MODEL_HASH). */
  hash: string;
  author: string;
  /** The project's web page (Arduino's `url`, ESP-IDF's `url`); null: left out. */
  url: string | null;
  /** Build with the portable kernels by default (the config's target.dsp = off). */
  portable: boolean;
  /** The optimization tinyforge verified with (PlatformIO build.flags). */
  optimization: string;
  arenaExternal: boolean;
  arenaBytes: number;
  weightsBytes: number;
  macs: number;
  sample: PackageSample;
}

/** Package files (path relative to the package folder -> contents) per kind, beside the sources. */
type Layout = { sourceDir: string; templates: Record<string, string> };

const LAYOUTS: Record<PackageKind, Layout> = {
  cmake: { sourceDir: '', templates: { 'CMakeLists.txt': 'cmake/CMakeLists.txt.hbs' } },
  zephyr: {
    sourceDir: '',
    templates: {
      'zephyr/module.yml': 'zephyr/module.yml.hbs',
      'CMakeLists.txt': 'zephyr/CMakeLists.txt.hbs',
      Kconfig: 'zephyr/Kconfig.hbs',
    },
  },
  arduino: {
    sourceDir: 'src',
    templates: {
      'library.properties': 'arduino/library.properties.hbs',
      'examples/classify/classify.ino': 'example/classify.ino.hbs',
      'examples/classify/sample_input.h': 'example/sample_input.h.hbs',
    },
  },
  platformio: {
    sourceDir: 'src',
    templates: {
      'library.json': 'platformio/library.json.hbs',
      'examples/classify/classify.ino': 'example/classify.ino.hbs',
      'examples/classify/sample_input.h': 'example/sample_input.h.hbs',
    },
  },
  'esp-idf': {
    sourceDir: '',
    templates: { 'CMakeLists.txt': 'esp-idf/CMakeLists.txt.hbs', 'idf_component.yml': 'esp-idf/idf_component.yml.hbs' },
  },
};

const compiled = new Map<string, Handlebars.TemplateDelegate>();

function render(name: string, view: object): string {
  let t = compiled.get(name);
  if (!t) {
    t = Handlebars.compile(readFileSync(join(templatesDir(), 'packages', name), 'utf8'), { noEscape: true, strict: true });
    compiled.set(name, t);
  }
  return t(view);
}

/** The sample array's initializer body: integers 16 per line, float literals 8 per line. */
function sampleBody(sample: PackageSample): string {
  if (sample.ctype !== 'float') return formatArray(sample.values, 16);
  const values = Array.from(sample.values, (v) => floatLiteral(v));
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 8) lines.push(`    ${values.slice(i, i + 8).join(', ')},`);
  return lines.join('\n');
}

/** The folder name and library/target name of a package: tinyforge_<prefix>. */
export function packageName(prefix: string): string {
  return `tinyforge_${prefix}`;
}

/** The files of one package form: the library's files in the ecosystem's layout, plus its metadata. */
export function generatePackage(kind: PackageKind, lib: Pick<GeneratedLibrary, 'files' | 'prefix' | 'kernelFiles'>, info: PackageInfo): Record<string, string> {
  const { prefix } = lib;
  const sources = Object.keys(lib.files).filter((f) => f.endsWith('.c')).sort();
  const kernelSources = sources.filter((f) => lib.kernelFiles.includes(f));
  const view = {
    ...info,
    // Quoted in YAML, JSON and properties files: a plain name only.
    name: info.name.replace(/[^A-Za-z0-9 ._-]/g, '_'),
    prefix,
    PREFIX: prefix.toUpperCase(),
    target: packageName(prefix),
    // PlatformIO names: lower case, digits and dashes.
    pioName: packageName(prefix).replace(/_+/g, '-'),
    sources,
    kernelSources,
    modelSources: sources.filter((f) => !kernelSources.includes(f)),
    buildFlags: [info.optimization, ...(info.portable ? ['-DTINYFORGE_PORTABLE'] : [])],
    sample: { ...info.sample, size: info.sample.values.length, body: sampleBody(info.sample) },
  };
  const layout = LAYOUTS[kind];
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(lib.files)) {
    // The library's README documents the library; it stays at the package's root.
    files[name === 'README.md' || layout.sourceDir === '' ? name : `${layout.sourceDir}/${name}`] = text;
  }
  for (const [path, template] of Object.entries(layout.templates)) files[path] = render(template, view);
  return files;
}

/**
 * Writes a package folder atomically: into a sibling temporary folder, then renamed over the old
 * one, so an interrupted run leaves the previous package or the new one, never half of one.
 */
export function writePackage(dir: string, files: Record<string, string>): void {
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  for (const [path, text] of Object.entries(files)) writeFileAtomic(join(partial, path), text);
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(partial, dir);
  rmSync(old, { recursive: true, force: true });
}

/** The kinds of `--package a,b`: each one of PACKAGE_KINDS, else a UserError naming the option. */
export function parsePackageKinds(text: string | undefined): PackageKind[] {
  if (text === undefined) return [];
  const kinds = text.split(',').map((k) => k.trim()).filter((k) => k !== '');
  const unknown = kinds.filter((k) => !PACKAGE_KINDS.includes(k as PackageKind));
  if (kinds.length === 0 || unknown.length > 0) {
    throw new UserError(`--package: expected one or more of ${PACKAGE_KINDS.join(', ')} (comma-separated), found "${text}"`);
  }
  return kinds as PackageKind[];
}
