// The footprint firmware (src/toolchain/footprint.ts): what a product flashes, next to the
// verification firmware. Built from the stub model and from a library generated from a random
// MNIST-shaped IR, on an M0, an M3 and an M4: it must be far smaller than the harness firmware
// with exactly the same weights, link no semihosting/stdio/heap, and run, computing exactly what
// the harness firmware computes (and, on the portable path, what the int8 reference computes).
//
// Running it: the deployable image ends in a sleep loop and its fault handlers loop too, so a
// QEMU run of it could only be judged by a timeout, which cannot tell "done" from "stuck". The
// test-only check variant is the same startup, main and model code with two additions: the
// semihosting fault handlers of the harness (a fault exits with a distinct status instead of
// looping) and, after the inference, a report of the class, the logits and the painted stack's
// high-water mark followed by a semihosting exit. So a run either reports, or faults with a
// status, or locks up (QEMU aborts), or hangs (killed at the timeout): each ends the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLibrary, writeLibrary } from '../src/codegen/generate.js';
import { argmax, pixelsToInput, runReference } from '../src/reference/interpreter.js';
import { listBoards, loadBoard } from '../src/toolchain/boards.js';
import { buildFirmware, exceptionFrameBytes, type BuildResult } from '../src/toolchain/build.js';
import { buildFootprint, footprintCheckImage, runFootprintCheck, type FootprintResult } from '../src/toolchain/footprint.js';
import { QemuTimeoutError, runHarness } from '../src/toolchain/qemu.js';
import { findTool } from '../src/toolchain/tools.js';
import { randomIr } from './helpers/random-ir.js';

const STUB_DIR = fileURLToPath(new URL('./fixtures/stub-model/', import.meta.url));
const TIMEOUT_MS = 20_000;
const scratch = mkdtempSync(join(tmpdir(), 'tinyforge-footprint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A generated library: the small MNIST CNN (conv/maxpool x2, conv, global average pool, dense).
const ir = randomIr(11, { architecture: 'mnist-cnn' });
const GENERATED_DIR = join(scratch, 'generated-c');
writeLibrary(GENERATED_DIR, generateLibrary(ir));

async function symbols(elf: string): Promise<Set<string>> {
  const { stdout } = await execa(findTool('arm-none-eabi-objdump'), ['-t', elf]);
  return new Set(stdout.split('\n').map((line) => line.trim().split(/\s+/).at(-1) ?? ''));
}

describe.each([
  ['microbit', 'cortex-m0'],
  ['mps2-an385', 'cortex-m3'],
  ['mps2-an386', 'cortex-m4'],
])('footprint firmware on %s (%s)', (boardName, cpu) => {
  const board = loadBoard(boardName);
  const dir = join(scratch, boardName);
  const models = { stub: STUB_DIR, generated: GENERATED_DIR };
  const harness: Record<string, BuildResult> = {};
  const footprint: Record<string, FootprintResult> = {};

  beforeAll(async () => {
    expect(board.cpu).toBe(cpu);
    // One build at a time: the machine has two cores and each build compiles two files at once.
    for (const [name, modelDir] of Object.entries(models)) {
      harness[name] = await buildFirmware({ board, modelDir, outDir: join(dir, name, 'harness') });
      footprint[name] = await buildFootprint({ board, modelDir, outDir: join(dir, name, 'footprint') });
    }
  });

  it.each(['stub', 'generated'])('is far smaller than the harness firmware, with the same weights and model code (%s model)', (name) => {
    const fp = footprint[name];
    const full = harness[name].sizes;
    const s = fp.sizes;
    expect(fp.variant).toBe('deploy');
    expect(s.weightsBytes).toBeGreaterThan(0);
    expect(s.weightsBytes).toBe(full.flash.weights);
    // The same model objects, compiled with the same flags.
    expect(s.modelCodeBytes).toBe(full.flash.modelCode);
    expect(s.arenaBytes).toBe(full.ram.arena);
    const harnessCode = full.flash.used - full.flash.weights;
    expect(s.codeBytes).toBe(s.flashBytes - s.weightsBytes);
    expect(s.codeBytes).toBeLessThan(harnessCode / 3);
    expect(s.flashBytes).toBeLessThan(full.flash.used);
    // Everything in flash is accounted for, up to alignment padding.
    const other = s.flashBytes - s.weightsBytes - s.modelCodeBytes - s.startupBytes - s.libBytes;
    expect(other).toBeGreaterThanOrEqual(0);
    expect(other).toBeLessThan(64);
    expect(s.startupBytes).toBeGreaterThan(0);
    // RAM: no heap; the stack is the static bound plus one exception, nothing more.
    expect(fp.details.ram.heap).toBe(0);
    expect(fp.stack.unbounded).toEqual([]);
    expect(fp.stack.exceptionReserveBytes).toBe(exceptionFrameBytes(board));
    expect(s.stackBytes).toBe(Math.ceil((fp.stack.bytes + fp.stack.exceptionReserveBytes + fp.stack.handlerBytes) / 8) * 8);
    expect(fp.stack.handlerBytes).toBe(0); // the deployable handlers are loops
    expect(s.ramBytes).toBeLessThan(full.ram.used);
    expect(fp.stack.path.map((p) => p.name).slice(0, 3)).toEqual(['Reset_Handler', 'main', 'model_predict_u8']);
  });

  it('meets the 6 KB runtime-code criterion with a generated model at -Os', () => {
    expect(footprint.generated.sizes.codeBytes).toBeLessThan(6 * 1024);
  });

  it('links no semihosting, stdio or heap', async () => {
    const names = await symbols(footprint.generated.elf);
    for (const wanted of ['Reset_Handler', 'main', 'model_predict_u8', 'footprint_class', 'footprint_image']) {
      expect(names.has(wanted), wanted).toBe(true);
    }
    for (const unwanted of ['initialise_monitor_handles', 'semihost_exit', 'semihost_write0', 'fopen', 'fwrite', 'printf',
      'malloc', '_sbrk', '_write', 'exit', 'fault_report']) {
      expect(names.has(unwanted), unwanted).toBe(false);
    }
    // The harness image does have them: the check above can fail.
    expect((await symbols(harness.generated.elf)).has('initialise_monitor_handles')).toBe(true);
    // No semihosting trap anywhere in the code (BKPT 0xAB): on a board without a debugger it
    // would lock the core up.
    const { stdout } = await execa(findTool('arm-none-eabi-objdump'), ['-d', footprint.generated.elf]);
    expect(stdout).not.toMatch(/\bbkpt\b/);
  });

  it('runs in QEMU without faulting, computing what the harness firmware computes, within its stack', async () => {
    const check = await buildFootprint({ board, modelDir: GENERATED_DIR, outDir: join(dir, 'generated', 'check'), check: true });
    expect(check.variant).toBe('check');
    const run = await runFootprintCheck({ board, elf: check.elf, timeoutMs: TIMEOUT_MS });

    // The same library and flags as the harness firmware: the same logits, bit for bit.
    const image = footprintCheckImage(784);
    const onHarness = await runHarness({ board, elf: harness.generated.elf, images: image, workDir: join(dir, 'generated', 'harness-run'), timeoutMs: TIMEOUT_MS });
    expect(Array.from(run.logits)).toEqual(Array.from(onHarness.logits));
    expect(run.predicted).toBe(onHarness.classes[0]);
    if (!board.dsp) {
      // The portable kernels here, so also the int8 reference's logits (on DSP cores that is
      // the DSP kernels' business, checked by the harness and verify).
      const expected = runReference(ir, pixelsToInput(ir, image));
      expect(Array.from(run.logits)).toEqual(Array.from(expected));
      expect(run.predicted).toBe(argmax(expected));
    }

    // The stack: what the run really used against the static bound of the same image, and
    // against the deployable image's reservation.
    expect(run.stackSizeBytes).toBe(check.sizes.stackBytes);
    expect(run.stackUsedBytes).toBeGreaterThan(0);
    expect(run.stackUsedBytes).toBeLessThanOrEqual(check.stack.bytes);
    // ... and the bound is not wildly pessimistic (it would waste RAM on every device).
    expect(run.stackUsedBytes).toBeGreaterThanOrEqual(0.75 * check.stack.bytes);
    expect(run.stackUsedBytes).toBeLessThanOrEqual(footprint.generated.sizes.stackBytes);
  });
});

describe('footprint firmware on every board profile', () => {
  it.each(listBoards())('%s', async (boardName) => {
    const board = loadBoard(boardName);
    const fp = await buildFootprint({ board, modelDir: STUB_DIR, outDir: join(scratch, 'all', boardName) });
    expect(fp.sizes.weightsBytes).toBe(10 * 196 + 10 * 4);
    expect(fp.sizes.stackBytes).toBeGreaterThan(0);
    expect(fp.details.ram.heap).toBe(0);
    expect(fp.sizes.flashBytes).toBeLessThan(board.flash.size);
    expect(fp.sizes.ramBytes).toBeLessThan(board.ram.size);
    expect(fp.details.flash.capacity).toBe(board.flash.size);
  });

  it('links a hardware build at the chip addresses', async () => {
    const fp = await buildFootprint({ board: 'stm32f405', modelDir: STUB_DIR, outDir: join(scratch, 'stm32-hw'), target: 'hardware' });
    expect(fp.details.sections.find((s) => s.name === '.vectors')?.vma).toBe(0x08000000);
  });
});

describe('footprint check failures', () => {
  it('a fault ends the check run with the fault named, not a hang', async () => {
    const faulty = await buildFootprint({
      board: 'mps2-an386', modelDir: STUB_DIR, outDir: join(scratch, 'fault'), check: true, extraCflags: ['-DSTUB_FAULT'],
    });
    const run = runFootprintCheck({ board: 'mps2-an386', elf: faulty.elf, timeoutMs: TIMEOUT_MS });
    await expect(run).rejects.toThrow(/gave no report \(exited with status 72: BusFault\)/);
    await expect(run).rejects.toThrow(/firmware crashed: BusFault at pc=0x[0-9a-f]{8}/);
  });

  it('a firmware that never finishes is killed at the timeout', async () => {
    const hang = await buildFootprint({
      board: 'microbit', modelDir: STUB_DIR, outDir: join(scratch, 'hang'), check: true, extraCflags: ['-DSTUB_HANG'],
    });
    await expect(runFootprintCheck({ board: 'microbit', elf: hang.elf, timeoutMs: 1500 })).rejects.toBeInstanceOf(QemuTimeoutError);
  });
});
