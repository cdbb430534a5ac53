// Loads the libtorch training addon (native/torch, built by scripts/build-torch.sh) and types its
// surface. Optional: where it was not built or does not load, training uses the tfjs backends.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { UserError } from '../../util/errors.js';

/** One layer as the addon builds it; weights in tfjs layout and order. */
export interface TorchLayer {
  name: string;
  type: 'conv2d' | 'depthwise_conv2d' | 'dense' | 'batch_norm' | 'relu' | 'max_pool2d' | 'avg_pool2d' |
    'global_avg_pool' | 'flatten' | 'dropout';
  kernel?: number;
  stride?: number;
  padding?: 'same' | 'valid';
  depthMultiplier?: number;
  maxValue?: number;
  rate?: number;
  epsilon?: number;
  momentum?: number;
  weights?: Array<{ shape: number[]; data: Float32Array }>;
}

export interface TorchNetworkDefinition {
  inputShape: [number, number, number];
  layers: TorchLayer[];
  optimizer: { name: 'adam' | 'sgd' | 'rmsprop'; momentum: number };
  threads: number;
  seed: number;
}

export interface TorchNetwork {
  /** Runs on the network's own step thread, one step after the other; the arrays are copied before it returns, so they may be refilled. */
  trainStep(images: Float32Array, labels: Int32Array, count: number, learningRate: number): Promise<{ loss: number; correct: number }>;
  evaluate(images: Float32Array, labels: Int32Array, count: number): { lossSum: number; correct: number };
  predict(images: Float32Array, count: number): Float32Array;
  gradients(images: Float32Array, labels: Int32Array, count: number): { loss: number; weights: Float32Array[][]; input: Float32Array };
  weights(): Float32Array[][];
}

export interface TorchAddon {
  Network: new (definition: TorchNetworkDefinition) => TorchNetwork;
  torchVersion: string;
  defaultThreads: number;
}

export const addonPath = (): string => join(packageRoot(), 'native', 'torch', 'build', 'Release', 'tinyforge_torch.node');

type Loaded = { ok: true; addon: TorchAddon } | { ok: false; reason: string };
let loaded: Loaded | undefined;

/** The addon, or why it is unavailable. Loaded once; TINYFORGE_NO_TORCH=1 disables it. */
export function loadTorchAddon(): Loaded {
  if (process.env.TINYFORGE_NO_TORCH === '1') return { ok: false, reason: 'disabled by TINYFORGE_NO_TORCH=1' };
  if (loaded) return loaded;
  if (!existsSync(addonPath())) {
    loaded = {
      ok: false,
      reason: `the libtorch addon is not built (${addonPath()} is missing); ` +
        '`apt-get install libtorch-dev libopenblas0-pthread && bash scripts/build-torch.sh` builds it',
    };
  } else {
    try {
      loaded = { ok: true, addon: createRequire(import.meta.url)(addonPath()) as TorchAddon };
    } catch (err) {
      loaded = { ok: false, reason: `the libtorch addon failed to load (${(err as Error).message}); rebuild it with \`bash scripts/build-torch.sh\`` };
    }
  }
  return loaded;
}

/**
 * Models below this many MACs per image train faster on one libtorch thread: their ops are too
 * small to split, and OpenMP threads wait for each other at every op. Measured on this project's
 * 2-core machine, idle, `tinyforge run configs/default.json --force` (0.5 M MACs): 5,831 samples/s
 * on 1 thread, 4,082 on 2; the Keras CNN (12 M MACs) trained 2.6x faster on 2 threads than on 1.
 */
export const ONE_THREAD_BELOW_MACS = 2_000_000;

/**
 * Intra-op threads for libtorch: TINYFORGE_TORCH_THREADS; else one for a model below
 * ONE_THREAD_BELOW_MACS per image, one per core otherwise (and when the model is not known).
 */
export function torchThreads(macsPerImage?: number): number {
  const fromEnv = process.env.TINYFORGE_TORCH_THREADS;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) {
      throw new UserError(`TINYFORGE_TORCH_THREADS: expected a positive integer, found "${fromEnv}"`);
    }
    return n;
  }
  return macsPerImage !== undefined && macsPerImage < ONE_THREAD_BELOW_MACS ? 1 : availableParallelism();
}
