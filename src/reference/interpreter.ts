// The reference interpreter: the golden model the generated C must equal bit for bit. Runs the
// IR's graph (./graph.ts) with the kernels of ./ops (integer arithmetic, float only at QUANTIZE
// and DEQUANTIZE), on buffers allocated once per IR.
import type { IrModel } from '../ir/types.js';
import { execute, planFor, type Plan, type TensorData } from './graph.js';
import { nextTurn } from '../util/turn.js';

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

/** The int8 plan and result arrays of one evaluation of N images. */
function startEvaluation(ir: IrModel, images: Uint8Array, labels: Uint8Array, caller: string) {
  const plan = planFor(ir);
  const input = int8Input(ir, plan, caller);
  const imageSize = input.length;
  const n = labels.length;
  if (images.length !== n * imageSize) {
    throw new RangeError(`${caller}: ${n} labels need ${n * imageSize} pixels (${imageSize} per image), got ${images.length}`);
  }
  const numClasses = ir.output.numClasses;
  return {
    plan, input, output: plan.output as Int8Array, imageSize, n, numClasses,
    offset: ir.input.pixelOffset ?? -128,
    predictions: new Uint8Array(n),
    logits: new Int8Array(n * numClasses),
  };
}

/**
 * Runs images [from, to) of an evaluation; returns how many it classified correctly. Each image
 * runs start to finish within one call, so evaluations of the same IR may take turns between calls.
 */
function evaluateRange(e: ReturnType<typeof startEvaluation>, images: Uint8Array, labels: Uint8Array, from: number, to: number): number {
  const { plan, input, output, imageSize, numClasses, offset } = e;
  let correct = 0;
  for (let i = from; i < to; i++) {
    const base = i * imageSize;
    for (let j = 0; j < imageSize; j++) input[j] = images[base + j] + offset;
    execute(plan);
    e.logits.set(output, i * numClasses);
    const predicted = argmax(output);
    e.predictions[i] = predicted;
    if (predicted === labels[i]) correct++;
  }
  return correct;
}

/**
 * Runs N images (N * H * W * C pixels, 0..255, NHWC) through the model.
 * N is labels.length.
 */
export function evaluateReference(ir: IrModel, images: Uint8Array, labels: Uint8Array): ReferenceEvaluation {
  const e = startEvaluation(ir, images, labels, 'evaluateReference');
  const correct = evaluateRange(e, images, labels, 0, e.n);
  return { predictions: e.predictions, logits: e.logits, accuracy: e.n === 0 ? 0 : correct / e.n };
}

/** Images per turn of evaluateReferenceAsync: a few tens of milliseconds for the default model. */
const IMAGES_PER_TURN = 16;

/**
 * evaluateReference, with the same results, in short turns that give the event loop back between
 * them: it runs on the main thread while child processes (gcc, QEMU) started by the same process
 * go on, and their exits are handled without waiting for the whole test set. Stops with
 * `signal`'s reason when it is aborted.
 */
export async function evaluateReferenceAsync(
  ir: IrModel, images: Uint8Array, labels: Uint8Array, signal?: AbortSignal,
): Promise<ReferenceEvaluation> {
  const e = startEvaluation(ir, images, labels, 'evaluateReferenceAsync');
  let correct = 0;
  for (let from = 0; from < e.n; from += IMAGES_PER_TURN) {
    signal?.throwIfAborted();
    correct += evaluateRange(e, images, labels, from, Math.min(from + IMAGES_PER_TURN, e.n));
    await nextTurn();
  }
  return { predictions: e.predictions, logits: e.logits, accuracy: e.n === 0 ? 0 : correct / e.n };
}

