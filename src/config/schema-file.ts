// schema/config.schema.json is generated from configSchema so editors see exactly what the
// loader accepts; test/config.test.ts fails if the committed file drifts.
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { writeFileAtomic } from '../util/atomic.js';
import { configSchema } from './schema.js';

export function schemaFileText(): string {
  return JSON.stringify(configSchema, null, 2) + '\n';
}

export function writeSchemaFile(path = join(packageRoot(), 'schema', 'config.schema.json')): string {
  writeFileAtomic(path, schemaFileText());
  return path;
}
