// Data-parallel training on wasm: one worker thread per core (worker.ts), each with its own wasm
// instance and model copy, the batch split between them and the gradients averaged through a
// SharedArrayBuffer every step (exchange.ts). The main thread keeps the tfjs model the rest of
// tinyforge reads: validation, snapshots and the final weights come from the workers' weights,
// which worker 0 publishes after every step (all copies are identical).
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../../../models/spec.js';
import { UserError } from '../../../util/errors.js';
import type { BatchResult, OptimizerSettings, Stepper } from '../../stepper.js';
import { TfjsStepper } from '../../tfjs-stepper.js';
import { type Exchange, openExchange, shardOf } from './exchange.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

/**
 * Workers for data-parallel wasm training: TINYFORGE_WASM_THREADS, else one per core.
 * 1 trains on the main thread as before (no workers).
 */
export function wasmThreads(): number {
  const fromEnv = process.env.TINYFORGE_WASM_THREADS;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`TINYFORGE_WASM_THREADS: expected a positive integer, found "${fromEnv}"`);
    return n;
  }
  return availableParallelism();
}

/**
 * The worker script: compiled JavaScript, or, when this module runs from its TypeScript source
 * (the test runner), the source through tsx's loader, registered inside the worker.
 */
function startWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  // tsx's ESM entry (require.resolve finds its CommonJS twin beside it).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

type Pending = { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void };

export class ParallelWasmStepper implements Stepper {
  private readonly workers: Worker[];
  private readonly pending: Array<Pending | undefined>;
  private readonly exchange: Exchange;
  private readonly local: TfjsStepper;
  private readonly started: Promise<unknown>;
  private readonly size: number;
  private failure: Error | undefined;
  private stepped = false;
  private disposed = false;

  constructor(private readonly model: tf.LayersModel, spec: ModelSpec, seed: number, optimizer: OptimizerSettings,
    batchSize: number, threads: number) {
    this.local = new TfjsStepper(model, optimizer, spec.numClasses);
    this.size = spec.inputShape.reduce((a, b) => a * b, 1);
    const sizeOf = (ws: tf.LayerVariable[]) => ws.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);
    const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    this.exchange = openExchange({
      workers: threads, batchSize, inputSize: this.size,
      slotSize: sizeOf(model.trainableWeights) + sizeOf(model.nonTrainableWeights),
      weightCount: weights.reduce((a, w) => a + w.length, 0),
    });
    this.workers = Array.from({ length: threads }, (_, index) =>
      startWorker({ index, layout: this.exchange.layout, buffer: this.exchange.buffer, spec, seed, optimizer, weights }));
    this.pending = this.workers.map(() => undefined);
    this.workers.forEach((worker, i) => {
      worker.on('message', (reply: WorkerReply) => this.settle(i, reply));
      worker.on('error', (err) => this.fail(new Error(`wasm training worker ${i}: ${err.message}`)));
      worker.on('exit', (code) => { if (code !== 0 && !this.disposed) this.fail(new Error(`wasm training worker ${i} exited with code ${code}`)); });
    });
    this.started = Promise.all(this.workers.map((_, i) => this.expect(i)));
  }

  async ready(): Promise<void> {
    await this.started;
  }

  get threads(): number {
    return this.workers.length;
  }

  private expect(i: number): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => { this.pending[i] = { resolve, reject }; });
  }

  private settle(i: number, reply: WorkerReply): void {
    if (reply.type === 'error') return this.fail(new Error(`wasm training worker ${i}: ${reply.message}`));
    const waiting = this.pending[i];
    this.pending[i] = undefined;
    waiting?.resolve(reply);
  }

  /** A worker failed: the others may be blocked at the barrier, so all of them go. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.pending.forEach((p) => p?.reject(err));
    this.pending.fill(undefined);
    void this.terminate();
  }

  /** Sends `request` to every worker and waits for all replies. Workers keep Node alive only meanwhile. */
  private async everyWorker(request: WorkerRequest): Promise<WorkerReply[]> {
    await this.started;
    const replies = this.workers.map((_, i) => this.expect(i));
    this.workers.forEach((w) => { w.ref(); w.postMessage(request); });
    try {
      return await Promise.all(replies);
    } finally {
      this.workers.forEach((w) => w.unref());
    }
  }

  async step(images: Float32Array, labels: Int32Array, count: number, learningRate: number): Promise<BatchResult> {
    // Copied now: the caller refills its buffers while the step runs.
    this.exchange.images.set(images.subarray(0, count * this.size));
    this.exchange.labels.set(labels.subarray(0, count));
    await this.everyWorker({ type: 'step', count, learningRate });
    this.stepped = true;
    let loss = 0;
    let correct = 0;
    this.workers.forEach((_, i) => {
      const { start, end } = shardOf(count, this.workers.length, i);
      loss += this.exchange.results[2 * i] * (end - start);
      correct += this.exchange.results[2 * i + 1];
    });
    return { loss: loss / count, correct };
  }

  /** Checksums of every worker's weights (they must all be equal). */
  async checksums(): Promise<string[]> {
    const replies = await this.everyWorker({ type: 'checksum' });
    return replies.map((r) => (r.type === 'checksum' ? r.value : ''));
  }

  /** Copies the workers' current weights into the main thread's model. */
  private pull(): void {
    if (!this.stepped) return;
    let at = 0;
    const weights = this.model.getWeights().map((w) => {
      const t = tf.tensor(this.exchange.weights.subarray(at, at + w.size), w.shape);
      at += w.size;
      return t;
    });
    this.model.setWeights(weights);
    tf.dispose(weights);
  }

  evaluate(images: Float32Array, labels: Uint8Array, count: number): { loss: number; accuracy: number } {
    this.pull();
    return this.local.evaluate(images, labels, count);
  }

  snapshot(): unknown {
    this.pull();
    return this.local.snapshot();
  }

  restore(snapshot?: unknown): void {
    if (snapshot) this.local.restore(snapshot);
    else this.pull();
  }

  release(snapshot: unknown): void {
    this.local.release(snapshot);
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  dispose(): void {
    this.disposed = true;
    this.local.dispose();
    void this.terminate();
  }
}
