// The reference interpreter: the golden model the generated C must equal bit for bit. Runs the
// IR's graph (./graph.ts) with the kernels of ./ops (integer arithmetic, float only at QUANTIZE
// and DEQUANTIZE), on buffers allocated once per IR.
import type { IrModel } from '../ir/types.js';
import { execute, planFor, type Plan, type TensorData } from './graph.js';

export type { TensorData } from './graph.js';
export { runReferenceBytes, runReferenceBytesTrace, runReferenceTensors } from './run-graph.js';

/** The graph's only input, which the int8 entry points below require. */
function int8Input(ir: IrModel, plan: Plan, caller: string): Int8Array {
  // Checked once per call, not per image: the plan's buffers never change.
  const input = plan.inputs[0];
  if (plan.inputs.length !== 1 || !(input instanceof Int8Array) || !(plan.output instanceof Int8Array)) {
    throw new RangeError(`${caller}: IR "${ir.name}" does not have one int8 input and an int8 output; use runReferenceTensors`);
  }
  return input;
}

function loadInput(ir: IrModel, plan: Plan, input: Int8Array): void {
  const buffer = int8Input(ir, plan, 'runReference');
  if (input.length !== buffer.length) {
    throw new RangeError(`runReference: IR "${ir.name}" expects ${buffer.length} int8 inputs, got ${input.length}`);
  }
  buffer.set(input);
}

/** Runs one int8 input through the model; returns (a copy of) the int8 logits. */
export function runReference(ir: IrModel, input: Int8Array): Int8Array {
  const plan = planFor(ir);
  loadInput(ir, plan, input);
  execute(plan);
  return plan.output.slice() as Int8Array;
}

/** Runs one input and returns a copy of every tensor, by tensor id (for per-layer analysis). */
export function runReferenceTrace(ir: IrModel, input: Int8Array): Map<number, TensorData> {
  const plan = planFor(ir);
  loadInput(ir, plan, input);
  execute(plan);
  return new Map([...plan.buffers].map(([id, data]) => [id, data.slice()]));
}

/** 0..255 pixels -> the int8 input tensor: q = pixel + pixelOffset (-128). */
export function pixelsToInput(ir: IrModel, pixels: Uint8Array): Int8Array {
  const out = new Int8Array(pixels.length);
  const offset = ir.input.pixelOffset ?? -128;
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] + offset;
  return out;
}

/** Index of the largest logit; the first one wins a tie (as the generated C does). */
export function argmax(logits: ArrayLike<number>): number {
  if (logits.length === 0) throw new RangeError('argmax: no logits');
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export interface ReferenceEvaluation {
  /** Predicted class per image. */
  predictions: Uint8Array;
  /** int8 logits, numClasses per image, image after image. */
  logits: Int8Array;
  /** Fraction of predictions equal to the labels. */
  accuracy: number;
}

/**
 * Runs N images (N * H * W * C pixels, 0..255, NHWC) through the model.
 * N is labels.length.
 */
export function evaluateReference(ir: IrModel, images: Uint8Array, labels: Uint8Array): ReferenceEvaluation {
  const plan = planFor(ir);
  const input = int8Input(ir, plan, 'evaluateReference');
  const output = plan.output as Int8Array;
  const imageSize = input.length;
  const n = labels.length;
  if (images.length !== n * imageSize) {
    throw new RangeError(
      `evaluateReference: ${n} labels need ${n * imageSize} pixels (${imageSize} per image), got ${images.length}`,
    );
  }
  const numClasses = ir.output.numClasses;
  const predictions = new Uint8Array(n);
  const logits = new Int8Array(n * numClasses);
  const offset = ir.input.pixelOffset ?? -128;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const base = i * imageSize;
    for (let j = 0; j < imageSize; j++) input[j] = images[base + j] + offset;
    execute(plan);
    logits.set(output, i * numClasses);
    const predicted = argmax(output);
    predictions[i] = predicted;
    if (predicted === labels[i]) correct++;
  }
  return { predictions, logits, accuracy: n === 0 ? 0 : correct / n };
}
