// The IR is validated once per run: at the stage boundary that makes it (load, import, quantize),
// which returns a ValidIr; generate, the reference, save and export take it without a second pass.
// A plain IrModel (a library caller's) is still validated, once, by whichever of them sees it first.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLibrary } from '../src/codegen/generate.js';
import { exportTflite } from '../src/export/export.js';
import { importTfliteFile } from '../src/import/file.js';
import { loadIr, saveIr } from '../src/ir/io.js';
import { irValidationPasses } from '../src/ir/validate.js';
import { randomRecords, referenceOutputs } from '../src/pipeline/imported-inputs.js';
import { runReference } from '../src/reference/interpreter.js';
import { conformanceRoot } from './helpers/tflite-spec.js';
import { randomInput, randomIr } from './helpers/random-ir.js';

const dir = mkdtempSync(join(tmpdir(), 'tinyforge-validate-once-'));
const committedIr = 'results/fashion-mnist/points/nano/run/model.ir.json';

/** The validation passes `work` makes. */
function passesOf(work: () => void): number {
  const before = irValidationPasses();
  work();
  return irValidationPasses() - before;
}

describe('the IR is validated once per run', () => {
  it('a loaded IR: one pass at load, none in generate, the reference, save or export', () => {
    let ir!: ReturnType<typeof loadIr>;
    expect(passesOf(() => void (ir = loadIr(committedIr)))).toBe(1);
    expect(passesOf(() => {
      generateLibrary(ir);
      runReference(ir, new Int8Array(784));
      saveIr(join(dir, 'saved.ir.json'), ir);
      exportTflite(ir, committedIr);
    })).toBe(0);
  });

  it.skipIf(!existsSync(conformanceRoot))('an imported IR: one pass at import, none after', () => {
    let ir!: ReturnType<typeof importTfliteFile>;
    expect(passesOf(() => void (ir = importTfliteFile(join(conformanceRoot, 'ops', 'add_residual', 'model.tflite'))))).toBe(1);
    expect(passesOf(() => {
      generateLibrary(ir);
      referenceOutputs(ir, { bytes: randomRecords(ir, 2, 1), count: 2, recordBytes: randomRecords(ir, 1, 1).length, source: 'random' });
      saveIr(join(dir, 'imported.ir.json'), ir);
    })).toBe(0);
  });

  it('a plain IrModel is validated by the first function that takes it, and only by that one', () => {
    const ir = randomIr(3);
    expect(passesOf(() => generateLibrary(ir))).toBe(1);
    expect(passesOf(() => void runReference(ir, randomInput(ir, 1)))).toBe(0);
  });
});
