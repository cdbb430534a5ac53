// Resolves every op of the IR into the numbers the C kernels take (shapes, offsets, clamps), and
// checks everything the generated C relies on, so that a bad IR fails here with a message
// naming the layer instead of producing C that computes something else:
//  - shapes agree with kernel / stride / padding, array lengths agree with shapes;
//  - every pooling / convolution window has at least one tap inside the input;
//  - zero points, clamps and shapes fit the int16 fields of the parameter blocks;
//  - shifts are in [-31, 30] and no int32 accumulator (partial sums and the left shift of
//    MultiplyByQuantizedMultiplier included) can overflow for any int8 input, so the C has no
//    undefined behaviour and the DSP path (which reorders additions) equals the portable one.
//
// conv2d and fully_connected get their input offset folded into the bias here: the kernels
// compute bias' + sum(x * w) with bias' = bias + input_offset * sum(w) (sum over the whole
// window; conv2d's im2col pads with the input zero point, whose taps then cancel exactly). The
// result is the same integer; only the partial sums differ, and they are checked too.
import type {
  AvgPool2DOp,
  Clamp,
  Conv2DOp,
  DepthwiseConv2DOp,
  FullyConnectedOp,
  IrModel,
  IrOp,
  IrTensor,
  MaxPool2DOp,
  Padding,
  Requant,
} from '../ir/types.js';
import { graphInputs, opInputs, tensorSize } from '../ir/types.js';
import { UserError } from '../util/errors.js';
import { composeClamps, type FusedPool } from './fuse.js';
import { resolveGraphLayer, type GraphLayer } from './graph-layers.js';

const INT32_MAX = 2147483647;
const INT16_MAX = 32767;

export interface Hwc {
  h: number;
  w: number;
  c: number;
}

interface LayerBase {
  op: IrOp;
  index: number;
  input: IrTensor;
  output: IrTensor;
  /** Multiply-accumulates executed (taps in the padding are skipped, so not counted). */
  macs: number;
}

export interface WindowGeometry {
  inShape: Hwc;
  outShape: Hwc;
  kernel: [number, number];
  stride: [number, number];
  padding: Padding;
}

export interface ConvLayer extends LayerBase, WindowGeometry {
  family: 'conv';
  kind: 'conv2d' | 'depthwise_conv2d';
  op: Conv2DOp | DepthwiseConv2DOp;
  depthMultiplier: number;
  inputOffset: number;
  outputOffset: number;
  clamp: Clamp;
  /** The bias array the kernel takes: conv2d: bias + inputOffset * sum(w) per channel; depthwise: the IR bias. */
  kernelBias: Int32Array;
  /**
   * The weight array the kernel takes: conv2d: conv2dKernelWeights(OHWI), or for few input
   * channels (conv2dTakesTapPairs) conv2dPairWeights, packed int32; depthwise: the IR weights,
   * or for one input channel with depth multiplier >= 2 depthwiseRowWeights, packed int32.
   */
  kernelWeights: Int8Array | Int32Array;
  /**
   * A max pooling fused into this conv2d (src/codegen/fuse.ts): `output` is then the pool's
   * output, `outShape` stays the conv's own (unstored) output, and `clamp` is conv's then pool's.
   */
  pool?: { op: MaxPool2DOp; size: [number, number]; outShape: Hwc };
}

export interface FcLayer extends LayerBase {
  family: 'fc';
  kind: 'fully_connected';
  op: FullyConnectedOp;
  inN: number;
  outN: number;
  inputOffset: number;
  outputOffset: number;
  clamp: Clamp;
  /** bias + inputOffset * sum(w) per output: the bias array the kernel takes. */
  kernelBias: Int32Array;
}

export interface PoolLayer extends LayerBase, WindowGeometry {
  family: 'pool';
  kind: 'max_pool2d' | 'avg_pool2d';
  op: MaxPool2DOp | AvgPool2DOp;
  clamp: Clamp;
}

export interface ReshapeLayer extends LayerBase {
  family: 'reshape';
  kind: 'reshape';
}

export type Layer = ConvLayer | FcLayer | PoolLayer | ReshapeLayer | GraphLayer;

function fail(ir: IrModel, where: string, message: string): never {
  throw new UserError(`IR '${ir.name}', ${where}: ${message}`);
}

function hwc(ir: IrModel, where: string, t: IrTensor): Hwc {
  if (t.shape.length !== 3) {
    fail(ir, where, `tensor '${t.name}' (id ${t.id}) must be [H, W, C], found shape [${t.shape.join(', ')}]`);
  }
  const [h, w, c] = t.shape as [number, number, number];
  // Each dimension goes into an int16 field of the parameter blocks. The kernels index tensors
  // with int32 arithmetic, so the element count may exceed 32,767 (the Keras CNN's 24x24x64).
  for (const d of [h, w, c]) {
    if (d > INT16_MAX) fail(ir, where, `tensor '${t.name}' has dimension ${d}, too large for the int16 shape fields (at most ${INT16_MAX})`);
  }
  return { h, w, c };
}

/** Valid (non-padding) taps along one axis for output position o. */
export function validTaps(o: number, stride: number, pad: number, kernel: number, size: number): number {
  const start = o * stride - pad;
  const from = Math.max(0, -start);
  const to = Math.min(kernel, size - start);
  return Math.max(0, to - from);
}

/** Sum over output positions of valid taps along one axis; throws if a window is empty. */
function axisTaps(
  ir: IrModel,
  where: string,
  axis: string,
  outSize: number,
  stride: number,
  pad: number,
  kernel: number,
  size: number,
): number {
  let sum = 0;
  for (let o = 0; o < outSize; o++) {
    const n = validTaps(o, stride, pad, kernel, size);
    if (n === 0) fail(ir, where, `output ${axis} ${o} has a window lying entirely in the padding`);
    sum += n;
  }
  return sum;
}

function checkGeometry(ir: IrModel, where: string, g: WindowGeometry): void {
  const { inShape, outShape, kernel, stride, padding } = g;
  const positive = [...kernel, ...stride].every((v) => Number.isInteger(v) && v >= 1);
  if (!positive) fail(ir, where, `kernel/stride must be positive integers, found ${kernel} / ${stride}`);
  const pads = [padding.top, padding.left, padding.bottom, padding.right];
  if (!pads.every((v) => Number.isInteger(v) && v >= 0)) {
    fail(ir, where, `padding must be non-negative integers, found ${JSON.stringify(padding)}`);
  }
  const expH = Math.floor((inShape.h + padding.top + padding.bottom - kernel[0]) / stride[0]) + 1;
  const expW = Math.floor((inShape.w + padding.left + padding.right - kernel[1]) / stride[1]) + 1;
  if (expH !== outShape.h || expW !== outShape.w) {
    fail(
      ir,
      where,
      `output is ${outShape.h}x${outShape.w} but input ${inShape.h}x${inShape.w}, kernel ${kernel.join('x')}, ` +
        `stride ${stride.join('x')} and padding ${pads.join('/')} give ${expH}x${expW}`,
    );
  }
}

function checkClamp(ir: IrModel, where: string, clamp: Clamp): void {
  const ok =
    Number.isInteger(clamp.min) && Number.isInteger(clamp.max) && clamp.min >= -128 && clamp.max <= 127 && clamp.min <= clamp.max;
  if (!ok) fail(ir, where, `clamp must satisfy -128 <= min <= max <= 127, found [${clamp.min}, ${clamp.max}]`);
}

function checkZeroPoint(ir: IrModel, where: string, t: IrTensor): void {
  if (!Number.isInteger(t.zeroPoint) || t.zeroPoint < -128 || t.zeroPoint > 127) {
    fail(ir, where, `tensor '${t.name}' zero point must be an integer in [-128, 127], found ${t.zeroPoint}`);
  }
}

function checkLength(ir: IrModel, where: string, what: string, found: number, expected: number): void {
  if (found !== expected) fail(ir, where, `${what} has ${found} elements, expected ${expected}`);
}

/**
 * Accumulator bound: |bias[c]| + max|x + input_offset| * sum|w[c]| must fit int32, and so must
 * that bound times 2^shift for a positive shift (MultiplyByQuantizedMultiplier multiplies
 * before the high multiply).
 *
 * With `fold`, returns the folded bias bias[c] + input_offset * sum(w[c]) and also checks the
 * partial sums of the folded form: |folded| + 128 * sum|w[c]| must fit int32 (x is a raw int8,
 * |x| <= 128). Without, returns the bias unchanged.
 */
function checkAccumulators(
  ir: IrModel,
  where: string,
  channels: number,
  weightIndex: (c: number) => Iterable<number>,
  weights: Int8Array,
  bias: Int32Array,
  requant: Requant,
  inputZeroPoint: number,
  fold: boolean,
): Int32Array {
  checkLength(ir, where, 'bias', bias.length, channels);
  checkLength(ir, where, 'requant.multiplier', requant.multiplier.length, channels);
  checkLength(ir, where, 'requant.shift', requant.shift.length, channels);
  const xMax = Math.max(Math.abs(-128 - inputZeroPoint), Math.abs(127 - inputZeroPoint));
  const folded = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const shift = requant.shift[c]!;
    if (shift < -31 || shift > 30) fail(ir, where, `channel ${c}: shift ${shift} outside [-31, 30]`);
    let sumAbs = 0;
    let sum = 0;
    for (const i of weightIndex(c)) {
      const w = weights[i]!;
      if (w === -128) fail(ir, where, `channel ${c}: weight -128 (int8 weights must be in [-127, 127])`);
      sumAbs += Math.abs(w);
      sum += w;
    }
    const foldedBias = fold ? bias[c]! - inputZeroPoint * sum : bias[c]!;
    if (fold && Math.abs(foldedBias) + 128 * sumAbs > INT32_MAX) {
      fail(
        ir,
        where,
        `channel ${c}: with the input offset folded into the bias (${foldedBias}), a partial sum of the int32 ` +
          `accumulator could overflow (|bias'| + 128 * sum|w| = ${Math.abs(foldedBias) + 128 * sumAbs})`,
      );
    }
    folded[c] = foldedBias;
    const bound = (Math.abs(bias[c]!) + xMax * sumAbs) * 2 ** Math.max(shift, 0);
    if (bound > INT32_MAX) {
      fail(
        ir,
        where,
        `channel ${c}: the int32 accumulator could overflow (|bias| + ${xMax} * sum|w| = ` +
          `${Math.abs(bias[c]!) + xMax * sumAbs}, shift ${shift}); the generated C would be undefined`,
      );
    }
  }
  return folded;
}

/**
 * Whether a conv2d with in_c input channels takes the few-input-channel path (pairs of taps,
 * conv2dPairWeights) rather than im2col columns (conv2dKernelWeights). Only below 4 channels (the
 * first layer of an image model): the pair weights take two bytes per tap against one, which is
 * little on a first layer and kilobytes on a middle one (tiny-cnn at width 0.7, 11 and 22
 * channels). tinyforge_conv2d.c makes the same choice from in_c.
 */
export function conv2dTakesTapPairs(inC: number): boolean {
  return inC < 4;
}

/**
 * The C function of a conv2d layer: tinyforge_conv2d_gathered when in_c is 4 or more but not a
 * multiple of 4 (its DSP path gathers each window in natural order before widening it; a separate
 * entry point so that models without such a layer link none of that code), else tinyforge_conv2d.
 */
export function conv2dFunction(inC: number): string {
  return !conv2dTakesTapPairs(inC) && inC % 4 !== 0 ? 'tinyforge_conv2d_gathered' : 'tinyforge_conv2d';
}

/**
 * conv2d's weight layout. OHWI rows of K = kernel_h * kernel_w * in_c taps, padded with zero
 * weights to Kp = K rounded up to a multiple of 4 taps (and an odd channel count with one zero
 * row), so that the kernel only ever handles whole groups of four taps of two channels; then
 * each pair of output channels (2j, 2j + 1) interleaved every four taps (4 bytes of row 2j,
 * 4 bytes of row 2j + 1, ...) so that the kernel walks both rows with one pointer, which keeps
 * its inner loop within the registers of a Cortex-M. Pair j occupies bytes [2j * Kp, (2j + 2) * Kp).
 * A zero weight adds nothing whatever the input value it meets, so the padding changes no result.
 */
/** Zero bytes after conv2d's packed weights (see conv2dKernelWeights). */
export const CONV2D_WEIGHT_TAIL = 4;

export function conv2dKernelWeights(weights: Int8Array, channels: number, k: number): Int8Array {
  const kp = Math.ceil(k / 4) * 4;
  const pairs = Math.ceil(channels / 2);
  // + 4 zero bytes: the DSP inner loop reads the odd taps of a group as the word one byte
  // further on, so its last read ends one byte past the last group.
  const out = new Int8Array(pairs * 2 * kp + CONV2D_WEIGHT_TAIL);
  for (let j = 0; j < pairs; j++) {
    for (let g = 0; g < kp / 4; g++) {
      for (let r = 0; r < 2; r++) {
        const c = 2 * j + r;
        for (let i = 0; i < 4; i++) {
          const t = 4 * g + i;
          if (c < channels && t < k) out[2 * j * kp + 8 * g + 4 * r + i] = weights[c * k + t]!;
        }
      }
    }
  }
  return out;
}

/**
 * Pairs of taps of one kernel row of a few-input-channel conv2d (see conv2dPairWeights), for a row
 * of L = kernel_w * in_c taps: ceil(L / 4) + ceil((L - 1) / 4).
 */
export function conv2dRowPairCount(rowLen: number): number {
  return Math.ceil(rowLen / 4) + Math.ceil((rowLen - 1) / 4);
}

/** Pairs of taps of a whole few-input-channel window: rows of 3 taps merged two at a time, see conv2dPairWeights. */
export function conv2dPairCount(kernelH: number, rowLen: number): number {
  if (rowLen === 3) return 3 * Math.floor(kernelH / 2) + 2 * (kernelH % 2);
  return kernelH * conv2dRowPairCount(rowLen);
}

/**
 * The taps of each pair of a few-input-channel window, in the kernel's order, as [tap, tap]
 * indices into the OHWI window (-1: a zero weight). Each kernel row of L = kernel_w * in_c
 * contiguous bytes of the NHWC input is read a word (four taps) at a time and split the way SXTB16
 * splits a word: pair 2m of the row = its taps (4m, 4m + 2), pair 2m + 1 = (4m + 1, 4m + 3), only
 * the pairs holding a tap below L (conv2dRowPairCount). Rows of 3 taps (a 3x3 window on one
 * channel) are taken two at a time, their tap 1 merged into one pair: (a0, a2), (b0, b2), (a1, b1);
 * an odd last row keeps (0, 2), (1, -). See tinyforge_column_rows in tinyforge_conv2d.c.
 */
export function conv2dPairTaps(kernelH: number, rowLen: number): [number, number][] {
  const pairs: [number, number][] = [];
  const tap = (ky: number, t: number) => (t < rowLen ? ky * rowLen + t : -1);
  if (rowLen === 3) {
    let ky = 0;
    for (; ky + 1 < kernelH; ky += 2) pairs.push([tap(ky, 0), tap(ky, 2)], [tap(ky + 1, 0), tap(ky + 1, 2)], [tap(ky, 1), tap(ky + 1, 1)]);
    if (ky < kernelH) pairs.push([tap(ky, 0), tap(ky, 2)], [tap(ky, 1), -1]);
    return pairs;
  }
  for (let ky = 0; ky < kernelH; ky++) {
    for (let i = 0; i < conv2dRowPairCount(rowLen); i++) {
      const first = 4 * (i >> 1) + (i & 1);
      pairs.push([tap(ky, first), tap(ky, first + 2)]);
    }
  }
  return pairs;
}

/**
 * conv2d's weight layout for few input channels (conv2dTakesTapPairs): the pairs of
 * conv2dPairTaps, each packed two int16 per int32 (the first tap in the low half, zero for -1);
 * an odd channel count padded with a zero row; each pair of channels interleaved word by word
 * (channel 2j's pair i, then channel 2j + 1's pair i). The inner loop loads them straight into SMLAD.
 */
export function conv2dPairWeights(weights: Int8Array, channels: number, kernelH: number, rowLen: number): Int32Array {
  const taps = conv2dPairTaps(kernelH, rowLen);
  const pairs = taps.length;
  const k = kernelH * rowLen;
  const channelPairs = Math.ceil(channels / 2);
  const out = new Int32Array(channelPairs * 2 * pairs);
  for (let j = 0; j < channelPairs; j++) {
    taps.forEach(([lo, hi], i) => {
      for (let r = 0; r < 2; r++) {
        const c = 2 * j + r;
        if (c >= channels) continue;
        const w = (t: number) => (t >= 0 ? weights[c * k + t]! : 0);
        out[2 * j * pairs + 2 * i + r] = (w(lo) & 0xffff) | (w(hi) << 16);
      }
    });
  }
  return out;
}

/** The stack buffer tinyforge_depthwise_conv2d.c gathers a border window into (TINYFORGE_DW_WINDOW_BYTES). */
export const DEPTHWISE_WINDOW_BYTES = 128;

/** Taps per kernel row in depthwiseRowWeights: kernel_w rounded up to a multiple of 4. */
function depthwiseRowBytes(kernelW: number): number {
  return Math.ceil(kernelW / 4) * 4;
}

/**
 * Whether a depthwise layer takes its kernel's packed path (tinyforge_dw_packed in
 * tinyforge_depthwise_conv2d.c, the same condition): one input channel, depth multiplier >= 2, and
 * a window of whole rows (kernel_h * kernel_w rounded up to 4) that fits the gather buffer.
 */
export function depthwisePacked(inC: number, depthMultiplier: number, kernelH: number, kernelW: number): boolean {
  return inC === 1 && depthMultiplier > 1 && kernelH * depthwiseRowBytes(kernelW) <= DEPTHWISE_WINDOW_BYTES;
}

/**
 * The packed depthwise weights (depthwisePacked layers): the IR's [kH, kW, M] weights as blocks
 * of four output channels (the last zero-padded), each block kernel row by kernel row, each row
 * as groups of four taps (zero taps past kernel_w), and in each group, for channel 0..3 of the
 * block, two int32 words of two int16: (tap 0, tap 2) and (tap 1, tap 3), the first in the low
 * half. These are the halves SXTB16 makes of a word of four input values, so the DSP loop feeds
 * every weight word straight into an SMLAD. Word index: ((block * kH + ky) * groups + g) * 8 + 2j + h.
 */
export function depthwiseRowWeights(weights: Int8Array, channels: number, kernelH: number, kernelW: number): Int32Array {
  const rowBytes = depthwiseRowBytes(kernelW);
  const groups = rowBytes / 4;
  const blocks = Math.ceil(channels / 4);
  const out = new Int32Array(blocks * kernelH * groups * 8);
  const w = (ky: number, kx: number, c: number) => (kx < kernelW && c < channels ? weights[(ky * kernelW + kx) * channels + c]! : 0);
  for (let b = 0; b < blocks; b++) {
    for (let ky = 0; ky < kernelH; ky++) {
      for (let g = 0; g < groups; g++) {
        const at = ((b * kernelH + ky) * groups + g) * 8;
        for (let j = 0; j < 4; j++) {
          const c = 4 * b + j;
          const kx = 4 * g;
          out[at + 2 * j] = (w(ky, kx, c) & 0xffff) | (w(ky, kx + 2, c) << 16);
          out[at + 2 * j + 1] = (w(ky, kx + 1, c) & 0xffff) | (w(ky, kx + 3, c) << 16);
        }
      }
    }
  }
  return out;
}

function range(start: number, count: number, step = 1): number[] {
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/**
 * The layers of `ir`, each op resolved and checked. `pools`: max poolings fused into the conv2d
 * before them (fuseConvPool's view: `ir` is then the view, whose fused convs write the pool's
 * output tensor).
 */
export function resolveLayers(ir: IrModel, pools: ReadonlyMap<IrOp, FusedPool> = new Map()): Layer[] {
  const byId = new Map<number, IrTensor>();
  for (const t of ir.tensors) {
    if (byId.has(t.id)) fail(ir, `tensor ${t.id}`, 'duplicate tensor id');
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
      fail(ir, `tensor '${t.name}'`, `shape must be positive integers, found [${t.shape.join(', ')}]`);
    }
    byId.set(t.id, t);
  }
  const tensor = (where: string, id: number): IrTensor => {
    const t = byId.get(id);
    if (!t) fail(ir, where, `refers to tensor ${id}, which is not in the tensor list`);
    return t;
  };
  for (const [what, id] of [
    ...graphInputs(ir).map((input, k) => [k === 0 ? 'input' : `extraInputs[${k - 1}]`, input.tensor] as const),
    ['output', ir.output.tensor] as const,
  ]) {
    checkZeroPoint(ir, what, tensor(`${what}`, id));
  }
  const off = ir.input.pixelOffset ?? -128;
  if (!Number.isInteger(off) || off < -128 || 255 + off > 127) {
    fail(ir, 'input.pixelOffset', `pixel + pixelOffset must be int8 for every pixel 0..255, found ${off}`);
  }
  const outSize = tensorSize(tensor('output', ir.output.tensor));
  if (ir.output.numClasses !== outSize) {
    fail(ir, 'output.numClasses', `is ${ir.output.numClasses} but the output tensor has ${outSize} elements`);
  }

  const written = new Set<number>(graphInputs(ir).map((input) => input.tensor));
  const layers = ir.ops.map((op, index): Layer => {
    const where = `op ${index} '${op.name}' (${op.kind})`;
    for (const id of opInputs(op)) {
      checkZeroPoint(ir, where, tensor(where, id));
      if (!written.has(id)) fail(ir, where, `reads tensor ${id} before any op writes it`);
    }
    const input = tensor(where, op.input);
    const output = tensor(where, op.output);
    if (written.has(op.output)) fail(ir, where, `writes tensor ${op.output}, which is already written`);
    written.add(op.output);
    checkZeroPoint(ir, where, output);
    const base = { index, input, output };

    switch (op.kind) {
      case 'conv2d':
      case 'depthwise_conv2d': {
        const fused = pools.get(op);
        const inShape = hwc(ir, where, input);
        const outShape = hwc(ir, where, fused ? fused.convOutput : output);
        const g: WindowGeometry = { inShape, outShape, kernel: op.kernel, stride: op.stride, padding: op.padding };
        checkGeometry(ir, where, g);
        checkClamp(ir, where, op.clamp);
        const [kh, kw] = op.kernel;
        const rows = axisTaps(ir, where, 'row', outShape.h, op.stride[0], op.padding.top, kh, inShape.h);
        const cols = axisTaps(ir, where, 'column', outShape.w, op.stride[1], op.padding.left, kw, inShape.w);
        let depthMultiplier = 1;
        let macs: number;
        let kernelBias: Int32Array;
        if (op.kind === 'conv2d') {
          checkLength(ir, where, 'weights', op.weights.length, outShape.c * kh * kw * inShape.c);
          const per = kh * kw * inShape.c;
          kernelBias = checkAccumulators(ir, where, outShape.c, (c) => range(c * per, per), op.weights, op.bias, op.requant, input.zeroPoint, true);
          macs = rows * cols * inShape.c * outShape.c;
        } else {
          depthMultiplier = op.depthMultiplier;
          if (!Number.isInteger(depthMultiplier) || depthMultiplier < 1 || inShape.c * depthMultiplier !== outShape.c) {
            fail(ir, where, `output channels ${outShape.c} != input channels ${inShape.c} * depthMultiplier ${depthMultiplier}`);
          }
          checkLength(ir, where, 'weights', op.weights.length, kh * kw * outShape.c);
          kernelBias = checkAccumulators(ir, where, outShape.c, (c) => range(c, kh * kw, outShape.c), op.weights, op.bias, op.requant, input.zeroPoint, false);
          macs = rows * cols * outShape.c;
        }
        for (const v of [kh, kw, ...op.stride, op.padding.top, op.padding.left, depthMultiplier]) {
          if (v > INT16_MAX) fail(ir, where, `parameter ${v} too large for the int16 fields`);
        }
        let pool: ConvLayer['pool'];
        let clamp = op.clamp;
        if (fused) {
          const pooled = hwc(ir, where, output);
          const [ph, pw] = fused.pool.pool;
          if (pooled.h * ph > outShape.h || pooled.w * pw > outShape.w || pooled.c !== outShape.c) {
            fail(ir, where, `fused max pooling ${ph}x${pw} does not fit the conv output ${outShape.h}x${outShape.w}x${outShape.c}`);
          }
          checkClamp(ir, where, fused.pool.clamp);
          pool = { op: fused.pool, size: [ph, pw], outShape: pooled };
          clamp = composeClamps(op.clamp, fused.pool.clamp);
        }
        return {
          ...base,
          ...g,
          family: 'conv',
          kind: op.kind,
          op,
          pool,
          depthMultiplier,
          inputOffset: -input.zeroPoint,
          outputOffset: output.zeroPoint,
          clamp,
          kernelBias,
          kernelWeights:
            op.kind !== 'conv2d'
              ? depthwisePacked(inShape.c, depthMultiplier, kh, kw)
                ? depthwiseRowWeights(op.weights, outShape.c, kh, kw)
                : op.weights
              : conv2dTakesTapPairs(inShape.c)
                ? conv2dPairWeights(op.weights, outShape.c, kh, kw * inShape.c)
                : conv2dKernelWeights(op.weights, outShape.c, kh * kw * inShape.c),
          macs,
        };
      }
      case 'fully_connected': {
        const inN = tensorSize(input);
        const outN = tensorSize(output);
        for (const [field, n] of [['in_n', inN], ['out_n', outN]] as const) {
          if (n > INT16_MAX) fail(ir, where, `${field} = ${n} is too large for its int16 field (at most ${INT16_MAX})`);
        }
        checkClamp(ir, where, op.clamp);
        checkLength(ir, where, 'weights', op.weights.length, inN * outN);
        const kernelBias = checkAccumulators(ir, where, outN, (c) => range(c * inN, inN), op.weights, op.bias, op.requant, input.zeroPoint, true);
        return {
          ...base,
          family: 'fc',
          kind: op.kind,
          op,
          inN,
          outN,
          inputOffset: -input.zeroPoint,
          outputOffset: output.zeroPoint,
          clamp: op.clamp,
          kernelBias,
          macs: inN * outN,
        };
      }
      case 'max_pool2d':
      case 'avg_pool2d': {
        const inShape = hwc(ir, where, input);
        const outShape = hwc(ir, where, output);
        if (inShape.c !== outShape.c) fail(ir, where, `channels change from ${inShape.c} to ${outShape.c}`);
        const g: WindowGeometry = { inShape, outShape, kernel: op.pool, stride: op.stride, padding: op.padding };
        checkGeometry(ir, where, g);
        checkClamp(ir, where, op.clamp);
        axisTaps(ir, where, 'row', outShape.h, op.stride[0], op.padding.top, op.pool[0], inShape.h);
        axisTaps(ir, where, 'column', outShape.w, op.stride[1], op.padding.left, op.pool[1], inShape.w);
        for (const v of [...op.pool, ...op.stride, op.padding.top, op.padding.left]) {
          if (v > INT16_MAX) fail(ir, where, `parameter ${v} too large for the int16 fields`);
        }
        return { ...base, ...g, family: 'pool', kind: op.kind, op, clamp: op.clamp, macs: 0 };
      }
      case 'reshape': {
        if (tensorSize(input) !== tensorSize(output)) {
          fail(ir, where, `reshape changes the element count from ${tensorSize(input)} to ${tensorSize(output)}`);
        }
        return { ...base, family: 'reshape', kind: 'reshape', op, macs: 0 };
      }
      default:
        return resolveGraphLayer(ir, index, op, (id) => tensor(where, id));
    }
  });
  if (!written.has(ir.output.tensor)) fail(ir, 'output', `tensor ${ir.output.tensor} is not written by any op`);
  return layers;
}
