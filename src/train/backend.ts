// Chooses and starts the backend training runs on:
//   torch       libtorch through tinyforge's addon (native/torch); tfjs (wasm, else cpu) still
//               holds the model, its initial weights and inference
//   tensorflow  @tensorflow/tfjs-node (native libtensorflow), an optional dependency
//   wasm        @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD), plus our gradient fill-ins
//   cpu         pure JavaScript, always available; ~40x slower than wasm on the benchmark CNN
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { loadTorchAddon, ONE_THREAD_BELOW_MACS, torchThreads } from './torch/addon.js';
import { registerBatchNormGradient, registerWasmGradientKernels, wasmGradientFillIns } from './gradients.js';
import { wasmPath } from './wasm/path.js';

export type BackendPreference = 'auto' | 'torch' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = 'torch' | 'tensorflow' | 'wasm' | 'cpu';
export interface BackendInfo {
  name: BackendName;
  /** Human-readable: which build, SIMD/threads, fill-ins. */
  detail: string;
}
export interface BackendOptions {
  /** wasm only. Validated, but more than 1 is declined with a warning (see THREADS_DECLINED). */
  threads?: number;
}

const TFJS_NODE = '@tensorflow/tfjs-node';
const requireHere = createRequire(import.meta.url);

type Attempt = { ok: true; detail: string } | { ok: false; reason: string };

// ---------------------------------------------------------------- tensorflow (tfjs-node)

let tfjsNodeAttempt: Promise<Attempt> | undefined;

async function importTfjsNode(): Promise<Attempt> {
  try {
    // A variable specifier: the package is optional, so neither tsc nor a bundler may insist on it.
    const specifier: string = TFJS_NODE;
    await import(specifier);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const notInstalled = (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') &&
      String(e.message).includes(TFJS_NODE);
    return {
      ok: false,
      reason: notInstalled
        ? `${TFJS_NODE} is not installed. It is an optional dependency (its install downloads ` +
          `libtensorflow, ~300 MB, so it is skipped offline or where that download fails). Install it ` +
          `with \`npm install ${TFJS_NODE}@${tf.version.tfjs}\`, or use backend "wasm" (no native code).`
        : `${TFJS_NODE} is installed but failed to load (${e.message}). Reinstall it ` +
          `(\`npm rebuild ${TFJS_NODE}\`) or use backend "wasm".`,
    };
  }
  // tfjs-node registers its backend with the tfjs-core it resolves; a second copy of tfjs-core
  // (version mismatch) would leave ours without it.
  if (!tf.findBackendFactory('tensorflow')) {
    return {
      ok: false,
      reason: `${TFJS_NODE} loaded but registered no 'tensorflow' backend with this tfjs ` +
        `(${tf.version.tfjs}); install the matching version: \`npm install ${TFJS_NODE}@${tf.version.tfjs}\`.`,
    };
  }
  return { ok: true, detail: `tfjs-node (native libtensorflow), tfjs ${tf.version.tfjs}` };
}

async function startTensorflow(): Promise<Attempt> {
  tfjsNodeAttempt ??= importTfjsNode();
  const loaded = await tfjsNodeAttempt;
  if (!loaded.ok) return loaded;
  if (!(await tf.setBackend('tensorflow'))) return { ok: false, reason: `${TFJS_NODE} failed to initialise` };
  return loaded;
}

// ---------------------------------------------------------------- wasm

/** Folder holding the .wasm binaries, resolved the way Node resolves the package. */
function wasmBinaryDir(): string {
  return dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
}

let wasmPathsSet = false;

/**
 * Why `threads` > 1 is declined: tfjs-backend-wasm 4.x never picks its threaded build under
 * Node (tfjs issue #3830; forced, its worker loader hands Node a blob: URL and fails with
 * ERR_WORKER_PATH). Working around that does start a thread pool, but measured, its threads
 * stayed idle (per-thread CPU time): the kernels give it no work. See
 * scripts/wasm-speed-experiment.ts --threads=N.
 */
const THREADS_DECLINED = 'tfjs-backend-wasm 4.x has no threads under Node: each wasm instance runs on one thread ' +
  '(training uses one worker thread per core instead, data-parallel: TINYFORGE_WASM_THREADS)';

async function startWasm(threads: number | undefined): Promise<Attempt> {
  if (!tf.findBackendFactory('wasm')) return { ok: false, reason: 'the wasm backend is not registered' };
  if (threads !== undefined && threads > 1) log.warn(THREADS_DECLINED);
  if (!wasmPathsSet) {
    // Explicit, so the binaries are found in node_modules even when this code is bundled.
    setWasmPaths(wasmBinaryDir());
    wasmPathsSet = true;
  }
  // Idempotent, and our kernels need no per-backend setup, so order does not matter.
  const fillIns = registerWasmGradientKernels();
  if (fillIns.length > 0) log.debug(`wasm gradient fill-ins registered: ${fillIns.join(', ')}`);
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
  } catch (err) {
    return { ok: false, reason: `the wasm backend failed to start: ${(err as Error).message}` };
  }
  if (!ok) return { ok: false, reason: 'the wasm backend failed to start (see the warning above)' };
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const actualThreads = getThreadsCount();
  const build = actualThreads > 1 ? 'threaded-simd' : simd ? 'simd' : 'plain';
  return {
    ok: true,
    detail: `tfjs-backend-wasm ${build} build: SIMD ${simd ? 'on' : 'off'}, ${actualThreads} thread(s); ` +
      `gradient fill-ins: ${wasmGradientFillIns.map((k) => k.kernelName).join(', ')}; ${wasmPath()} batch-norm path`,
  };
}

// ---------------------------------------------------------------- cpu

async function startCpu(): Promise<Attempt> {
  if (!(await tf.setBackend('cpu'))) return { ok: false, reason: 'the cpu backend failed to start' };
  return { ok: true, detail: 'pure JavaScript (slowest; no native code or WebAssembly needed)' };
}

// ---------------------------------------------------------------- torch (libtorch addon)

let torchNoticeShown = false;

async function startTorch(): Promise<Attempt> {
  const loaded = loadTorchAddon();
  if (!loaded.ok) return { ok: false, reason: loaded.reason };
  // The tfjs model (initial weights, inference, quantization) still needs a tfjs backend.
  const tfjsSide = (await startWasm(undefined)).ok ? 'wasm' : (await startCpu()).ok ? 'cpu' : null;
  if (!tfjsSide) return { ok: false, reason: 'neither the wasm nor the cpu tfjs backend starts' };
  return {
    ok: true,
    detail: `libtorch ${loaded.addon.torchVersion} addon, ${process.env.TINYFORGE_TORCH_THREADS ? `${torchThreads()} thread(s)` : `1 thread below ${ONE_THREAD_BELOW_MACS / 1e6} M MACs per image, else ${torchThreads()}`}; tfjs side: ${tfjsSide}`,
  };
}

// ---------------------------------------------------------------- public API

function start(name: BackendName, opts: BackendOptions): Promise<Attempt> {
  if (name === 'torch') return startTorch();
  if (name === 'tensorflow') return startTensorflow();
  if (name === 'wasm') return startWasm(opts.threads);
  return startCpu();
}

/**
 * Makes `pref` the active backend. 'auto' takes the fastest that works: torch, tensorflow, wasm,
 * then cpu. An explicit preference that cannot be met is a UserError saying why.
 * Safe to call repeatedly.
 */
export async function initBackend(pref: BackendPreference, opts: BackendOptions = {}): Promise<BackendInfo> {
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new UserError(`backend threads: expected a positive integer, found ${opts.threads}`);
  }
  // Backend-neutral and cheaper than the stock batchnorm gradient everywhere (see gradients.ts).
  registerBatchNormGradient();
  const candidates: BackendName[] = pref === 'auto' ? ['torch', 'tensorflow', 'wasm', 'cpu'] : [pref];
  const refusals: string[] = [];
  for (const name of candidates) {
    const attempt = await start(name, opts);
    if (attempt.ok) {
      log.debug(`tfjs backend: ${name} (${attempt.detail})`);
      return { name, detail: attempt.detail };
    }
    refusals.push(candidates.length > 1 ? `${name}: ${attempt.reason}` : attempt.reason);
    if (name === 'torch' && pref === 'auto' && !torchNoticeShown && process.env.TINYFORGE_NO_TORCH !== '1') {
      torchNoticeShown = true;
      log.info(`native training backend unavailable (${attempt.reason}); using tfjs`);
    }
    log.debug(`tfjs backend ${name} unavailable: ${attempt.reason}`);
  }
  throw new UserError(`cannot use tfjs backend "${pref}": ${refusals.join('; ')}`);
}

/**
 * Backends that can start here, fastest first. Starting one makes it active, so the one active
 * before is restored afterwards (if none was, the last one started stays active).
 */
export async function listAvailableBackends(): Promise<BackendName[]> {
  // engine().backendName, not tf.getBackend(): the latter would start a default backend itself.
  const previous: string | null = tf.engine().backendName;
  const available: BackendName[] = [];
  for (const name of ['torch', 'tensorflow', 'wasm', 'cpu'] as const) {
    if ((await start(name, {})).ok) available.push(name);
  }
  if (previous) await tf.setBackend(previous);
  return available;
}
