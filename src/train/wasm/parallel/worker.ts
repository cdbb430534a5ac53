// One data-parallel training worker: its own wasm instance and its own copy of the model. Each
// step it trains on its shard of the batch, writes its gradients (weighted by its share of the
// batch) and its updated moving statistics into its slot of the shared buffer, meets the other
// workers at a barrier, then applies the average of all slots, summed in the same order by
// every worker, so that every copy stays bit-identical. Worker 0 then publishes the weights.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../../../models/factory.js';
import type { ModelSpec } from '../../../models/spec.js';
import { setLogLevel } from '../../../util/log.js';
import { initBackend } from '../../backend.js';
import type { OptimizerSettings } from '../../stepper.js';
import { makeOptimizer, setLearningRate } from '../../tfjs-stepper.js';
import { trainingForward } from '../forward.js';
import { fastWasmPath } from '../path.js';
import { arriveAndWait, type Exchange, type ExchangeLayout, openExchange, shardOf } from './exchange.js';

export interface WorkerInit {
  index: number;
  layout: ExchangeLayout;
  buffer: SharedArrayBuffer;
  spec: ModelSpec;
  seed: number;
  optimizer: OptimizerSettings;
  /** The main thread's initial weights, in getWeights() order. */
  weights: Float32Array[];
}

export type WorkerRequest = { type: 'step'; count: number; learningRate: number } | { type: 'checksum' };
export type WorkerReply = { type: 'ready' } | { type: 'done' } | { type: 'checksum'; value: string } | { type: 'error'; message: string };

class Replica {
  private readonly model: tf.LayersModel;
  private readonly optimizer: tf.Optimizer;
  private readonly trainable: tf.Variable[];
  private readonly moving: tf.Variable[];
  private readonly classes: number;
  private readonly size: number;
  private readonly shape: number[];

  constructor(private readonly init: WorkerInit, private readonly exchange: Exchange) {
    this.model = createModel(init.spec, init.seed);
    this.model.setWeights(this.model.getWeights().map((w, i) => tf.tensor(init.weights[i], w.shape)));
    this.optimizer = makeOptimizer(init.optimizer);
    this.trainable = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.moving = this.model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
    this.classes = init.spec.numClasses;
    this.shape = init.spec.inputShape;
    this.size = this.shape.reduce((a, b) => a * b, 1);
  }

  step(count: number, learningRate: number): void {
    const { index, layout } = this.init;
    const { start, end } = shardOf(count, layout.workers, index);
    const share = (end - start) / count;
    const slot = this.exchange.slots[index];
    let loss = 0;
    let correct = 0;
    if (end > start) {
      ({ loss, correct } = this.gradientsInto(slot, start, end, share));
    } else {
      slot.fill(0); // an empty shard (batch smaller than the worker count) adds nothing
    }
    this.exchange.results[2 * index] = loss;
    this.exchange.results[2 * index + 1] = correct;
    arriveAndWait(this.exchange);
    this.applyAverage(learningRate);
    if (index === 0) this.publishWeights();
  }

  /** Gradients of the shard's mean loss times its share, then the moving statistics times it. */
  private gradientsInto(slot: Float32Array, start: number, end: number, share: number): { loss: number; correct: number } {
    const { images, labels } = this.exchange;
    return tf.tidy(() => {
      const x = tf.tensor(images.subarray(start * this.size, end * this.size), [end - start, ...this.shape]);
      const y = tf.tensor1d(labels.subarray(start, end), 'int32');
      let right: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const logits = trainingForward(this.model, x, fastWasmPath());
        right = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'int32')));
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, this.classes), logits) as tf.Scalar;
      }, this.trainable);
      let at = 0;
      for (const v of [...this.trainable.map((t) => grads[t.name]), ...this.moving]) {
        const values = v.dataSync() as Float32Array;
        for (let i = 0; i < values.length; i++) slot[at + i] = values[i] * share;
        at += values.length;
      }
      return { loss: value.dataSync()[0], correct: right!.dataSync()[0] };
    });
  }

  /** Every worker sums the slots in the same order: identical averages, identical copies. */
  private applyAverage(learningRate: number): void {
    const { slots } = this.exchange;
    const sum = new Float32Array(slots[0].length);
    for (const slot of slots) for (let i = 0; i < sum.length; i++) sum[i] += slot[i];
    setLearningRate(this.optimizer, learningRate);
    let at = 0;
    const take = (v: tf.Variable) => {
      const t = tf.tensor(sum.subarray(at, at + v.size), v.shape);
      at += v.size;
      return t;
    };
    tf.tidy(() => {
      const grads: Record<string, tf.Tensor> = {};
      for (const v of this.trainable) grads[v.name] = take(v);
      this.optimizer.applyGradients(grads);
      for (const v of this.moving) v.assign(take(v));
    });
  }

  private publishWeights(): void {
    let at = 0;
    for (const w of this.model.getWeights()) {
      const values = w.dataSync() as Float32Array;
      this.exchange.weights.set(values, at);
      at += values.length;
    }
  }

  /** A hash of every weight's bytes (tests compare the copies). */
  checksum(): string {
    let hash = 0x811c9dc5;
    for (const w of this.model.getWeights()) {
      const bytes = new Uint8Array((w.dataSync() as Float32Array).slice().buffer);
      for (const b of bytes) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
    }
    return hash.toString(16).padStart(8, '0');
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  setLogLevel('warn');
  await initBackend('wasm');
  const replica = new Replica(init, openExchange(init.layout, init.buffer));
  port.on('message', (request: WorkerRequest) => {
    try {
      if (request.type === 'step') {
        replica.step(request.count, request.learningRate);
        port.postMessage({ type: 'done' } satisfies WorkerReply);
      } else {
        port.postMessage({ type: 'checksum', value: replica.checksum() } satisfies WorkerReply);
      }
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).stack ?? String(err) } satisfies WorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

main().catch((err) => parentPort!.postMessage({ type: 'error', message: (err as Error).stack ?? String(err) } satisfies WorkerReply));
