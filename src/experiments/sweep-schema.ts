// The sweep file's JSON Schema. schema/sweep.schema.json is generated from this object
// (writeSweepSchemaFile) and test/sweep.test.ts keeps the two equal.
//
// `fixed` refers to the config schema by its $id, so editors complete config fields inside it and
// the loader validates it with the very rules a config file gets. What JSON Schema cannot say
// (every grid key names a config field, each grid value suits that field, configs or grid present)
// is checked in sweep-file.ts.

export const sweepSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://tinyforge.dev/schema/sweep.schema.json',
  title: 'tinyforge sweep',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    $schema: { type: 'string', description: 'Path of this schema, for editors.' },
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      maxLength: 100,
      description: 'Results go to results/<name>/; letters, digits, ".", "_" and "-".',
    },
    description: { type: 'string', default: '', description: 'Free text shown in reports.' },
    base: {
      type: 'string',
      description: 'The config (relative to this file) the grid is applied to; none = the defaults.',
    },
    configs: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description: 'Config files (relative to this file), one point each.',
    },
    grid: {
      type: 'object',
      description:
        'Dotted config field path (e.g. "model.widthMultiplier") -> values; every combination is a point.',
      additionalProperties: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: ['string', 'number', 'boolean', 'null'] },
      },
    },
    fixed: {
      description:
        'A partial config applied to every point after its own values: the same dataset, seed, epoch budget and evaluation for all.',
      allOf: [{ $ref: 'config.schema.json' }],
    },
  },
} as const;
