// Turns ajv errors into lines that say where (JSON pointer), what was expected and what was found,
// and suggests the closest known key for a typo. Needs an ajv instance created with
// `verbose: true`, so each error carries the schema it came from.
import type { ErrorObject } from 'ajv';

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  const short = text.length > 60 ? text.slice(0, 57) + '...' : text;
  if (Array.isArray(value)) return `an array ${short}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${short}`;
}

/** The value at a JSON pointer ("/a/b/0"), or undefined. */
export function valueAtPointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** ` (did you mean "x"?)` when a known name is within two edits of the typed one, else ''. */
export function didYouMean(typed: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const distance = editDistance(typed.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** One line per error, e.g. `/grid/model.width/0: expected number, found string "a"`. */
export function explainErrors(errors: readonly ErrorObject[], data: unknown, prefix = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    // allOf/anyOf only repeat what their branches already said.
    if (error.keyword === 'allOf' || error.keyword === 'anyOf' || error.keyword === 'if') continue;
    const at = prefix + error.instancePath || '/';
    const found = describeValue(valueAtPointer(data, error.instancePath));
    const p = error.params as Record<string, unknown>;
    let line: string;
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
        line = `${prefix}${error.instancePath}/${key}: unknown key${didYouMean(key, known)}; expected one of: ${known.join(', ')}`;
        break;
      }
      case 'required':
        line = `${at}: missing required key "${String(p.missingProperty)}"`;
        break;
      case 'type':
        line = `${at}: expected ${String(p.type).replace(/,/g, ' or ')}, found ${found}`;
        break;
      case 'enum':
        line = `${at}: expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${found}`;
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        line = `${at}: expected a number ${String(p.comparison)} ${String(p.limit)}, found ${found}`;
        break;
      case 'pattern':
        line = `${at}: expected a string matching ${String(p.pattern)}, found ${found}`;
        break;
      case 'minItems':
        line = `${at}: expected at least ${String(p.limit)} item(s), found ${found}`;
        break;
      case 'uniqueItems':
        line = `${at}: expected no repeated items, found items ${String(p.j)} and ${String(p.i)} equal`;
        break;
      default:
        line = `${at}: ${error.message ?? 'invalid'}, found ${found}`;
    }
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}
