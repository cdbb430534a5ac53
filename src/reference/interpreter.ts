// The int8 reference interpreter: the golden model the generated C must equal bit for bit.
// Runs the IR's op chain with the kernels of ./ops (integer arithmetic only), on buffers
// allocated once per IR.
import { tensorSize, type IrModel, type IrOp, type IrTensor } from '../ir/types.js';
import { validateIr } from '../ir/validate.js';
import { prepareAvgPool2d } from './ops/avg_pool2d.js';
import type { OpKernel } from './ops/common.js';
import { prepareConv2d } from './ops/conv2d.js';
import { prepareDepthwiseConv2d } from './ops/depthwise_conv2d.js';
import { prepareFullyConnected } from './ops/fully_connected.js';
import { prepareMaxPool2d } from './ops/max_pool2d.js';
import { prepareReshape } from './ops/reshape.js';

/** An IR made ready to run: one buffer per tensor and one prepared kernel per op. */
interface Plan {
  buffers: Map<number, Int8Array>;
  steps: { kernel: OpKernel; input: Int8Array; output: Int8Array }[];
  input: Int8Array;
  output: Int8Array;
}

// Plans are cached per IrModel object: an IR is treated as immutable once it has been run.
const plans = new WeakMap<IrModel, Plan>();

function prepareOp(op: IrOp, input: IrTensor, output: IrTensor): OpKernel {
  switch (op.kind) {
    case 'conv2d':
      return prepareConv2d(op, input, output);
    case 'depthwise_conv2d':
      return prepareDepthwiseConv2d(op, input, output);
    case 'fully_connected':
      return prepareFullyConnected(op, input, output);
    case 'max_pool2d':
      return prepareMaxPool2d(op, input, output);
    case 'avg_pool2d':
      return prepareAvgPool2d(op, input, output);
    case 'reshape':
      return prepareReshape(op, input, output);
    default:
      throw new Error(`reference: op kind '${op.kind}' is not implemented yet`);
  }
}

function planFor(ir: IrModel): Plan {
  const cached = plans.get(ir);
  if (cached) return cached;
  // The kernels trust shapes and lengths; check them once here rather than per element.
  validateIr(ir, `IR "${ir.name}"`);
  const tensors = new Map(ir.tensors.map((t) => [t.id, t]));
  const buffers = new Map(ir.tensors.map((t) => [t.id, new Int8Array(tensorSize(t))]));
  const steps = ir.ops.map((op) => ({
    kernel: prepareOp(op, tensors.get(op.input)!, tensors.get(op.output)!),
    input: buffers.get(op.input)!,
    output: buffers.get(op.output)!,
  }));
  const plan = { buffers, steps, input: buffers.get(ir.input.tensor)!, output: buffers.get(ir.output.tensor)! };
  plans.set(ir, plan);
  return plan;
}

function execute(plan: Plan): void {
  for (const step of plan.steps) step.kernel(step.input, step.output);
}

function loadInput(ir: IrModel, plan: Plan, input: Int8Array): void {
  if (input.length !== plan.input.length) {
    throw new RangeError(`runReference: IR "${ir.name}" expects ${plan.input.length} int8 inputs, got ${input.length}`);
  }
  plan.input.set(input);
}

/** Runs one int8 input through the model; returns (a copy of) the int8 logits. */
export function runReference(ir: IrModel, input: Int8Array): Int8Array {
  const plan = planFor(ir);
  loadInput(ir, plan, input);
  execute(plan);
  return plan.output.slice();
}

/** Runs one input and returns a copy of every tensor, by tensor id (for per-layer analysis). */
export function runReferenceTrace(ir: IrModel, input: Int8Array): Map<number, Int8Array> {
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
  const imageSize = plan.input.length;
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
  const input = plan.input;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const base = i * imageSize;
    for (let j = 0; j < imageSize; j++) input[j] = images[base + j] + offset;
    execute(plan);
    logits.set(plan.output, i * numClasses);
    const predicted = argmax(plan.output);
    predictions[i] = predicted;
    if (predicted === labels[i]) correct++;
  }
  return { predictions, logits, accuracy: n === 0 ? 0 : correct / n };
}
