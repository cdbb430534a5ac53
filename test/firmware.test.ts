// Builds the stand-in model (test/fixtures/stub-model) for every QEMU board and runs it through
// the harness: results must equal the stub's computation done here in TypeScript, instruction
// counts must be positive, repeatable and consistent with the board's instructionsPerTick, and
// a crashing or hanging firmware must end with a clear error rather than a stuck test.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFirmware, type BuildResult } from '../src/toolchain/build.js';
import { loadBoard } from '../src/toolchain/boards.js';
import { QemuTimeoutError, runHarness, runQemu } from '../src/toolchain/qemu.js';

const STUB_DIR = fileURLToPath(new URL('./fixtures/stub-model/', import.meta.url));
const QEMU_BOARDS = ['mps2-an386', 'mps2-an385', 'mps2-an500', 'mps2-an505', 'microbit'];
const IMAGE_SIZE = 784;
const NUM_CLASSES = 10;
const POOLED = 196;
const TIMEOUT_MS = 20_000;

const scratch = mkdtempSync(join(tmpdir(), 'tinyforge-firmware-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The stub's weight and bias tables, read back from the C source so the two cannot drift. */
function stubTables(): { weights: Int8Array; bias: Int32Array } {
  const source = readFileSync(join(STUB_DIR, 'model_weights.c'), 'utf8');
  const numbersIn = (from: string, to: string) => {
    const start = source.indexOf(from);
    const body = source.slice(source.indexOf('=', start) + 1, source.indexOf(to, start));
    return (body.match(/-?\d+/g) ?? []).map(Number);
  };
  const weights = Int8Array.from(numbersIn('stub_weights[', '};'));
  const bias = Int32Array.from(numbersIn('stub_bias[', '};'));
  expect(weights.length).toBe(NUM_CLASSES * POOLED);
  expect(bias.length).toBe(NUM_CLASSES);
  return { weights, bias };
}

/** What test/fixtures/stub-model/model.c computes (see the comment at its top). */
function stubPredict(pixels: Uint8Array, tables: ReturnType<typeof stubTables>): { cls: number; logits: number[] } {
  const x = Array.from(pixels, (p) => p - 128);
  const pooled: number[] = [];
  for (let row = 0; row < 14; row++) {
    for (let col = 0; col < 14; col++) {
      const top = 2 * row * 28 + 2 * col;
      pooled.push((x[top] + x[top + 1] + x[top + 28] + x[top + 29]) >> 2);
    }
  }
  const logits: number[] = [];
  let cls = 0;
  for (let k = 0; k < NUM_CLASSES; k++) {
    let acc = tables.bias[k];
    for (let i = 0; i < POOLED; i++) acc += pooled[i] * tables.weights[k * POOLED + i];
    logits.push(Math.max(-128, Math.min(127, acc >> 8)));
    if (logits[k] > logits[cls]) cls = k;
  }
  return { cls, logits };
}

/** Pseudo-random images plus the two extremes (every logit clamps; ties go to the first). */
function testImages(random: number): Uint8Array {
  const images = new Uint8Array((random + 2) * IMAGE_SIZE);
  let state = 0x2545f491;
  for (let i = 0; i < random * IMAGE_SIZE; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    images[i] = state >>> 24;
  }
  images.fill(255, (random + 1) * IMAGE_SIZE);
  return images;
}

describe.each(QEMU_BOARDS)('firmware on %s', (boardName) => {
  const board = loadBoard(boardName);
  let build: BuildResult;

  beforeAll(async () => {
    build = await buildFirmware({ board, modelDir: STUB_DIR, outDir: join(scratch, boardName, 'stub') });
  });

  it('runs the model on target with the results the host computes, and counts instructions repeatably', async () => {
    const tables = stubTables();
    const images = testImages(5);
    const count = images.length / IMAGE_SIZE;
    const workDir = join(scratch, boardName, 'run');

    const split = await runHarness({ board, elf: build.elf, images, workDir, timeoutMs: TIMEOUT_MS, processes: 2 });
    expect(split.numClasses).toBe(NUM_CLASSES);
    for (let i = 0; i < count; i++) {
      const expected = stubPredict(images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE), tables);
      expect(split.classes[i], `class of image ${i}`).toBe(expected.cls);
      expect(Array.from(split.logits.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES)), `logits of image ${i}`).toEqual(
        expected.logits,
      );
    }
    for (const n of split.instructions) expect(n).toBeGreaterThan(0);
    expect(Array.from(split.instructions)).toEqual(Array.from(split.ticks, (t) => t * board.qemu.instructionsPerTick));

    // A second run, in one process this time and over a sub-range: the same counts, image by image.
    const single = await runHarness({ board, elf: build.elf, images, offset: 2, count: 3, workDir, timeoutMs: TIMEOUT_MS, processes: 1 });
    expect(Array.from(single.ticks)).toEqual(Array.from(split.ticks.subarray(2, 5)));
    expect(Array.from(single.classes)).toEqual(Array.from(split.classes.subarray(2, 5)));
  });

  it('converts ticks to instructions with the profile instructionsPerTick', async () => {
    // STUB_SPIN runs pixels[0] * 256 + 1 iterations of a two-instruction loop before the model:
    // the images differ only in pixel 0, so their counts differ by 2 * 256 * 255 instructions.
    const spin = await buildFirmware({ board, modelDir: STUB_DIR, outDir: join(scratch, boardName, 'spin'), extraCflags: ['-DSTUB_SPIN'] });
    const images = new Uint8Array(2 * IMAGE_SIZE).fill(100);
    images[0] = 0;
    images[IMAGE_SIZE] = 255;
    const run = await runHarness({ board, elf: spin.elf, images, workDir: join(scratch, boardName, 'spin-run'), timeoutMs: TIMEOUT_MS });
    const measured = run.instructions[1] - run.instructions[0];
    // One tick of quantisation at each end, and a clamp that may take another branch.
    expect(Math.abs(measured - 2 * 256 * 255)).toBeLessThanOrEqual(2 * board.qemu.instructionsPerTick);
  });

  it('reports a crash through the fault handler instead of hanging', async () => {
    const faulty = await buildFirmware({ board, modelDir: STUB_DIR, outDir: join(scratch, boardName, 'fault'), extraCflags: ['-DSTUB_FAULT'] });
    const images = testImages(1);
    const run = runHarness({ board, elf: faulty.elf, images, workDir: join(scratch, boardName, 'fault-run'), timeoutMs: TIMEOUT_MS, processes: 1 });
    // ARMv6-M (microbit) has only HardFault; the others enable BusFault and name it.
    const fault = boardName === 'microbit' ? 'HardFault' : 'BusFault';
    await expect(run).rejects.toThrow(new RegExp(`status 7[0-6]: ${fault}`));
    await expect(run).rejects.toThrow(new RegExp(`firmware crashed: ${fault} at pc=0x[0-9a-f]{8}`));
  });
});

// The profiles' stackSize and heapSize were sized from what a TINYFORGE_MEMORY_REPORT build
// measures (firmware/README.md), with a margin: the harness must still work with half the stack
// and two thirds of the heap. Both the success path and a failure path (a message on stderr after
// two fopen calls) are run; the stack is painted, so running off its end would show as a stack
// use equal to its whole size even where QEMU does not fault.
describe.each(QEMU_BOARDS)('harness memory on %s', (boardName) => {
  it('runs with half its stack and two thirds of its heap', async () => {
    const board = loadBoard(boardName);
    const tight = { ...board, stackSize: board.stackSize / 2, heapSize: Math.floor(board.heapSize / 1.5 / 8) * 8 };
    const build = await buildFirmware({
      board: tight, modelDir: STUB_DIR, outDir: join(scratch, boardName, 'memory'), extraCflags: ['-DTINYFORGE_MEMORY_REPORT'],
    });
    expect(build.sizes.ram.stack).toBe(tight.stackSize);
    expect(build.sizes.ram.heap).toBe(tight.heapSize);
    const workDir = join(scratch, boardName, 'memory-run');
    mkdirSync(workDir, { recursive: true });
    writeFileSync(join(workDir, 'images.bin'), testImages(1));

    const ok = await runQemu({ board, elf: build.elf, append: 'in=images.bin out=r.bin offset=0 count=3', cwd: workDir, timeoutMs: TIMEOUT_MS });
    const output = ok.stdout + ok.stderr;
    expect(ok.exitCode, output).toBe(0);
    expect(statSync(join(workDir, 'r.bin')).size).toBe(16 + 3 * (1 + NUM_CLASSES + 4));
    const report = /tinyforge memory: stack=(\d+) heap=(\d+)/.exec(output);
    expect(report, output).not.toBeNull();
    const [stack, heap] = [Number(report![1]), Number(report![2])];
    expect(stack).toBeGreaterThan(0);
    expect(stack).toBeLessThan(tight.stackSize);
    expect(heap).toBeGreaterThan(0); // stdio's FILE structures
    expect(heap).toBeLessThanOrEqual(tight.heapSize);

    const failing = await runQemu({
      board, elf: build.elf, append: 'in=images.bin out=no/such/dir/r.bin offset=0 count=1', cwd: workDir, timeoutMs: TIMEOUT_MS,
    });
    expect(failing.exitCode).toBe(5);
    expect(failing.stderr).toMatch(/cannot create the result file/);
    expect(Number(/stack=(\d+)/.exec(failing.stdout + failing.stderr)?.[1])).toBeLessThan(tight.stackSize);
  });
});

// The real chips run on a compatible machine, linked with their own (smaller) memory sizes: one
// build each, with the calibration spin, checks both the results and the instruction scale.
describe.each(['stm32f405', 'nrf51822', 'lm3s6965'])('firmware for the %s chip, emulated', (boardName) => {
  it('computes the same results and counts at the machine instructionsPerTick', async () => {
    const board = loadBoard(boardName);
    const spin = await buildFirmware({ board, modelDir: STUB_DIR, outDir: join(scratch, boardName), extraCflags: ['-DSTUB_SPIN'] });
    expect(spin.sizes.ram.capacity).toBe(board.ram.size);
    const tables = stubTables();
    const images = testImages(2);
    images.copyWithin(IMAGE_SIZE, 0, IMAGE_SIZE); // image 1 = image 0 but for pixel 0
    images[0] = 0;
    images[IMAGE_SIZE] = 255;
    const run = await runHarness({ board, elf: spin.elf, images, workDir: join(scratch, boardName, 'run'), timeoutMs: TIMEOUT_MS });
    for (let i = 0; i < images.length / IMAGE_SIZE; i++) {
      const expected = stubPredict(images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE), tables);
      expect(Array.from(run.logits.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES)), `logits of image ${i}`).toEqual(expected.logits);
      expect(run.classes[i]).toBe(expected.cls);
    }
    const measured = run.instructions[1] - run.instructions[0];
    expect(Math.abs(measured - 2 * 256 * 255)).toBeLessThanOrEqual(2 * board.qemu.instructionsPerTick);
  });
});

describe('harness failures', () => {
  let elf: string;
  const workDir = join(scratch, 'io');

  beforeAll(async () => {
    elf = (await buildFirmware({ board: 'mps2-an386', modelDir: STUB_DIR, outDir: join(scratch, 'io-build') })).elf;
    await runHarness({ board: 'mps2-an386', elf, images: testImages(1), workDir, timeoutMs: TIMEOUT_MS });
  });

  it.each([
    ['no command line', undefined, 2, /usage: in=<images>/],
    ['an image file that does not exist', 'in=missing.bin out=r.bin offset=0 count=1', 3, /cannot open the image file/],
    ['a range past the end of the file', 'in=images.bin out=r.bin offset=2 count=2', 4, /ends before the requested range \(image 3\)/],
    ['a result file that cannot be created', 'in=images.bin out=no/such/dir/r.bin offset=0 count=1', 5, /cannot create the result file/],
  ])('exits with a distinct status for %s', async (_what, append, status, message) => {
    const run = await runQemu({ board: 'mps2-an386', elf, append, cwd: workDir, timeoutMs: TIMEOUT_MS });
    expect(run.exitCode).toBe(status);
    expect(run.stderr).toMatch(message);
  });

  it('rejects results from a firmware built for another image size', async () => {
    // The firmware's images are 784 bytes; a host that believes they are 1568 must find out.
    const images = new Uint8Array(2 * 1568);
    const run = runHarness({ board: 'mps2-an386', elf, images, imageSize: 1568, workDir, timeoutMs: TIMEOUT_MS, processes: 1 });
    await expect(run).rejects.toThrow(/takes 784-byte input records .*, but the records given are 1568 bytes/);
  });

  it('kills a firmware that never finishes and says it hung', async () => {
    const hang = await buildFirmware({ board: 'mps2-an386', modelDir: STUB_DIR, outDir: join(scratch, 'hang'), extraCflags: ['-DSTUB_HANG'] });
    const run = runHarness({ board: 'mps2-an386', elf: hang.elf, images: testImages(1), workDir: join(scratch, 'hang-run'), timeoutMs: 1500, processes: 1 });
    await expect(run).rejects.toBeInstanceOf(QemuTimeoutError);
    await expect(run).rejects.toThrow(/hung on board mps2-an386 .*no exit within 1500 ms, so QEMU was killed/);
  });
});
