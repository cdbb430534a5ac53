// Checks of the layer ops (conv, depthwise, fully connected, pools, reshape): shapes implied by
// kernel/stride/padding, weight and per-channel array lengths, and the requantization agreeing
// with the scales it was derived from.
import { checkClamp, checkLength, checkSameQuantization, json, REQUANT_RELATIVE_TOLERANCE, type Report } from './problems.js';
import { tensorSize, type IrOp, type IrTensor, type Padding } from './types.js';

/**
 * Output length along one spatial axis of a window op with explicit padding:
 * floor((in + padBefore + padAfter - window) / stride) + 1 (TF's formula once 'same'/'valid'
 * have been resolved into explicit padding).
 */
export function windowOutputSize(
  inSize: number,
  window: number,
  stride: number,
  padBefore: number,
  padAfter: number,
): number {
  return Math.floor((inSize + padBefore + padAfter - window) / stride) + 1;
}

/** [outH, outW] of a conv/pool over an [H, W, C] input. */
export function windowOutputHW(
  inShape: readonly number[],
  window: readonly [number, number],
  stride: readonly [number, number],
  padding: Padding,
): [number, number] {
  return [
    windowOutputSize(inShape[0], window[0], stride[0], padding.top, padding.bottom),
    windowOutputSize(inShape[1], window[1], stride[1], padding.left, padding.right),
  ];
}

function checkPositivePair(report: Report, path: string, pair: readonly number[]): boolean {
  const ok = pair.length === 2 && pair.every((v) => Number.isInteger(v) && v >= 1);
  if (!ok) report(path, 'two positive integers', json(pair));
  return ok;
}

/** Checks a layer op; returns false for the kinds it does not know (the graph ops). */
export function checkLayerOp(report: Report, op: IrOp, at: string, inT: IrTensor, outT: IrTensor): boolean {
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      if (!checkWindowOp(report, op, op.kernel, at, inT, outT, 'kernel')) return true;
      const [kH, kW] = op.kernel;
      const inC = inT.shape[2];
      const outC = outT.shape[2];
      if (op.kind === 'conv2d') {
        // OHWI weights: one [kH, kW, inC] filter per output channel.
        checkLength(report, `${at}/weights`, op.weights.length, outC * kH * kW * inC, `OHWI ${outC}x${kH}x${kW}x${inC}`);
      } else {
        if (!Number.isInteger(op.depthMultiplier) || op.depthMultiplier < 1) {
          report(`${at}/depthMultiplier`, 'a positive integer', String(op.depthMultiplier));
          return true;
        }
        if (outC !== inC * op.depthMultiplier) {
          report(`${at}/output`, `a tensor with ${inC} x ${op.depthMultiplier} = ${inC * op.depthMultiplier} channels`, `${outC} channels (tensor ${outT.id})`);
          return true;
        }
        checkLength(report, `${at}/weights`, op.weights.length, kH * kW * outC, `1x${kH}x${kW}x${outC}, channel c = i * M + m`);
      }
      checkWeights(report, `${at}/weights`, op.weights);
      checkRequant(report, op, at, inT, outT, outC);
      return true;
    }
    case 'fully_connected': {
      const inUnits = tensorSize(inT);
      if (outT.shape.length !== 1) {
        report(`${at}/output`, 'a [units] vector tensor', `tensor ${outT.id} with shape ${json(outT.shape)}`);
        return true;
      }
      const outUnits = outT.shape[0];
      checkLength(report, `${at}/weights`, op.weights.length, outUnits * inUnits, `[outUnits, inUnits] = ${outUnits}x${inUnits}`);
      checkWeights(report, `${at}/weights`, op.weights);
      checkRequant(report, op, at, inT, outT, outUnits);
      return true;
    }
    case 'max_pool2d':
    case 'avg_pool2d': {
      if (!checkWindowOp(report, op, op.pool, at, inT, outT, 'pool')) return true;
      checkSameQuantization(report, at, inT, outT);
      checkClamp(report, `${at}/clamp`, op.clamp);
      return true;
    }
    case 'reshape': {
      if (tensorSize(inT) !== tensorSize(outT)) {
        report(`${at}/output`, `a tensor of ${tensorSize(inT)} elements like the input ${json(inT.shape)}`, `shape ${json(outT.shape)} (tensor ${outT.id})`);
      }
      checkSameQuantization(report, at, inT, outT);
      return true;
    }
    default:
      return false;
  }
}

/**
 * Shared checks of conv/depthwise/pool ops: [H, W, C] tensors, window/stride/padding values, and
 * the output tensor's spatial size (and, for pools, channel count) matching the formula.
 * Padding must be smaller than the window so that no window lies entirely in the padding.
 * Returns false when the op is too broken for the per-kind checks to make sense.
 */
function checkWindowOp(
  report: Report,
  op: IrOp & { stride: [number, number]; padding: Padding },
  window: [number, number],
  at: string,
  inT: IrTensor,
  outT: IrTensor,
  windowField: 'kernel' | 'pool',
): boolean {
  let ok = true;
  if (inT.shape.length !== 3) {
    report(`${at}/input`, 'an [H, W, C] tensor', `tensor ${inT.id} with shape ${json(inT.shape)}`);
    ok = false;
  }
  if (outT.shape.length !== 3) {
    report(`${at}/output`, 'an [H, W, C] tensor', `tensor ${outT.id} with shape ${json(outT.shape)}`);
    ok = false;
  }
  ok = checkPositivePair(report, `${at}/${windowField}`, window) && ok;
  ok = checkPositivePair(report, `${at}/stride`, op.stride) && ok;
  if (!ok) return false;
  const p = op.padding;
  for (const side of ['top', 'bottom', 'left', 'right'] as const) {
    const limit = side === 'top' || side === 'bottom' ? window[0] : window[1];
    const v = p[side];
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      report(`${at}/padding/${side}`, `an integer in [0, ${limit - 1}] (less than the ${windowField} size)`, String(v));
      ok = false;
    }
  }
  if (!ok) return false;
  const [outH, outW] = windowOutputHW(inT.shape, window, op.stride, p);
  const channels = op.kind === 'max_pool2d' || op.kind === 'avg_pool2d' ? inT.shape[2] : outT.shape[2];
  if (outH < 1 || outW < 1) {
    report(`${at}/${windowField}`, `a window that fits the ${inT.shape[0]}x${inT.shape[1]} input with its padding`, json(window));
    return false;
  }
  if (outT.shape[0] !== outH || outT.shape[1] !== outW || outT.shape[2] !== channels) {
    report(
      `${at}/output`,
      `a tensor of shape ${json([outH, outW, channels])} (input ${json(inT.shape)}, ${windowField} ${json(window)}, ` +
        `stride ${json(op.stride)}, padding t${p.top} b${p.bottom} l${p.left} r${p.right})`,
      `tensor ${outT.id} with shape ${json(outT.shape)}`,
    );
    return false;
  }
  return true;
}


function checkWeights(report: Report, path: string, weights: Int8Array): void {
  // Symmetric int8 weights never use -128 (TFLite spec: weights in [-127, 127]).
  const bad = weights.indexOf(-128);
  if (bad >= 0) report(`${path}`, 'symmetric int8 weights in [-127, 127]', `-128 at index ${bad}`);
}



function checkRequant(
  report: Report,
  op: IrOp & { bias: Int32Array; requant: { multiplier: Int32Array; shift: Int32Array; weightScale: Float64Array }; clamp: { min: number; max: number } },
  at: string,
  inT: IrTensor,
  outT: IrTensor,
  channels: number,
): void {
  const { multiplier, shift, weightScale } = op.requant;
  checkLength(report, `${at}/bias`, op.bias.length, channels, 'one int32 per output channel');
  checkLength(report, `${at}/requant/multiplier`, multiplier.length, channels, 'one per output channel');
  checkLength(report, `${at}/requant/shift`, shift.length, channels, 'one per output channel');
  checkLength(report, `${at}/requant/weightScale`, weightScale.length, channels, 'one per output channel');
  checkClamp(report, `${at}/clamp`, op.clamp);
  const n = Math.min(channels, multiplier.length, shift.length, weightScale.length);
  for (let c = 0; c < n; c++) {
    const m = multiplier[c];
    const s = shift[c];
    const ws = weightScale[c];
    let ok = true;
    if (m < 0) {
      report(`${at}/requant/multiplier/${c}`, 'a Q31 multiplier in [0, 2147483647]', String(m));
      ok = false;
    }
    if (s < -31 || s > 30) {
      report(`${at}/requant/shift/${c}`, 'a shift in [-31, 30]', String(s));
      ok = false;
    }
    if (!(Number.isFinite(ws) && ws > 0)) {
      report(`${at}/requant/weightScale/${c}`, 'a finite number > 0', String(ws));
      ok = false;
    }
    if (!ok) continue;
    const real = (inT.scale * ws) / outT.scale;
    const represented = m * 2 ** (s - 31);
    const agrees =
      m === 0 ? real < 2 ** -30 : Math.abs(represented - real) <= REQUANT_RELATIVE_TOLERANCE * real;
    if (!agrees) {
      report(
        `${at}/requant/multiplier/${c}`,
        `multiplier * 2^(shift - 31) = inputScale * weightScale / outputScale = ${real}`,
        `${m} * 2^(${s} - 31) = ${represented}`,
      );
    }
  }
}
