// Writes a .tflite file (TFLite's schema.fbs, file identifier "TFL3") with the npm
// `flatbuffers` Builder, from a plain description: operator codes, tensors, buffers, one
// subgraph. The exporter and the tests (which build malformed and unsupported files) use it.
import { Builder } from 'flatbuffers';
import { F } from '../import/tflite-schema.js';
import { OPTION_FIELDS, type OptionValues } from '../import/options.js';

export interface TfliteSpec {
  description?: string;
  operatorCodes: { code: number; version?: number }[];
  /** buffers[0] must be empty (TFLite's sentinel); a tensor with data points at its own. */
  buffers: (Uint8Array | undefined)[];
  tensors: {
    name: string;
    shape: number[];
    type: number;
    buffer: number;
    quantization?: { scale: number[]; zeroPoint: number[]; quantizedDimension?: number };
  }[];
  inputs: number[];
  outputs: number[];
  operators: { opcodeIndex: number; inputs: number[]; outputs: number[]; optionsType: number; options?: OptionValues }[];
}

export function writeTflite(spec: TfliteSpec): Uint8Array {
  const b = new Builder(1024);
  const int32s = (values: number[]): number => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
    return b.endVector();
  };
  const tables = (offsets: number[]): number => {
    b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
    return b.endVector();
  };

  const buffers = spec.buffers.map((data) => {
    let dataOffset = 0;
    if (data && data.length > 0) {
      b.startVector(1, data.length, 16); // force_align: 16
      for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
      dataOffset = b.endVector();
    }
    b.startObject(3);
    if (dataOffset) b.addFieldOffset(F.Buffer.data, dataOffset, 0);
    return b.endObject();
  });

  const tensors = spec.tensors.map((t) => {
    const name = b.createString(t.name);
    const shape = int32s(t.shape);
    let quantization = 0;
    if (t.quantization) {
      const q = t.quantization;
      b.startVector(4, q.scale.length, 4);
      for (let i = q.scale.length - 1; i >= 0; i--) b.addFloat32(q.scale[i]);
      const scale = b.endVector();
      b.startVector(8, q.zeroPoint.length, 8);
      for (let i = q.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(q.zeroPoint[i]));
      const zeroPoint = b.endVector();
      b.startObject(7);
      b.addFieldOffset(F.QuantizationParameters.scale, scale, 0);
      b.addFieldOffset(F.QuantizationParameters.zero_point, zeroPoint, 0);
      b.addFieldInt32(F.QuantizationParameters.quantized_dimension, q.quantizedDimension ?? 0, 0);
      quantization = b.endObject();
    }
    b.startObject(10);
    b.addFieldOffset(F.Tensor.shape, shape, 0);
    b.addFieldInt8(F.Tensor.type, t.type, 0);
    b.addFieldInt32(F.Tensor.buffer, t.buffer, 0);
    b.addFieldOffset(F.Tensor.name, name, 0);
    if (quantization) b.addFieldOffset(F.Tensor.quantization, quantization, 0);
    return b.endObject();
  });

  const operators = spec.operators.map((op) => {
    const inputs = int32s(op.inputs);
    const outputs = int32s(op.outputs);
    const options = op.optionsType ? writeOptions(b, op.optionsType, op.options ?? {}, int32s) : 0;
    b.startObject(13);
    b.addFieldInt32(F.Operator.opcode_index, op.opcodeIndex, 0);
    b.addFieldOffset(F.Operator.inputs, inputs, 0);
    b.addFieldOffset(F.Operator.outputs, outputs, 0);
    if (options) {
      b.addFieldInt8(F.Operator.builtin_options_type, op.optionsType, 0);
      b.addFieldOffset(F.Operator.builtin_options, options, 0);
    }
    return b.endObject();
  });

  const subgraphTensors = tables(tensors);
  const subgraphInputs = int32s(spec.inputs);
  const subgraphOutputs = int32s(spec.outputs);
  const subgraphOperators = tables(operators);
  const subgraphName = b.createString('main');
  b.startObject(5);
  b.addFieldOffset(F.SubGraph.tensors, subgraphTensors, 0);
  b.addFieldOffset(F.SubGraph.inputs, subgraphInputs, 0);
  b.addFieldOffset(F.SubGraph.outputs, subgraphOutputs, 0);
  b.addFieldOffset(F.SubGraph.operators, subgraphOperators, 0);
  b.addFieldOffset(F.SubGraph.name, subgraphName, 0);
  const subgraph = b.endObject();

  const codes = spec.operatorCodes.map((c) => {
    b.startObject(4);
    // Old readers look at the byte-sized deprecated field only; it saturates at 127.
    b.addFieldInt8(F.OperatorCode.deprecated_builtin_code, Math.min(c.code, 127), 0);
    b.addFieldInt32(F.OperatorCode.version, c.version ?? 1, 1);
    b.addFieldInt32(F.OperatorCode.builtin_code, c.code, 0);
    return b.endObject();
  });

  const codesVector = tables(codes);
  const subgraphsVector = tables([subgraph]);
  const description = b.createString(spec.description ?? 'tinyforge');
  const buffersVector = tables(buffers);
  b.startObject(8);
  b.addFieldInt32(F.Model.version, 3, 0);
  b.addFieldOffset(F.Model.operator_codes, codesVector, 0);
  b.addFieldOffset(F.Model.subgraphs, subgraphsVector, 0);
  b.addFieldOffset(F.Model.description, description, 0);
  b.addFieldOffset(F.Model.buffers, buffersVector, 0);
  const model = b.endObject();
  b.finish(model, 'TFL3');
  return b.asUint8Array().slice();
}

function writeOptions(b: Builder, type: number, values: OptionValues, int32s: (v: number[]) => number): number {
  const fields = OPTION_FIELDS[type] ?? [];
  // Vectors first: a table cannot be open while a vector is built.
  const vectors = new Map<number, number>();
  for (const [id, kind] of fields) {
    const v = values[id];
    if (kind === 'i32[]' && Array.isArray(v)) vectors.set(id, int32s(v));
  }
  b.startObject(Math.max(0, ...fields.map(([id]) => id + 1)));
  for (const [id, kind, fallback] of fields) {
    const v = values[id];
    if (kind === 'i32[]') {
      const at = vectors.get(id);
      if (at !== undefined) b.addFieldOffset(id, at, 0);
    } else if (typeof v === 'number') {
      if (kind === 'f32') b.addFieldFloat32(id, v, fallback);
      else if (kind === 'i32') b.addFieldInt32(id, v, fallback);
      else b.addFieldInt8(id, v, fallback);
    }
  }
  return b.endObject();
}
