// A small hand-built version-2 graph using every graph op, for validator and round-trip tests:
//
//   t0 float32 [4,4,2] -QUANTIZE-> t1 -ADD(t1, t1)-> t2        (t1 fans out to ADD twice and
//   CONCATENATION(t1, t2) axis 2 -> t3 [4,4,4] -PAD-> t4 [5,6,4]      to CONCATENATION)
//   -MEAN(H, W)-> t5 [1,1,4] -RESHAPE-> t6 [4] -SOFTMAX-> t7 -DEQUANTIZE-> t8 float32 [4]
//
// and twoInputAddIr(): two graph inputs [3,3,2] added (ADD with different input scales).
import { quantizeMultiplier } from '../../src/quantize/multiplier.js';
import { IR_VERSION, type IrModel, type IrTensor, type Rescale } from '../../src/ir/types.js';

function rescale(real: number): Rescale {
  return quantizeMultiplier(real);
}

const metadata = {
  configName: 'graph-test',
  configHash: 'graph-test',
  dataset: 'none',
  architecture: 'graph-test',
  calibration: { method: 'none', samples: 0 },
  createdAt: '2000-01-01T00:00:00.000Z',
  tinyforgeVersion: '0.0.0-test',
};

function int8(id: number, shape: number[], scale: number, zeroPoint: number): IrTensor {
  return { id, name: `t${id}`, shape, scale, zeroPoint };
}

function addRescales(s1: number, s2: number, sOut: number): { input1Rescale: Rescale; input2Rescale: Rescale; outputRescale: Rescale } {
  const twiceMax = 2 * Math.max(s1, s2);
  return {
    input1Rescale: rescale(s1 / twiceMax),
    input2Rescale: rescale(s2 / twiceMax),
    outputRescale: rescale(twiceMax / (2 ** 20 * sOut)),
  };
}

export function everyGraphOpIr(): IrModel {
  const s = 0.05;
  const meanOut = 0.03;
  return {
    irVersion: IR_VERSION,
    name: 'every-graph-op',
    tensors: [
      { id: 0, name: 't0', shape: [4, 4, 2], dtype: 'float32', scale: 1, zeroPoint: 0 },
      int8(1, [4, 4, 2], s, -3),
      int8(2, [4, 4, 2], s, -3),
      int8(3, [4, 4, 4], s, -3),
      int8(4, [5, 6, 4], s, -3),
      int8(5, [1, 1, 4], meanOut, 5),
      int8(6, [4], meanOut, 5),
      int8(7, [4], 1 / 256, -128),
      { id: 8, name: 't8', shape: [4], dtype: 'float32', scale: 1, zeroPoint: 0 },
    ],
    ops: [
      { kind: 'quantize', name: 'q', input: 0, output: 1 },
      { kind: 'add', name: 'add', input: 1, input2: 1, output: 2, leftShift: 20, ...addRescales(s, s, s), clamp: { min: -128, max: 127 } },
      { kind: 'concatenation', name: 'cat', input: 1, inputs: [1, 2], axis: 2, output: 3 },
      { kind: 'pad', name: 'pad', input: 3, output: 4, paddings: [[0, 1], [2, 0], [0, 0]] },
      { kind: 'mean', name: 'mean', input: 4, output: 5, axes: [0, 1], keepDims: true, rescale: rescale(s / meanOut) },
      { kind: 'reshape', name: 'flat', input: 5, output: 6 },
      {
        kind: 'softmax',
        name: 'softmax',
        input: 6,
        output: 7,
        beta: 1,
        // PreprocessSoftmaxScaling(1, 0.03, 5): 0.03 * 2^26 -> QuantizeMultiplierGreaterThanOne.
        ...(() => {
          const q = quantizeMultiplier(meanOut * 2 ** 26);
          return { inputMultiplier: q.multiplier, inputLeftShift: q.shift };
        })(),
        diffMin: -1,
      },
      { kind: 'dequantize', name: 'dq', input: 7, output: 8 },
    ],
    input: { tensor: 0 },
    output: { tensor: 8, numClasses: 4 },
    metadata,
  };
}

export function twoInputAddIr(): IrModel {
  const [s1, s2, sOut] = [0.02, 0.07, 0.1];
  return {
    irVersion: IR_VERSION,
    name: 'two-input-add',
    tensors: [int8(0, [3, 3, 2], s1, 4), int8(1, [3, 3, 2], s2, -7), int8(2, [3, 3, 2], sOut, -128)],
    ops: [{ kind: 'add', name: 'add', input: 0, input2: 1, output: 2, leftShift: 20, ...addRescales(s1, s2, sOut), clamp: { min: -128, max: 127 } }],
    input: { tensor: 0 },
    extraInputs: [{ tensor: 1 }],
    output: { tensor: 2, numClasses: 18 },
    metadata,
  };
}
