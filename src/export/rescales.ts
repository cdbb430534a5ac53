// The fixed-point rescales an op computes with (multiplier and shift pairs, one per output
// channel for conv/depthwise/FC), as the IR holds them and as TFLite Micro derives them in its
// kernels' Prepare from the float32 scales a .tflite stores. They are the only part of the
// arithmetic a file does not carry: where the two disagree, the export is not exact.
import { addParams, scaleRatio, softmaxParams } from '../import/tflm-params.js';
import type { IrModel, IrOp } from '../ir/types.js';
import { requantFor } from '../quantize/multiplier.js';

/** One rescale as comparable numbers: [multiplier, shift] (softmax adds its diff_min). */
export type RescaleTuple = number[];

const f32 = Math.fround;

/** The rescales `op` computes with, as the IR holds them. Empty for ops without one. */
export function rescalesOf(op: IrOp): RescaleTuple[] {
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise_conv2d':
    case 'fully_connected':
      return Array.from(op.requant.multiplier, (m, c) => [m, op.requant.shift[c]]);
    case 'add':
      return [op.input1Rescale, op.input2Rescale, op.outputRescale].map((r) => [r.multiplier, r.shift]);
    case 'mean':
      return [[op.rescale.multiplier, op.rescale.shift]];
    case 'softmax':
      return [[op.inputMultiplier, op.inputLeftShift, op.diffMin]];
    case 'quantize':
      return op.rescale ? [[op.rescale.multiplier, op.rescale.shift]] : [];
    default:
      return [];
  }
}

/** The rescales TFLite Micro derives for `op` from the float32 scales (and beta) in the file. */
export function derivedRescalesOf(ir: IrModel, op: IrOp): RescaleTuple[] {
  const scale = (id: number): number => f32(ir.tensors[id].scale);
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise_conv2d':
    case 'fully_connected': {
      const r = requantFor(scale(op.input), Float64Array.from(op.requant.weightScale, f32), scale(op.output));
      return Array.from(r.multiplier, (m, c) => [m, r.shift[c]]);
    }
    case 'add': {
      const p = addParams(scale(op.input), scale(op.input2), scale(op.output), op.leftShift);
      return [p.input1Rescale, p.input2Rescale, p.outputRescale].map((r) => [r.multiplier, r.shift]);
    }
    case 'mean':
    case 'quantize': {
      // MEAN always rescales (QuantizedMeanOrSum, see MeanOp); QUANTIZE only int8 -> int8.
      if (op.kind === 'quantize' && !op.rescale) return [];
      const r = scaleRatio(scale(op.input), scale(op.output));
      return [[r.multiplier, r.shift]];
    }
    case 'softmax': {
      const p = softmaxParams(f32(op.beta), scale(op.input));
      return [p ? [p.inputMultiplier, p.inputLeftShift, p.diffMin] : [NaN]];
    }
    default:
      return [];
  }
}

/** How many of `a`'s rescales differ from `b`'s (a missing one counts). */
export function countDiffering(a: RescaleTuple[], b: RescaleTuple[]): number {
  let differing = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i].length !== b[i].length || a[i].some((v, k) => v !== b[i][k])) differing++;
  }
  return differing;
}
