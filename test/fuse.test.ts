import { describe, expect, it } from 'vitest';
import { fuseConvPool } from '../src/codegen/fuse.js';
import type { IrModel, IrOp, IrTensor } from '../src/ir/types.js';

// fuseConvPool looks at op kinds, their input/output tensors, the pool window and the tensors'
// quantization only, so these graphs carry nothing else.
const noPad = { top: 0, left: 0, bottom: 0, right: 0 };
const clamp = { min: -128, max: 127 };
const conv = (input: number, output: number) => ({ kind: 'conv2d', name: `conv${output}`, input, output }) as unknown as IrOp;
const maxPool = (input: number, output: number, window: [number, number] = [2, 2]) =>
  ({ kind: 'max_pool2d', name: `pool${output}`, input, output, pool: window, stride: window, padding: noPad, clamp }) as IrOp;
const avgPool = (input: number, output: number) =>
  ({ kind: 'avg_pool2d', name: `avg${output}`, input, output, pool: [2, 2], stride: [2, 2], padding: noPad, clamp }) as IrOp;
const add = (input: number, input2: number, output: number) => ({ kind: 'add', name: `add${output}`, input, input2, output }) as unknown as IrOp;

function graph(ops: IrOp[], output: number): IrModel {
  const ids = new Set(ops.flatMap((op) => [op.input, op.output, ...('input2' in op ? [op.input2] : [])]));
  const tensors: IrTensor[] = [...ids].map((id) => ({ id, name: `t${id}`, shape: [1], scale: 1, zeroPoint: 0 }));
  return { tensors, ops, input: { tensor: 0 }, output: { tensor: output, numClasses: 1 } } as unknown as IrModel;
}

describe('fuseConvPool', () => {
  it('folds a max pooling that is the only reader of a conv2d output; the IR itself is untouched', () => {
    const ir = graph([conv(0, 1), maxPool(1, 2), conv(2, 3)], 3);
    const { ir: view, pools } = fuseConvPool(ir);
    expect(view.ops.map((op) => op.kind)).toEqual(['conv2d', 'conv2d']);
    expect(view.ops[0]!.output).toBe(2);
    expect(pools.get(view.ops[0]!)?.pool).toBe(ir.ops[1]);
    expect(ir.ops).toHaveLength(3);
    expect(fuseConvPool(ir, false).pools.size).toBe(0);
  });

  it('leaves a conv2d whose output fans out (max pool and ADD, or twice into one ADD) unfused', () => {
    const fanOut = graph([conv(0, 1), maxPool(1, 2), add(1, 1, 3)], 3);
    expect(fuseConvPool(fanOut).pools.size).toBe(0);
    expect(fuseConvPool(fanOut).ir).toBe(fanOut);
    const twice = graph([conv(0, 1), add(1, 1, 2)], 2);
    expect(fuseConvPool(twice).pools.size).toBe(0);
  });

  it('fuses neither an average pooling, nor a window over four pixels or overlapping, nor a conv2d that is the graph output', () => {
    expect(fuseConvPool(graph([conv(0, 1), avgPool(1, 2)], 2)).pools.size).toBe(0);
    expect(fuseConvPool(graph([conv(0, 1), maxPool(1, 2, [3, 3])], 2)).pools.size).toBe(0);
    const overlapping = { ...(maxPool(1, 2) as object), stride: [1, 1] } as unknown as IrOp;
    expect(fuseConvPool(graph([conv(0, 1), overlapping], 2)).pools.size).toBe(0);
    expect(fuseConvPool(graph([conv(0, 1)], 1)).pools.size).toBe(0);
  });
});
