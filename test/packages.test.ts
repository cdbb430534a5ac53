// Package forms and several models in one firmware (docs/integration.md). Two committed zoo IRs
// (the default tiny-cnn and the nano separable-cnn) are generated through the pipeline's generate
// stage as `tiny` (prefix derived from the config name) and `nano` (external arena), with every
// package form. Then:
//  - the metadata of each form is checked against its specification's required fields;
//  - the CMake packages are consumed by one application (tiny through add_subdirectory, nano
//    through FetchContent), built with the host compiler and, through the toolchain file, with
//    arm-none-eabi-gcc into a firmware that runs in QEMU: every logit of both models on a few
//    MNIST test images must equal the TypeScript reference, as must the float I/O helpers;
//  - the Arduino and PlatformIO packages are compiled file by file in their include layout, the
//    example sketch as C++ the way the Arduino builder does, linked from static archives (two
//    libraries sharing kernels), and run on the host.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLibrary, writeLibrary } from '../src/codegen/generate.js';
import { parsePackageKinds } from '../src/codegen/packages.js';
import { modelHash, prefixFromName, prefixProblem } from '../src/codegen/prefix.js';
import { loadConfig } from '../src/config/load.js';
import { loadDataset } from '../src/data/datasets.js';
import { loadIr } from '../src/ir/io.js';
import type { IrModel } from '../src/ir/types.js';
import { runPaths } from '../src/paths.js';
import { generateStage, type GenerateStageResult } from '../src/pipeline/generate-stage.js';
import { argmax, pixelsToInput, runReference, runReferenceBytes } from '../src/reference/interpreter.js';
import { everyGraphOpIr } from './helpers/graph-ir.js';
import { loadBoard } from '../src/toolchain/boards.js';
import { buildFirmware, memoryScript } from '../src/toolchain/build.js';
import { buildFootprint, footprintCheckImage, runFootprintCheck } from '../src/toolchain/footprint.js';
import { linkerDir, startupDir } from '../src/toolchain/paths.js';
import { runHarness, runQemu } from '../src/toolchain/qemu.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'fixtures', 'packages');
const POINTS = join(ROOT, 'results', 'lightweight-vs-baselines', 'points');
const IMAGES = 3;
const scratch = mkdtempSync(join(tmpdir(), 'tinyforge-packages-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Model {
  ir: IrModel;
  stage: GenerateStageResult;
}

/** A config named `name` (so its prefix is derived from it) extending a shipped one, with the committed IR. */
function generateModel(name: string, base: string, point: string, codegen: object): Model {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ extends: join(ROOT, 'configs', base), output: { dir: join(dir, 'out') }, codegen }));
  const config = loadConfig(file);
  const paths = runPaths(config.output.dir);
  mkdirSync(paths.root, { recursive: true });
  copyFileSync(join(POINTS, point, 'run', 'model.ir.json'), paths.ir);
  const ir = loadIr(paths.ir);
  return { ir, stage: generateStage(config, paths, ir, { packages: ['cmake', 'zephyr', 'arduino', 'platformio', 'esp-idf'] }) };
}

const test = loadDataset({ name: 'mnist', dir: null, trainLimit: 1, testLimit: IMAGES }).test;
const image = (i: number) => test.images.subarray(i * 784, (i + 1) * 784);
let tiny: Model;
let nano: Model;

beforeAll(() => {
  tiny = generateModel('tiny', 'default.json', 'default', { url: 'https://example.org/tiny', version: '2.1.0' });
  nano = generateModel('nano', 'nano.json', 'nano', { arena: 'external' });
  writeFileSync(
    join(scratch, 'test_images.h'),
    `#include <stdint.h>\n#define TEST_IMAGE_COUNT ${IMAGES}\nstatic const uint8_t test_images[${IMAGES}][784] = {\n` +
      Array.from({ length: IMAGES }, (_, i) => `{${Array.from(image(i)).join(',')}}`).join(',\n') + '\n};\n',
  );
});

/** TFLite QUANTIZE in float32, as <prefix>_quantize_input computes it (halves away from zero). */
function quantizeFloat(ir: IrModel, values: number[]): Int8Array {
  const input = ir.tensors.find((t) => t.id === ir.input.tensor)!;
  const scale = Math.fround(input.scale);
  return Int8Array.from(values, (v) => {
    const scaled = Math.fround(Math.fround(v) / scale);
    const q = Math.sign(scaled) * Math.floor(Math.abs(scaled) + 0.5) + input.zeroPoint;
    return Math.max(-128, Math.min(127, q));
  });
}

/** What the fixture app (test/fixtures/packages/app/main.c) must print, from the reference. */
function expectedAppOutput(): string[] {
  const line = (model: string, i: number, logits: Int8Array) => `${model} ${i} ${argmax(logits)} ${Array.from(logits).join(' ')}`;
  const lines = [
    `tiny name=${tiny.ir.name} version=2.1.0 hash=${modelHash(tiny.ir)}`,
    `nano name=${nano.ir.name} version=1.0.0 hash=${modelHash(nano.ir)}`,
    'arena unset=-1 small=-1 misaligned=-1 set=0',
  ];
  const output = tiny.ir.tensors.find((t) => t.id === tiny.ir.output.tensor)!;
  for (let i = 0; i < IMAGES; i++) {
    lines.push(line('tiny', i, runReference(tiny.ir, pixelsToInput(tiny.ir, image(i)))));
    lines.push(line('nano', i, runReference(nano.ir, pixelsToInput(nano.ir, image(i)))));
    const logits = runReference(tiny.ir, quantizeFloat(tiny.ir, Array.from(image(i), (p) => Math.fround(p / 255))));
    lines.push(line('tiny-float', i, logits));
    const real = Array.from(logits, (q) => Math.trunc(Math.fround(Math.fround(output.scale) * (q - output.zeroPoint)) * 65536));
    lines.push(`tiny-dequant ${i} ${real.join(' ')}`);
  }
  return lines;
}

const pkg = (model: Model, kind: keyof GenerateStageResult['packages']) => model.stage.packages[kind]!;

async function cmakeBuild(name: string, extra: string[]): Promise<string> {
  const build = join(scratch, name);
  // nano reaches the application as an archive, the way FetchContent downloads a release.
  const archive = join(scratch, 'nano-cmake.tar.gz');
  if (!existsSync(archive)) await execa('tar', ['czf', archive, '-C', join(pkg(nano, 'cmake'), '..'), basename(pkg(nano, 'cmake'))]);
  await execa('cmake', [
    '-S', join(FIXTURES, 'app'), '-B', build, `-DTINY_DIR=${pkg(tiny, 'cmake')}`, `-DNANO_URL=file://${archive}`,
    `-DIMAGES_DIR=${scratch}`, '-DAPP_C_FLAGS=-Wall -Wextra -Werror -Os', '-Wno-dev', ...extra,
  ]);
  await execa('cmake', ['--build', build, '-j', '2']);
  return build;
}

describe('package forms of the default model', () => {
  it('derive the prefix from the config name and write every form with its metadata', () => {
    expect(tiny.stage.prefix).toBe('tiny');
    expect(Object.keys(tiny.stage.packages).sort()).toEqual(['arduino', 'cmake', 'esp-idf', 'platformio', 'zephyr']);
    for (const dir of Object.values(tiny.stage.packages)) expect(basename(dir!)).toBe('tinyforge_tiny');
  });

  it('CMake: a static library target with its include directory and the TINYFORGE_PORTABLE option', () => {
    const text = readFileSync(join(pkg(tiny, 'cmake'), 'CMakeLists.txt'), 'utf8');
    expect(text).toMatch(/^cmake_minimum_required\(VERSION 3\.13\)$/m);
    expect(text).toMatch(/^project\(tinyforge_tiny VERSION 2\.1\.0 LANGUAGES C\)$/m);
    expect(text).toMatch(/^option\(TINYFORGE_PORTABLE "[^"]+" OFF\)$/m);
    expect(text).toMatch(/^add_library\(tinyforge_tiny STATIC tiny\.c tiny_weights\.c\)$/m);
    expect(text).toContain('target_include_directories(tinyforge_tiny PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})');
  });

  it('Zephyr: module.yml names the module, its CMakeLists and Kconfig; the Kconfig option gates the build', () => {
    const dir = pkg(tiny, 'zephyr');
    const yml = readFileSync(join(dir, 'zephyr', 'module.yml'), 'utf8');
    expect(yml).toMatch(/^name: tinyforge_tiny$/m);
    expect(yml).toMatch(/^build:\n {2}cmake: \.\n {2}kconfig: Kconfig$/m);
    expect(readFileSync(join(dir, 'Kconfig'), 'utf8')).toMatch(/^config TINYFORGE_TINY\n\tbool "/m);
    const cmake = readFileSync(join(dir, 'CMakeLists.txt'), 'utf8');
    expect(cmake).toMatch(/^if\(CONFIG_TINYFORGE_TINY\)$/m);
    for (const source of readdirSync(dir).filter((f) => f.endsWith('.c'))) expect(cmake).toContain(source);
  });

  it('Arduino: library.properties has every field the 1.5 library specification requires, sources in src/', () => {
    const dir = pkg(tiny, 'arduino');
    const props = Object.fromEntries(
      readFileSync(join(dir, 'library.properties'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    for (const field of ['name', 'version', 'author', 'maintainer', 'sentence', 'paragraph', 'category', 'url', 'architectures']) {
      expect(props[field], field).toMatch(/\S/);
    }
    expect(props.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$/);
    expect(props.version).toBe('2.1.0');
    expect(['Display', 'Communication', 'Signal Input/Output', 'Sensors', 'Device Control', 'Timing', 'Data Storage', 'Data Processing', 'Other'])
      .toContain(props.category);
    expect(existsSync(join(dir, 'src', props.includes!))).toBe(true);
    expect(existsSync(join(dir, 'examples', 'classify', 'classify.ino'))).toBe(true);
    expect(readdirSync(join(dir, 'src')).filter((f) => f.endsWith('.c')).length).toBeGreaterThan(2);
  });

  it('PlatformIO: library.json has name, version, build.flags and existing source, include and example paths', () => {
    const dir = pkg(tiny, 'platformio');
    const manifest = JSON.parse(readFileSync(join(dir, 'library.json'), 'utf8'));
    expect(manifest.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(manifest.version).toBe('2.1.0');
    expect(manifest.build.flags).toEqual(['-Os']);
    expect(existsSync(join(dir, manifest.build.srcDir, manifest.headers))).toBe(true);
    expect(existsSync(join(dir, manifest.build.includeDir, 'tiny.h'))).toBe(true);
    for (const example of manifest.examples) for (const f of example.files) expect(existsSync(join(dir, example.base, f))).toBe(true);
  });

  it('ESP-IDF: idf_component_register lists every source; idf_component.yml has version, description, idf dependency', () => {
    const dir = pkg(tiny, 'esp-idf');
    const cmake = readFileSync(join(dir, 'CMakeLists.txt'), 'utf8');
    const srcs = /idf_component_register\(SRCS((?: "[^"]+")+)\s+INCLUDE_DIRS "\."\)/.exec(cmake)![1]!.trim().split(' ').map((s) => s.slice(1, -1));
    expect(srcs.sort()).toEqual(readdirSync(dir).filter((f) => f.endsWith('.c')).sort());
    const yml = readFileSync(join(dir, 'idf_component.yml'), 'utf8');
    expect(yml).toMatch(/^version: "2\.1\.0"$/m);
    expect(yml).toMatch(/^description: "[^"]+"$/m);
    expect(yml).toMatch(/^dependencies:\n {2}idf: ">=[0-9.]+"$/m);
  });
});

describe('two models in one program through their CMake packages', () => {
  it('host compiler: both models and the float helpers equal the reference', async () => {
    const build = await cmakeBuild('cmake-host', []);
    const { stdout } = await execa(join(build, 'app'));
    expect(stdout.trim().split('\n')).toEqual(expectedAppOutput());
  }, 180_000);

  it('arm-none-eabi-gcc through the toolchain file: the firmware runs in QEMU (mps2-an386) bit-exact', async () => {
    const board = loadBoard('mps2-an386');
    const memory = join(scratch, 'memory.ld');
    // newlib's printf needs more stack than the harness's reservation (the harness avoids printf).
    writeFileSync(memory, memoryScript(board, board.qemu.flash, board.qemu.ram, 'qemu', { stack: 8192, heap: board.heapSize }));
    const build = await cmakeBuild('cmake-arm', [
      `-DCMAKE_TOOLCHAIN_FILE=${join(ROOT, 'firmware', 'cmake', 'arm-none-eabi.cmake')}`,
      `-DTINYFORGE_CPU_FLAGS=${board.cflags.join(' ')}`,
      `-DSTARTUP_DIR=${startupDir}`, `-DLINKER_DIR=${linkerDir}`, `-DMEMORY_LD=${memory}`,
    ]);
    // The DSP kernels were compiled (Cortex-M4: __ARM_FEATURE_DSP), not the portable ones.
    const { stdout: dump } = await execa('arm-none-eabi-objdump', ['-d', join(build, 'app.elf')]);
    expect(dump).toMatch(/\bsmlad\b/);
    const run = await runQemu({ board, elf: join(build, 'app.elf'), timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout.trim().split(/\r?\n/)).toEqual(expectedAppOutput());
  }, 240_000);
});

describe('the verification path with a prefixed, external-arena library', () => {
  it('the harness and footprint firmware run nano (external arena, fed by firmware_model.h) bit-exact', async () => {
    const board = loadBoard('mps2-an386');
    const nanoC = runPaths(join(scratch, 'nano', 'out')).cDir;
    const build = await buildFirmware({ board, modelDir: nanoC, outDir: join(scratch, 'fw-nano') });
    expect(build.stack.neededBytes).not.toBeNull();
    const run = await runHarness({ board, elf: build.elf, images: test.images, workDir: join(scratch, 'fw-nano-run'), timeoutMs: 60_000, processes: 1 });
    for (let i = 0; i < IMAGES; i++) {
      expect(Array.from(run.logits.subarray(i * 10, (i + 1) * 10)), `image ${i}`).toEqual(Array.from(runReference(nano.ir, pixelsToInput(nano.ir, image(i)))));
    }
    const check = await buildFootprint({ board, modelDir: nanoC, outDir: join(scratch, 'fp-nano'), check: true });
    const report = await runFootprintCheck({ board, elf: check.elf });
    const pattern = footprintCheckImage(784);
    expect(Array.from(report.logits)).toEqual(Array.from(runReference(nano.ir, pixelsToInput(nano.ir, pattern))));
  }, 180_000);
});

/**
 * Compiles a package the way the Arduino builder / PlatformIO do: every library source on its
 * own (C99 for C) with the library's include directory, into a static archive (dot_a_linkage /
 * libArchive), then the sketch as C++ with Arduino.h first, linked against the archives.
 */
async function buildSketch(name: string, libraries: { dir: string; srcDir: string; flags: string[] }[], sketch: string): Promise<string> {
  const out = join(scratch, name);
  mkdirSync(out, { recursive: true });
  const archives: string[] = [];
  for (const lib of libraries) {
    const src = join(lib.dir, lib.srcDir);
    const objects: string[] = [];
    for (const file of readdirSync(src).filter((f) => f.endsWith('.c'))) {
      const object = join(out, `${basename(lib.dir)}-${file}.o`);
      await execa('gcc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', ...lib.flags, `-I${src}`, '-c', join(src, file), '-o', object]);
      objects.push(object);
    }
    const archive = join(out, `lib${basename(lib.dir)}.a`);
    await execa('ar', ['rcs', archive, ...objects]);
    archives.push(archive);
  }
  const cpp = join(out, 'sketch.cpp');
  writeFileSync(cpp, `#include <Arduino.h>\n#line 1 "${basename(sketch)}"\n${readFileSync(sketch, 'utf8')}`);
  const includes = [join(FIXTURES, 'arduino-core'), resolve(sketch, '..'), ...libraries.map((l) => join(l.dir, l.srcDir))].map((d) => `-I${d}`);
  const exe = join(out, 'sketch');
  await execa('g++', ['-Wall', '-Wextra', '-Werror', ...includes, cpp, join(FIXTURES, 'arduino-core', 'host_main.cpp'), ...archives, '-o', exe]);
  return exe;
}

describe('Arduino and PlatformIO layouts, compiled file by file', () => {
  it('Arduino: the example sketch prints the class the reference gives the sample input', async () => {
    const dir = pkg(tiny, 'arduino');
    const exe = await buildSketch('arduino', [{ dir, srcDir: 'src', flags: ['-Os'] }], join(dir, 'examples', 'classify', 'classify.ino'));
    const { stdout } = await execa(exe);
    const sample = readFileSync(join(dir, 'examples', 'classify', 'sample_input.h'), 'utf8');
    const pixels = Uint8Array.from(/\{([^}]*)\}/.exec(sample)![1]!.split(',').filter((v) => v.trim() !== '').map(Number));
    expect(Array.from(pixels)).toEqual(Array.from(image(0)));
    const expected = argmax(runReference(tiny.ir, pixelsToInput(tiny.ir, pixels)));
    expect(stdout).toContain(`model ${tiny.ir.name} 2.1.0 (hash ${modelHash(tiny.ir)})`);
    expect(stdout).toContain(`class ${expected} (expected ${expected}),`);
  }, 120_000);

  it('PlatformIO: with library.json build.flags and srcDir; the nano example (external arena) next to the tiny library', async () => {
    const read = (m: Model) => {
      const dir = pkg(m, 'platformio');
      const manifest = JSON.parse(readFileSync(join(dir, 'library.json'), 'utf8'));
      return { dir, srcDir: manifest.build.srcDir as string, flags: manifest.build.flags as string[] };
    };
    // Two libraries sharing kernel files link from their archives without duplicate symbols.
    const exe = await buildSketch('platformio', [read(tiny), read(nano)], join(pkg(nano, 'platformio'), 'examples', 'classify', 'classify.ino'));
    const { stdout } = await execa(exe);
    const expected = argmax(runReference(nano.ir, pixelsToInput(nano.ir, image(0))));
    expect(stdout).toContain(`class ${expected} (expected ${expected}),`);
  }, 120_000);
});

describe('the example sketch of a model that is not an image model', () => {
  it('float32 graph (QUANTIZE first, DEQUANTIZE last): the sketch calls <prefix>_predict on float values and prints the reference class', async () => {
    const ir = everyGraphOpIr();
    const dir = join(scratch, 'vec');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'vec.json');
    writeFileSync(file, JSON.stringify({ extends: join(ROOT, 'configs', 'default.json'), output: { dir: join(dir, 'out') } }));
    const config = loadConfig(file);
    const paths = runPaths(config.output.dir);
    mkdirSync(paths.root, { recursive: true });
    const stage = generateStage(config, paths, ir, { packages: ['arduino'] });
    expect(stage.hasPredictU8).toBe(false);
    const pkgDir = stage.packages.arduino!;
    const sketch = readFileSync(join(pkgDir, 'examples', 'classify', 'classify.ino'), 'utf8');
    expect(sketch).toContain('vec_predict(sample_input, output)');
    expect(sketch).not.toContain('predict_u8');
    const sample = readFileSync(join(pkgDir, 'examples', 'classify', 'sample_input.h'), 'utf8');
    expect(sample).toMatch(/static const float sample_input\[32\] = \{/);
    const values = Float32Array.from(/\{([^}]*)\}/.exec(sample)![1]!.split(',').filter((v) => v.trim() !== '').map((v) => Number(v.trim().replace(/f$/, ''))));
    const out = runReferenceBytes(ir, new Uint8Array(values.buffer));
    const expected = argmax(new Float32Array(out.buffer, out.byteOffset, out.length / 4));
    const exe = await buildSketch('vec-arduino', [{ dir: pkgDir, srcDir: 'src', flags: ['-Os'] }], join(pkgDir, 'examples', 'classify', 'classify.ino'));
    const { stdout } = await execa(exe);
    expect(stdout).toContain(`class ${expected} (expected ${expected}),`);
  }, 120_000);
});

describe('prefix, arena and package options', () => {
  it('derives a C identifier prefix from a config name and rejects bad prefixes', () => {
    expect(prefixFromName('kws-v2')).toBe('kws_v2');
    expect(prefixFromName('2-layers')).toBe('m_2_layers');
    expect(prefixFromName('tinyforge-demo')).toBe('m_tinyforge_demo');
    expect(prefixFromName('default-mps2-an386')).toBe('default_mps2_an386');
    expect(prefixProblem('kws')).toBeNull();
    for (const bad of ['Kws', '1kws', 'kws_', 'kws-v2', 'tinyforge_x', 'a'.repeat(33)]) expect(prefixProblem(bad), bad).not.toBeNull();
    expect(() => generateLibrary(tiny.ir, { prefix: 'Bad' })).toThrow(/codegen prefix 'Bad': expected a lower-case C identifier/);
  });

  it('a config with a bad prefix is refused, naming the file and the field', () => {
    const file = join(scratch, 'bad-prefix.json');
    writeFileSync(file, JSON.stringify({ codegen: { prefix: 'tinyforge_kws' } }));
    expect(() => loadConfig(file)).toThrow(/bad-prefix\.json: invalid config\n {2}\/codegen\/prefix: expected not starting with 'tinyforge'/);
  });

  it('--package accepts the five kinds only', () => {
    expect(parsePackageKinds('cmake, esp-idf')).toEqual(['cmake', 'esp-idf']);
    expect(() => parsePackageKinds('cmake,make')).toThrow(/--package: expected one or more of cmake, zephyr, arduino, platformio, esp-idf/);
  });

  it('namespaces every external symbol: the two libraries share only the tinyforge_ kernels', async () => {
    for (const m of [tiny, nano]) {
      const { prefix } = m.stage;
      const dir = runPaths(join(scratch, prefix, 'out')).cDir;
      const objects: string[] = [];
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.c'))) {
        objects.push(join(scratch, `${prefix}-${f}.o`));
        await execa('gcc', ['-std=c99', '-c', join(dir, f), '-o', objects.at(-1)!]);
      }
      const { stdout } = await execa('nm', ['-g', '--defined-only', ...objects]);
      const symbols = stdout.split('\n').filter((l) => /^[0-9a-f]+ [A-Z] /.test(l)).map((l) => l.split(' ')[2]!);
      expect(symbols).toContain(`${prefix}_predict_u8`);
      for (const s of symbols) expect(s, `${prefix}: ${s}`).toMatch(new RegExp(`^(${prefix}_|tinyforge_)`));
    }
  }, 60_000);

  it('writeLibrary removes the files of a previous generation under another prefix', () => {
    const dir = join(scratch, 'reprefix');
    writeLibrary(dir, generateLibrary(tiny.ir));
    expect(existsSync(join(dir, 'model.c'))).toBe(true);
    const renamed = generateLibrary(tiny.ir, { prefix: 'kws' });
    writeLibrary(dir, renamed);
    writeLibrary(dir, generateLibrary(tiny.ir, { prefix: 'kws2' }));
    expect(readdirSync(dir).filter((f) => /^(model|kws)[._]/.test(f))).toEqual([]);
    expect(existsSync(join(dir, 'kws2.h'))).toBe(true);
  });
});
