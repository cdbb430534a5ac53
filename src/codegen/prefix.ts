// The name prefix of a generated library: every public function, macro, extern array and file
// of the model-specific part (`<prefix>.h`, `<prefix>.c`, `<prefix>_weights.{c,h}`) carries it,
// so that several models link into one firmware. The kernels (tinyforge_*) carry none: they do
// not depend on the model, and two libraries share one copy of them.
import { createHash } from 'node:crypto';
import { irToJson } from '../ir/io.js';
import type { IrModel } from '../ir/types.js';

/** The prefix of a library generated without one (the historical `model_` API). */
export const DEFAULT_PREFIX = 'model';

const MAX_LENGTH = 32;
const PATTERN = /^[a-z][a-z0-9_]*$/;

/**
 * Why `prefix` cannot name a library, or null if it can: a lower-case C identifier (it also
 * names files, so one case only), at most 32 characters, not ending in `_` (the separator), and
 * outside the kernels' `tinyforge` namespace.
 */
export function prefixProblem(prefix: string): string | null {
  if (!PATTERN.test(prefix)) return 'a lower-case C identifier: a letter, then letters, digits or _';
  if (prefix.length > MAX_LENGTH) return `at most ${MAX_LENGTH} characters`;
  if (prefix.endsWith('_')) return 'no trailing _ (the generator adds the separator)';
  if (prefix.startsWith('tinyforge')) return "not starting with 'tinyforge' (the shared kernels' namespace)";
  return null;
}

/** The prefix a config gets when it sets none: its name as a C identifier ("kws-v2" -> "kws_v2"). */
export function prefixFromName(name: string): string {
  let id = name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, MAX_LENGTH).replace(/_+$/, '');
  if (!/^[a-z]/.test(id)) id = `m_${id}`.replace(/_+$/, '');
  if (id.startsWith('tinyforge')) id = `m_${id}`;
  if (id.length > MAX_LENGTH) id = id.slice(0, MAX_LENGTH).replace(/_+$/, '');
  return prefixProblem(id) === null ? id : DEFAULT_PREFIX;
}

/**
 * The model's identity for firmware to report: SHA-256 of the IR's graph, tensors and weights
 * (metadata such as the creation time left out, so regenerating the same model keeps it), first
 * 16 hex digits.
 */
export function modelHash(ir: IrModel): string {
  const { metadata: _metadata, ...graph } = irToJson(ir) as Record<string, unknown>;
  return createHash('sha256').update(JSON.stringify(graph)).digest('hex').slice(0, 16);
}
