// Training steps on the active tfjs backend (wasm, cpu, or tfjs-node): tfjs's optimisers and
// autodiff on the LayersModel itself.
import * as tf from '@tensorflow/tfjs';
import type { BatchResult, OptimizerSettings, Stepper } from './stepper.js';
import { BATCH_NORM_TRAIN_BACKENDS } from './wasm/batchnorm.js';
import { trainingForward } from './wasm/forward.js';
import { fastWasmPath } from './wasm/path.js';

/** Backends tinyforge's fused batch-norm kernels are registered for (src/train/wasm/batchnorm.ts). */
const FUSED_BACKENDS = BATCH_NORM_TRAIN_BACKENDS;

export function makeOptimizer({ name, learningRate, momentum }: OptimizerSettings): tf.Optimizer {
  if (name === 'sgd') return tf.train.momentum(learningRate, momentum, true);
  if (name === 'rmsprop') return tf.train.rmsprop(learningRate, 0.9, momentum);
  return tf.train.adam(learningRate);
}

/** tfjs optimizers read their rate from a field (SGD keeps a cached scalar behind a setter). */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as { setLearningRate?: (r: number) => void; learningRate: number };
  if (o.setLearningRate) o.setLearningRate(rate);
  else o.learningRate = rate;
}

export class TfjsStepper implements Stepper {
  private readonly optimizer: tf.Optimizer;
  private readonly shape: number[];
  private readonly size: number;
  /** Batch norm through tinyforge's op (wasm, cpu) rather than tfjs-layers' composite. */
  private readonly fusedBatchNorm = fastWasmPath() && FUSED_BACKENDS.includes(tf.getBackend());

  constructor(private readonly model: tf.LayersModel, settings: OptimizerSettings, private readonly classes: number) {
    this.optimizer = makeOptimizer(settings);
    this.shape = (model.inputs[0].shape as number[]).slice(1);
    this.size = this.shape.reduce((a, b) => a * b, 1);
  }

  async step(images: Float32Array, labels: Int32Array, count: number, learningRate: number): Promise<BatchResult> {
    setLearningRate(this.optimizer, learningRate);
    const [loss, hits] = tf.tidy(() => {
      const x = tf.tensor(images.subarray(0, count * this.size), [count, ...this.shape]);
      const y = tf.tensor1d(labels.subarray(0, count), 'int32');
      // minimize() disposes everything made inside its closure but the loss, so the batch
      // accuracy is computed there and kept explicitly.
      let right: tf.Tensor | undefined;
      const cost = this.optimizer.minimize(() => {
        const logits = trainingForward(this.model, x, this.fusedBatchNorm);
        right = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'int32')));
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, this.classes), logits) as tf.Scalar;
      }, true)!;
      return [tf.keep(cost), right!];
    });
    // One sync per batch: on the CPU-side backends it costs little and keeps the bar honest.
    const result = { loss: (await loss.data())[0], correct: (await hits.data())[0] };
    loss.dispose();
    hits.dispose();
    return result;
  }

  evaluate(images: Float32Array, labels: Uint8Array, count: number): { loss: number; accuracy: number } {
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < count; start += 500) {
      const m = Math.min(500, count - start);
      const [loss, hits] = tf.tidy(() => {
        const x = tf.tensor(images.subarray(start * this.size, (start + m) * this.size), [m, ...this.shape]);
        const y = tf.tensor1d(Int32Array.from(labels.subarray(start, start + m)), 'int32');
        const logits = this.model.predict(x) as tf.Tensor2D;
        const l = tf.losses.softmaxCrossEntropy(tf.oneHot(y, this.classes), logits);
        return [l.dataSync()[0], tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'int32')).dataSync()[0]];
      });
      lossSum += loss * m;
      correct += hits;
    }
    return { loss: lossSum / count, accuracy: correct / count };
  }

  snapshot(): tf.Tensor[] {
    return this.model.getWeights().map((w) => w.clone());
  }

  restore(snapshot?: unknown): void {
    if (!snapshot) return;
    const weights = snapshot as tf.Tensor[];
    this.model.setWeights(weights);
  }

  /** Frees a snapshot this stepper made. */
  release(snapshot: unknown): void {
    (snapshot as tf.Tensor[]).forEach((w) => w.dispose());
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
