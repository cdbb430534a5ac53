// The generated C of every conformance model (../shared/conformance: TensorFlow Lite Micro's
// hello_world, micro_speech and person_detect, and 21 single-op models) reproduces TensorFlow Lite
// Micro's golden outputs byte for byte, on every input:
//  - on the host: gcc with ASan + UBSan, portable path and DSP path (C model of the intrinsics),
//    all inputs of a model in one process;
//  - in QEMU, for the three real models: mps2-an386 (Cortex-M4, DSP path and portable path), and
//    the smallest QEMU board the firmware fits (the first that builds, smallest RAM first).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateLibrary, writeLibrary } from '../src/codegen/generate.js';
import { importTflite } from '../src/import/import.js';
import type { IrModel } from '../src/ir/types.js';
import { loadBoard, type Board } from '../src/toolchain/boards.js';
import { BudgetError, buildFirmware, type BuildResult } from '../src/toolchain/build.js';
import { runHarness } from '../src/toolchain/qemu.js';
import { buildHostDriver, KERNEL_PATHS, runHostDriver } from './helpers/host-build.js';

const root = new URL('../../shared/conformance/', import.meta.url).pathname;
const present = existsSync(root);
if (!present) console.warn(`conformance-codegen: ${root} is absent; skipping the conformance models`);

const REAL_MODELS = ['hello_world_int8', 'micro_speech_quantized', 'person_detect'];
const models = present ? [...REAL_MODELS, ...readdirSync(join(root, 'ops')).filter((d) => existsSync(join(root, 'ops', d, 'meta.json'))).map((d) => `ops/${d}`)] : [];
/** QEMU boards from the smallest RAM up (the M4 is run anyway). */
const SMALLEST_FIRST = ['microbit', 'mps2-an385'];

const work = mkdtempSync(join(tmpdir(), 'tinyforge-conformance-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Conformance {
  ir: IrModel;
  inputs: Uint8Array;
  golden: Uint8Array;
  n: number;
  inputBytes: number;
  outputBytes: number;
}

function load(model: string): Conformance {
  const dir = join(root, model);
  const ir = importTflite(readFileSync(join(dir, 'model.tflite')), { label: `${model}/model.tflite`, createdAt: 'test' });
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { N: number };
  const inputs = new Uint8Array(readFileSync(join(dir, 'inputs.bin')));
  const golden = new Uint8Array(readFileSync(join(dir, 'outputs.bin')));
  return { ir, inputs, golden, n: meta.N, inputBytes: inputs.length / meta.N, outputBytes: golden.length / meta.N };
}

/** Every record equal to the golden one; on failure, how many differ and the first. */
function expectGolden(c: Conformance, outputs: ArrayLike<number>[], what: string): void {
  expect(outputs.length, `${what}: records`).toBe(c.n);
  const bad: number[] = [];
  outputs.forEach((o, k) => {
    const want = c.golden.subarray(k * c.outputBytes, (k + 1) * c.outputBytes);
    if (o.length !== want.length || want.some((v, i) => v !== (o[i]! & 0xff))) bad.push(k);
  });
  const first = bad[0];
  const detail =
    first === undefined
      ? ''
      : `${what}: ${bad.length} of ${c.n} inputs differ; input ${first}: C [${Array.from(outputs[first]!, (v) => v & 0xff)}] ` +
        `TFLM [${[...c.golden.subarray(first * c.outputBytes, (first + 1) * c.outputBytes)]}]`;
  expect(bad.length, detail).toBe(0);
}

describe.skipIf(!present)('conformance: generated C equals TensorFlow Lite Micro on the host (ASan + UBSan)', () => {
  it('finds the 24 models', () => expect(models.length).toBe(24));

  for (const model of models) {
    it(`${model}: portable and DSP paths, every input`, async () => {
      const c = load(model);
      const lib = generateLibrary(c.ir);
      const kinds = new Set(c.ir.ops.map((op) => op.kind));
      for (const path of Object.keys(KERNEL_PATHS) as (keyof typeof KERNEL_PATHS)[]) {
        const exe = await buildHostDriver(lib, join(work, 'host', model, path), path);
        const got = await runHostDriver(exe, c.inputs, c.outputBytes);
        expectGolden(c, got.outputs, `${model} ${path}`);
        // The DSP build really takes the SMLAD path where the model has a kernel that uses it.
        const smladKernels = kinds.has('conv2d') || kinds.has('fully_connected');
        if (path === 'dsp' && smladKernels) expect(got.smlad).toBeGreaterThan(0);
        if (path === 'portable') expect(got.smlad).toBe(0);
      }
    }, 300_000);
  }
});

async function buildFor(lib: ReturnType<typeof generateLibrary>, model: string, board: Board, portable: boolean): Promise<BuildResult> {
  const modelDir = join(work, 'qemu', model, 'lib');
  writeLibrary(modelDir, lib);
  return buildFirmware({ board, modelDir, outDir: join(work, 'qemu', model, `${board.name}${portable ? '-portable' : ''}`), portable });
}

/** The first board of SMALLEST_FIRST the firmware fits (a BudgetError means it does not). */
async function smallestFit(lib: ReturnType<typeof generateLibrary>, model: string): Promise<BuildResult> {
  for (const name of SMALLEST_FIRST) {
    try {
      return await buildFor(lib, model, loadBoard(name), false);
    } catch (err) {
      if (!(err instanceof BudgetError)) throw err;
    }
  }
  throw new Error(`${model} fits none of ${SMALLEST_FIRST.join(', ')}`);
}

describe.skipIf(!present)('conformance: the firmware in QEMU equals TensorFlow Lite Micro', () => {
  for (const model of REAL_MODELS) {
    it(`${model}: mps2-an386 (Cortex-M4, DSP and portable paths) and the smallest board it fits, every input`, async () => {
      const c = load(model);
      const lib = generateLibrary(c.ir);
      const m4 = loadBoard('mps2-an386');
      const builds = [await buildFor(lib, model, m4, false), await buildFor(lib, model, m4, true), await smallestFit(lib, model)];
      for (const [k, build] of builds.entries()) {
        const what = `${model} on ${build.board.name}${k === 1 ? ' (portable)' : ''}`;
        const run = await runHarness({
          board: build.board,
          elf: build.elf,
          images: c.inputs,
          imageSize: c.inputBytes,
          workDir: join(work, 'qemu', model, `run-${k}`),
          timeoutMs: 300_000,
          processes: 1,
        });
        expect(run.numClasses, `${what}: output bytes`).toBe(c.outputBytes);
        const outputs = Array.from({ length: c.n }, (_, i) => run.logits.subarray(i * c.outputBytes, (i + 1) * c.outputBytes));
        expectGolden(c, outputs, what);
        for (const n of run.instructions) expect(n).toBeGreaterThan(0);
      }
    }, 900_000);
  }
});
