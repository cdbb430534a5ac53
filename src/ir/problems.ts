// How the IR validator reports what is wrong (a JSON path, what was expected, what was found),
// and the small value checks every op check shares.
import { UserError } from '../util/errors.js';
import type { Clamp, IrTensor, Rescale } from './types.js';

export interface IrProblem {
  /** JSON pointer into the IR document, e.g. /ops/3/weights. */
  path: string;
  expected: string;
  found: string;
}

/** A UserError listing every problem found, each with its JSON path. */
export class IrValidationError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: IrProblem[],
  ) {
    super(formatProblems(source, problems));
    this.name = 'IrValidationError';
  }
}

const MAX_LISTED = 12;

export function formatProblems(source: string, problems: IrProblem[]): string {
  const lines = problems
    .slice(0, MAX_LISTED)
    .map((p) => `${source}: ${p.path || '/'}: expected ${p.expected}, found ${p.found}`);
  if (problems.length > MAX_LISTED) lines.push(`${source}: ... and ${problems.length - MAX_LISTED} more problems`);
  return lines.join('\n');
}

export type Report = (path: string, expected: string, found: string) => void;

export function json(value: unknown): string {
  return JSON.stringify(value);
}

export function checkInt8(report: Report, path: string, what: string, value: number): void {
  if (!Number.isInteger(value) || value < -128 || value > 127) {
    report(path, `an int8 ${what} in [-128, 127]`, String(value));
  }
}

export function checkLength(report: Report, path: string, found: number, expected: number, layout: string): void {
  if (found !== expected) report(path, `${expected} values (${layout})`, `${found}`);
}

export function checkClamp(report: Report, path: string, clamp: Clamp): void {
  checkInt8(report, `${path}/min`, 'clamp bound', clamp.min);
  checkInt8(report, `${path}/max`, 'clamp bound', clamp.max);
  if (clamp.min > clamp.max) report(path, 'min <= max', `min ${clamp.min} > max ${clamp.max}`);
}

export function checkSameQuantization(report: Report, at: string, inT: IrTensor, outT: IrTensor, field = 'output'): void {
  if (inT.scale !== outT.scale || inT.zeroPoint !== outT.zeroPoint) {
    report(
      `${at}/${field}`,
      `the input's scale ${inT.scale} and zero point ${inT.zeroPoint} (this op does not requantize)`,
      `scale ${outT.scale} and zero point ${outT.zeroPoint} (tensor ${outT.id})`,
    );
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// How far multiplier * 2^(shift - 31) may be from the real value it was derived from. The Q31
// rounding itself is within 2^-31 relative; the slack allows another floating-point order.
export const REQUANT_RELATIVE_TOLERANCE = 1e-6;

/** A Q31 multiplier and TFLite shift in range; when `real` is given, that they represent it. */
export function checkRescale(report: Report, path: string, r: Rescale, real?: number): boolean {
  let ok = true;
  if (!Number.isInteger(r.multiplier) || r.multiplier < 0 || r.multiplier > 2147483647) {
    report(`${path}/multiplier`, 'a Q31 multiplier in [0, 2147483647]', String(r.multiplier));
    ok = false;
  }
  if (!Number.isInteger(r.shift) || r.shift < -31 || r.shift > 30) {
    report(`${path}/shift`, 'a shift in [-31, 30]', String(r.shift));
    ok = false;
  }
  if (ok && real !== undefined) ok = checkRepresents(report, `${path}/multiplier`, r.multiplier, r.shift, real);
  return ok;
}

/** multiplier * 2^(shift - 31) agrees with `real` (a zero multiplier for reals below 2^-30). */
export function checkRepresents(report: Report, path: string, multiplier: number, shift: number, real: number): boolean {
  const represented = multiplier * 2 ** (shift - 31);
  const agrees =
    multiplier === 0 ? real < 2 ** -30 : Math.abs(represented - real) <= REQUANT_RELATIVE_TOLERANCE * real;
  if (!agrees) {
    report(path, `multiplier * 2^(shift - 31) = ${real}`, `${multiplier} * 2^(${shift} - 31) = ${represented}`);
  }
  return agrees;
}
