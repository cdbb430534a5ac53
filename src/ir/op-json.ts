// One op (and one tensor) of the IR <-> its JSON form in model.ir.json: weights as base64 of the
// int8 bytes, per-channel arrays as plain JSON arrays, each op kind with exactly its own fields
// (schema/ir.schema.json). io.ts assembles whole documents from these.
import type { Clamp, IrOp, IrTensor, Padding, Requant, Rescale } from './types.js';

function int8ToBase64(values: Int8Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function base64ToInt8(text: string): Int8Array {
  const bytes = Buffer.from(text, 'base64');
  // Copy into an array of its own: Buffer.from may hand out a slice of a shared pool.
  const out = new Int8Array(bytes.length);
  out.set(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  return out;
}

function requantToJson(r: Requant): object {
  return {
    multiplier: Array.from(r.multiplier),
    shift: Array.from(r.shift),
    weightScale: Array.from(r.weightScale),
  };
}

function requantFromJson(r: RequantDoc): Requant {
  return {
    multiplier: Int32Array.from(r.multiplier),
    shift: Int32Array.from(r.shift),
    weightScale: Float64Array.from(r.weightScale),
  };
}

export function opToJson(op: IrOp): object {
  const common = { kind: op.kind, name: op.name, input: op.input, output: op.output };
  switch (op.kind) {
    case 'conv2d':
      return {
        ...common,
        kernel: [...op.kernel],
        stride: [...op.stride],
        padding: { ...op.padding },
        weights: int8ToBase64(op.weights),
        bias: Array.from(op.bias),
        requant: requantToJson(op.requant),
        clamp: { ...op.clamp },
      };
    case 'depthwise_conv2d':
      return {
        ...common,
        kernel: [...op.kernel],
        stride: [...op.stride],
        padding: { ...op.padding },
        depthMultiplier: op.depthMultiplier,
        weights: int8ToBase64(op.weights),
        bias: Array.from(op.bias),
        requant: requantToJson(op.requant),
        clamp: { ...op.clamp },
      };
    case 'fully_connected':
      return {
        ...common,
        weights: int8ToBase64(op.weights),
        bias: Array.from(op.bias),
        requant: requantToJson(op.requant),
        clamp: { ...op.clamp },
      };
    case 'max_pool2d':
    case 'avg_pool2d':
      return {
        ...common,
        pool: [...op.pool],
        stride: [...op.stride],
        padding: { ...op.padding },
        clamp: { ...op.clamp },
      };
    case 'reshape':
    case 'dequantize':
      return common;
    case 'add':
      return {
        ...common,
        input2: op.input2,
        leftShift: op.leftShift,
        input1Rescale: { ...op.input1Rescale },
        input2Rescale: { ...op.input2Rescale },
        outputRescale: { ...op.outputRescale },
        clamp: { ...op.clamp },
      };
    case 'concatenation':
      return { ...common, inputs: [...op.inputs], axis: op.axis };
    case 'pad':
      return { ...common, paddings: op.paddings.map(([before, after]) => [before, after]) };
    case 'mean':
      return { ...common, axes: [...op.axes], keepDims: op.keepDims, rescale: { ...op.rescale } };
    case 'softmax':
      return { ...common, beta: op.beta, inputMultiplier: op.inputMultiplier, inputLeftShift: op.inputLeftShift, diffMin: op.diffMin };
    case 'quantize':
      return op.rescale === undefined ? common : { ...common, rescale: { ...op.rescale } };
  }
}

export function tensorToJson(t: IrTensor): object {
  const doc = { id: t.id, name: t.name, shape: [...t.shape], scale: t.scale, zeroPoint: t.zeroPoint };
  return t.dtype === undefined ? doc : { ...doc, dtype: t.dtype };
}

export function tensorFromJson(t: IrTensor): IrTensor {
  const tensor: IrTensor = { id: t.id, name: t.name, shape: [...t.shape], scale: t.scale, zeroPoint: t.zeroPoint };
  if (t.dtype !== undefined) tensor.dtype = t.dtype;
  return tensor;
}

// The document's shape once the schema has accepted it: each kind has exactly the fields its op
// type has, with weights still base64 and the per-channel arrays still JSON arrays.
interface RequantDoc {
  multiplier: number[];
  shift: number[];
  weightScale: number[];
}
export interface OpDoc {
  kind: IrOp['kind'];
  name: string;
  input: number;
  output: number;
  kernel?: [number, number];
  pool?: [number, number];
  stride?: [number, number];
  padding?: Padding;
  depthMultiplier?: number;
  weights?: string;
  bias?: number[];
  requant?: RequantDoc;
  clamp?: Clamp;
  input2?: number;
  leftShift?: number;
  input1Rescale?: Rescale;
  input2Rescale?: Rescale;
  outputRescale?: Rescale;
  inputs?: number[];
  axis?: number;
  paddings?: [number, number][];
  axes?: number[];
  keepDims?: boolean;
  rescale?: Rescale;
  beta?: number;
  inputMultiplier?: number;
  inputLeftShift?: number;
  diffMin?: number;
}

function pair(p: [number, number] | undefined): [number, number] {
  return [p![0], p![1]];
}

export function opFromJson(d: OpDoc): IrOp {
  const common = { name: d.name, input: d.input, output: d.output };
  switch (d.kind) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      const conv = {
        ...common,
        kernel: pair(d.kernel),
        stride: pair(d.stride),
        padding: { ...d.padding! },
        weights: base64ToInt8(d.weights!),
        bias: Int32Array.from(d.bias!),
        requant: requantFromJson(d.requant!),
        clamp: { ...d.clamp! },
      };
      return d.kind === 'conv2d'
        ? { kind: 'conv2d', ...conv }
        : { kind: 'depthwise_conv2d', ...conv, depthMultiplier: d.depthMultiplier! };
    }
    case 'fully_connected':
      return {
        kind: 'fully_connected',
        ...common,
        weights: base64ToInt8(d.weights!),
        bias: Int32Array.from(d.bias!),
        requant: requantFromJson(d.requant!),
        clamp: { ...d.clamp! },
      };
    case 'max_pool2d':
    case 'avg_pool2d':
      return {
        kind: d.kind,
        ...common,
        pool: pair(d.pool),
        stride: pair(d.stride),
        padding: { ...d.padding! },
        clamp: { ...d.clamp! },
      };
    case 'reshape':
    case 'dequantize':
      return { kind: d.kind, ...common };
    case 'add':
      return {
        kind: 'add',
        ...common,
        input2: d.input2!,
        leftShift: d.leftShift!,
        input1Rescale: { ...d.input1Rescale! },
        input2Rescale: { ...d.input2Rescale! },
        outputRescale: { ...d.outputRescale! },
        clamp: { ...d.clamp! },
      };
    case 'concatenation':
      return { kind: 'concatenation', ...common, inputs: [...d.inputs!], axis: d.axis! };
    case 'pad':
      return { kind: 'pad', ...common, paddings: d.paddings!.map(([before, after]) => [before, after]) };
    case 'mean':
      return { kind: 'mean', ...common, axes: [...d.axes!], keepDims: d.keepDims!, rescale: { ...d.rescale! } };
    case 'softmax':
      return {
        kind: 'softmax',
        ...common,
        beta: d.beta!,
        inputMultiplier: d.inputMultiplier!,
        inputLeftShift: d.inputLeftShift!,
        diffMin: d.diffMin!,
      };
    case 'quantize':
      return d.rescale === undefined ? { kind: 'quantize', ...common } : { kind: 'quantize', ...common, rescale: { ...d.rescale } };
  }
}
