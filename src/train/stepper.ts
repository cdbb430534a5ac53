// What the training loop (train.ts) needs from a backend: one optimiser step per batch, a
// validation pass, and weight snapshots for model selection. The loop itself (order, schedule,
// augmentation, early stopping, progress) is the same for every backend.
import type { TrainingConfig } from '../config/types.js';

export interface BatchResult {
  /** Mean loss over the batch. */
  loss: number;
  /** Correct arg-max predictions in the batch. */
  correct: number;
}

export interface Stepper {
  /**
   * One training step on `count` NHWC images. The arrays may be refilled as soon as this returns
   * (before the promise settles): the next batch is prepared while the step runs.
   */
  step(images: Float32Array, labels: Int32Array, count: number, learningRate: number): Promise<BatchResult>;
  /** Mean loss and accuracy in inference mode. */
  evaluate(images: Float32Array, labels: Uint8Array, count: number): { loss: number; accuracy: number };
  /** A copy of the current weights (and batch-norm statistics). */
  snapshot(): unknown;
  /** Writes a snapshot (or, with none, the current weights) into the tfjs model. */
  restore(snapshot?: unknown): void;
  /** Frees a snapshot this stepper made. */
  release(snapshot: unknown): void;
  dispose(): void;
}

export type OptimizerSettings = TrainingConfig['optimizer'];
