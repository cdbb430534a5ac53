// The board-fit check before training refuses only models that cannot fit: its estimates are
// lower bounds of what the generated library measured, for every committed sweep point.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { fuseConvPool } from '../src/codegen/fuse.js';
import { planArena } from '../src/codegen/planner.js';
import { planRowBands } from '../src/codegen/bands.js';
import { resolveLayers } from '../src/codegen/layers.js';
import { loadIr } from '../src/ir/io.js';
import { buildSpec } from '../src/models/zoo.js';
import { arenaFloorBytes, checkBoardFit, estimateFit } from '../src/pipeline/preflight.js';

const points = ['results/lightweight-vs-baselines', 'results/fashion-mnist'].flatMap((sweep) =>
  existsSync(join(sweep, 'points'))
    ? readdirSync(join(sweep, 'points')).map((name) => join(sweep, 'points', name)).filter((dir) => existsSync(join(dir, 'run', 'verify.json')))
    : [],
);

describe('board fit from the model spec', () => {
  it('finds the committed sweep points', () => expect(points.length).toBeGreaterThanOrEqual(8));

  it.each(points)('%s: weights and arena estimates are at most what was measured', (dir) => {
    const config = loadConfig(join(dir, `${dir.split('/').pop()}.json`));
    const measured = JSON.parse(readFileSync(join(dir, 'run', 'verify.json'), 'utf8'));
    const estimate = estimateFit(config);
    expect(estimate.weightsBytes).toBeLessThanOrEqual(measured.weightsBytes);
    expect(estimate.arenaBytes).toBeLessThanOrEqual(measured.arenaBytes);
    expect(() => checkBoardFit(config)).not.toThrow();
  });

  it.each(points)('%s: the arena floor is at most what the current planner needs (conv+pool fused)', (dir) => {
    const config = loadConfig(join(dir, `${dir.split('/').pop()}.json`));
    const ir = loadIr(join(dir, 'run', 'model.ir.json'));
    const plan = planArena(fuseConvPool(ir).ir);
    const floor = arenaFloorBytes(buildSpec(config.model));
    // The planner's bound adds the conv kernels' scratch (im2col columns) to the same pairs.
    expect(floor).toBeLessThanOrEqual(plan.exactLowerBoundBytes);
  });

  it('refuses the Keras CNN on the micro:bit (flash) and a wide CNN on its 16 KB of RAM', () => {
    const keras = loadConfig('configs/baseline-keras.json');
    expect(() => checkBoardFit({ ...keras, target: { ...keras.target, board: 'microbit' } })).toThrow(/weights alone take 1200584 bytes of flash, and the board has 262144/);
    const base = loadConfig('configs/default.json');
    const wide = { ...base, model: { ...base.model, widthMultiplier: 6 }, target: { ...base.target, board: 'microbit' }, codegen: { ...base.codegen, rowBands: false } };
    expect(() => checkBoardFit(wide)).toThrow(/activations need at least 14112 bytes of RAM, and the board has 13824/);
    // With row bands (codegen.rowBands: true) its convolutions need not hold a whole input and output at once:
    // only the network input and the dense layer's pair are a floor.
    expect(() => checkBoardFit({ ...wide, codegen: { ...wide.codegen, rowBands: true } })).not.toThrow();
  });

  it.each(points)('%s: with row bands, the arena floor is at most what the banded plan needs', (dir) => {
    const config = loadConfig(join(dir, `${dir.split('/').pop()}.json`));
    const ir = loadIr(join(dir, 'run', 'model.ir.json'));
    const view = fuseConvPool(ir);
    const choice = planRowBands(view.ir, resolveLayers(view.ir, view.pools));
    const floor = arenaFloorBytes(buildSpec(config.model), undefined, true);
    expect(floor).toBeLessThanOrEqual(choice.plan.exactLowerBoundBytes);
    expect(floor).toBeLessThanOrEqual(arenaFloorBytes(buildSpec(config.model)));
  });
});
