// Reading a hand-written JSON file with errors a person can act on: a directory instead of a
// file, a byte-order mark, comments (JSON has none; editors add them), a syntax error (given as
// line and column, not as a character offset), and numbers too large for a double (1e400 parses
// as Infinity, which JSON.stringify would later print as null).
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../util/errors.js';

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Offset of the first // or /* outside a string, or -1. */
export function firstComment(text: string): number {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      return i;
    }
  }
  return -1;
}

/**
 * Offset of the first JSON syntax error in `text` (V8's messages give no position for most of
 * them), found by a recognizer of the JSON grammar that only tracks where it is.
 */
export function syntaxErrorOffset(text: string): number {
  let i = 0;
  class Stop extends Error {}
  const fail = (): never => {
    throw new Stop();
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (c: string) => (text[i] === c ? i++ : fail());
  const string = () => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      i += text[i] === '\\' ? 2 : 1;
    }
    expect('"');
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        string();
        space();
        expect(':');
        value();
        space();
        if (text[i] === ',') i++;
        else return void expect('}');
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else return void expect(']');
      }
    }
    if (c === '"') return string();
    const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!literal) fail();
    i += literal![0].length;
  };
  try {
    value();
    space();
    return i < text.length ? i : -1;
  } catch (err) {
    if (err instanceof Stop) return i;
    throw err;
  }
}

/** The first non-finite number (too large for a double) as [JSON pointer, value], or null. */
export function firstNonFinite(value: unknown, pointer = ''): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : pointer || '/';
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const found = firstNonFinite(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (found) return found;
  }
  return null;
}

/**
 * Parses a JSON file; every failure is a UserError naming `shown` (the path as the user gave it)
 * and, where it applies, the line and column.
 */
export function readJsonText(path: string, shown: string, what: string): unknown {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new UserError(`${shown}: is a directory; expected a ${what} (a .json file)`, undefined, { file: path });
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${shown}: ${what} not found`, undefined, { file: path });
    throw new UserError(`${shown}: cannot read the ${what} (${code ?? (err as Error).message})`, undefined, { file: path });
  }
  const at = (offset: number) => {
    const { line, column } = lineColumn(text, offset);
    return `line ${line}, column ${column}`;
  };
  if (text.charCodeAt(0) === 0xfeff) {
    throw new UserError(`${shown}: ${at(0)}: the file starts with a UTF-8 byte-order mark (BOM), which JSON does not allow; save it as UTF-8 without BOM`, undefined, { file: path });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const comment = firstComment(text);
    if (comment >= 0) {
      throw new UserError(`${shown}: ${at(comment)}: comments are not allowed in JSON; remove them (a "description" field can hold notes)`, undefined, { file: path });
    }
    // V8's message quotes the text around the error over several lines: give the position instead.
    const offset = syntaxErrorOffset(text);
    const found = offset >= text.length ? 'the file ends too early' : `unexpected ${JSON.stringify(text.slice(offset, offset + 12))}`;
    throw new UserError(
      offset >= 0 ? `${shown}: not valid JSON at ${at(offset)}: ${found}` : `${shown}: not valid JSON: ${(err as Error).message.split('\n')[0]}`,
      undefined, { file: path },
    );
  }
  const huge = firstNonFinite(value);
  if (huge) {
    throw new UserError(`${shown}: ${huge}: number too large (beyond a double's range, so it reads as infinity); expected a finite number`, undefined, { file: path, field: huge });
  }
  return value;
}
