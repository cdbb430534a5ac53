import { describe, expect, it } from 'vitest';
import { ALIGN, alignUp, planArena, scratchBytes, type ArenaPlan } from '../src/codegen/planner.js';
import { opInputs, tensorSize, type IrModel, type IrOp, type IrTensor } from '../src/ir/types.js';
import { randomIr, SeededRandom } from './helpers/random-ir.js';

// The planner only looks at tensors (sizes) and ops (kind, input, output), so the synthetic graphs
// below carry nothing else; they need not be valid networks (some are not even chains).
function syntheticIr(sizes: number[], edges: { input: number; input2?: number; output: number; kind?: IrOp['kind'] }[], output?: number): IrModel {
  const tensors: IrTensor[] = sizes.map((n, id) => ({ id, name: `t${id}`, shape: [n], scale: 1, zeroPoint: 0 }));
  const ops = edges.map((e, i) => ({
    kind: e.kind ?? 'max_pool2d',
    name: `op${i}`,
    input: e.input,
    ...(e.input2 !== undefined ? { input2: e.input2 } : {}),
    output: e.output,
  }));
  return {
    tensors,
    ops,
    input: { tensor: 0, pixelOffset: -128 },
    output: { tensor: output ?? edges[edges.length - 1]!.output, numClasses: 1 },
  } as unknown as IrModel;
}

function chain(sizes: number[]): IrModel {
  return syntheticIr(
    sizes,
    sizes.slice(1).map((_, i) => ({ input: i, output: i + 1 })),
  );
}

/**
 * Independent check of a plan: liveness recomputed here from the op list (a tensor is live from
 * the op writing it, or from the start for the input, to the last op reading it, or to the end
 * for the output; a reshape's output shares its input's bytes; an op's scratch is live during
 * that op only), then at every op no two distinct live buffers may share a byte, and every
 * offset is aligned and inside the arena.
 */
function checkPlan(ir: IrModel, plan: ArenaPlan): void {
  const size = new Map(ir.tensors.map((t) => [t.id, tensorSize(t)]));
  const n = ir.ops.length;
  const first = new Map<number, number>([[ir.input.tensor, -1]]);
  const last = new Map<number, number>([[ir.output.tensor, n]]);
  const alias = new Map<number, number>();
  const root = (t: number): number => (alias.has(t) ? root(alias.get(t)!) : t);
  ir.ops.forEach((op, i) => {
    if (!first.has(op.output)) first.set(op.output, i);
    for (const id of opInputs(op)) last.set(id, Math.max(last.get(id) ?? i, i));
    last.set(op.output, Math.max(last.get(op.output) ?? i, i));
    if (op.kind === 'reshape') alias.set(op.output, op.input);
  });
  // An op run in place: an elementwise kind, writing over one of its own inputs of the same size
  // that no later op reads (through reshapes); the two are then one buffer.
  for (const [i, victim] of plan.inPlace) {
    const op = ir.ops[i]!;
    expect(['add', 'softmax', 'quantize'], `op ${i} in place`).toContain(op.kind);
    expect(opInputs(op), `op ${i} writes over its own input`).toContain(victim);
    expect(size.get(victim), `op ${i} in place: same size`).toBe(size.get(op.output));
    const readers = ir.ops.flatMap((o, j) => (opInputs(o).some((id) => root(id) === root(victim)) ? [j] : []));
    expect(Math.max(...readers), `op ${i} in place: ${victim} read later`).toBe(i);
    expect(plan.offsets.get(op.output), `op ${i} in place: same offset`).toBe(plan.offsets.get(victim));
    alias.set(op.output, victim);
  }
  for (const [t, off] of plan.offsets) {
    expect(off % ALIGN, `tensor ${t} offset ${off} aligned`).toBe(0);
    expect(off + size.get(t)!, `tensor ${t} inside the arena`).toBeLessThanOrEqual(plan.arenaBytes);
  }
  for (const op of ir.ops) {
    if (op.kind === 'reshape') expect(plan.offsets.get(op.output), `${op.name} aliases its input`).toBe(plan.offsets.get(op.input));
  }
  for (const [i, sc] of plan.scratch) {
    expect(sc.offset % ALIGN, `scratch of op ${i} aligned`).toBe(0);
    expect(sc.offset + sc.bytes, `scratch of op ${i} inside the arena`).toBeLessThanOrEqual(plan.arenaBytes);
  }
  for (let time = -1; time <= n; time++) {
    // Live tensors, grouped by buffer (a reshape and its input are one buffer).
    const live = [...plan.offsets.keys()].filter((t) => {
      const r = root(t);
      const members = [...plan.offsets.keys()].filter((u) => root(u) === r);
      const f = Math.min(...members.map((u) => first.get(u) ?? Infinity));
      const l = Math.max(...members.map((u) => last.get(u) ?? -Infinity));
      return f <= time && time <= l;
    });
    for (const a of live) {
      for (const b of live) {
        if (a >= b || root(a) === root(b)) continue;
        const [oa, ob] = [plan.offsets.get(a)!, plan.offsets.get(b)!];
        const disjoint = oa + size.get(a)! <= ob || ob + size.get(b)! <= oa;
        expect(disjoint, `tensors ${a} [${oa}, +${size.get(a)}) and ${b} [${ob}, +${size.get(b)}) both live at ${time}`).toBe(true);
      }
    }
    const sc = plan.scratch.get(time);
    if (sc) {
      for (const a of live) {
        const oa = plan.offsets.get(a)!;
        const disjoint = oa + size.get(a)! <= sc.offset || sc.offset + sc.bytes <= oa;
        expect(disjoint, `tensor ${a} [${oa}, +${size.get(a)}) and the scratch of op ${time} [${sc.offset}, +${sc.bytes}) overlap`).toBe(true);
      }
    }
  }
  expect(plan.arenaBytes).toBeGreaterThanOrEqual(plan.lowerBoundBytes);
  expect(plan.lowerBoundBytes).toBeGreaterThanOrEqual(plan.exactLowerBoundBytes);
}

/** The bound for chains: the largest input + output + scratch of a single op. */
function largestOpFootprint(ir: IrModel, round: (n: number) => number): number {
  const size = new Map(ir.tensors.map((t) => [t.id, tensorSize(t)]));
  return Math.max(
    ...ir.ops.map((op) =>
      op.kind === 'reshape'
        ? round(size.get(op.input)!)
        : round(size.get(op.input)!) + round(size.get(op.output)!) + round(scratchBytes(ir, op)),
    ),
  );
}

describe('planArena on chains', () => {
  it('reaches the lower bound exactly with ping-pong placement', () => {
    const ir = chain([784, 5408, 1352, 2704, 784, 64, 12]);
    const plan = planArena(ir);
    checkPlan(ir, plan);
    expect(plan.strategy).toBe('ping-pong');
    expect(plan.lowerBoundBytes).toBe(5408 + 1352);
    expect(plan.arenaBytes).toBe(plan.lowerBoundBytes);
  });

  it('beats a first-fit greedy where that one is not optimal', () => {
    // In-order first fit puts t0 [0,8), t1 [8,12), then t2 (12 bytes, live with t1) cannot go
    // below t1 and ends at 24; ping-pong needs max(8 + 4, 4 + 12) = 16.
    const ir = chain([8, 4, 12]);
    const plan = planArena(ir);
    checkPlan(ir, plan);
    expect(plan.arenaBytes).toBe(16);
    expect(plan.offsets.get(1)).toBe(12);
  });

  it('rounds sizes to 4 bytes: offsets aligned, bound stated on rounded sizes', () => {
    const ir = chain([10, 7, 3, 9, 1]);
    const plan = planArena(ir);
    checkPlan(ir, plan);
    expect(plan.exactLowerBoundBytes).toBe(17); // 10 + 7
    expect(plan.lowerBoundBytes).toBe(20); // 12 + 8, also 12 + 4 + ... max
    expect(plan.arenaBytes).toBe(plan.lowerBoundBytes);
    // Rounding costs at most 3 bytes per tensor live at the busiest op (2 in a chain).
    expect(plan.lowerBoundBytes - plan.exactLowerBoundBytes).toBeLessThanOrEqual(2 * (ALIGN - 1));
  });

  it('makes a reshape output alias its input, in the middle and at the end', () => {
    const ir = syntheticIr([100, 200, 200, 40, 40], [
      { input: 0, output: 1 },
      { input: 1, output: 2, kind: 'reshape' },
      { input: 2, output: 3 },
      { input: 3, output: 4, kind: 'reshape' },
    ]);
    const plan = planArena(ir);
    checkPlan(ir, plan);
    expect(plan.offsets.get(2)).toBe(plan.offsets.get(1));
    expect(plan.offsets.get(4)).toBe(plan.offsets.get(3));
    expect(plan.arenaBytes).toBe(300);
  });

  it('equals the largest single-op input + output + scratch on every random chain IR', () => {
    const irs = [
      ...Array.from({ length: 40 }, (_, s) => randomIr(s + 1)),
      randomIr(1, { architecture: 'mnist-cnn' }),
    ];
    for (const ir of irs) {
      const plan = planArena(ir);
      checkPlan(ir, plan);
      expect(plan.lowerBoundBytes, ir.name).toBe(largestOpFootprint(ir, alignUp));
      expect(plan.exactLowerBoundBytes, ir.name).toBe(largestOpFootprint(ir, (n) => n));
      expect(plan.arenaBytes, ir.name).toBe(plan.lowerBoundBytes);
      // Every op's input and output are disjoint (the kernels rely on it).
      for (const op of ir.ops) {
        if (op.kind === 'reshape') continue;
        const inT = ir.tensors.find((t) => t.id === op.input)!;
        const a = plan.offsets.get(op.input)!;
        const b = plan.offsets.get(op.output)!;
        const outT = ir.tensors.find((t) => t.id === op.output)!;
        expect(a + tensorSize(inT) <= b || b + tensorSize(outT) <= a, `${ir.name} ${op.name}`).toBe(true);
      }
    }
  });

  it('the MNIST CNN needs 28x28x8 + 14x14x8 bytes: the conv2d scratch fits beside the other tensors', () => {
    const ir = randomIr(3, { architecture: 'mnist-cnn' });
    const plan = planArena(ir);
    checkPlan(ir, plan);
    expect(plan.arenaBytes).toBe(28 * 28 * 8 + 14 * 14 * 8);
    // 8 * Kp + 32 bytes per conv2d (Kp = 3 * 3 * in_c rounded up to 4); the first (1 input
    // channel: 5 pairs of taps, 16 bytes each) 16 * 5 + 32 + two padded rows of 4 bytes.
    expect([...plan.scratch.values()].map((s) => s.bytes)).toEqual([16 * 5 + 32 + 8, 8 * 72 + 32, 8 * 144 + 32]);
  });
});

describe('planArena with scratch', () => {
  it('gives each conv2d its im2col scratch, live during that op only', () => {
    // Every conv2d of the random IRs; pools, depthwise, fully connected and reshape need none.
    for (const ir of [randomIr(1), randomIr(2), randomIr(7)]) {
      const plan = planArena(ir);
      checkPlan(ir, plan);
      ir.ops.forEach((op, i) => {
        const input = ir.tensors.find((t) => t.id === op.input)!;
        let expected = 0;
        if (op.kind === 'conv2d') {
          const k = op.kernel[0] * op.kernel[1] * input.shape[2]!;
          const rowLen = op.kernel[1] * input.shape[2]!;
          const kh = op.kernel[0];
          const rowPairs = Math.ceil(rowLen / 4) + Math.ceil((rowLen - 1) / 4);
          const pairs = rowLen === 3 ? 3 * Math.floor(kh / 2) + 2 * (kh % 2) : kh * rowPairs;
          // Four int16 columns + eight int32 sums (+ the int8 window when in_c is not a multiple
          // of 4); few input channels (below 4): the columns as int16 pairs of taps, kernel row by
          // kernel row (rows of 3 taps two at a time), + two padded rows.
          const inC = input.shape[2]!;
          const kp = alignUp(k, 4);
          expected = inC < 4 ? 16 * pairs + 32 + 2 * alignUp(rowLen, 4) : 8 * kp + 32 + (inC % 4 === 0 ? 0 : kp);
        }
        expect(plan.scratch.get(i)?.bytes ?? 0, `${ir.name} ${op.name}`).toBe(expected);
      });
    }
  });

  it('grows the arena when the scratch does not fit beside the largest layer, and counts it in the bound', () => {
    // A 1x1 input to a conv with a big kernel: tensors of a few bytes, scratch of 5 * 9 * 8 bytes.
    const ir = randomIr(5, { inputShape: [1, 1, 8] });
    const plan = planArena(ir);
    checkPlan(ir, plan);
    const conv = ir.ops.findIndex((op) => op.kind === 'conv2d');
    const sc = plan.scratch.get(conv)!;
    expect(sc.bytes).toBeGreaterThan(0);
    expect(plan.lowerBoundBytes).toBe(largestOpFootprint(ir, alignUp));
    expect(plan.arenaBytes).toBe(plan.lowerBoundBytes);
    // Without the scratch the largest layer would need far less.
    const noScratch = Math.max(...ir.ops.map((op) => alignUp(tensorSize(ir.tensors[op.input]!)) + alignUp(tensorSize(ir.tensors[op.output]!))));
    expect(plan.arenaBytes).toBeGreaterThan(noScratch);
  });

  it('is checked: a scratch overlapping a live tensor is rejected (so the tests above can fail)', () => {
    const ir = randomIr(3, { architecture: 'mnist-cnn' });
    const plan = planArena(ir);
    const conv = ir.ops.findIndex((op) => op.kind === 'conv2d');
    const broken: ArenaPlan = { ...plan, scratch: new Map([[conv, { offset: plan.offsets.get(ir.ops[conv]!.output)!, bytes: 60 }]]) };
    expect(() => checkPlan(ir, broken)).toThrow(/scratch of op/);
  });
});

describe('planArena on general graphs', () => {
  it('keeps a tensor read by two ops alive for both', () => {
    // t0 -> t1, t0 -> t2, t1 -> t3: t0 is live until op 1, so t1 and t2 cannot share bytes with it.
    const ir = syntheticIr([64, 32, 32, 8], [
      { input: 0, output: 1 },
      { input: 0, output: 2 },
      { input: 1, output: 3 },
    ], 3);
    const plan = planArena(ir);
    checkPlan(ir, plan);
    expect(plan.lowerBoundBytes).toBe(64 + 32 + 32);
    expect(plan.arenaBytes).toBe(plan.lowerBoundBytes);
  });

  it('never overlaps live tensors on random DAGs', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const rng = new SeededRandom(seed);
      const count = rng.int(2, 12);
      const sizes = Array.from({ length: count }, () => rng.int(1, 300));
      const edges = sizes.slice(1).map((_, i) => {
        const output = i + 1;
        const input = rng.next() < 0.6 ? i : rng.int(0, i);
        const kind = rng.next() < 0.15 && sizes[input] !== undefined ? ('reshape' as const) : undefined;
        if (kind === 'reshape') sizes[output] = sizes[input]!;
        return { input, output, kind };
      });
      const ir = syntheticIr(sizes, edges, rng.int(1, count - 1));
      const plan = planArena(ir);
      checkPlan(ir, plan);
    }
  });
});

describe('the independent plan check', () => {
  it('rejects a plan with overlapping live tensors (so the tests above can fail)', () => {
    const ir = chain([8, 4, 12]);
    const plan = planArena(ir);
    const broken: ArenaPlan = { ...plan, offsets: new Map([[0, 0], [1, 4], [2, 4]]) };
    expect(() => checkPlan(ir, broken)).toThrow(/both live/);
    const misaligned: ArenaPlan = { ...plan, offsets: new Map([[0, 0], [1, 10], [2, 0]]) };
    expect(() => checkPlan(ir, misaligned)).toThrow(/aligned/);
  });
});

describe('planArena in place', () => {
  // t0 -> t1 -> t2, then add(t1, t2) -> t3 -> t4: a residual block.
  const residual = (sizes: number[], readAgain = false) =>
    syntheticIr(sizes, [
      { input: 0, output: 1 },
      { input: 1, output: 2 },
      { input: 1, input2: 2, output: 3, kind: 'add' },
      { input: readAgain ? 1 : 3, input2: 3, output: 4, kind: readAgain ? 'add' : 'max_pool2d' },
    ]);

  it('lets an ADD write over an input nothing reads afterwards, and counts it in the bound', () => {
    const ir = residual([64, 64, 64, 64, 64]);
    const plan = planArena(ir);
    checkPlan(ir, plan);
    expect([...plan.inPlace]).toEqual([[2, 1]]);
    // At op 2, t1, t2 and t3 are live without it (192 bytes); with it t3 is t1's bytes.
    expect(planArena(ir, { inPlace: false }).lowerBoundBytes).toBe(192);
    expect(plan.lowerBoundBytes).toBe(128);
    expect(plan.arenaBytes).toBe(128);
  });

  it('picks the input not read later; none when sizes differ, the input is the graph input, or the op is not elementwise', () => {
    // t1 is read again by op 3: op 2 writes over t2, op 3 over t1.
    expect([...planArena(residual([64, 64, 64, 64, 64], true)).inPlace]).toEqual([[2, 2], [3, 1]]);
    const shrink = syntheticIr([64, 64, 32], [
      { input: 0, output: 1 },
      { input: 1, output: 2, kind: 'softmax' },
    ]);
    expect(planArena(shrink).inPlace.size).toBe(0);
    const onInput = syntheticIr([64, 64], [{ input: 0, output: 1, kind: 'softmax' }]);
    expect(planArena(onInput).inPlace.size).toBe(0);
    const pool = syntheticIr([64, 64, 64], [
      { input: 0, output: 1 },
      { input: 1, output: 2 },
    ]);
    expect(planArena(pool).inPlace.size).toBe(0);
    const softmax = syntheticIr([64, 64, 64], [
      { input: 0, output: 1 },
      { input: 1, output: 2, kind: 'softmax' },
    ]);
    const plan = planArena(softmax);
    checkPlan(softmax, plan);
    expect([...plan.inPlace]).toEqual([[1, 1]]);
  });

  it('is checked: an op claimed in place over an input read later is rejected', () => {
    const ir = residual([64, 64, 64, 64, 64], true);
    const plan = planArena(ir);
    const broken: ArenaPlan = { ...plan, inPlace: new Map([[2, 1]]) };
    expect(() => checkPlan(ir, broken)).toThrow(/read later/);
  });
});
