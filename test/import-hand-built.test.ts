// The hand-built files (test/helpers/hand-built-tflite.ts) import into valid IRs with the kernel,
// stride, depth multiplier and shapes they were built with, and run on the reference.
import { describe, expect, it } from 'vitest';
import { irShape } from '../src/import/context.js';
import { importTflite } from '../src/import/import.js';
import { tensorSize } from '../src/ir/types.js';
import { findIrProblems } from '../src/ir/validate.js';
import { runReference } from '../src/reference/interpreter.js';
import { HAND_BUILT, handBuiltTflite } from './helpers/hand-built-tflite.js';

describe('hand-built .tflite files', () => {
  for (const [name, spec] of Object.entries(HAND_BUILT)) {
    it(`${name}: imports with its shapes and parameters, and runs`, () => {
      const ir = importTflite(handBuiltTflite(spec), { label: `${name}.tflite` });
      expect(findIrProblems(ir)).toEqual([]);
      const [op] = ir.ops;
      expect(ir.tensors[op.input].shape).toEqual(irShape(spec.input));
      expect(ir.tensors[op.output].shape).toEqual(spec.op === 'FULLY_CONNECTED' ? [spec.output[1]] : irShape(spec.output));
      if (op.kind === 'depthwise_conv2d' || op.kind === 'conv2d') {
        expect(op.kernel).toEqual([spec.filter[1], spec.filter[2]]);
        expect(op.stride).toEqual(spec.stride ?? [1, 1]);
      }
      if (op.kind === 'depthwise_conv2d') expect(op.depthMultiplier).toBe(spec.filter[3] / spec.input[3]);
      const input = Int8Array.from({ length: tensorSize(ir.tensors[op.input]) }, (_, i) => ((i * 37) % 256) - 128);
      const out = runReference(ir, input);
      expect(out.length).toBe(tensorSize(ir.tensors[op.output]));
      expect(new Set(out).size).toBeGreaterThan(1);
    });
  }
});
