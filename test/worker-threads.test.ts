// Training threads: local sweep points share the cores (cores / workers unless set), and libtorch
// takes one thread for small models.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { trainingThreads } from '../src/experiments/workers.js';
import { torchThreads } from '../src/train/torch/addon.js';

describe('training threads of local sweep points', () => {
  const cores = availableParallelism();
  it('gives each of the points running at once its share of the cores, at least one', () => {
    // One worker: the backends choose (torch by model size, wasm one worker per core).
    expect(trainingThreads({}, 1)).toEqual({});
    expect(trainingThreads({}, Math.max(2, cores))).toMatchObject({ TINYFORGE_TORCH_THREADS: '1', TINYFORGE_WASM_THREADS: '1' });
    expect(trainingThreads({}, cores * 4).TINYFORGE_WASM_THREADS).toBe('1');
  });
  it('keeps thread counts the user set', () => {
    expect(trainingThreads({ TINYFORGE_TORCH_THREADS: '3' }, Math.max(2, cores))).toMatchObject({ TINYFORGE_TORCH_THREADS: '3', TINYFORGE_WASM_THREADS: '1' });
  });

  it('libtorch takes one thread for a model below 2 M MACs per image, one per core above', () => {
    const saved = process.env.TINYFORGE_TORCH_THREADS;
    delete process.env.TINYFORGE_TORCH_THREADS;
    try {
      expect(torchThreads(510_912)).toBe(1);
      expect(torchThreads(11_992_448)).toBe(cores);
      expect(torchThreads()).toBe(cores);
      process.env.TINYFORGE_TORCH_THREADS = '2';
      expect(torchThreads(510_912)).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.TINYFORGE_TORCH_THREADS;
      else process.env.TINYFORGE_TORCH_THREADS = saved;
    }
  });
});
