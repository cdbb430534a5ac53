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

interface SchemaNode {
  type?: string | readonly string[];
  enum?: readonly unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  properties?: Record<string, SchemaNode>;
}

function allowed(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ');
  const type = Array.isArray(node.type) ? node.type.join(' or ') : String(node.type ?? '');
  const lo = node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined ? `>= ${node.minimum}` : '';
  const hi = node.maximum !== undefined ? `<= ${node.maximum}` : '';
  return [type, [lo, hi].filter(Boolean).join(', ')].filter(Boolean).join(', ');
}

/** docs/config.md: every field with its type, range, default and meaning, from the schema. */
export function configReferenceMarkdown(): string {
  const rows: string[] = [];
  const walk = (node: SchemaNode, path: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (key === '$schema' || key === 'extends') continue;
      const p = path ? `${path}.${key}` : key;
      if (child.properties) {
        rows.push(`| **${p}** | section | | ${child.description ?? ''} |`);
        walk(child, p);
      } else {
        rows.push(`| \`${p}\` | ${allowed(child)} | \`${JSON.stringify(child.default)}\` | ${child.description ?? ''} |`);
      }
    }
  };
  walk(configSchema as unknown as SchemaNode, '');
  return [
    '# Config reference',
    '',
    'Generated from `src/config/schema.ts` by `tinyforge schema --markdown` (a test keeps it in sync):',
    'the one place where fields, ranges and defaults are written down. Every field is optional; a',
    'missing one takes its default. Unknown keys are errors. `"extends": "other.json"` (relative to the',
    'file) starts from another config: objects merge key by key, everything else is replaced.',
    '`schema/config.schema.json` is the same schema for editors (`"$schema": "../schema/config.schema.json"`).',
    '',
    '| field | allowed | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
