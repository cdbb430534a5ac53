// Test helper: a conformance .tflite decoded into an editable TfliteSpec (src/export/
// tflite-writer.ts), so a test can change one thing (an op code, an option, a tensor type, a
// buffer) and write the file again, in memory.
import { readFileSync } from 'node:fs';
import { readOptions } from '../../src/import/options.js';
import { decodeTflite } from '../../src/import/tflite-model.js';
import type { TfliteSpec } from '../../src/export/tflite-writer.js';

export const conformanceRoot = new URL('../../../shared/conformance/', import.meta.url).pathname;

export function conformanceBytes(model: string): Uint8Array {
  return new Uint8Array(readFileSync(`${conformanceRoot}${model}/model.tflite`));
}

export function specOf(bytes: Uint8Array): TfliteSpec {
  const m = decodeTflite(bytes);
  const buffers: (Uint8Array | undefined)[] = [undefined];
  return {
    description: m.description,
    operatorCodes: m.operators.map((op) => ({ code: op.code, version: op.version })),
    buffers,
    tensors: m.tensors.map((t) => ({
      name: t.name,
      shape: [...t.shape],
      type: t.type,
      buffer: t.data ? buffers.push(t.data.slice()) - 1 : 0,
      quantization: t.quantization && { scale: [...t.quantization.scale], zeroPoint: [...t.quantization.zeroPoint], quantizedDimension: t.quantization.quantizedDimension },
    })),
    inputs: [...m.inputs],
    outputs: [...m.outputs],
    operators: m.operators.map((op, i) => ({
      opcodeIndex: i,
      inputs: [...op.inputs],
      outputs: [...op.outputs],
      optionsType: op.optionsType,
      options: readOptions(op.optionsType, op.options),
    })),
  };
}
