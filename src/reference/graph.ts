// An IR made ready to run: one buffer per tensor, typed by its dtype (Int8Array, or Float32Array
// at the graph's float edges), and one step per op, its kernel prepared once (TFLite Micro's
// Prepare) and bound to the buffers it reads and writes. Running the graph is calling the steps
// in the IR's (topological) order; a tensor read by several ops is simply read several times.
import { graphInputs, tensorSize, type IrModel, type IrOp, type IrTensor } from '../ir/types.js';
import { ensureValidIr } from '../ir/validate.js';
import { prepareAdd } from './ops/add.js';
import { prepareAvgPool2d } from './ops/avg_pool2d.js';
import type { OpKernel } from './ops/common.js';
import { prepareConcatenation } from './ops/concatenation.js';
import { prepareConv2d } from './ops/conv2d.js';
import { prepareDepthwiseConv2d } from './ops/depthwise_conv2d.js';
import { prepareDequantize } from './ops/dequantize.js';
import { prepareFullyConnected } from './ops/fully_connected.js';
import { prepareMaxPool2d } from './ops/max_pool2d.js';
import { prepareMean } from './ops/mean.js';
import { preparePad } from './ops/pad.js';
import { prepareQuantizeFloat, prepareRequantize } from './ops/quantize.js';
import { prepareReshape } from './ops/reshape.js';
import { prepareSoftmax } from './ops/softmax.js';

/** The contents of one tensor: int8 activations, or float32 at the graph's input or output. */
export type TensorData = Int8Array | Float32Array;

export interface Plan {
  buffers: Map<number, TensorData>;
  steps: (() => void)[];
  /** The graph inputs' buffers, in graphInputs() order. */
  inputs: TensorData[];
  output: TensorData;
}

// Plans are cached per IrModel object: an IR is treated as immutable once it has been run.
const plans = new WeakMap<IrModel, Plan>();

/** The ops with one int8 input and one int8 output. */
function prepareUnary(op: IrOp, input: IrTensor, output: IrTensor): OpKernel {
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
    case 'pad':
      return preparePad(op, input, output);
    case 'mean':
      return prepareMean(op, input, output);
    case 'softmax':
      return prepareSoftmax(op, input, output);
    case 'quantize':
      return prepareRequantize(op, input, output);
    default:
      throw new Error(`reference: op kind '${op.kind}' has more than one input or a float32 side`);
  }
}

/** Prepares `op` and binds it to its buffers. */
function bindStep(op: IrOp, tensors: Map<number, IrTensor>, buffers: Map<number, TensorData>): () => void {
  const tensor = (id: number) => tensors.get(id)!;
  const int8 = (id: number): Int8Array => {
    const data = buffers.get(id)!;
    if (!(data instanceof Int8Array)) throw new Error(`reference: op '${op.name}' needs tensor ${id} to be int8`);
    return data;
  };
  const float32 = (id: number): Float32Array => {
    const data = buffers.get(id)!;
    if (!(data instanceof Float32Array)) throw new Error(`reference: op '${op.name}' needs tensor ${id} to be float32`);
    return data;
  };
  const output = tensor(op.output);
  switch (op.kind) {
    case 'add': {
      const kernel = prepareAdd(op, tensor(op.input), tensor(op.input2), output);
      const [a, b, out] = [int8(op.input), int8(op.input2), int8(op.output)];
      return () => kernel(a, b, out);
    }
    case 'concatenation': {
      const kernel = prepareConcatenation(op, op.inputs.map(tensor), output);
      const [ins, out] = [op.inputs.map(int8), int8(op.output)];
      return () => kernel(ins, out);
    }
    case 'dequantize': {
      const kernel = prepareDequantize(op, tensor(op.input), output);
      const [input, out] = [int8(op.input), float32(op.output)];
      return () => kernel(input, out);
    }
    default:
      if (op.kind === 'quantize' && tensor(op.input).dtype === 'float32') {
        const kernel = prepareQuantizeFloat(op, tensor(op.input), output);
        const [input, out] = [float32(op.input), int8(op.output)];
        return () => kernel(input, out);
      } else {
        const kernel = prepareUnary(op, tensor(op.input), output);
        const [input, out] = [int8(op.input), int8(op.output)];
        return () => kernel(input, out);
      }
  }
}

export function planFor(ir: IrModel): Plan {
  const cached = plans.get(ir);
  if (cached) return cached;
  // The kernels trust shapes and lengths: checked once per IR (not again for a ValidIr), not per element.
  ensureValidIr(ir, `IR "${ir.name}"`);
  const tensors = new Map(ir.tensors.map((t) => [t.id, t]));
  const buffers = new Map<number, TensorData>(
    ir.tensors.map((t) => [t.id, t.dtype === 'float32' ? new Float32Array(tensorSize(t)) : new Int8Array(tensorSize(t))]),
  );
  const steps = ir.ops.map((op) => bindStep(op, tensors, buffers));
  const plan: Plan = {
    buffers,
    steps,
    inputs: graphInputs(ir).map((i) => buffers.get(i.tensor)!),
    output: buffers.get(ir.output.tensor)!,
  };
  plans.set(ir, plan);
  return plan;
}

export function execute(plan: Plan): void {
  for (const step of plan.steps) step();
}
