// IR version 2: graphs (fan-out, two-input ops, several graph inputs), float32 at the edges,
// and the checks of every graph op kind, on the disk format (JSON) as users would break it.
import { describe, expect, it } from 'vitest';
import { irFromJson, irToJson } from '../src/ir/io.js';
import { findIrProblems } from '../src/ir/validate.js';
import { everyGraphOpIr, twoInputAddIr } from './helpers/graph-ir.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

describe('version-2 graphs', () => {
  it('a graph with every graph op, fan-out and float32 edges is valid and round-trips', () => {
    const ir = everyGraphOpIr();
    expect(findIrProblems(ir)).toEqual([]);
    expect(irFromJson(JSON.parse(JSON.stringify(irToJson(ir))), 'g.ir.json')).toEqual(ir);
  });

  it('a two-input graph is valid and round-trips', () => {
    const ir = twoInputAddIr();
    expect(findIrProblems(ir)).toEqual([]);
    expect(irFromJson(JSON.parse(JSON.stringify(irToJson(ir))), 'g.ir.json')).toEqual(ir);
  });

  const cases: { name: string; path: string; mention?: RegExp; two?: boolean; mutate: (d: Doc) => void }[] = [
    { name: 'float32 in the middle', path: '/tensors/3/dtype', mention: /graph input or the graph output/, mutate: (d) => {
      d.tensors[3] = { ...d.tensors[3], dtype: 'float32', scale: 1, zeroPoint: 0 };
    } },
    { name: 'float32 into a layer op', path: '/ops/1/input', mention: /int8 tensor/, mutate: (d) => void (d.ops[1].input = 0) },
    { name: 'float32 tensor with a scale', path: '/tensors/0', mention: /scale 1/, mutate: (d) => void (d.tensors[0].scale = 0.5) },
    { name: 'dequantize to int8', path: '/ops/7/output', mention: /float32 tensor/, mutate: (d) => {
      d.tensors[8] = { id: 8, name: 't8', shape: [4], scale: 1, zeroPoint: 0 };
    } },
    { name: 'int8 quantize without rescale', path: '/ops/0/rescale', mutate: (d) => {
      d.tensors[0] = { id: 0, name: 't0', shape: [4, 4, 2], scale: 0.05, zeroPoint: 0 };
    } },
    { name: 'add of different shapes', path: '/ops/0/input2', mention: /no broadcasting/, two: true, mutate: (d) => void (d.tensors[1].shape = [3, 2, 3]) },
    { name: 'add rescale disagrees', path: '/ops/0/input2Rescale/multiplier', two: true, mutate: (d) => void (d.ops[0].input2Rescale.shift -= 1) },
    { name: 'add left shift', path: '/ops/1/leftShift', mutate: (d) => void (d.ops[1].leftShift = 15) },
    { name: 'graph input read before written', path: '/ops/0/input2', mention: /graph input or the output of an earlier op/, two: true, mutate: (d) => void delete d.extraInputs },
    { name: 'two inputs naming one tensor', path: '/extraInputs/0/tensor', two: true, mutate: (d) => void (d.extraInputs[0].tensor = 0) },
    { name: 'concatenation sum', path: '/ops/2/output', mention: /sum of the inputs/, mutate: (d) => void (d.ops[2].inputs = [1, 2, 2]) },
    { name: 'concatenation first input', path: '/ops/2/inputs', mutate: (d) => void (d.ops[2].input = 2) },
    { name: 'concatenation mixed quantization', path: '/ops/2/inputs/1', mention: /does not requantize/, mutate: (d) => {
      d.tensors[2].scale = 0.06;
      d.ops[1].outputRescale.multiplier = Math.round(d.ops[1].outputRescale.multiplier * (0.05 / 0.06));
    } },
    { name: 'concatenation axis', path: '/ops/2/axis', mutate: (d) => void (d.ops[2].axis = 3) },
    { name: 'pad output shape', path: '/ops/3/output', mention: /padded/, mutate: (d) => void (d.ops[3].paddings[0] = [1, 1]) },
    { name: 'pad rank', path: '/ops/3/paddings', mutate: (d) => void d.ops[3].paddings.pop() },
    { name: 'mean axes', path: '/ops/4/axes', mention: /increasing/, mutate: (d) => void (d.ops[4].axes = [1, 0]) },
    { name: 'mean keepDims false', path: '/ops/4/output', mutate: (d) => void (d.ops[4].keepDims = false) },
    { name: 'mean rescale', path: '/ops/4/rescale/multiplier', mutate: (d) => void (d.ops[4].rescale.shift += 1) },
    { name: 'softmax output quantization', path: '/ops/6/output', mention: /1\/256/, mutate: (d) => void (d.tensors[7].zeroPoint = 0) },
    { name: 'softmax multiplier', path: '/ops/6/inputMultiplier', mutate: (d) => void (d.ops[6].inputLeftShift += 1) },
    { name: 'softmax diffMin', path: '/ops/6/diffMin', mutate: (d) => void (d.ops[6].diffMin = 3) },
    { name: 'image input on a vector', path: '/input/tensor', mention: /image tensor/, two: true, mutate: (d) => {
      d.input.pixelOffset = -128;
      d.tensors[0].zeroPoint = -128;
      d.tensors[0].shape = [18];
      d.tensors[1].shape = [18];
      d.tensors[2].shape = [18];
    } },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.path}`, () => {
      const doc: Doc = JSON.parse(JSON.stringify(irToJson(c.two ? twoInputAddIr() : everyGraphOpIr())));
      c.mutate(doc);
      let message = '';
      try {
        irFromJson(doc, 'bad.ir.json');
      } catch (err) {
        message = (err as Error).message;
      }
      const line = message.split('\n').find((l) => l.startsWith(`bad.ir.json: ${c.path}: expected `));
      expect(line, message || 'no error').toBeDefined();
      if (c.mention) expect(line).toMatch(c.mention);
    });
  }
});
