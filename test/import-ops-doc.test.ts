// docs/ops.md is generated from the importer's own op table and stays in sync with it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { opsReferenceMarkdown } from '../src/import/ops-doc.js';
import { SUPPORTED_OPS, supportedOp } from '../src/import/op-table.js';
import { BuiltinOperator } from '../src/import/tflite-schema.js';

describe('docs/ops.md', () => {
  it('is what `tinyforge ops --markdown` generates from the op table', () => {
    expect(readFileSync('docs/ops.md', 'utf8')).toBe(opsReferenceMarkdown());
  });

  it('has one row per op the importer accepts, and the importer uses the same table', () => {
    const doc = readFileSync('docs/ops.md', 'utf8');
    for (const s of SUPPORTED_OPS) {
      expect(doc).toContain(`| \`${s.op}\` (${BuiltinOperator[s.op]}) | \`${s.ir}\``);
      expect(supportedOp(BuiltinOperator[s.op])).toBe(s);
    }
    expect(doc.split('\n').filter((l) => l.startsWith('| `')).length).toBe(SUPPORTED_OPS.length);
  });
});
