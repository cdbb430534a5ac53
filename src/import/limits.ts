// What the generated C can compute, checked at import so that a model the C kernels would refuse
// is listed up front with the other unsupported ops (one line per op, exit 2, nothing written)
// instead of failing later in `generate`. Each check here has its line in the op table
// (op-table.ts, hence docs/ops.md). The numbers come from the codegen that relies on them.
import { INT16_MAX, SOFTMAX_MAX_DEPTH } from '../codegen/graph-layers.js';
import { resolveLayers } from '../codegen/layers.js';
import type { IrModel, Requant, Rescale } from '../ir/types.js';
import { foldMeanCount } from '../reference/ops/mean.js';
import { UserError } from '../util/errors.js';
import type { OpContext, Unsupported } from './context.js';

const INT32_MAX = 2147483647;

/** The constraint lines of the op table, next to the checks that enforce them. */
export const LIMITS = {
  int16: `tensor height, width and channels, kernel, stride and padding at most ${INT16_MAX} (the C kernels' int16 fields)`,
  fcUnits: `at most ${INT16_MAX} input elements and ${INT16_MAX} units (the C kernel's int16 fields)`,
  requantShift: 'input scale x weight scale / output scale below 2^30 in every channel (a shift of at most 30)',
  accumulator:
    'no int32 accumulator can overflow: |bias| + max|input - zero point| x sum|w| fits int32 in every channel (x 2^shift for a multiplier above 1)',
  softmaxDepth: `rows (the last dimension) of at most ${SOFTMAX_MAX_DEPTH} values (the C kernel's sum keeps its shift below 32)`,
  padRank: `input of rank at most 4 besides the batch, every output dimension at most ${INT16_MAX}`,
  meanHeadroom: "input scale / output scale such that 255 x H x W, scaled by the 1/N-folded multiplier's left shift, fits int32",
  addOutput: 'output scale above 2 x max(input scales) / 2^20 (the output rescale stays below 1, as TFLite Micro needs)',
  requantizeRatio: 'int8 -> int8: input scale / output scale below 2^23 (255 x 2^shift fits int32)',
} as const;

const text = (shape: readonly number[]): string => JSON.stringify(shape);

/** conv, depthwise and pooling: every dimension and window parameter fits an int16 field. */
export function checkWindowLimits(ctx: OpContext, shapes: readonly (readonly number[])[], params: readonly number[]): void {
  const big = shapes.find((s) => s.slice(1).some((d) => d > INT16_MAX));
  if (big) ctx.unsupported(`a tensor of shape ${text(big)}`, LIMITS.int16);
  const param = params.find((p) => p > INT16_MAX);
  if (param !== undefined) ctx.unsupported(`kernel, stride or padding ${param}`, LIMITS.int16);
}

export function checkFcLimits(ctx: OpContext, inputs: number, units: number): void {
  if (inputs > INT16_MAX || units > INT16_MAX) ctx.unsupported(`${inputs} input elements and ${units} units`, LIMITS.fcUnits);
}

/** The per-channel multipliers' shifts, as the C kernels take them. */
export function checkRequantShift(ctx: OpContext, requant: Requant): void {
  const c = requant.shift.findIndex((s) => s < -31 || s > 30);
  if (c >= 0) ctx.unsupported(`channel ${c}: multiplier ${requant.multiplier[c]} with shift ${requant.shift[c]}`, LIMITS.requantShift);
}

export function checkSoftmaxDepth(ctx: OpContext, shape: readonly number[]): void {
  const depth = shape[shape.length - 1]!;
  if (depth > SOFTMAX_MAX_DEPTH) ctx.unsupported(`rows of ${depth} values (input ${text(shape)})`, LIMITS.softmaxDepth);
}

/** PAD: TFLite shape (batch first) of the input and output. */
export function checkPadLimits(ctx: OpContext, input: readonly number[], output: readonly number[]): void {
  if (input.length > 5) ctx.unsupported(`a rank-${input.length} input ${text(input)}`, LIMITS.padRank);
  else if (output.slice(1).some((d) => d > INT16_MAX)) ctx.unsupported(`output ${text(output)}`, LIMITS.padRank);
}

/** MEAN over `count` values: the sum times the folded multiplier's left shift must fit int32. */
export function checkMeanHeadroom(ctx: OpContext, rescale: Rescale, count: number): void {
  const folded = foldMeanCount(rescale, count);
  const fits = rescale.shift <= 30 && folded.shift >= -31 && folded.shift <= 30 && 255 * count * 2 ** Math.max(folded.shift, 0) <= INT32_MAX;
  if (!fits) ctx.unsupported(`a mean of ${count} values with rescale shift ${rescale.shift}`, LIMITS.meanHeadroom);
}

export function checkAddOutput(ctx: OpContext, outputRescale: Rescale, scales: { a: number; b: number; out: number }): void {
  if (outputRescale.shift > 0) {
    ctx.unsupported(`output scale ${scales.out} for input scales ${scales.a} and ${scales.b}`, LIMITS.addOutput);
  }
}

export function checkRequantizeRatio(ctx: OpContext, rescale: Rescale, inScale: number, outScale: number): void {
  if (rescale.shift > 23 || rescale.shift < -31) ctx.unsupported(`input scale ${inScale} / output scale ${outScale}`, LIMITS.requantizeRatio);
}

/** Which TFLite operator each IR op came from, for the messages of checkGeneratedC. */
export interface OpOrigin {
  index: number;
  op: string;
}

/**
 * The last word: the codegen's own checks (resolveLayers) on the imported IR, so that no IR the
 * C generator would refuse leaves the importer (a data-dependent limit, such as an accumulator
 * that a huge bias could overflow, is found here). Returns the problem as an op line, or null.
 */
export function checkGeneratedC(ir: IrModel, origins: readonly OpOrigin[]): Unsupported | null {
  try {
    resolveLayers(ir);
    return null;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const m = /^IR '[^']*', op (\d+) '[^']*' \([^)]*\): (.*)$/s.exec(err.message);
    const origin = m ? origins[Number(m[1])] : undefined;
    const what = m ? m[2]! : err.message.replace(/^IR '[^']*', /, '');
    return { index: origin?.index, op: origin?.op ?? 'graph', what, supported: 'what the generated C computes exactly (docs/ops.md)' };
  }
}
