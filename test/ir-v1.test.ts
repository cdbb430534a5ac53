// Version-1 IRs (every committed result) still load under version 2: the same model, with
// irVersion 2, and written back unchanged apart from the version. Identical data means the
// reference, codegen and verify give identical results on them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { irToJson, loadIr } from '../src/ir/io.js';
import { IR_VERSION } from '../src/ir/types.js';

function findIrFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findIrFiles(path));
    else if (name === 'model.ir.json') found.push(path);
  }
  return found;
}

const files = findIrFiles(new URL('../results', import.meta.url).pathname);

describe('committed version-1 IRs', () => {
  it('exist (the test would prove nothing without them)', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`${file.slice(file.indexOf('results/'))} loads as version ${IR_VERSION} with the same content`, () => {
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      const ir = loadIr(file);
      expect(ir.irVersion).toBe(IR_VERSION);
      expect(irToJson(ir)).toEqual({ ...doc, irVersion: IR_VERSION });
    });
  }
});
