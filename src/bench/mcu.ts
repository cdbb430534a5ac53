// The MCU benchmark: one quantized model on every QEMU board, through the portable kernels and,
// where the core has the DSP extension, the DSP kernels. For each: the harness firmware's flash
// and RAM, the deployable figures of the footprint firmware (src/toolchain/footprint.ts), and
// instructions per inference (QEMU -icount, exact to a SysTick tick) and per MAC. The outputs are
// also compared with the int8 reference, input by input.
//
//   node dist/bench/mcu.js [model.ir.json] [--images <n>]     (defaults: out/default/model.ir.json, 50)
//       a zoo model on the first n MNIST test images;
//   node dist/bench/mcu.js <model.tflite> [--inputs <records.bin>] [--images <n>]
//       an imported model on the first n records of a raw input file (the graph inputs' bytes,
//       back to back; default: inputs.bin beside the model, as in ../shared/conformance).
//   --bands: generate with row bands where they lower the arena (src/codegen/bands.ts); without
//       (the default, and --no-bands) the layer-by-layer schedule.
//   --bands-max-extra F: row bands adding at most the fraction F of the model's MACs (suffix -bands-F).
//
// Prints a table and writes the same rows to out/bench/mcu.json. Work files go to out/bench/mcu/.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { generateLibrary, writeLibrary, type RowBandSummary } from '../codegen/generate.js';
import { rowBandsLine } from './row-bands.js';
import { loadDataset } from '../data/datasets.js';
import { importTflite } from '../import/import.js';
import { loadIr } from '../ir/io.js';
import { tensorSize, type IrModel } from '../ir/types.js';
import { layerResources } from '../profile/resources.js';
import { evaluateReference, runReferenceBytes } from '../reference/interpreter.js';
import { listBoards, loadBoard, type Board } from '../toolchain/boards.js';
import { buildFirmware } from '../toolchain/build.js';
import { buildFootprint } from '../toolchain/footprint.js';
import { runHarness } from '../toolchain/qemu.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { boundPerMac } from './bound.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { runBench } from './main.js';

const DEFAULT_IR = 'out/default/model.ir.json';
const DEFAULT_IMAGES = 50;
const OUT_DIR = 'out/bench';

export interface McuBenchRow {
  board: string;
  core: string;
  path: 'portable' | 'dsp';
  /** Harness (verification) firmware: everything written to flash / reserved in RAM. */
  flashBytes: number | null;
  ramBytes: number | null;
  /** Footprint (deployable) firmware. */
  deployFlashBytes: number | null;
  deployRamBytes: number | null;
  /** Deployable flash minus weights. */
  deployCodeBytes: number | null;
  deployStackBytes: number | null;
  instructionsPerInference: number | null;
  instructionsMin: number | null;
  instructionsMax: number | null;
  instructionsPerMac: number | null;
  /** Images whose logits differ from the int8 reference (0: bit-exact). */
  mismatches: number | null;
  accuracy: number | null;
  /** Why the row is incomplete (e.g. the model does not fit the board). */
  error?: string;
}

export interface McuBenchReport {
  ir: string;
  model: string;
  images: number;
  /** What the inputs were (MNIST test images, or the records of a file). */
  inputs: string;
  /** Sum over conv2d / depthwise / fully connected of full-window MACs (src/profile/resources.ts). */
  macs: number;
  weightsBytes: number | null;
  /** Activation arena of the generated library, its schedule's lower bound, and the layer-by-layer bound (no fusion). */
  arenaBytes: number;
  arenaLowerBoundBytes: number;
  layerByLayerBoundBytes: number;
  /** The arena without row bands, and the band run if the generator chose one (src/codegen/bands.ts). */
  unbandedArenaBytes: number;
  rowBands: RowBandSummary | null;
  /** MACs on valid taps per inference (MODEL_MACS), to which the row bands add rowBands.extraMacs. */
  validMacs: number;
  optimization: '-Os';
  createdAt: string;
  rows: McuBenchRow[];
}

/** Full-window MACs of the IR's conv2d, depthwise and fully connected ops (pools and reshapes have none). */
export function modelMacs(ir: IrModel): number {
  return layerResources(ir).reduce((sum, layer) => sum + layer.macs, 0);
}

function parseArgs(argv: string[]): { irPath: string; images: number; inputs?: string; bands: boolean; maxExtra?: number } {
  let irPath: string | undefined;
  let images = DEFAULT_IMAGES;
  let inputs: string | undefined;
  let bands = false;
  let maxExtra: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bands') {
      bands = true;
    } else if (argv[i] === '--no-bands') {
      bands = false;
    } else if (argv[i] === '--bands-max-extra') {
      bands = true;
      maxExtra = Number(argv[++i]);
      if (!(maxExtra >= 0)) throw new UserError(`bench:mcu: --bands-max-extra expects a fraction >= 0, got "${argv[i]}"`);
    } else if (argv[i] === '--inputs') {
      inputs = argv[++i];
    } else if (argv[i] === '--images') {
      images = Number(argv[++i]);
      if (!Number.isInteger(images) || images < 1 || images > 10000) {
        throw new UserError(`bench:mcu: --images expects a whole number of test images from 1 to 10000, got "${argv[i]}"`);
      }
    } else if (argv[i].startsWith('-')) {
      throw new UserError(
        `bench:mcu: unknown option ${argv[i]} (usage: node dist/bench/mcu.js [model.ir.json | model.tflite] [--inputs <records.bin>] [--images <n>] [--bands] [--bands-max-extra <fraction>])`,
      );
    } else {
      irPath = argv[i];
    }
  }
  return { irPath: irPath ?? DEFAULT_IR, images, inputs, bands, maxExtra };
}

/** What the boards run and what they must output: records of recordBytes, expected outputs of outputBytes each. */
interface BenchData {
  records: Uint8Array;
  recordBytes: number;
  count: number;
  expected: Uint8Array;
  outputBytes: number;
  /** MNIST labels (zoo models): accuracy is reported. */
  labels?: Uint8Array;
  /** What the records are, for the table's title. */
  describe: string;
}

function emptyRow(board: Board, path: 'portable' | 'dsp'): McuBenchRow {
  return {
    board: board.name, core: board.cpu, path,
    flashBytes: null, ramBytes: null, deployFlashBytes: null, deployRamBytes: null, deployCodeBytes: null, deployStackBytes: null,
    instructionsPerInference: null, instructionsMin: null, instructionsMax: null, instructionsPerMac: null,
    mismatches: null, accuracy: null,
  };
}

async function benchOne(board: Board, path: 'portable' | 'dsp', cDir: string, workDir: string, data: BenchData, macs: number): Promise<McuBenchRow> {
  const row = emptyRow(board, path);
  const portable = path === 'portable';
  try {
    const footprint = await buildFootprint({ board, modelDir: cDir, outDir: join(workDir, 'footprint'), portable });
    row.deployFlashBytes = footprint.sizes.flashBytes;
    row.deployRamBytes = footprint.sizes.ramBytes;
    row.deployCodeBytes = footprint.sizes.codeBytes;
    row.deployStackBytes = footprint.sizes.stackBytes;

    const harness = await buildFirmware({ board, modelDir: cDir, outDir: join(workDir, 'harness'), portable });
    row.flashBytes = harness.sizes.flash.used;
    row.ramBytes = harness.sizes.ram.used;

    const run = await runHarness({
      board, elf: harness.elf, images: data.records, imageSize: data.recordBytes, workDir: join(workDir, 'run'),
      timeoutMs: 60_000 + data.count * Math.max(200, Math.ceil(macs / 10_000)),
    });
    const instructions = Array.from(run.instructions);
    const mean = instructions.reduce((a, b) => a + b, 0) / instructions.length;
    row.instructionsPerInference = mean;
    row.instructionsMin = Math.min(...instructions);
    row.instructionsMax = Math.max(...instructions);
    row.instructionsPerMac = macs > 0 ? mean / macs : null;
    let mismatches = 0;
    let correct = 0;
    for (let i = 0; i < data.count; i++) {
      const at = i * data.outputBytes;
      for (let k = 0; k < data.outputBytes; k++) {
        if ((run.logits[at + k]! & 0xff) !== data.expected[at + k]) {
          mismatches++;
          break;
        }
      }
      if (data.labels && run.classes[i] === data.labels[i]) correct++;
    }
    row.mismatches = mismatches;
    row.accuracy = data.labels ? correct / data.count : null;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    row.error = err.message.split('\n')[0];
    log.warn(`${board.name} (${path}): ${row.error}`);
  }
  return row;
}

const num = (n: number | null, digits = 0) => (n === null ? '-' : digits ? n.toFixed(digits) : String(Math.round(n)));

export function formatMcuTable(report: McuBenchReport): string {
  const header = ['board', 'core', 'path', 'flash', 'RAM', 'deploy flash', 'deploy RAM', 'deploy code', 'instr/inference', 'instr/MAC', 'bound/MAC', 'x bound', 'bit-exact'];
  const rows = report.rows.map((r) => [
    r.board, r.core, r.path, num(r.flashBytes), num(r.ramBytes), num(r.deployFlashBytes), num(r.deployRamBytes), num(r.deployCodeBytes),
    num(r.instructionsPerInference), num(r.instructionsPerMac, 2), boundPerMac(r.core, r.path).toFixed(1),
    r.instructionsPerMac === null ? '-' : (r.instructionsPerMac / boundPerMac(r.core, r.path)).toFixed(2),
    r.error ? `error: ${r.error}` : r.mismatches === 0 ? 'yes' : `NO (${r.mismatches}/${report.images})`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (c === header.length - 1 ? 0 : r[c].length))));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [
    `${report.model} (${report.ir}): ${report.macs} MACs, ${report.images} ${report.inputs}, -Os; sizes in bytes`,
    '(flash/RAM: harness firmware for verification; deploy: footprint firmware, what a product flashes; code = flash - weights)',
    `arena ${report.arenaBytes} bytes: lower bound of its schedule ${report.arenaLowerBoundBytes}, layer-by-layer bound ` +
      `${report.layerByLayerBoundBytes} (conv + max pool fused); bound/MAC: SMLAD 0.5, MLA 1, MULS + ADDS 2 (npm run bench:kernels -- --layers: per layer)`,
    ...(report.rowBands ? [rowBandsLine(report.rowBands, report.unbandedArenaBytes, report.validMacs)] : []),
    '',
    line(header),
    line(header.map((_, c) => '-'.repeat(c === header.length - 1 ? header[c].length : widths[c]))),
    ...rows.map(line),
  ].join('\n');
}

/** A zoo model's IR on the first MNIST test images; the reference's logits are the expected outputs. */
function mnistData(irPath: string, ir: IrModel, images: number): BenchData {
  const input = ir.tensors.find((t) => t.id === ir.input.tensor)!;
  if (tensorSize(input) !== 28 * 28) {
    throw new UserError(`${irPath}: /input/tensor: expected a 28x28x1 MNIST input, found shape ${JSON.stringify(input.shape)}`);
  }
  const test = loadDataset({ name: 'mnist', dir: null, trainLimit: null, testLimit: images }).test;
  const count = Math.min(images, test.count);
  const records = test.images.subarray(0, count * 784);
  const labels = test.labels.subarray(0, count);
  const logits = evaluateReference(ir, records, labels).logits;
  return { records, recordBytes: 784, count, expected: new Uint8Array(logits.buffer, logits.byteOffset, logits.length), outputBytes: ir.output.numClasses, labels, describe: 'MNIST test images' };
}

/** An imported model on the first records of a raw input file; the reference's outputs are the expected ones. */
function recordData(ir: IrModel, file: string, images: number): BenchData {
  if (!existsSync(file)) throw new UserError(`bench:mcu: no input records at ${file} (pass --inputs <file>: the graph inputs' raw bytes, back to back)`);
  const bytes = new Uint8Array(readFileSync(file));
  const recordBytes = ir.tensors
    .filter((t) => [ir.input, ...(ir.extraInputs ?? [])].some((i) => i.tensor === t.id))
    .reduce((n, t) => n + tensorSize(t) * (t.dtype === 'float32' ? 4 : 1), 0);
  if (bytes.length % recordBytes !== 0) throw new UserError(`${file}: ${bytes.length} bytes is not a whole number of ${recordBytes}-byte input records`);
  const count = Math.min(images, bytes.length / recordBytes);
  const records = bytes.subarray(0, count * recordBytes);
  const outputs = Array.from({ length: count }, (_, k) => runReferenceBytes(ir, records.subarray(k * recordBytes, (k + 1) * recordBytes)));
  const outputBytes = outputs[0]!.length;
  const expected = new Uint8Array(count * outputBytes);
  outputs.forEach((o, k) => expected.set(o, k * outputBytes));
  return { records, recordBytes, count, expected, outputBytes, describe: `records of ${file}` };
}

async function main(): Promise<void> {
  const { irPath, images, inputs, bands, maxExtra } = parseArgs(process.argv.slice(2));
  if (!existsSync(irPath)) {
    throw new UserError(
      `bench:mcu: no IR at ${irPath}. Create it with \`npx tinyforge train configs/default.json\` then ` +
        '`npx tinyforge quantize configs/default.json` (or `npx tinyforge run configs/default.json`), ' +
        'or pass the path of a model.ir.json or a .tflite file.',
    );
  }
  const imported = irPath.endsWith('.tflite');
  const ir = imported ? importTflite(new Uint8Array(readFileSync(irPath)), { label: irPath }) : loadIr(irPath);
  const data = imported ? recordData(ir, inputs ?? join(dirname(irPath), 'inputs.bin'), images) : mnistData(irPath, ir, images);
  const macs = modelMacs(ir);
  const count = data.count;

  const suffix = bands ? (maxExtra !== undefined ? `-bands-${maxExtra}` : '-bands') : '';
  const name = `${imported ? `mcu-${basename(dirname(resolve(irPath)))}` : 'mcu'}${suffix}`;
  const workRoot = resolve(OUT_DIR, name);
  const cDir = join(workRoot, 'c');
  const lib = generateLibrary(ir, { rowBands: bands, rowBandsMaxExtraMacs: maxExtra });
  writeLibrary(cDir, lib);

  const boards = listBoards().map((name) => loadBoard(name)).filter((b) => b.kind === 'qemu');
  const rows: McuBenchRow[] = [];
  for (const board of boards) {
    for (const path of board.dsp ? (['portable', 'dsp'] as const) : (['portable'] as const)) {
      log.info(`bench:mcu: ${board.name} (${board.cpu}, ${path} kernels)`);
      rows.push(await benchOne(board, path, cDir, join(workRoot, `${board.name}-${path}`), data, macs));
    }
  }
  const report: McuBenchReport = {
    ir: irPath, model: ir.name, images: count, inputs: data.describe, macs, weightsBytes: lib.weightsBytes,
    arenaBytes: lib.arenaBytes, arenaLowerBoundBytes: lib.arenaLowerBoundBytes, layerByLayerBoundBytes: lib.layerByLayerBoundBytes,
    unbandedArenaBytes: lib.unbandedArenaBytes, rowBands: lib.rowBands ?? null, validMacs: lib.macs,
    optimization: '-Os',
    createdAt: new Date().toISOString(), rows,
  };
  const jsonPath = join(OUT_DIR, `${name}.json`);
  writeJsonAtomic(jsonPath, report);
  console.log(formatMcuTable(report));
  console.log(`\nwritten: ${jsonPath}`);
  if (rows.some((r) => r.error || (r.mismatches ?? 0) > 0)) process.exitCode = 1;
}

await runBench(main);
