// A .tflite file decoded into plain objects: the tables of TFLite's schema that tinyforge needs
// (Model, OperatorCode, SubGraph, Tensor, QuantizationParameters, Buffer, Operator), each read
// through the bounds-checked accessors of flatbuffer.ts. Everything is checked here that makes
// the file self-consistent (indices in range, buffers as long as their tensors); whether
// tinyforge supports what the file describes is decided later, by the op table.
import { FbTable, FlatbufferError } from './flatbuffer.js';
import { F, tensorTypeBytes, tensorTypeName } from './tflite-schema.js';

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: number;
  /** The constant data (a view into the file), or undefined for activations. */
  data?: Uint8Array;
  quantization?: TfliteQuantization;
}

export interface TfliteOperator {
  index: number;
  /** max(deprecated_builtin_code, builtin_code). */
  code: number;
  /** custom_code, for CUSTOM ops. */
  custom?: string;
  version: number;
  /** Tensor indices; -1 for an omitted optional input. */
  inputs: number[];
  outputs: number[];
  optionsType: number;
  options?: FbTable;
}

export interface TfliteModel {
  version: number;
  description?: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  subgraphCount: number;
}

/** Decodes the first subgraph of a .tflite file. Throws FlatbufferError on a malformed file. */
export function decodeTflite(bytes: Uint8Array): TfliteModel {
  const model = FbTable.root(bytes, 'TFL3');
  const version = model.scalar(F.Model.version, 'u32', 'version');
  if (version !== 3) throw new FlatbufferError('model.version', `expected schema version 3, found ${version}`);
  const buffers = model.tables(F.Model.buffers, 'buffers').map((b) => readBuffer(b, bytes));
  const codes = model.tables(F.Model.operator_codes, 'operator_codes').map((c) => ({
    code: Math.max(
      c.scalar(F.OperatorCode.deprecated_builtin_code, 'i8', 'deprecated_builtin_code'),
      c.scalar(F.OperatorCode.builtin_code, 'i32', 'builtin_code'),
    ),
    custom: c.string(F.OperatorCode.custom_code, 'custom_code'),
    version: c.scalar(F.OperatorCode.version, 'i32', 'version', 1),
  }));
  const subgraphs = model.tables(F.Model.subgraphs, 'subgraphs');
  if (subgraphs.length === 0) throw new FlatbufferError('model.subgraphs', 'expected at least one subgraph, found none');
  const graph = subgraphs[0];
  const tensors = graph.tables(F.SubGraph.tensors, 'tensors').map((t, i) => readTensor(t, i, buffers));
  const indexIn = (path: string, list: number[], allowOmitted: boolean): number[] => {
    list.forEach((v, k) => {
      if ((v < 0 || v >= tensors.length) && !(allowOmitted && v === -1)) {
        throw new FlatbufferError(`${path}[${k}]`, `expected a tensor index in [0, ${tensors.length - 1}], found ${v}`);
      }
    });
    return list;
  };
  const operators = graph.tables(F.SubGraph.operators, 'operators').map((op, i): TfliteOperator => {
    const codeIndex = op.scalar(F.Operator.opcode_index, 'u32', 'opcode_index');
    const code = codes[codeIndex];
    if (!code) throw new FlatbufferError(`${op.path}.opcode_index`, `expected an index in [0, ${codes.length - 1}] of operator_codes, found ${codeIndex}`);
    const optionsType = op.scalar(F.Operator.builtin_options_type, 'u8', 'builtin_options_type');
    return {
      index: i,
      ...code,
      inputs: indexIn(`${op.path}.inputs`, op.scalars(F.Operator.inputs, 'i32', 'inputs'), true),
      outputs: indexIn(`${op.path}.outputs`, op.scalars(F.Operator.outputs, 'i32', 'outputs'), false),
      optionsType,
      options: optionsType === 0 ? undefined : op.table(F.Operator.builtin_options, 'builtin_options'),
    };
  });
  return {
    version,
    description: model.string(F.Model.description, 'description'),
    tensors,
    inputs: indexIn(`${graph.path}.inputs`, graph.scalars(F.SubGraph.inputs, 'i32', 'inputs'), false),
    outputs: indexIn(`${graph.path}.outputs`, graph.scalars(F.SubGraph.outputs, 'i32', 'outputs'), false),
    operators,
    subgraphCount: subgraphs.length,
  };
}

function readBuffer(b: FbTable, file: Uint8Array): Uint8Array | undefined {
  const data = b.bytes(F.Buffer.data, 'data');
  const offset = b.scalar(F.Buffer.offset, 'i64', 'offset');
  if (offset <= 1) return data && data.length > 0 ? data : undefined;
  // Files over 2 GB keep buffers after the FlatBuffer: offset from the start of the file.
  const size = b.scalar(F.Buffer.size, 'i64', 'size');
  if (offset + size > file.length) {
    throw new FlatbufferError(`${b.path}.offset`, `buffer of ${size} bytes at byte ${offset} runs past the ${file.length}-byte file`);
  }
  return file.subarray(offset, offset + size);
}

function readTensor(t: FbTable, index: number, buffers: (Uint8Array | undefined)[]): TfliteTensor {
  const shape = t.scalars(F.Tensor.shape, 'i32', 'shape');
  const type = t.scalar(F.Tensor.type, 'i8', 'type');
  const bufferIndex = t.scalar(F.Tensor.buffer, 'u32', 'buffer');
  const name = t.string(F.Tensor.name, 'name') ?? `tensor ${index}`;
  if (bufferIndex >= buffers.length && bufferIndex !== 0) {
    throw new FlatbufferError(`${t.path}.buffer`, `expected an index in [0, ${buffers.length - 1}] of buffers, found ${bufferIndex}`);
  }
  if (shape.some((d) => d < 0)) throw new FlatbufferError(`${t.path}.shape`, `expected non-negative dimensions, found ${JSON.stringify(shape)}`);
  // TFLite sizes tensors with int32 byte counts; a larger shape is corruption, not a model.
  if (shape.reduce((a, b) => a * b, 1) > 2 ** 31 - 1) {
    throw new FlatbufferError(`${t.path}.shape`, `expected at most 2^31 - 1 elements, found ${JSON.stringify(shape)}`);
  }
  const data = buffers[bufferIndex];
  if (data) {
    const elementBytes = tensorTypeBytes[type];
    const expected = shape.reduce((a, b) => a * b, 1) * (elementBytes ?? 0);
    if (elementBytes !== undefined && data.length < expected) {
      throw new FlatbufferError(
        `${t.path} ("${name}")`,
        `its buffer ${bufferIndex} holds ${data.length} bytes, shorter than the ${expected} bytes of a ${tensorTypeName(type)} ${JSON.stringify(shape)} tensor`,
      );
    }
  }
  const q = t.table(F.Tensor.quantization, 'quantization');
  const quantization = q && {
    scale: q.scalars(F.QuantizationParameters.scale, 'f32', 'scale'),
    zeroPoint: q.scalars(F.QuantizationParameters.zero_point, 'i64', 'zero_point'),
    quantizedDimension: q.scalar(F.QuantizationParameters.quantized_dimension, 'i32', 'quantized_dimension'),
  };
  return { index, name, shape, type, data, quantization: quantization && quantization.scale.length > 0 ? quantization : undefined };
}
