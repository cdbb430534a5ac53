// The footprint firmware: what a product that classifies images would flash, as opposed to the
// verification firmware of build.ts (semihosting harness, newlib stdio, a 784-byte image buffer
// and reservations for stdio's heap). It is the same startup and vector table
// (firmware/startup/startup.c with TINYFORGE_FOOTPRINT: no stdio, no heap, no exit), fault
// handlers that stop the core (firmware/footprint/halt.c), the generated model library and a
// main that classifies one image held in RAM (firmware/footprint/main.c). Linked with -nostdlib:
// only newlib-nano's memcpy/memset and libgcc's helpers, whatever the model actually calls.
//
// The stack is sized to what the code needs, not to a board-wide reservation: the worst-case
// call chain from Reset_Handler, bounded statically (src/toolchain/stack.ts: the ELF's call
// graph with GCC's -fstack-usage frames), plus one exception taken at the deepest point (the
// hardware's frame: 32 bytes, 104 with the FPU's state, and 4 of alignment; then the deepest
// handler's own chain, 0 for the deployable image's loops), rounded up to 8 bytes. The test-only check variant (TINYFORGE_FOOTPRINT_CHECK) paints the stack and reports
// how deep the inference really went, which test/footprint.test.ts compares with the bound.
import { join } from 'node:path';
import { EnvironmentError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';
import { loadBoard, type Board } from './boards.js';
import {
  buildUnits, compileUnits, declaredArena, exceptionFrameBytes, firmwareCflags, linkImage, memoryScript, prepareBuild,
  type Optimization,
} from './build.js';
import { footprintDir, linkerDir, startupDir } from './paths.js';
import { describeOutcome, runQemu } from './qemu.js';
import { measureFirmware, type FirmwareSizes } from './size.js';
import { analyseStack, type StackAnalysis } from './stack.js';

export interface FootprintOptions {
  /** A board name (firmware/boards/<name>.json) or a loaded profile. */
  board: Board | string;
  /** The generated C library: model.h and its .c files. */
  modelDir: string;
  /** Receives footprint.{elf,bin,hex,map}, memory.ld and obj/. One build at a time per outDir. */
  outDir: string;
  /** Default -Os. */
  optimization?: Optimization;
  /** Defines TINYFORGE_PORTABLE: the kernels' plain C path even on a DSP core. */
  portable?: boolean;
  /**
   * TEST ONLY: build the check variant, which fills the image with a known pattern, paints the
   * stack, and reports the class, the logits and the stack high-water mark over semihosting
   * (see runFootprintCheck). Its sizes are not the deployable figures.
   */
  check?: boolean;
  /** 'qemu' (default) links at the emulated machine's addresses, 'hardware' at the chip's own. */
  target?: 'qemu' | 'hardware';
  extraCflags?: string[];
}

/** The deployable figures, in bytes. */
export interface FootprintSizes {
  /** Everything written to flash: vectors, startup, main, model code, weights, library code. */
  flashBytes: number;
  /** Everything reserved in RAM: the arena, the image buffer and result, the stack (no heap). */
  ramBytes: number;
  /** The model's constant tables (model_weights.c). */
  weightsBytes: number;
  /** flashBytes - weightsBytes. */
  codeBytes: number;
  /** The generated library's code and constants other than the weights (model.c, kernels). */
  modelCodeBytes: number;
  /** Vector table, Reset_Handler, fault handlers and main. */
  startupBytes: number;
  /** newlib-nano and libgcc members pulled in (memcpy, memset, division and 64-bit helpers). */
  libBytes: number;
  /** The model's activation arena. */
  arenaBytes: number;
  /** The stack reservation: the static worst case plus one exception (see the file comment). */
  stackBytes: number;
}

export interface FootprintResult {
  board: Board;
  target: 'qemu' | 'hardware';
  variant: 'deploy' | 'check';
  elf: string;
  bin: string;
  hex: string;
  map: string;
  linkerScript: string;
  sizes: FootprintSizes;
  /** How the stack was sized: the static bound, the exception reserve, the deepest chain. */
  stack: StackAnalysis & { exceptionReserveBytes: number };
  /** The full breakdown, as for the harness firmware. */
  details: FirmwareSizes;
}

/** Used when the call graph cannot be bounded (indirect calls, alloca, recursion): a guess, said so. */
export const UNBOUNDED_STACK_ALLOWANCE = 1024;

const align = (n: number, to: number) => Math.ceil(n / to) * to;

export async function buildFootprint(options: FootprintOptions): Promise<FootprintResult> {
  const setup = prepareBuild(options);
  const { board, target, modelDir, outDir, gcc, flash, ram } = setup;
  const variant = options.check ? 'check' : 'deploy';
  const cflags = firmwareCflags(setup, options, [
    '-DTINYFORGE_FOOTPRINT', ...(options.check ? ['-DTINYFORGE_FOOTPRINT_CHECK'] : []), `-I${footprintDir}`,
  ]);
  const units = buildUnits(setup, [
    join(startupDir, 'startup.c'),
    join(footprintDir, 'main.c'),
    ...(options.check
      ? [join(startupDir, 'faults.c'), join(startupDir, 'semihost.c'), join(startupDir, 'memcheck.c'), join(footprintDir, 'check.c')]
      : [join(footprintDir, 'halt.c')]),
  ]);
  log.debug(`footprint ${board.name} (${variant}, ${target}): ${gcc} ${cflags.join(' ')}`);
  await compileUnits(gcc, board, cflags, units);

  const linkerScript = join(outDir, 'memory.ld');
  const link = (stack: number) => {
    writeFileAtomic(linkerScript, memoryScript(board, flash, ram, `${target}, footprint ${variant}`, { stack, heap: 0 }));
    return linkImage({
      gcc, board, outDir, name: 'footprint', objects: units.map((u) => u.object),
      // -nostdlib: no crt0, no default libraries; then exactly the two it may need, searched
      // after the objects. Anything else (printf, malloc, ...) is an undefined symbol.
      flags: [...board.cflags, '-nostdlib', `-T${linkerScript}`, `-L${linkerDir}`, '-Wl,--gc-sections'],
      libraries: ['-lc_nano', '-lgcc'],
      reserve: { stack, heap: 0 },
    });
  };

  // Link once without a stack to learn the code's call graph, size the stack, link again. The
  // code is the same both times: only the RAM addresses move.
  const first = await link(0);
  const analysis = await analyseStack({
    elf: first.elf,
    stackUsageFiles: units.map((u) => u.object.replace(/\.o$/, '.su')),
  });
  const reserve = exceptionFrameBytes(board);
  let stackBytes = align(analysis.bytes + reserve + analysis.handlerBytes, 8);
  if (analysis.unbounded.length > 0) {
    stackBytes += UNBOUNDED_STACK_ALLOWANCE;
    log.warn(
      `footprint ${board.name}: the stack cannot be bounded statically (${analysis.unbounded.join('; ')}); ` +
        `reserving ${stackBytes} bytes, ${UNBOUNDED_STACK_ALLOWANCE} of them a guess`,
    );
  }
  const { elf, map, bin, hex } = await link(stackBytes);

  const details = await measureFirmware({
    elf, map, flashRegion: flash, ramRegion: ram,
    modelObjects: units.filter((u) => u.group === 'model').map((u) => u.object),
    harnessObjects: units.filter((u) => u.group === 'firmware').map((u) => u.object),
    declaredArena: declaredArena(modelDir),
  });
  const sizes: FootprintSizes = {
    flashBytes: details.flash.used,
    ramBytes: details.ram.used,
    weightsBytes: details.flash.weights,
    codeBytes: details.flash.used - details.flash.weights,
    modelCodeBytes: details.flash.modelCode,
    startupBytes: details.flash.harness,
    libBytes: details.flash.runtime,
    arenaBytes: details.ram.arena,
    stackBytes: details.ram.stack,
  };
  log.debug(
    `footprint ${elf}: flash ${sizes.flashBytes} (code ${sizes.codeBytes}), RAM ${sizes.ramBytes} ` +
      `(stack ${stackBytes}: ${analysis.path.map((p) => `${p.name} ${p.bytes}`).join(' > ')} + exception ${reserve} + handler ${analysis.handlerBytes})`,
  );
  return {
    board, target, variant, elf, bin, hex, map, linkerScript, sizes,
    stack: { ...analysis, exceptionReserveBytes: reserve }, details,
  };
}

/** The image the check variant classifies (firmware/footprint/check.c computes the same bytes). */
export function footprintCheckImage(size: number): Uint8Array {
  const image = new Uint8Array(size);
  let state = 0x2545f491;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    image[i] = state >>> 24;
  }
  return image;
}

export interface FootprintCheckResult {
  predicted: number;
  logits: Int8Array;
  /** The deepest the stack went, from its top (Reset_Handler's and main's frames included). */
  stackUsedBytes: number;
  /** The .stack reservation the check variant was linked with. */
  stackSizeBytes: number;
  output: string;
}

/**
 * Runs a check-variant footprint firmware in QEMU (always under a timeout) and reads its report.
 * A fault ends the run through the semihosting fault handlers with a distinct status; an
 * overflowing stack locks the core up and QEMU aborts; both are errors here, as is a hang.
 */
export async function runFootprintCheck(options: { board: Board | string; elf: string; timeoutMs?: number }): Promise<FootprintCheckResult> {
  const board = typeof options.board === 'string' ? loadBoard(options.board) : options.board;
  const run = await runQemu({ board, elf: options.elf, timeoutMs: options.timeoutMs ?? 20_000 });
  const output = [run.stdout, run.stderr].filter((s) => s.trim()).join('\n');
  const report = /tinyforge footprint: class=(-?\d+) logits=(-?\d+(?:,-?\d+)*) stack_used=(\d+) stack_size=(\d+)/.exec(output);
  if (run.exitCode !== 0 || run.signal || !report) {
    throw new EnvironmentError(
      `footprint check ${options.elf} on board ${board.name} ${report ? describeOutcome(run) : `gave no report (${describeOutcome(run)})`}` +
        (output.trim() ? `\n${output.trim()}` : ''),
    );
  }
  return {
    predicted: Number(report[1]),
    logits: Int8Array.from(report[2].split(',').map(Number)),
    stackUsedBytes: Number(report[3]),
    stackSizeBytes: Number(report[4]),
    output,
  };
}
