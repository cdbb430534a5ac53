// Local sweep points share the cores: each training backend gets cores / workers threads unless set.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { trainingThreads } from '../src/experiments/workers.js';

describe('training threads of local sweep points', () => {
  const cores = availableParallelism();
  it('gives each of the points running at once its share of the cores, at least one', () => {
    expect(trainingThreads({}, 1)).toMatchObject({ TINYFORGE_TORCH_THREADS: String(cores), TINYFORGE_WASM_THREADS: String(cores) });
    expect(trainingThreads({}, cores)).toMatchObject({ TINYFORGE_TORCH_THREADS: '1', TINYFORGE_WASM_THREADS: '1' });
    expect(trainingThreads({}, cores * 4).TINYFORGE_WASM_THREADS).toBe('1');
  });
  it('keeps thread counts the user set', () => {
    expect(trainingThreads({ TINYFORGE_TORCH_THREADS: '3' }, cores)).toMatchObject({ TINYFORGE_TORCH_THREADS: '3', TINYFORGE_WASM_THREADS: '1' });
  });
});
