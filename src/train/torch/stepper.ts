// Training steps on libtorch through the addon. The tfjs model supplies the layers and the
// initial (seeded) weights and receives the trained ones; nothing else of tfjs runs per step.
import type * as tf from '@tensorflow/tfjs';
import type { BatchResult, OptimizerSettings, Stepper } from '../stepper.js';
import type { TorchAddon, TorchNetwork } from './addon.js';
import { assignWeights, describeModel } from './describe.js';

export class TorchStepper implements Stepper {
  readonly network: TorchNetwork;
  private readonly size: number;

  constructor(
    addon: TorchAddon, private readonly model: tf.LayersModel, settings: OptimizerSettings,
    options: { threads: number; seed: number },
  ) {
    const shape = (model.inputs[0].shape as number[]).slice(1) as [number, number, number];
    this.size = shape[0] * shape[1] * shape[2];
    this.network = new addon.Network({
      inputShape: shape,
      layers: describeModel(model),
      optimizer: { name: settings.name, momentum: settings.momentum },
      threads: options.threads,
      seed: options.seed,
    });
  }

  step(images: Float32Array, labels: Int32Array, count: number, learningRate: number): Promise<BatchResult> {
    return this.network.trainStep(images, labels, count, learningRate);
  }

  evaluate(images: Float32Array, labels: Uint8Array, count: number): { loss: number; accuracy: number } {
    const size = this.size;
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < count; start += 500) {
      const m = Math.min(500, count - start);
      const r = this.network.evaluate(images.subarray(start * size, (start + m) * size), Int32Array.from(labels.subarray(start, start + m)), m);
      lossSum += r.lossSum;
      correct += r.correct;
    }
    return { loss: lossSum / count, accuracy: correct / count };
  }

  snapshot(): Float32Array[][] {
    return this.network.weights();
  }

  restore(snapshot?: unknown): void {
    assignWeights(this.model, (snapshot as Float32Array[][] | undefined) ?? this.network.weights());
  }

  release(): void {}

  dispose(): void {}
}
