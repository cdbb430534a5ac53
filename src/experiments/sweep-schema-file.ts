// schema/sweep.schema.json is generated from sweepSchema so editors check sweep files exactly as the
// runner does; test/sweep.test.ts fails if the committed file drifts.
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { writeFileAtomic } from '../util/atomic.js';
import { sweepSchema } from './sweep-schema.js';

export function sweepSchemaFileText(): string {
  return JSON.stringify(sweepSchema, null, 2) + '\n';
}

export function writeSweepSchemaFile(path = join(packageRoot(), 'schema', 'sweep.schema.json')): string {
  writeFileAtomic(path, sweepSchemaFileText());
  return path;
}
