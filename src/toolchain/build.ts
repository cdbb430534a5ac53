// Compiles startup + harness + a generated model directory into a firmware image for one board:
// .elf (for QEMU and debuggers), .bin and .hex (for flashing), the linker map, and its sizes.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError, UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';
import { loadBoard, type Board, type MemoryRegion } from './boards.js';
import { harnessDir, linkerDir, startupDir } from './paths.js';
import { measureFirmware, type FirmwareSizes } from './size.js';
import { analyseStack, parseStackUsage } from './stack.js';
import { findTool, installHint } from './tools.js';

export type Optimization = '-O0' | '-O1' | '-O2' | '-O3' | '-Os' | '-Oz' | '-Ofast' | '-Og';

export interface BuildOptions {
  /** A board name (firmware/boards/<name>.json) or a loaded profile. */
  board: Board | string;
  /** The generated C library: <prefix>.h and the .c files to compile (all of them). */
  modelDir: string;
  /** Receives firmware.{elf,bin,hex,map}, memory.ld and obj/. One build at a time per outDir. */
  outDir: string;
  /** Default -Os: flash is the budget that binds first on small parts. */
  optimization?: Optimization;
  /** Defines TINYFORGE_PORTABLE: the kernels' plain C path even where DSP instructions exist. */
  portable?: boolean;
  extraCflags?: string[];
  /**
   * 'qemu' (default) links at the emulated machine's addresses; 'hardware' at the chip's own
   * (e.g. stm32f405's flash at 0x08000000), for flashing. Sizes are the chip's either way.
   */
  target?: 'qemu' | 'hardware';
}

export interface BuildResult {
  board: Board;
  target: 'qemu' | 'hardware';
  elf: string;
  bin: string;
  hex: string;
  map: string;
  linkerScript: string;
  sizes: FirmwareSizes;
  stack: HarnessStackCheck;
}

/**
 * The harness's stack reservation against what the inference needs: the static worst case of
 * <prefix>_predict_u8, or <prefix>_predict for a model that is not an image model (src/toolchain/stack.ts),
 * plus the frames of Reset_Handler and main above it,
 * plus the SysTick interrupt taken at the deepest point (the hardware's frame, then its handler).
 * The stdio side of the harness is not in it (newlib calls through function pointers); it was
 * measured instead (firmware/README.md) and stays well below every board's reservation.
 */
export interface HarnessStackCheck {
  reservedBytes: number;
  /** null when the model's call graph cannot be bounded statically (see `unbounded`). */
  neededBytes: number | null;
  modelBytes: number;
  unbounded: string[];
}

/** The image does not fit the board: the link failed with a region overflow. */
export class BudgetError extends UserError {
  constructor(
    message: string,
    readonly board: string,
    readonly region: 'FLASH' | 'RAM',
    readonly overflowBytes: number,
  ) {
    super(message);
    this.name = 'BudgetError';
  }
}

export const WARNINGS = ['-std=c99', '-Wall', '-Wextra', '-Werror'];
export const SECTIONS = ['-ffunction-sections', '-fdata-sections'];
const COMPILE_JOBS = 2; // the machine has two cores

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/**
 * The per-build half of the linker script: where memory is; firmware/linker/sections.ld does the
 * rest. Stack and heap are the board profile's unless `reserve` says otherwise (the footprint
 * build sizes its own stack and has no heap).
 */
export function memoryScript(
  board: Board, flash: MemoryRegion, ram: MemoryRegion, target: string,
  reserve: { stack: number; heap: number } = { stack: board.stackSize, heap: board.heapSize },
): string {
  return [
    `/* Written by tinyforge for board ${board.name} (${target} addresses); rewritten on every build. */`,
    'MEMORY',
    '{',
    `    FLASH (rx) : ORIGIN = ${hex(flash.origin)}, LENGTH = ${flash.size}`,
    `    RAM (rwx) : ORIGIN = ${hex(ram.origin)}, LENGTH = ${ram.size}`,
    '}',
    `__stack_size = ${reserve.stack};`,
    `__heap_size = ${reserve.heap};`,
    'INCLUDE sections.ld',
    '',
  ].join('\n');
}

/**
 * The name prefix of the generated library in `modelDir`: the header `<prefix>.h` that defines
 * `<PREFIX>_ARENA_SIZE` (model.h for the default prefix). Exactly one library per directory.
 */
export function libraryPrefix(modelDir: string): string {
  const headers = existsSync(modelDir) ? readdirSync(modelDir).filter((f) => /^[a-z][a-z0-9_]*\.h$/.test(f)) : [];
  const found = headers
    .map((f) => f.slice(0, -2))
    .filter((p) => new RegExp(`^#define\\s+${p.toUpperCase()}_ARENA_SIZE\\b`, 'm').test(readFileSync(join(modelDir, `${p}.h`), 'utf8')))
    .sort();
  if (found.length === 0) {
    throw new UserError(`model directory ${modelDir}: expected <prefix>.h defining <PREFIX>_ARENA_SIZE (a generated model library) and its .c files`);
  }
  if (found.length > 1) {
    throw new UserError(`model directory ${modelDir}: holds several generated libraries (${found.map((p) => `${p}.h`).join(', ')}); expected one`);
  }
  return found[0]!;
}

/**
 * The header the harness and footprint mains include (firmware_model.h, written into the build's
 * object directory): the library's header, and its prefixed names under fixed ones.
 */
export function firmwareModelHeader(prefix: string): string {
  const P = prefix.toUpperCase();
  return [
    `/* Written by tinyforge for each firmware build: the model library '${prefix}' under fixed names. */`,
    '#ifndef FIRMWARE_MODEL_H',
    '#define FIRMWARE_MODEL_H',
    '',
    `#include "${prefix}.h"`,
    '',
    `#define FW_MODEL_INPUT_SIZE ${P}_INPUT_SIZE`,
    `#define FW_MODEL_INPUT_BYTES ${P}_INPUT_BYTES`,
    `#define FW_MODEL_OUTPUT_SIZE ${P}_OUTPUT_SIZE`,
    `#define FW_MODEL_OUTPUT_BYTES ${P}_OUTPUT_BYTES`,
    `#define FW_MODEL_NUM_CLASSES ${P}_NUM_CLASSES`,
    `typedef ${prefix}_input_t fw_model_input_t;`,
    `typedef ${prefix}_output_t fw_model_output_t;`,
    `#define fw_model_predict ${prefix}_predict`,
    '/* Image models only: the pixel entry point. */',
    `#if defined(${P}_HAS_PREDICT_U8)`,
    '#define FW_MODEL_HAS_PREDICT_U8 1',
    `#define fw_model_predict_u8 ${prefix}_predict_u8`,
    '#endif',
    `#if defined(${P}_OUTPUT_FLOAT32)`,
    '#define FW_MODEL_OUTPUT_FLOAT32 1',
    '#endif',
    '',
    '/* A library generated with an external arena gets a static one here. */',
    `#if defined(${P}_ARENA_EXTERNAL)`,
    `static int32_t fw_model_arena[${P}_ARENA_SIZE / 4];`,
    `static inline int fw_model_init(void) { return ${prefix}_set_arena(fw_model_arena, sizeof fw_model_arena); }`,
    '#else',
    'static inline int fw_model_init(void) { return 0; }',
    '#endif',
    '',
    '#endif',
    '',
  ].join('\n');
}

export function modelSources(modelDir: string): string[] {
  libraryPrefix(modelDir);
  const sources = readdirSync(modelDir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(modelDir, f));
  if (sources.length === 0) throw new UserError(`model directory ${modelDir}: no .c files to compile`);
  return sources;
}

export function declaredArena(modelDir: string): number | undefined {
  const prefix = libraryPrefix(modelDir);
  const define = new RegExp(`#define\\s+${prefix.toUpperCase()}_ARENA_SIZE\\s+\\(?(\\d+)`);
  const m = define.exec(readFileSync(join(modelDir, `${prefix}.h`), 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** Runs `jobs` with at most `limit` in flight; rejects with the first failure after all settle. */
async function limited<T>(items: T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await job(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

export function missingNewlib(stderr: string): boolean {
  return /rdimon\.specs|nano\.specs|cannot find -l(c|c_nano|rdimon|rdimon_nano|g|m)\b|stdio\.h: No such file/.test(stderr);
}

export interface CompileUnit {
  source: string;
  object: string;
  /** Extra flags for this file alone. */
  cflags?: string[];
}

/** Compiles each unit (at most two at a time: the machine has two cores); gcc's errors as UserError. */
export async function compileUnits(gcc: string, board: Board, cflags: string[], units: CompileUnit[]): Promise<void> {
  await limited(units, COMPILE_JOBS, async (unit) => {
    const result = await execa(gcc, [...cflags, ...(unit.cflags ?? []), '-c', unit.source, '-o', unit.object], { reject: false });
    if (result.exitCode !== 0) {
      const hint = missingNewlib(result.stderr) ? `\nThe C library is missing: ${installHint('arm-none-eabi-gcc')}` : '';
      throw new EnvironmentError(`compiling ${unit.source} for board ${board.name} failed:\n${result.stderr.trim()}${hint}`);
    }
  });
}

export interface LinkRequest {
  gcc: string;
  board: Board;
  outDir: string;
  /** Base name of the outputs: <name>.elf, .map, .bin, .hex. */
  name: string;
  /** Link flags before the objects (the map is added here). */
  flags: string[];
  objects: string[];
  /** Libraries after the objects, e.g. ['-lc_nano', '-lgcc']. */
  libraries?: string[];
  /** For the RAM overflow message. */
  reserve?: { stack: number; heap: number };
}

/** Links, then writes the .bin and .hex. Every output goes under a temporary name first. */
export async function linkImage(request: LinkRequest): Promise<{ elf: string; map: string; bin: string; hex: string }> {
  const { gcc, board, outDir, name } = request;
  const objcopy = findTool('arm-none-eabi-objcopy');
  const elf = join(outDir, `${name}.elf`);
  const map = join(outDir, `${name}.map`);
  const partial = { elf: `${elf}.partial`, map: `${map}.partial` };
  const args = [...request.flags, `-Wl,-Map=${partial.map}`, ...request.objects, ...(request.libraries ?? []), '-o', partial.elf];
  const link = await execa(gcc, args, { reject: false });
  if (link.exitCode !== 0) {
    rmSync(partial.elf, { force: true });
    rmSync(partial.map, { force: true });
    throw linkError(board, link.stderr, request.reserve);
  }
  // Link under temporary names and rename: an interrupted build never leaves a plausible ELF.
  renameSync(partial.elf, elf);
  renameSync(partial.map, map);

  const bin = join(outDir, `${name}.bin`);
  const hex = join(outDir, `${name}.hex`);
  for (const [format, path] of [['binary', bin], ['ihex', hex]] as const) {
    await execa(objcopy, ['-O', format, elf, `${path}.partial`]);
    renameSync(`${path}.partial`, path);
  }
  return { elf, map, bin, hex };
}

/** What every firmware build (harness or footprint) starts from: board, tools, regions, dirs. */
export interface BuildSetup {
  board: Board;
  target: 'qemu' | 'hardware';
  modelDir: string;
  outDir: string;
  gcc: string;
  flash: MemoryRegion;
  ram: MemoryRegion;
  objDir: string;
  /** The model library's name prefix (libraryPrefix). */
  prefix: string;
}

export function prepareBuild(options: Pick<BuildOptions, 'board' | 'modelDir' | 'outDir' | 'target'>): BuildSetup {
  const board = typeof options.board === 'string' ? loadBoard(options.board) : options.board;
  const target = options.target ?? 'qemu';
  const outDir = resolve(options.outDir);
  const objDir = join(outDir, 'obj');
  const gcc = findTool('arm-none-eabi-gcc');
  const modelDir = resolve(options.modelDir);
  const prefix = libraryPrefix(modelDir);
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(join(objDir, 'model'), { recursive: true });
  mkdirSync(join(objDir, 'firmware'), { recursive: true });
  writeFileAtomic(join(objDir, 'include', 'firmware_model.h'), firmwareModelHeader(prefix));
  return {
    board, target, modelDir, outDir, gcc, objDir, prefix,
    flash: target === 'qemu' ? board.qemu.flash : board.flash,
    ram: target === 'qemu' ? board.qemu.ram : board.ram,
  };
}

/** Compiler flags shared by every firmware build; `extra` adds the build's defines and includes. */
export function firmwareCflags(
  setup: BuildSetup, options: Pick<BuildOptions, 'optimization' | 'portable' | 'extraCflags'>, extra: string[],
): string[] {
  return [
    ...setup.board.cflags, ...WARNINGS, ...SECTIONS, options.optimization ?? '-Os', '-fstack-usage',
    ...(options.portable ? ['-DTINYFORGE_PORTABLE'] : []), ...(options.extraCflags ?? []),
    `-I${setup.modelDir}`, `-I${join(setup.objDir, 'include')}`, `-I${startupDir}`, ...extra,
  ];
}

/** The firmware's own sources plus every .c of the model, each with its object path. */
export function buildUnits(setup: BuildSetup, firmwareSources: string[]) {
  return [
    ...firmwareSources.map((source) => ({ source, group: 'firmware' })),
    ...modelSources(setup.modelDir).map((source) => ({ source, group: 'model' })),
  ].map((u) => ({ ...u, object: join(setup.objDir, u.group, basename(u.source, '.c') + '.o') }));
}

export async function buildFirmware(options: BuildOptions): Promise<BuildResult> {
  const setup = prepareBuild(options);
  const { board, target, modelDir, outDir, gcc, flash, ram } = setup;
  const linkerScript = join(outDir, 'memory.ld');
  writeFileAtomic(linkerScript, memoryScript(board, flash, ram, target));

  const cflags = firmwareCflags(setup, options, [`-I${harnessDir}`]);
  const units = buildUnits(setup, [
    ...['startup.c', 'faults.c', 'semihost.c', 'memcheck.c'].map((f) => join(startupDir, f)),
    ...['harness.c', 'ticks.c'].map((f) => join(harnessDir, f)),
  ]);

  log.debug(`build ${board.name} (${target}): ${gcc} ${cflags.join(' ')}`);
  await compileUnits(gcc, board, cflags, units);

  const { elf, map, bin, hex: hexFile } = await linkImage({
    gcc, board, outDir, name: 'firmware', objects: units.map((u) => u.object),
    flags: [
      ...board.cflags,
      '-nostartfiles',
      ...(board.libc === 'newlib-nano' ? ['--specs=nano.specs'] : []),
      '--specs=rdimon.specs',
      `-T${linkerScript}`,
      `-L${linkerDir}`,
      '-Wl,--gc-sections',
    ],
  });

  const sizes = await measureFirmware({
    elf,
    map,
    flashRegion: flash,
    ramRegion: ram,
    modelObjects: units.filter((u) => u.group === 'model').map((u) => u.object),
    harnessObjects: units.filter((u) => u.group === 'firmware').map((u) => u.object),
    declaredArena: declaredArena(modelDir),
  });
  log.debug(`built ${elf}: flash ${sizes.flash.used}/${sizes.flash.capacity}, RAM ${sizes.ram.used}/${sizes.ram.capacity}`);
  const stack = await checkHarnessStack(board, elf, units.map((u) => u.object.replace(/\.o$/, '.su')), harnessEntry(modelDir, setup.prefix));
  return { board, target, elf, bin, hex: hexFile, map, linkerScript, sizes, stack };
}

/** A fault or interrupt taken at the deepest point pushes 8 words, 26 with the FP state, 8-byte aligned. */
export function exceptionFrameBytes(board: Board): number {
  return (board.cflags.includes('-mfloat-abi=hard') ? 104 : 32) + 4;
}

/** The predict function the harness calls: <prefix>_predict_u8 for image models, <prefix>_predict otherwise. */
function harnessEntry(modelDir: string, prefix: string): string {
  const header = readFileSync(join(modelDir, `${prefix}.h`), 'utf8');
  return new RegExp(`^#define\\s+${prefix.toUpperCase()}_HAS_PREDICT_U8\\b`, 'm').test(header) ? `${prefix}_predict_u8` : `${prefix}_predict`;
}

async function checkHarnessStack(board: Board, elf: string, stackUsageFiles: string[], entry: string): Promise<HarnessStackCheck> {
  // SysTick is the one exception of a normal run. A fault handler runs only once something has
  // already gone wrong; if its report overflows the stack, the core locks up and the run fails
  // as a crash anyway, so it does not count here.
  const model = await analyseStack({ elf, stackUsageFiles, root: entry, handlers: ['SysTick_Handler'] });
  const frames = new Map<string, number>();
  for (const file of stackUsageFiles) {
    for (const e of parseStackUsage(readFileSync(file, 'utf8'))) frames.set(e.name, Math.max(e.bytes, frames.get(e.name) ?? 0));
  }
  const callers = (frames.get('Reset_Handler') ?? 0) + (frames.get('main') ?? 0);
  const interrupt = exceptionFrameBytes(board) + model.handlerBytes;
  const check: HarnessStackCheck = {
    reservedBytes: board.stackSize,
    neededBytes: model.unbounded.length === 0 ? callers + model.bytes + interrupt : null,
    modelBytes: model.bytes,
    unbounded: model.unbounded,
  };
  if (check.neededBytes === null) {
    log.warn(`board ${board.name}: the model's stack use cannot be bounded statically (${model.unbounded.join('; ')}); ` +
      `its ${board.stackSize}-byte stack reservation is unchecked`);
  } else if (check.neededBytes > board.stackSize) {
    throw new BudgetError(
      `the firmware does not fit board ${board.name}: the inference needs up to ${check.neededBytes} bytes of stack ` +
        `(model ${model.bytes}: ${model.path.map((p) => `${p.name} ${p.bytes}`).join(' > ')}; harness ${callers}; ` +
        `exception ${interrupt}), more than the ${board.stackSize} bytes reserved by stackSize in ${board.file}`,
      board.name,
      'RAM',
      check.neededBytes - board.stackSize,
    );
  }
  return check;
}

export function linkError(board: Board, stderr: string, reserve = { stack: board.stackSize, heap: board.heapSize }): UserError {
  const overflow = /region [`']?(FLASH|RAM)'? overflowed by (\d+) bytes/.exec(stderr);
  if (overflow) {
    const region = overflow[1] as 'FLASH' | 'RAM';
    const capacity = region === 'FLASH' ? board.flash.size : board.ram.size;
    return new BudgetError(
      `the firmware does not fit board ${board.name}: ${region} (${capacity} bytes) overflowed by ${overflow[2]} bytes` +
        (region === 'RAM' ? ` (RAM holds the model arena, stack ${reserve.stack} and heap ${reserve.heap})` : ''),
      board.name,
      region,
      Number(overflow[2]),
    );
  }
  const hint = missingNewlib(stderr) ? `\nThe C library is missing: ${installHint('arm-none-eabi-gcc')}` : '';
  return new EnvironmentError(`linking the firmware for board ${board.name} failed:\n${stderr.trim()}${hint}`);
}
