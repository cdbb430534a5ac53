// Small helpers to print C source that reads as if written by hand.

/** A C identifier from a layer name: lower case, [a-z0-9_], not starting with a digit. */
export function cIdentifier(name: string): string {
  let id = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (id === '') id = 'layer';
  if (/^[0-9]/.test(id)) id = `l${id}`;
  return id;
}

/** Unique identifiers for a list of names (suffix _2, _3, ... on collisions). */
export function uniqueIdentifiers(names: string[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set<string>();
  return names.map((n) => {
    const base = cIdentifier(n);
    let id = base;
    let k = seen.get(base) ?? 1;
    while (taken.has(id)) id = `${base}_${++k}`;
    seen.set(base, k);
    taken.add(id);
    return id;
  });
}

/** An int32 literal; INT32_MIN cannot be written as a single decimal literal in C. */
export function int32Literal(v: number): string {
  if (v === -2147483648) return '(-2147483647 - 1)';
  return String(v);
}

/**
 * Array initializer body: `perLine` values per line, right-aligned, each line indented four
 * spaces, a comma after every value (C allows the trailing one).
 */
export function formatArray(values: ArrayLike<number>, perLine: number): string {
  const texts: string[] = [];
  for (let i = 0; i < values.length; i++) texts.push(int32Literal(values[i]!));
  const width = texts.reduce((w, t) => Math.max(w, t.length), 0);
  const lines: string[] = [];
  for (let i = 0; i < texts.length; i += perLine) {
    lines.push('    ' + texts.slice(i, i + perLine).map((t) => t.padStart(width) + ',').join(' '));
  }
  return lines.join('\n');
}

/** `[28, 28, 1]` */
export function shapeText(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Text safe inside a C block comment: no "*" + "/" (would end it), no "/" + "*" (gcc's -Wcomment,
 * an error under -Werror), no line breaks. Names come from configs, layers and imported models.
 */
export function commentSafe(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/\*\//g, '* /')
    .replace(/\/\*/g, '/ *');
}
