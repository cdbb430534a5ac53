// Entry points for any graph, whatever its inputs and outputs: typed arrays per graph input, or
// the raw bytes of a tensor file (graph inputs back to back, float32 little-endian). The int8
// image-model entry points (runReference, evaluateReference) are in ./interpreter.ts.
import type { IrModel } from '../ir/types.js';
import { execute, planFor, type Plan, type TensorData } from './graph.js';

/**
 * Runs one inference of any graph: one array per graph input (graphInputs() order), each of its
 * tensor's dtype and size; returns a copy of the output tensor (Int8Array or Float32Array).
 */
export function runReferenceTensors(ir: IrModel, inputs: readonly TensorData[]): TensorData {
  const plan = planFor(ir);
  if (inputs.length !== plan.inputs.length) {
    throw new RangeError(`runReferenceTensors: IR "${ir.name}" has ${plan.inputs.length} inputs, got ${inputs.length}`);
  }
  plan.inputs.forEach((buffer, i) => {
    const given = inputs[i];
    if (given.constructor !== buffer.constructor || given.length !== buffer.length) {
      const want = `${buffer.length} ${buffer instanceof Float32Array ? 'float32' : 'int8'} values`;
      const got = `${given.length} ${given instanceof Float32Array ? 'float32' : 'int8'} values`;
      throw new RangeError(`runReferenceTensors: IR "${ir.name}" input ${i} expects ${want}, got ${got}`);
    }
    buffer.set(given);
  });
  execute(plan);
  return plan.output.slice();
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function loadBytes(ir: IrModel, plan: Plan, bytes: Uint8Array, caller: string): void {
  if (!littleEndian) throw new Error(`${caller}: needs a little-endian host`);
  const expected = plan.inputs.reduce((n, b) => n + b.byteLength, 0);
  if (bytes.length !== expected) {
    throw new RangeError(`${caller}: IR "${ir.name}" expects ${expected} input bytes per inference, got ${bytes.length}`);
  }
  let offset = 0;
  for (const buffer of plan.inputs) {
    bytesOf(buffer).set(bytes.subarray(offset, offset + buffer.byteLength));
    offset += buffer.byteLength;
  }
}

/**
 * Runs one inference on raw bytes: the graph inputs' bytes back to back (int8, or float32
 * little-endian), as in a tensor file; returns the output tensor's raw bytes.
 */
export function runReferenceBytes(ir: IrModel, bytes: Uint8Array): Uint8Array {
  const plan = planFor(ir);
  loadBytes(ir, plan, bytes, 'runReferenceBytes');
  execute(plan);
  return bytesOf(plan.output).slice();
}

/** runReferenceBytes, returning a copy of every tensor by id (to find where two runs diverge). */
export function runReferenceBytesTrace(ir: IrModel, bytes: Uint8Array): Map<number, TensorData> {
  const plan = planFor(ir);
  loadBytes(ir, plan, bytes, 'runReferenceBytesTrace');
  execute(plan);
  return new Map([...plan.buffers].map(([id, data]) => [id, data.slice()]));
}
