import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash, loadConfig, trainingHash } from '../src/config/load.js';
import { configReferenceMarkdown, schemaFileText } from '../src/config/schema-file.js';
import { UserError } from '../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tinyforge-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(path: string): string {
  try {
    loadConfig(path);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error(`${path} was accepted`);
}

describe('config errors name the file, the JSON path, what was expected and what was found', () => {
  const cases: [string, string, RegExp[]][] = [
    ['syntax.json', '{"training": {"epochs": 3,}}', [/syntax\.json: not valid JSON/]],
    ['array.json', '[1, 2]', [/array\.json: expected a JSON object at the top level, found an array/]],
    ['unknown-top.json', '{"trainig": {}}', [/\/trainig: unknown key \(did you mean "training"\?\)/]],
    ['typo.json', '{"training": {"epocs": 3}}', [/\/training\/epocs: unknown key \(did you mean "epochs"\?\)/]],
    ['type.json', '{"training": {"batchSize": "64"}}', [/\/training\/batchSize: expected integer, found string "64"/]],
    ['fraction.json', '{"training": {"epochs": 2.5}}', [/\/training\/epochs: expected integer, found number 2.5/]],
    ['range.json', '{"training": {"epochs": 0}}', [/\/training\/epochs: expected a number >= 1, found number 0/]],
    ['enum.json', '{"model": {"architecture": "resnet50"}}', [/\/model\/architecture: expected one of "tiny-cnn".*found string "resnet50"/]],
    ['split.json', '{"training": {"validationSplit": 0.9}}', [/\/training\/validationSplit: expected a number <= 0.5, found number 0.9/]],
    ['lr.json', '{"training": {"optimizer": {"learningRate": -0.1}}}', [/\/training\/optimizer\/learningRate: expected a number > 0, found number -0.1/]],
    ['null.json', '{"training": {"batchSize": null}}', [/\/training\/batchSize: expected integer, found null/]],
    ['budget.json', '{"budgets": {"flashBytes": "64k"}}', [/\/budgets\/flashBytes: expected integer or null, found string "64k"/]],
    ['section.json', '{"dataset": "mnist"}', [/\/dataset: expected object, found string "mnist"/]],
    ['board.json', '{"target": {"board": "esp32"}}', [/\/target\/board: expected one of "lm3s6965", .*found string "esp32"/]],
    ['many.json', '{"training": {"epochs": -1, "seed": "x"}}', [/\/training\/epochs/, /\/training\/seed: expected integer/]],
  ];
  for (const [name, text, patterns] of cases) {
    it(name, () => {
      const message = errorOf(file(name, text));
      expect(message).toContain(name);
      for (const p of patterns) expect(message).toMatch(p);
    });
  }

  it('missing file', () => {
    expect(errorOf(join(dir, 'nope.json'))).toMatch(/nope\.json: config file not found/);
  });

  it('extends a missing file', () => {
    expect(errorOf(file('orphan.json', '{"extends": "gone.json"}'))).toMatch(/orphan\.json: \/extends: file .*gone\.json not found/);
  });

  it('extends cycle', () => {
    file('a.json', '{"extends": "b.json"}');
    expect(errorOf(file('b.json', '{"extends": "a.json"}'))).toMatch(/"extends" forms a cycle/);
  });

  it('an error in the base file names the base file', () => {
    file('base-bad.json', '{"training": {"epochs": "ten"}}');
    const message = errorOf(file('child.json', '{"extends": "base-bad.json"}'));
    expect(message).toMatch(/base-bad\.json: invalid config/);
    expect(message).toMatch(/\/training\/epochs: expected integer, found string "ten"/);
  });
});

describe('config loading', () => {
  it('applies defaults to an empty config', () => {
    const config = loadConfig(file('empty.json', '{}'));
    expect(config.name).toBe('empty');
    expect(config.training.epochs).toBe(10);
    expect(config.training.optimizer.name).toBe('adam');
    expect(config.dataset.name).toBe('mnist');
    expect(config.budgets.flashBytes).toBeNull();
    expect(config.output.dir).toBe(join(process.cwd(), 'out', 'empty'));
  });

  it('merges extends: child overrides, siblings kept, arrays and scalars replaced', () => {
    file('parent.json', '{"training": {"epochs": 7, "batchSize": 32, "optimizer": {"name": "sgd"}}, "model": {"widthMultiplier": 2}}');
    const config = loadConfig(file('kid.json', '{"extends": "parent.json", "training": {"epochs": 3, "optimizer": {"learningRate": 0.1}}}'));
    expect(config.training.epochs).toBe(3);
    expect(config.training.batchSize).toBe(32);
    expect(config.training.optimizer).toEqual({ name: 'sgd', learningRate: 0.1, momentum: 0.9 });
    expect(config.model.widthMultiplier).toBe(2);
    expect(config.name).toBe('kid');
  });

  it('hashes change with what they cover and not with budgets or output', () => {
    const a = loadConfig(file('h1.json', '{"budgets": {"flashBytes": 1000}, "output": {"dir": "x"}}'));
    const b = loadConfig(file('h2.json', '{}'));
    const c = loadConfig(file('h3.json', '{"training": {"seed": 7}}'));
    const d = loadConfig(file('h4.json', '{"quantization": {"calibration": {"samples": 50}}}'));
    expect(trainingHash(a)).toBe(trainingHash(b));
    expect(configHash(a)).toBe(configHash(b));
    expect(trainingHash(c)).not.toBe(trainingHash(b));
    expect(trainingHash(d)).toBe(trainingHash(b));
    expect(configHash(d)).not.toBe(configHash(b));
  });

  it('hashes do not depend on the order of keys in the files', () => {
    const a = loadConfig(file('o1.json', '{"training": {"seed": 5, "epochs": 3}, "dataset": {"testLimit": 9, "name": "mnist"}}'));
    const b = loadConfig(file('o2.json', '{"dataset": {"name": "mnist", "testLimit": 9}, "training": {"epochs": 3, "seed": 5}}'));
    expect(JSON.stringify(a.training)).not.toBe(JSON.stringify(b.training));
    expect(trainingHash(a)).toBe(trainingHash(b));
    expect(configHash(a)).toBe(configHash(b));
  });

  it('every shipped config loads', () => {
    for (const name of ['default', 'nano', 'lenet5', 'baseline-keras']) {
      const config = loadConfig(join('configs', `${name}.json`));
      expect(config.name).toBe(name);
    }
  });

  it('docs/config.md is generated from the schema', () => {
    expect(readFileSync('docs/config.md', 'utf8')).toBe(configReferenceMarkdown());
  });

  it('schema/config.schema.json matches the schema the loader uses', () => {
    expect(readFileSync('schema/config.schema.json', 'utf8')).toBe(schemaFileText());
  });
});
