// Scratch experiment: training throughput of a representative small CNN on the tfjs backends.
// Random data (throughput does not depend on it), one configuration per process because the
// wasm build and thread count are fixed once the backend starts.
//
//   npx vite-node scripts/wasm-speed-experiment.ts -- --backend=wasm --batch=128 --steps=60
//   options: --backend=wasm|cpu|tensorflow  --threads=N  --batch=N  --steps=N  --mode=fit|loop
//            --model=cnn|separable  --fillin=conv|taps  --profile[=shapes] (kernel time breakdown)
//            --stock=bn,Identity,MaxPoolGrad,Conv2DBackpropInput (undo our replacements, for A/B)
//
// Numbers are wall-clock on a shared machine: run each configuration more than once.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { type BackendPreference, initBackend } from '../src/train/backend.js';

interface Options {
  backend: BackendPreference;
  threads: number;
  batch: number;
  steps: number;
  mode: 'fit' | 'loop';
  model: 'cnn' | 'separable';
  fillin: 'conv' | 'taps';
  /** Put tfjs's own versions back, to measure what each replacement buys: kernel names and/or 'bn'. */
  stock: string[];
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const given = new Map(argv.filter((a) => a.startsWith('--')).map((a) => {
    const [key, value = 'true'] = a.slice(2).split('=');
    return [key, value] as const;
  }));
  const text = (key: string, fallback: string) => given.get(key) ?? fallback;
  return {
    backend: text('backend', 'wasm') as BackendPreference,
    threads: Number(text('threads', '1')),
    batch: Number(text('batch', '128')),
    steps: Number(text('steps', '60')),
    mode: text('mode', 'fit') as Options['mode'],
    model: text('model', 'cnn') as Options['model'],
    fillin: text('fillin', 'conv') as Options['fillin'],
    stock: text('stock', '').split(',').filter(Boolean),
    profile: given.has('profile'),
  };
}

/**
 * Starts tfjs's threaded-SIMD wasm build under Node, which tfjs itself refuses (issue #3830):
 * its loader hands Node's Worker a blob: URL (ERR_WORKER_PATH), and XNNPACK caps the pool at
 * os.cpus()/2. Here the workers get a real file that evaluates tfjs's own worker script and
 * loads the threaded module file from the package; the patched globals are restored after.
 * Finding (tfjs 4.22): the pool starts and results are right, but its threads stay idle
 * (per-thread CPU ticks in /proc), so src/train/backend.ts does not offer this.
 */
async function startThreadedWasm(threads: number): Promise<void> {
  const wasmOut = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')), '..', 'wasm-out');
  const workerFile = join(mkdtempSync(join(os.tmpdir(), 'wasm-threads-')), 'worker.cjs');
  writeFileSync(workerFile, [
    'global.require = require; global.__filename = __filename;',
    `URL.createObjectURL = () => ${JSON.stringify(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js'))};`,
    'URL.revokeObjectURL = () => {};',
    `(0, eval)(require(${JSON.stringify(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js'))})` +
      `.wasmWorkerContents.replace(/\\n/g, '\\\\n'));`,
  ].join('\n'));
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = () => workerFile;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('threaded wasm failed to start');
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
}

/** CPU ticks per thread of this process, from /proc (Linux): shows whether pool threads work. */
function threadTicks(): string {
  try {
    return readdirSync('/proc/self/task').map((task) => {
      const fields = readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime + stime
    }).filter((ticks) => ticks > 0).join(' ');
  } catch {
    return 'n/a';
  }
}

/** conv3x3 8 + BN + relu, pool, conv3x3 16 + BN + relu, pool, conv3x3 32 + BN + relu, GAP, dense 10. */
function buildModel(kind: Options['model']): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: [28, 28, 1] }));
  const block = (filters: number, separable: boolean) => {
    if (separable) {
      model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }));
      model.add(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false }));
    } else {
      model.add(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }));
    }
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.reLU());
  };
  block(8, false);
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  block(16, kind === 'separable');
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  block(32, kind === 'separable');
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 10 }));
  return model;
}

/**
 * The alternative Conv2DBackpropFilter, for comparison with the one in src/train/gradients.ts:
 * per filter tap, a strided slice of the padded input times dy (one matMul per tap).
 */
function registerTapsFilterGrad(): void {
  tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  const run = (backend: unknown, name: string, inputs: Record<string, tf.TensorInfo>, attrs: object) =>
    tf.getKernel(name, 'wasm')!.kernelFunc({ inputs, backend: backend as object, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad);
      const { top, bottom, left, right } = info.padInfo;
      const temps: tf.TensorInfo[] = [];
      const keep = (t: tf.TensorInfo) => (temps.push(t), t);
      const padded = keep(run(backend, 'PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }));
      const m = info.batchSize * info.outHeight * info.outWidth;
      const dy2 = keep(run(backend, 'Reshape', { x: dy }, { shape: [1, m, info.outChannels] }));
      const taps: tf.TensorInfo[] = [];
      for (let i = 0; i < info.filterHeight; i++) {
        for (let j = 0; j < info.filterWidth; j++) {
          const tap = keep(run(backend, 'StridedSlice', { x: padded }, {
            begin: [0, i, j, 0],
            end: [info.batchSize, i + info.strideHeight * (info.outHeight - 1) + 1, j + info.strideWidth * (info.outWidth - 1) + 1, info.inChannels],
            strides: [1, info.strideHeight, info.strideWidth, 1],
            beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
          }));
          const tap2 = keep(run(backend, 'Reshape', { x: tap }, { shape: [1, m, info.inChannels] }));
          taps.push(keep(run(backend, 'BatchMatMul', { a: tap2, b: dy2 }, { transposeA: true, transposeB: false })));
        }
      }
      // wasm's Concat takes its inputs as an array.
      const stacked = keep(run(backend, 'Concat', taps as unknown as Record<string, tf.TensorInfo>, { axis: 0 }));
      const out = run(backend, 'Reshape', { x: stacked }, { shape: a.filterShape });
      for (const t of temps) (backend as tf.KernelBackend).disposeData(t.dataId);
      return out;
    },
  });
}

async function trainSteps(model: tf.LayersModel, opts: Options, xs: tf.Tensor, ys: tf.Tensor, steps: number): Promise<void> {
  if (opts.mode === 'fit') {
    const samples = steps * opts.batch;
    await model.fit(xs.slice(0, samples), ys.slice(0, samples), { batchSize: opts.batch, epochs: 1, verbose: 0, shuffle: false });
    return;
  }
  // A hand-written loop: no per-batch callbacks or metric bookkeeping, one sync per step.
  const optimizer = model.optimizer;
  for (let step = 0; step < steps; step++) {
    const loss = tf.tidy((): tf.Scalar => {
      const xb = xs.slice(step * opts.batch, opts.batch);
      const yb = ys.slice(step * opts.batch, opts.batch);
      return optimizer.minimize(() => {
        const logits = model.apply(xb, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(yb, logits) as tf.Scalar;
      }, true) as tf.Scalar;
    });
    loss.dataSync();
    loss.dispose();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  // tfjs's own kernels and batchnorm gradient, captured before initBackend replaces them.
  const stockKernels = opts.stock.filter((k) => k !== 'bn').map((k) => tf.getKernel(k, 'wasm'));
  const stockBatchNormGrad = tf.getGradient('FusedBatchNorm');
  if (opts.threads > 1) await startThreadedWasm(opts.threads);
  const info = await initBackend(opts.backend);
  if (opts.fillin === 'taps') registerTapsFilterGrad();
  for (const kernel of stockKernels) {
    if (!kernel) throw new Error(`--stock: no stock wasm kernel among ${opts.stock.join(',')}`);
    tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel(kernel);
    kernel.setupFunc?.(tf.backend()); // a kernel registered after the backend started is not set up
  }
  if (opts.stock.includes('bn') && stockBatchNormGrad) tf.registerGradient(stockBatchNormGrad);
  const model = buildModel(opts.model);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy });
  const warmup = 3;
  const total = (warmup + opts.steps) * opts.batch;
  const xs = tf.randomUniform([total, 28, 28, 1]);
  const ys = tf.oneHot(tf.randomUniform([total], 0, 10, 'int32'), 10).toFloat();

  await trainSteps(model, opts, xs, ys, warmup);
  if (opts.profile) {
    const profile = await tf.profile(() => trainSteps(model, opts, xs, ys, 5));
    // Grouped by kernel, or with --profile=shapes by kernel and input shapes.
    const byShapes = process.argv.includes('--profile=shapes');
    const byKernel = new Map<string, number>();
    for (const k of profile.kernels) {
      const key = byShapes ? `${k.name} ${k.inputShapes.map((sh) => `[${sh}]`).join(' ')}` : k.name;
      byKernel.set(key, (byKernel.get(key) ?? 0) + Number(await k.kernelTimeMs));
    }
    const sum = [...byKernel.values()].reduce((a, b) => a + b, 0);
    console.log(`kernel time over 5 steps: ${sum.toFixed(0)} ms`);
    for (const [name, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, byShapes ? 25 : 12)) {
      console.log(`  ${name.padEnd(byShapes ? 70 : 36)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / sum).toFixed(1)}%`);
    }
  }
  // Wall time and this process's CPU time: on a shared machine the CPU-time rate is the stable
  // one (it ignores time spent waiting for a core), as long as the run is single-threaded.
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await trainSteps(model, opts, xs, ys, opts.steps);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rate = (opts.steps * opts.batch) / seconds;
  const cpuRate = (opts.steps * opts.batch) / cpuSeconds;
  console.log(`${info.name} threads=${opts.threads} batch=${opts.batch} mode=${opts.mode} model=${opts.model} ` +
    `fillin=${opts.fillin} stock=${opts.stock.join('+') || '-'} params=${model.countParams()}: ` +
    `${rate.toFixed(0)} samples/s wall, ${cpuRate.toFixed(0)} samples/cpu-s ` +
    `(${opts.steps} steps, ${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s cpu) [${info.detail.split(';')[0]}]`);
  if (opts.threads > 1) console.log(`CPU ticks per busy thread: ${threadTicks()}`);
}

await main();
