// The row-band planner (src/codegen/bands.ts): band rows cover what every layer reads, the banded
// arena never lets two live things share a byte at any step of any band (checked here from the
// schedule, independently of the planner's own checks), a run is chosen only when its arena is
// smaller, and the halo MACs are counted right. Bit-exactness of the generated band loops is in
// test/codegen.test.ts (host ASan/UBSan and QEMU).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bandRuns, bandSchedule, bandWorkspace, checkWorkspace, planRowBands, type BandPlan } from '../src/codegen/bands.js';
import { fuseConvPool } from '../src/codegen/fuse.js';
import { resolveLayers } from '../src/codegen/layers.js';
import { alignUp, liveBuffers, planArena } from '../src/codegen/planner.js';
import { loadIr } from '../src/ir/io.js';
import type { IrModel } from '../src/ir/types.js';
import { randomIr } from './helpers/random-ir.js';

const ZOO = 'results/lightweight-vs-baselines/points';

function zooIrs(): [string, IrModel][] {
  if (!existsSync(ZOO)) return [];
  return readdirSync(ZOO)
    .map((p) => join(ZOO, p, 'run/model.ir.json'))
    .filter((f) => existsSync(f))
    .map((f) => [f, loadIr(f)]);
}

function randomIrs(): [string, IrModel][] {
  const out: [string, IrModel][] = [];
  for (let seed = 1; seed <= 12; seed++) out.push([`random ${seed}`, randomIr(seed)]);
  for (let seed = 1; seed <= 4; seed++) out.push([`random mnist-cnn ${seed}`, randomIr(seed, { architecture: 'mnist-cnn' })]);
  return out;
}

function fused(ir: IrModel) {
  const view = fuseConvPool(ir);
  return { ir: view.ir, layers: resolveLayers(view.ir, view.pools) };
}

type Range = { what: string; start: number; end: number };

function expectDisjoint(ranges: Range[], where: string): void {
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      const apart = a.end <= b.start || b.end <= a.start || a.start === a.end || b.start === b.end;
      expect(apart, `${where}: ${a.what} [${a.start}, ${a.end}) and ${b.what} [${b.start}, ${b.end}) overlap`).toBe(true);
    }
  }
}

/**
 * Every step of every band of the run: the bytes each layer reads and writes (the rows the band
 * computes, not the buffer sizes the planner reserved), its scratch, and every tensor live across
 * the run, all pairwise disjoint and inside the arena.
 */
function checkBandSteps(ir: IrModel, band: BandPlan, label: string): void {
  const plan = band.bandedPlan;
  const ws = plan.scratch.get(band.start)!;
  const n = band.layers.length;
  const first = band.layers[0]!;
  const last = band.layers[n - 1]!;
  const inOff = plan.offsets.get(first.layer.input.id)!;
  const outOff = plan.offsets.get(last.layer.output.id)!;
  // Tensors of the banded view live while the run executes (its own input and output included).
  const across: Range[] = liveBuffers(band.bandedIr)
    .filter((b) => b.first <= band.start && band.start <= b.last)
    .map((b) => ({ what: `tensor ${b.tensors.join(',')}`, start: plan.offsets.get(b.tensors[0]!)!, end: plan.offsets.get(b.tensors[0]!)! + b.bytes }));
  const buffer = (k: number, rows: number): Range => {
    const start = ws.offset + band.bufferOffsets[k]!;
    return { what: `band buffer ${k}`, start, end: start + rows * band.layers[k]!.outRowBytes };
  };
  bandSchedule(band.layers, band.rows).forEach((rows, b) => {
    for (let k = 0; k < n; k++) {
      const r = rows[k]!;
      const where = `${label}: band ${b}, layer ${k}`;
      const live: Range[] = across.filter((t) => t.start !== inOff && t.start !== outOff);
      // What the layer reads: whole-tensor rows of the run's input, or the previous band buffer.
      live.push(k === 0 ? { what: 'run input rows', start: inOff + r.inFirst * first.inRowBytes, end: inOff + r.inLast * first.inRowBytes } : buffer(k - 1, r.inLast - r.inFirst));
      live.push(k === n - 1 ? { what: 'run output', start: outOff, end: outOff + last.outH * last.outRowBytes } : buffer(k, r.outLast - r.outFirst));
      if (k > 0) live.push({ what: 'run input', start: inOff, end: inOff + first.inH * first.inRowBytes });
      if (band.scratchSizes[k]! > 0) {
        const s = ws.offset + band.scratchOffsets[k]!;
        live.push({ what: `scratch ${k}`, start: s, end: s + band.scratchSizes[k]! });
      }
      // The previous layer's band holds exactly the rows this one reads.
      if (k > 0) expect([rows[k - 1]!.outFirst, rows[k - 1]!.outLast], where).toEqual([r.inFirst, r.inLast]);
      if (k < n - 1) expect(r.outLast - r.outFirst, where).toBeLessThanOrEqual(band.bufferRows[k]!);
      expectDisjoint(live, where);
      for (const x of live) expect(x.end, `${where}: ${x.what} past the arena`).toBeLessThanOrEqual(plan.arenaBytes);
    }
  });
}

describe('band rows', () => {
  it('cover every row each layer reads, the last layer\'s rows exactly once, with the padding above the first row only', () => {
    for (const [label, ir] of [...randomIrs(), ...zooIrs()]) {
      const { ir: view, layers } = fused(ir);
      for (const run of bandRuns(view, layers)) {
        const last = run.layers[run.layers.length - 1]!;
        for (const rows of [1, 2, 3, last.outH]) {
          const schedule = bandSchedule(run.layers, rows);
          expect(schedule.map((b) => b[b.length - 1]!.outFirst)).toEqual(schedule.map((_, i) => i * rows));
          expect(schedule[schedule.length - 1]![run.layers.length - 1]!.outLast).toBe(last.outH);
          for (const band of schedule) {
            band.forEach((r, k) => {
              const L = run.layers[k]!;
              const where = `${label} run ${run.start}..${run.end} rows ${rows} layer ${k}`;
              expect(r.inFirst, where).toBeGreaterThanOrEqual(0);
              expect(r.inLast, where).toBeLessThanOrEqual(L.inH);
              expect(r.padTop, where).toBe(r.outFirst === 0 ? Math.max(0, L.pad) : 0);
              // Each output row's window, clipped to the tensor, lies in the rows the band holds.
              for (let o = r.outFirst; o < r.outLast; o++) {
                const top = o * L.stride - L.pad;
                expect(Math.max(0, top), where).toBeGreaterThanOrEqual(r.inFirst);
                expect(Math.min(L.inH, top + L.span), where).toBeLessThanOrEqual(r.inLast);
              }
            });
          }
        }
      }
    }
  });

  it('count MACs per row that add up to each layer\'s, and no halo MACs for one band or for 1x1 layers only', () => {
    for (const [label, ir] of [...randomIrs(), ...zooIrs()]) {
      const { ir: view, layers } = fused(ir);
      for (const run of bandRuns(view, layers)) {
        for (const L of run.layers) {
          const sum = L.rowMacs.reduce((a, b) => a + b, 0);
          const C = L.layer;
          // A fused pooling over an odd conv height reads no conv row past pooled rows * pool rows,
          // and the kernel computes none (layer.macs counts every conv row).
          if (C.family === 'conv' && C.pool && C.pool.outShape.h * C.pool.size[0] < C.outShape.h) {
            expect(sum, `${label} ${C.op.name}`).toBeLessThan(C.macs);
          } else expect(sum, `${label} ${C.op.name}`).toBe(C.macs);
        }
        const last = run.layers[run.layers.length - 1]!;
        // One band recomputes nothing, and skips the rows no later layer reads (a stride-2 layer
        // on an odd height): at most the layer-by-layer MACs.
        const oneBand = bandWorkspace(view, run.layers, last.outH).extraMacs;
        expect(oneBand).toBeLessThanOrEqual(0);
        const pointwise = run.layers.every((L) => L.span === 1 && L.stride === 1);
        if (pointwise) expect(bandWorkspace(view, run.layers, 1).extraMacs).toBe(oneBand);
        // Smaller bands never recompute less.
        expect(bandWorkspace(view, run.layers, 1).extraMacs).toBeGreaterThanOrEqual(bandWorkspace(view, run.layers, 2).extraMacs);
      }
    }
  });
});

describe('the banded arena', () => {
  it('never lets two live buffers share a byte at any step of any band, for every run and height of the random and zoo IRs', () => {
    let checked = 0;
    for (const [label, ir] of [...randomIrs(), ...zooIrs()]) {
      const { ir: view, layers } = fused(ir);
      for (const run of bandRuns(view, layers)) {
        const outH = run.layers[run.layers.length - 1]!.outH;
        for (const rows of [1, 2, 3].filter((r) => r <= outH)) {
          const choice = planRowBands(view, layers, { start: run.start, end: run.end, rows });
          checkWorkspace(choice.band!);
          checkBandSteps(view, choice.band!, `${label} run ${run.start}..${run.end} rows ${rows}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('is chosen only when smaller than the layer-by-layer plan, and then is the smallest of the runs and heights tried', () => {
    let chosen = 0;
    for (const [label, ir] of [...randomIrs(), ...zooIrs()]) {
      const { ir: view, layers } = fused(ir);
      const plain = planArena(view);
      const choice = planRowBands(view, layers);
      expect(choice.unbandedArenaBytes).toBe(plain.arenaBytes);
      if (!choice.band) {
        expect(choice.plan.arenaBytes, label).toBe(plain.arenaBytes);
        continue;
      }
      chosen++;
      expect(choice.plan.arenaBytes, label).toBeLessThan(plain.arenaBytes);
      checkBandSteps(view, choice.band, `${label} (chosen)`);
      // No forced run at 1 or 2 rows gives a smaller arena.
      for (const run of bandRuns(view, layers)) {
        for (const rows of [1, 2].filter((r) => r < run.layers[run.layers.length - 1]!.outH)) {
          const other = planRowBands(view, layers, { start: run.start, end: run.end, rows });
          expect(other.plan.arenaBytes, `${label} run ${run.start}..${run.end} rows ${rows}`).toBeGreaterThanOrEqual(choice.plan.arenaBytes);
        }
      }
      expect(planRowBands(view, layers, false).band).toBeUndefined();
    }
    expect(chosen).toBeGreaterThan(0);
  });

  it('is not chosen where no layer can run in bands (the zoo MLP)', () => {
    const mlp = zooIrs().find(([f]) => f.includes('/mlp/'));
    expect(mlp, `${ZOO}/mlp`).toBeDefined();
    const { ir: view, layers } = fused(mlp![1]);
    expect(planRowBands(view, layers).band).toBeUndefined();
  });

  it('refuses a requested run that is not a chain of spatial layers, or a band height out of range', () => {
    const { ir: view, layers } = fused(randomIr(11, { architecture: 'mnist-cnn' }));
    const fc = layers.findIndex((L) => L.family === 'fc');
    expect(() => planRowBands(view, layers, { start: 0, end: fc, rows: 1 })).toThrow(/not a run of spatial layers/);
    const run = bandRuns(view, layers)[0]!;
    expect(() => planRowBands(view, layers, { start: run.start, end: run.end, rows: 0 })).toThrow(/expected a whole number/);
  });

  it('lays the workspace out ping-pong: its size is the largest pair of band buffers plus scratch at one layer', () => {
    for (const [label, ir] of zooIrs()) {
      const { ir: view, layers } = fused(ir);
      for (const run of bandRuns(view, layers)) {
        const ws = bandWorkspace(view, run.layers, 1);
        const size = (k: number) => (k < 0 || k >= ws.bufferBytes.length ? 0 : alignUp(ws.bufferBytes[k]!));
        const need = Math.max(...run.layers.map((_, k) => size(k - 1) + size(k) + alignUp(ws.scratchSizes[k]!)));
        expect(ws.workspaceBytes, label).toBe(need);
      }
    }
  });
});
