// Semantic checks of an IrModel, beyond what the JSON Schema can say: tensor references, the
// chain from input to output, shapes implied by kernel/stride/padding, array lengths, value
// ranges, and the requantization agreeing with the scales it was derived from.
//
// The same checks run on a model loaded from disk (after schema validation), before a model is
// saved, and before the reference interpreter runs one, so downstream code can trust an IrModel.
// Paths in the messages are JSON pointers into the on-disk document, whose layout mirrors IrModel.
import { UserError } from '../util/errors.js';
import { IR_VERSION, tensorSize, type IrModel, type IrOp, type IrTensor, type Padding } from './types.js';

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

/** Validates the model; throws an IrValidationError naming `source` and every problem. */
export function validateIr(ir: IrModel, source: string): void {
  const problems = findIrProblems(ir);
  if (problems.length > 0) throw new IrValidationError(source, problems);
}

/** Every semantic problem of the model (empty when it is valid). */
export function findIrProblems(ir: IrModel): IrProblem[] {
  const problems: IrProblem[] = [];
  const report = (path: string, expected: string, found: string): void => {
    problems.push({ path, expected, found });
  };

  if (ir.irVersion !== IR_VERSION) {
    report('/irVersion', `irVersion ${IR_VERSION}`, String(ir.irVersion));
  }

  // Tensors: unique ids, sane shapes and quantization.
  const tensors = new Map<number, IrTensor>();
  ir.tensors.forEach((t, i) => {
    const at = `/tensors/${i}`;
    if (!Number.isInteger(t.id) || t.id < 0) report(`${at}/id`, 'a non-negative integer', String(t.id));
    const first = ir.tensors.findIndex((other) => other.id === t.id);
    if (first !== i) report(`${at}/id`, `a unique tensor id`, `${t.id}, already used by /tensors/${first}`);
    else tensors.set(t.id, t);
    if (t.shape.length === 0 || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
      report(`${at}/shape`, 'a non-empty list of positive integers', json(t.shape));
    }
    if (!(Number.isFinite(t.scale) && t.scale > 0)) report(`${at}/scale`, 'a finite number > 0', String(t.scale));
    checkInt8(report, `${at}/zeroPoint`, 'zero point', t.zeroPoint);
  });
  const tensorAt = (path: string, id: number): IrTensor | undefined => {
    const t = tensors.get(id);
    if (!t) report(path, `the id of a tensor in /tensors (${[...tensors.keys()].join(', ')})`, String(id));
    return t;
  };

  // Input: pixels 0..255 become q = pixel + pixelOffset, which must land in int8, and the input
  // tensor's zero point must be that offset (real = pixel / 255 = scale * (q - zeroPoint)).
  const inputTensor = tensorAt('/input/tensor', ir.input.tensor);
  if (ir.input.pixelOffset !== -128) {
    report('/input/pixelOffset', '-128 (maps pixels 0..255 onto int8 -128..127)', String(ir.input.pixelOffset));
  }
  if (inputTensor) {
    if (inputTensor.shape.length !== 3) {
      report('/input/tensor', `an [H, W, C] input tensor`, `tensor ${inputTensor.id} with shape ${json(inputTensor.shape)}`);
    }
    if (inputTensor.zeroPoint !== ir.input.pixelOffset) {
      report(
        `/tensors/${ir.tensors.indexOf(inputTensor)}/zeroPoint`,
        `the input's pixelOffset ${ir.input.pixelOffset}`,
        String(inputTensor.zeroPoint),
      );
    }
  }
  const outputTensor = tensorAt('/output/tensor', ir.output.tensor);
  if (!Number.isInteger(ir.output.numClasses) || ir.output.numClasses < 1) {
    report('/output/numClasses', 'a positive integer', String(ir.output.numClasses));
  } else if (outputTensor && tensorSize(outputTensor) !== ir.output.numClasses) {
    report(
      '/output/numClasses',
      `the size of output tensor ${outputTensor.id} (shape ${json(outputTensor.shape)})`,
      String(ir.output.numClasses),
    );
  }

  // The graph is a chain: each op reads what the previous one wrote, from input to output, and
  // no tensor is written twice.
  if (ir.ops.length === 0) report('/ops', 'at least one op', 'an empty list');
  const written = new Map<number, number>([[ir.input.tensor, -1]]);
  ir.ops.forEach((op, i) => {
    const expectedInput = i === 0 ? ir.input.tensor : ir.ops[i - 1].output;
    const from = i === 0 ? '/input/tensor' : `the output of /ops/${i - 1}`;
    if (op.input !== expectedInput) {
      report(`/ops/${i}/input`, `tensor ${expectedInput} (${from}: the ops form a chain in order)`, String(op.input));
    }
    const previous = written.get(op.output);
    if (previous !== undefined) {
      const by = previous === -1 ? 'the model input' : `/ops/${previous}/output`;
      report(`/ops/${i}/output`, 'a tensor no other op writes', `tensor ${op.output}, also ${by}`);
    }
    written.set(op.output, i);
    const inT = tensorAt(`/ops/${i}/input`, op.input);
    const outT = tensorAt(`/ops/${i}/output`, op.output);
    if (inT && outT) checkOp(report, op, `/ops/${i}`, inT, outT);
  });
  if (ir.ops.length > 0 && ir.ops[ir.ops.length - 1].output !== ir.output.tensor) {
    report(
      '/output/tensor',
      `tensor ${ir.ops[ir.ops.length - 1].output} (the output of the last op, /ops/${ir.ops.length - 1})`,
      String(ir.output.tensor),
    );
  }
  return problems;
}

type Report = (path: string, expected: string, found: string) => void;

function json(value: unknown): string {
  return JSON.stringify(value);
}

function checkInt8(report: Report, path: string, what: string, value: number): void {
  if (!Number.isInteger(value) || value < -128 || value > 127) {
    report(path, `an int8 ${what} in [-128, 127]`, String(value));
  }
}

function checkPositivePair(report: Report, path: string, pair: readonly number[]): boolean {
  const ok = pair.length === 2 && pair.every((v) => Number.isInteger(v) && v >= 1);
  if (!ok) report(path, 'two positive integers', json(pair));
  return ok;
}

function checkOp(report: Report, op: IrOp, at: string, inT: IrTensor, outT: IrTensor): void {
  switch (op.kind) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      if (!checkWindowOp(report, op, op.kernel, at, inT, outT, 'kernel')) return;
      const [kH, kW] = op.kernel;
      const inC = inT.shape[2];
      const outC = outT.shape[2];
      if (op.kind === 'conv2d') {
        // OHWI weights: one [kH, kW, inC] filter per output channel.
        checkLength(report, `${at}/weights`, op.weights.length, outC * kH * kW * inC, `OHWI ${outC}x${kH}x${kW}x${inC}`);
      } else {
        if (!Number.isInteger(op.depthMultiplier) || op.depthMultiplier < 1) {
          report(`${at}/depthMultiplier`, 'a positive integer', String(op.depthMultiplier));
          return;
        }
        if (outC !== inC * op.depthMultiplier) {
          report(`${at}/output`, `a tensor with ${inC} x ${op.depthMultiplier} = ${inC * op.depthMultiplier} channels`, `${outC} channels (tensor ${outT.id})`);
          return;
        }
        checkLength(report, `${at}/weights`, op.weights.length, kH * kW * outC, `1x${kH}x${kW}x${outC}, channel c = i * M + m`);
      }
      checkWeights(report, `${at}/weights`, op.weights);
      checkRequant(report, op, at, inT, outT, outC);
      return;
    }
    case 'fully_connected': {
      const inUnits = tensorSize(inT);
      if (outT.shape.length !== 1) {
        report(`${at}/output`, 'a [units] vector tensor', `tensor ${outT.id} with shape ${json(outT.shape)}`);
        return;
      }
      const outUnits = outT.shape[0];
      checkLength(report, `${at}/weights`, op.weights.length, outUnits * inUnits, `[outUnits, inUnits] = ${outUnits}x${inUnits}`);
      checkWeights(report, `${at}/weights`, op.weights);
      checkRequant(report, op, at, inT, outT, outUnits);
      return;
    }
    case 'max_pool2d':
    case 'avg_pool2d': {
      if (!checkWindowOp(report, op, op.pool, at, inT, outT, 'pool')) return;
      checkSameQuantization(report, at, inT, outT);
      checkClamp(report, `${at}/clamp`, op.clamp);
      return;
    }
    case 'reshape': {
      if (tensorSize(inT) !== tensorSize(outT)) {
        report(`${at}/output`, `a tensor of ${tensorSize(inT)} elements like the input ${json(inT.shape)}`, `shape ${json(outT.shape)} (tensor ${outT.id})`);
      }
      checkSameQuantization(report, at, inT, outT);
      return;
    }
    default: {
      report(`${at}/kind`, 'a known op kind (conv2d, depthwise_conv2d, fully_connected, max_pool2d, avg_pool2d, reshape)', json(op.kind));
    }
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

function checkLength(report: Report, path: string, found: number, expected: number, layout: string): void {
  if (found !== expected) report(path, `${expected} values (${layout})`, `${found}`);
}

function checkWeights(report: Report, path: string, weights: Int8Array): void {
  // Symmetric int8 weights never use -128 (TFLite spec: weights in [-127, 127]).
  const bad = weights.indexOf(-128);
  if (bad >= 0) report(`${path}`, 'symmetric int8 weights in [-127, 127]', `-128 at index ${bad}`);
}

function checkClamp(report: Report, path: string, clamp: { min: number; max: number }): void {
  checkInt8(report, `${path}/min`, 'clamp bound', clamp.min);
  checkInt8(report, `${path}/max`, 'clamp bound', clamp.max);
  if (clamp.min > clamp.max) report(path, 'min <= max', `min ${clamp.min} > max ${clamp.max}`);
}

function checkSameQuantization(report: Report, at: string, inT: IrTensor, outT: IrTensor): void {
  if (inT.scale !== outT.scale || inT.zeroPoint !== outT.zeroPoint) {
    report(
      `${at}/output`,
      `the input's scale ${inT.scale} and zero point ${inT.zeroPoint} (this op does not requantize)`,
      `scale ${outT.scale} and zero point ${outT.zeroPoint} (tensor ${outT.id})`,
    );
  }
}

// How far multiplier * 2^(shift - 31) may be from inputScale * weightScale / outputScale. The Q31
// rounding itself is within 2^-31 relative; the slack allows the quantizer to have computed the
// real multiplier in another floating-point order.
const REQUANT_RELATIVE_TOLERANCE = 1e-6;

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
