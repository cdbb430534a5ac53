// Training throughput on every backend that starts here, and PyTorch on the same architecture
// in the same run (Debian's python3-torch, when importable), as a ratio. Each figure is the real
// training loop (src/train/train.ts) for one epoch over a fixed slice of MNIST, after a warm-up.
// The libtorch backend and PyTorch run back to back at each thread count, so both see the same
// machine load; the ratio is the figure to compare, not the absolute samples/s. Samples per
// CPU-second (all threads of the process) are printed too: other jobs move them much less.
//
//   node dist/bench/train.js [config ...] [--images N] [--keras-images N] [--threads 1,2]
//                            [--backends torch,wasm] [--rounds N]
//
// wasm runs the old composite path on one thread (TINYFORGE_WASM_PATH=composite) and the fused
// path at 1 and each thread count (TINYFORGE_WASM_THREADS: data-parallel workers), round by
// round, without augmentation, and prints each against the first and against PyTorch.
//
// Defaults: configs/default.json (3,200 images) and configs/baseline-keras.json (960 images);
// threads 1 and one per core for the libtorch backend, PyTorch and wasm; every backend that starts;
// 3 rounds for the libtorch/PyTorch pairs (medians printed). The PyTorch script trains without
// augmentation, so the ratio compares tinyforge with augmentation off too; the config's own
// setting (augmentation on, prepared while the step runs) is printed beside it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { loadDataset } from '../data/datasets.js';
import { createModel } from '../models/factory.js';
import { buildSpec } from '../models/zoo.js';
import { packageRoot } from '../paths.js';
import { initBackend, listAvailableBackends, type BackendName } from '../train/backend.js';
import { toFloatImages, trainModel } from '../train/train.js';
import { describeModel } from '../train/torch/describe.js';
import { setLogLevel } from '../util/log.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    images: { type: 'string', default: '3200' },
    'keras-images': { type: 'string', default: '960' },
    threads: { type: 'string' },
    backends: { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});
function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a positive integer, found "${text}"`);
  return n;
}
const images = positiveInt('images', values.images!);
const kerasImages = positiveInt('keras-images', values['keras-images']!);
const rounds = positiveInt('rounds', values.rounds!);
const threadCounts = (values.threads ?? [...new Set([1, availableParallelism()])].join(','))
  .split(',').map((t) => positiveInt('threads', t));
const configPaths = positionals.length ? positionals : ['configs/default.json', 'configs/baseline-keras.json'];
const PYTHON = '/usr/bin/python3';
/**
 * The addon fixes glibc's mmap and trim thresholds at load (native/torch/src/allocator.cc); without
 * them a PyTorch process unmaps and re-faults its step buffers until a large block happens to raise
 * glibc's dynamic thresholds (a one-off run here: about 4x slower). The anchor gets the same settings, so
 * the ratio compares the training steps, not the heap.
 */
const SAME_HEAP_SETTINGS = { MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024), MALLOC_TRIM_THRESHOLD_: String(256 * 1024 * 1024) };

setLogLevel('warn');
const available = await listAvailableBackends();
const backends = values.backends ? (values.backends.split(',') as BackendName[]).filter((b) => available.includes(b)) : available;
const pytorch = pytorchVersion();
console.log(
  `backends here: ${available.join(', ')}; PyTorch anchor: ${pytorch ?? `unavailable (${PYTHON} cannot import torch; apt-get install python3-torch)`}`,
);
console.log(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);

for (const path of configPaths) {
  const config = loadConfig(path);
  const n = config.model.architecture === 'keras-cnn' ? Math.min(images, kerasImages) : images;
  console.log(`\n${config.name}: ${config.model.architecture}, batch ${config.training.batchSize}, ${config.training.optimizer.name}, ` +
    `augmentation ${config.training.augmentation.enabled ? 'on' : 'off'} (tinyforge only), ${n} images`);
  for (const backend of backends) {
    const counts = backend === 'torch' ? threadCounts : [1];
    for (const threads of counts) {
      if (backend === 'torch') {
        await compareWithPytorch(path, config, threads, n);
        continue;
      }
      if (backend === 'wasm') {
        await compareWasmPaths(path, config, n, threadCounts);
        continue;
      }
      // cpu is ~40x slower than wasm: a smaller slice keeps the benchmark to a minute.
      const slice = backend === 'cpu' ? Math.max(config.training.batchSize, Math.floor(n / 40)) : n;
      const ours = await measure(path, backend, threads, slice, config.training.augmentation.enabled);
      console.log(`  ${backend.padEnd(6)} ${String(threads).padStart(2)} thread(s) ${ours.samplesPerSecond.toFixed(0).padStart(7)} samples/s ` +
        `(${slice} images, config's augmentation; ${ours.samplesPerCpuSecond.toFixed(0)} per CPU-second)`);
    }
  }
}
console.log(`\nload average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/**
 * libtorch backend and PyTorch at one thread count, interleaved round by round so that both see
 * the same load; medians, and the median of the per-round ratios.
 */
async function compareWithPytorch(path: string, config: Config, threads: number, n: number): Promise<void> {
  const plain: Speed[] = [];
  const augmented: Speed[] = [];
  const theirs: Speed[] = [];
  for (let round = 0; round < rounds; round++) {
    plain.push(await measure(path, 'torch', threads, n, false));
    if (pytorch) theirs.push(pytorchSpeed(config, threads, n));
    if (config.training.augmentation.enabled) augmented.push(await measure(path, 'torch', threads, n, true));
  }
  const wall = (xs: Speed[]) => median(xs.map((x) => x.samplesPerSecond));
  const cpu = (xs: Speed[]) => median(xs.map((x) => x.samplesPerCpuSecond));
  let line = `  torch  ${String(threads).padStart(2)} thread(s) ${wall(plain).toFixed(0).padStart(7)} samples/s (${n} images, no augmentation)`;
  if (pytorch) {
    const ratios = plain.map((p, i) => p.samplesPerSecond / theirs[i].samplesPerSecond);
    const cpuRatios = plain.map((p, i) => p.samplesPerCpuSecond / theirs[i].samplesPerCpuSecond);
    line += `   PyTorch ${wall(theirs).toFixed(0).padStart(6)} samples/s   ratio ${median(ratios).toFixed(2)}x ` +
      `(rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}); per CPU-second: ${cpu(plain).toFixed(0)} vs ` +
      `${cpu(theirs).toFixed(0)}, ratio ${median(cpuRatios).toFixed(2)}x`;
  }
  console.log(line);
  if (augmented.length) {
    console.log(`         ${String(threads).padStart(2)} thread(s) ${wall(augmented).toFixed(0).padStart(7)} samples/s ` +
      `(augmentation on, as configured; ${cpu(augmented).toFixed(0)} per CPU-second)`);
  }
}

/**
 * wasm, three ways, interleaved round by round: the composite path tfjs-layers builds
 * (TINYFORGE_WASM_PATH=composite, one thread: where this project stood before), the fused path
 * on one thread, and the fused path data-parallel over each thread count; ratios against the
 * first, and against PyTorch at the most threads (when importable). Augmentation off, as the
 * PyTorch script trains.
 */
async function compareWasmPaths(path: string, config: Config, n: number, threads: number[]): Promise<void> {
  const variants = [
    { label: 'composite, 1 thread', path: 'composite', threads: 1 },
    ...[...new Set([1, ...threads])].map((t) => ({ label: `fused, ${t} thread(s)`, path: 'fused', threads: t })),
  ];
  const speeds: Speed[][] = variants.map(() => []);
  const theirs: Speed[] = [];
  const anchorThreads = Math.max(...threads);
  const saved = { path: process.env.TINYFORGE_WASM_PATH, threads: process.env.TINYFORGE_WASM_THREADS };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [i, v] of variants.entries()) {
        process.env.TINYFORGE_WASM_PATH = v.path;
        process.env.TINYFORGE_WASM_THREADS = String(v.threads);
        speeds[i].push(await measure(path, 'wasm', v.threads, n, false));
      }
      if (pytorch) theirs.push(pytorchSpeed(config, anchorThreads, n));
    }
  } finally {
    restoreEnv('TINYFORGE_WASM_PATH', saved.path);
    restoreEnv('TINYFORGE_WASM_THREADS', saved.threads);
  }
  const ratioText = (xs: Speed[], ys: Speed[]) => {
    const ratios = xs.map((x, r) => x.samplesPerSecond / ys[r].samplesPerSecond);
    const cpuRatios = xs.map((x, r) => x.samplesPerCpuSecond / ys[r].samplesPerCpuSecond);
    return `${median(ratios).toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}), per CPU-second ${median(cpuRatios).toFixed(2)}x`;
  };
  variants.forEach((v, i) => {
    const wall = median(speeds[i].map((x) => x.samplesPerSecond));
    const cpu = median(speeds[i].map((x) => x.samplesPerCpuSecond));
    let line = `  wasm   ${v.label.padEnd(22)} ${wall.toFixed(0).padStart(7)} samples/s (${n} images, no augmentation; ${cpu.toFixed(0)} per CPU-second)`;
    if (i > 0) line += `\n         vs composite: ${ratioText(speeds[i], speeds[0])}`;
    if (theirs.length) line += `\n         vs PyTorch (${anchorThreads} thread(s), ${median(theirs.map((x) => x.samplesPerSecond)).toFixed(0)} samples/s): ${ratioText(speeds[i], theirs)}`;
    console.log(line);
  });
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

interface Speed {
  samplesPerSecond: number;
  /** Samples per CPU-second of the whole process: less sensitive to other jobs than wall time. */
  samplesPerCpuSecond: number;
}

/** One epoch of tinyforge's own training loop on one backend, after a warm-up. */
async function measure(path: string, backend: BackendName, threads: number, count: number, augmentation: boolean): Promise<Speed> {
  process.env.TINYFORGE_TORCH_THREADS = String(threads);
  await initBackend(backend);
  const run = async (trainLimit: number) => {
    const c = loadConfig(path);
    Object.assign(c.training, { epochs: 1, validationSplit: 0 });
    c.training.augmentation.enabled = augmentation;
    Object.assign(c.dataset, { trainLimit, testLimit: 10 });
    const result = await trainModel(c, loadDataset(c.dataset), { backend, trainingHash: 'bench' });
    result.model.dispose();
    const epoch = result.history[0];
    return { samplesPerSecond: epoch.samplesPerSecond, samplesPerCpuSecond: trainLimit / epoch.cpuSeconds };
  };
  // cpu takes seconds per batch on the larger models: one batch warms it up.
  await run(loadConfig(path).training.batchSize * (backend === 'cpu' ? 1 : 3));
  return run(count);
}

function pytorchVersion(): string | null {
  try {
    return execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** PyTorch on the architecture tinyforge builds for `config`, same images, batch and optimiser. */
function pytorchSpeed(config: Config, threads: number, count: number): Speed {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-bench-'));
  try {
    const c = structuredClone(config);
    c.dataset.trainLimit = count;
    c.dataset.testLimit = 10;
    const data = loadDataset(c.dataset);
    const spec = buildSpec(c.model, [data.height, data.width, data.channels], data.classNames.length);
    const model = createModel(spec, c.training.seed);
    const layers = describeModel(model).map(({ weights, ...layer }) => ({ ...layer, weights: weights?.map((w) => ({ shape: w.shape })) }));
    model.dispose();
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ inputShape: spec.inputShape, layers }));
    writeFileSync(join(dir, 'images.f32'), toFloatImages(data.train));
    writeFileSync(join(dir, 'labels.i32'), Int32Array.from(data.train.labels));
    const script = join(packageRoot(), 'scripts', 'bench', 'torch_anchor.py');
    const out = execFileSync(PYTHON, [script, join(dir, 'model.json'), join(dir, 'images.f32'), join(dir, 'labels.i32'),
      String(count), String(c.training.batchSize), String(threads)], { encoding: 'utf8', env: { ...process.env, ...SAME_HEAP_SETTINGS } });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { samplesPerSecond: number; cpuSeconds: number };
    return { samplesPerSecond: r.samplesPerSecond, samplesPerCpuSecond: count / r.cpuSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
