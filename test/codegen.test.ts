// The code generator: generated C compared bit for bit with the TypeScript reference
// interpreter (host gcc with AddressSanitizer + UBSan, portable path and DSP path via a C model
// of the ACLE intrinsics), cross-compiled for Cortex-M0/M3/M4, and checked for what the brief
// promises about the generated sources.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { generateLibrary, writeLibrary, type GenerateOptions } from '../src/codegen/generate.js';
import { DEPTHWISE_WINDOW_BYTES, depthwisePacked, resolveLayers } from '../src/codegen/layers.js';
import { IR_VERSION, tensorSize, type Clamp, type IrModel, type IrOp, type IrTensor, type Padding } from '../src/ir/types.js';
import { quantizeMultiplier } from '../src/quantize/multiplier.js';
import {
  multiplyByQuantizedMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../src/reference/fixedpoint.js';
import { argmax, pixelsToInput, runReference } from '../src/reference/interpreter.js';
import { UserError } from '../src/util/errors.js';
import { randomIr, SeededRandom } from './helpers/random-ir.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = resolve(HERE, 'fixtures/codegen');
const KERNELS = resolve(HERE, '../templates/kernels');
const HOST_FLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
/** Compile flags that run the DSP path on the host through the C model of the intrinsics. */
const DSP_EMULATION = ['-D__ARM_FEATURE_DSP=1', `-I${join(FIXTURES, 'acle')}`];
/** The Cortex-M0 requantization (64-bit product from 16-bit halves) on the host. */
const NO_LONG_MULTIPLY = ['-DTINYFORGE_NO_LONG_MULTIPLY'];
/** Host builds every model is checked with. */
const HOST_VARIANTS: [string, string[]][] = [
  ['portable', []],
  ['dsp', DSP_EMULATION],
  ['portable-mul32', NO_LONG_MULTIPLY],
];

const work = mkdtempSync(join(tmpdir(), 'tinyforge-codegen-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// A hand-made IR covering what the random IRs do not: C = 4 input (whole SMLAD groups and
// tails), asymmetric kernels, strides and explicit padding, depth multiplier 3, requantization
// multipliers > 1 (positive shifts, the left-shift path), ReLU6-style clamps, a non-global
// average pool with partial windows, two fully connected layers (36 and 13 inputs).

interface WeightedOptions {
  reals?: Record<number, number>;
  zeroPoint?: number;
}

class HandBuilder {
  readonly tensors: IrTensor[] = [];
  readonly ops: IrOp[] = [];
  private readonly rng = new SeededRandom(2024);

  constructor(shape: number[]) {
    this.tensor('input', shape, 1 / 255, -128);
  }

  get current(): IrTensor {
    return this.tensors[this.tensors.length - 1]!;
  }

  private tensor(name: string, shape: number[], scale: number, zeroPoint: number): IrTensor {
    const t = { id: this.tensors.length, name, shape, scale, zeroPoint };
    this.tensors.push(t);
    return t;
  }

  /**
   * Weights, bias and requantization; `boosted` channels get a real multiplier > 1, `reals` sets
   * the real multiplier of some channels (e.g. in [0.5, 1) for shift 0, [0.25, 0.5) for shift -1),
   * `zeroPoint` the output zero point.
   */
  private weighted(
    input: IrTensor,
    outName: string,
    outShape: number[],
    channels: number,
    taps: number,
    boosted: number[],
    clampWidth?: number,
    opts: WeightedOptions = {},
  ) {
    const rng = this.rng;
    const out = this.tensor(outName, outShape, rng.uniform(0.05, 0.15), opts.zeroPoint ?? rng.int(-30, 30));
    const weights = new Int8Array(channels * taps);
    const multiplier = new Int32Array(channels);
    const shift = new Int32Array(channels);
    const weightScale = new Float64Array(channels);
    const bias = new Int32Array(channels);
    const perChannel: number[][] = Array.from({ length: channels }, () => []);
    for (let c = 0; c < channels; c++) {
      const boost = boosted.includes(c);
      const real = opts.reals?.[c] ?? (boost ? rng.uniform(1.2, 3.5) : (rng.uniform(0.3, 3) * 40) / (Math.sqrt(taps) * 70 * 70));
      weightScale[c] = (real * out.scale) / input.scale;
      const q = quantizeMultiplier(real);
      multiplier[c] = q.multiplier;
      shift[c] = q.shift;
      const range = boost || real >= 0.25 ? 2 : 127;
      for (let i = 0; i < taps; i++) perChannel[c]!.push(rng.int(-range, range));
      const reach = Math.round(30 / real);
      bias[c] = rng.int(-reach, reach);
    }
    const clamp: Clamp = clampWidth === undefined ? { min: -128, max: 127 } : { min: out.zeroPoint, max: Math.min(127, out.zeroPoint + clampWidth) };
    return { out, weights, perChannel, bias, requant: { multiplier, shift, weightScale }, clamp };
  }

  conv(name: string, outC: number, kernel: [number, number], stride: [number, number], padding: Padding, boosted: number[], clampWidth?: number, opts?: WeightedOptions): void {
    const input = this.current;
    const [h, w, c] = input.shape as [number, number, number];
    const oh = Math.floor((h + padding.top + padding.bottom - kernel[0]) / stride[0]) + 1;
    const ow = Math.floor((w + padding.left + padding.right - kernel[1]) / stride[1]) + 1;
    const taps = kernel[0] * kernel[1] * c;
    const L = this.weighted(input, name, [oh, ow, outC], outC, taps, boosted, clampWidth, opts);
    L.perChannel.forEach((ws, oc) => L.weights.set(ws, oc * taps)); // OHWI
    this.ops.push({ kind: 'conv2d', name, input: input.id, output: L.out.id, kernel, stride, padding, weights: L.weights, bias: L.bias, requant: L.requant, clamp: L.clamp });
  }

  depthwise(name: string, m: number, kernel: [number, number], stride: [number, number], padding: Padding, clampWidth?: number): void {
    const input = this.current;
    const [h, w, c] = input.shape as [number, number, number];
    const oh = Math.floor((h + padding.top + padding.bottom - kernel[0]) / stride[0]) + 1;
    const ow = Math.floor((w + padding.left + padding.right - kernel[1]) / stride[1]) + 1;
    const outC = c * m;
    const taps = kernel[0] * kernel[1];
    const L = this.weighted(input, name, [oh, ow, outC], outC, taps, [1], clampWidth);
    // [1, kH, kW, C*M]: tap t of channel oc at t * outC + oc.
    L.perChannel.forEach((ws, oc) => ws.forEach((v, t) => (L.weights[t * outC + oc] = v)));
    this.ops.push({ kind: 'depthwise_conv2d', name, input: input.id, output: L.out.id, kernel, stride, padding, depthMultiplier: m, weights: L.weights, bias: L.bias, requant: L.requant, clamp: L.clamp });
  }

  pool(kind: 'max_pool2d' | 'avg_pool2d', name: string, pool: [number, number], stride: [number, number], padding: Padding, clamp: Clamp = { min: -128, max: 127 }): void {
    const input = this.current;
    const [h, w, c] = input.shape as [number, number, number];
    const oh = Math.floor((h + padding.top + padding.bottom - pool[0]) / stride[0]) + 1;
    const ow = Math.floor((w + padding.left + padding.right - pool[1]) / stride[1]) + 1;
    const out = this.tensor(name, [oh, ow, c], input.scale, input.zeroPoint);
    this.ops.push({ kind, name, input: input.id, output: out.id, pool, stride, padding, clamp });
  }

  reshape(name: string): void {
    const input = this.current;
    const out = this.tensor(name, [tensorSize(input)], input.scale, input.zeroPoint);
    this.ops.push({ kind: 'reshape', name, input: input.id, output: out.id });
  }

  fc(name: string, units: number, boosted: number[], clampWidth?: number, opts?: WeightedOptions): void {
    const input = this.current;
    const n = tensorSize(input);
    const L = this.weighted(input, name, [units], units, n, boosted, clampWidth, opts);
    L.perChannel.forEach((ws, o) => L.weights.set(ws, o * n));
    this.ops.push({ kind: 'fully_connected', name, input: input.id, output: L.out.id, weights: L.weights, bias: L.bias, requant: L.requant, clamp: L.clamp });
  }

  build(name: string): IrModel {
    return {
      irVersion: IR_VERSION,
      name,
      tensors: this.tensors,
      ops: this.ops,
      input: { tensor: 0, pixelOffset: -128 },
      output: { tensor: this.current.id, numClasses: tensorSize(this.current) },
      metadata: {
        configName: 'hand-made',
        configHash: 'none',
        dataset: 'random',
        architecture: 'hand-made',
        calibration: { method: 'none', samples: 0 },
        createdAt: '2000-01-01T00:00:00.000Z',
        tinyforgeVersion: '0.0.0-test',
      },
    };
  }
}

function handIr(): IrModel {
  const b = new HandBuilder([9, 7, 4]);
  b.conv('conv 1', 5, [3, 2], [2, 1], { top: 1, bottom: 1, left: 0, right: 1 }, [0, 3], 60); // [5, 7, 5]
  b.depthwise('dw', 3, [3, 3], [1, 1], { top: 1, bottom: 1, left: 1, right: 1 }); // [5, 7, 15]
  b.conv('1x1', 6, [1, 1], [1, 1], { top: 0, bottom: 0, left: 0, right: 0 }, [2], 90); // [5, 7, 6]
  b.pool('max_pool2d', 'max', [3, 3], [2, 2], { top: 1, bottom: 1, left: 1, right: 1 }, { min: -100, max: 100 }); // [3, 4, 6]
  b.pool('avg_pool2d', 'avg', [2, 3], [1, 2], { top: 0, bottom: 1, left: 1, right: 1 }); // [3, 2, 6]
  b.reshape('flatten'); // [36]
  b.fc('fc1', 13, [4], 100);
  b.fc('logits', 7, []);
  return b.build('hand-made');
}

/**
 * The paths of the kernels that the other IRs may miss: a 1-channel input (K = 9, not a
 * multiple of 4: zero-padded weight rows), odd output channel counts (1, 3, 5: the zero row
 * pairing the last channel), odd pixel counts (25, 9: the last pixel runs as both columns), a
 * 5x5 window on a 5x5 input with padding 2 (taps in the padding at every border, every window
 * but the centre one), stride 2, a 1x1 convolution, asymmetric padding, an input zero point of
 * 127 (input offset -127) and -128 (+128), requantization shifts > 0, = 0 and = -1 (the fused
 * rounding's e = 1 case), max pooling with padding and a clamp, fully connected layers of 12 and
 * 7 inputs with 7 and 5 outputs, a 2x3 window on one channel (two rows of 3 taps merged into 3 pairs),
 * depthwise with depth multiplier 2, and with depth multiplier 1 on
 * 6 channels (four at a time, then two left over) where every window reaches into the padding;
 * conv2d on 5 and 6 input channels (4 or more, not a multiple of 4: im2col of the window in
 * natural order, widened afterwards on the DSP path), kernel rows of 10 and 18 bytes.
 */
function kernelsIr(): IrModel {
  const b = new HandBuilder([5, 5, 1]);
  const same1 = { top: 1, bottom: 1, left: 1, right: 1 };
  b.conv('c1 in_c 1', 3, [3, 3], [1, 1], same1, [], undefined, { reals: { 0: 0.7, 1: 0.3 }, zeroPoint: 127 }); // [5, 5, 3]
  b.conv('c2 5x5 s2', 4, [5, 5], [2, 2], { top: 2, bottom: 2, left: 2, right: 2 }, [3], undefined, { reals: { 1: 0.4 } }); // [3, 3, 4]
  b.conv('c3 1x1', 5, [1, 1], [1, 1], { top: 0, bottom: 0, left: 0, right: 0 }, [0], 80); // [3, 3, 5]
  b.conv('c4 out 1', 1, [2, 2], [1, 1], { top: 0, bottom: 1, left: 1, right: 0 }, [], undefined, { zeroPoint: -128 }); // [3, 3, 1]
  b.conv('c4b 2x3 in_c 1', 3, [2, 3], [1, 1], { top: 1, bottom: 0, left: 1, right: 1 }, []); // [3, 3, 3]: rows of 3 taps, merged in twos
  b.conv('c4c 1x1 to 1', 1, [1, 1], [1, 1], { top: 0, bottom: 0, left: 0, right: 0 }, []); // [3, 3, 1]
  b.depthwise('dw m2', 2, [3, 3], [1, 1], same1); // [3, 3, 2]
  b.conv('c5 3x1 s2', 6, [3, 1], [2, 1], { top: 1, bottom: 1, left: 0, right: 0 }, [5]); // [2, 3, 6]
  b.depthwise('dw m1', 1, [3, 3], [1, 1], same1); // [2, 3, 6]: channels 0-3 four at a time, 4-5 alone
  b.conv('c6 1x3 in_c 6', 6, [1, 3], [1, 1], { top: 0, bottom: 0, left: 1, right: 1 }, []); // [2, 3, 6]: 18-byte rows
  b.pool('max_pool2d', 'max', [2, 2], [1, 1], { top: 0, bottom: 1, left: 0, right: 1 }, { min: -60, max: 90 }); // [2, 3, 6]
  b.reshape('flatten'); // [36]
  b.fc('f1', 7, [2], 100, { reals: { 0: 0.6, 1: 0.45 } });
  b.fc('f2', 5, []);
  return b.build('kernels');
}

/**
 * The depthwise kernel's paths for depth multipliers > 1: one input channel with packed weights
 * (micro_speech's 10x8 window, depth multiplier 8, stride 2, padding on every side: windows
 * gathered at the borders, read in place inside; a 3x3 window with depth multiplier 5, whose rows
 * are padded to 4 taps and whose last block holds one channel; a 'valid' 3x3 window with depth
 * multiplier 4 whose last word would end past the input: gathered), several input channels with
 * four output channels per input value (depth multiplier 4, and 6: a block of 4 and 2 channels
 * alone), and one input channel with a window too large for the gather buffer (12x11: unpacked).
 */
function depthwiseIr(): IrModel {
  const b = new HandBuilder([13, 12, 1]);
  const none = { top: 0, bottom: 0, left: 0, right: 0 };
  const same1 = { top: 1, bottom: 1, left: 1, right: 1 };
  b.depthwise('dw 10x8 m8 s2', 8, [10, 8], [2, 2], { top: 4, bottom: 5, left: 3, right: 3 }); // [7, 6, 8]
  b.conv('to 1 channel', 1, [1, 1], [1, 1], none, []); // [7, 6, 1]
  b.depthwise('dw 3x3 m5', 5, [3, 3], [1, 1], same1, 70); // [7, 6, 5]
  b.conv('to 1 channel b', 1, [1, 1], [1, 1], none, [], undefined, { zeroPoint: 127 }); // [7, 6, 1]
  b.depthwise('dw 3x3 m4 valid', 4, [3, 3], [1, 1], none); // [5, 4, 4]
  b.conv('to 2 channels', 2, [1, 1], [1, 1], none, []); // [5, 4, 2]
  b.depthwise('dw 3x2 m4 in_c 2', 4, [3, 2], [1, 2], { top: 1, bottom: 1, left: 0, right: 1 }); // [5, 2, 8]
  b.conv('to 2 channels b', 2, [1, 1], [1, 1], none, [], undefined, { zeroPoint: -128 }); // [5, 2, 2]
  b.depthwise('dw 2x2 m6 in_c 2', 6, [2, 2], [1, 1], { top: 0, bottom: 1, left: 1, right: 0 }); // [5, 2, 12]
  b.conv('to 1 channel c', 1, [1, 1], [1, 1], none, []); // [5, 2, 1]
  b.depthwise('dw 12x11 m4 unpacked', 4, [12, 11], [1, 1], { top: 4, bottom: 4, left: 5, right: 5 }); // [2, 2, 4]
  b.reshape('flatten'); // [16]
  b.fc('out', 5, []);
  return b.build('depthwise');
}

/**
 * Every conv2d followed by a max pooling the conv2d kernel fuses: a 1-channel input (the pairs
 * path) with odd conv output sizes (the last conv row and column are read by no pool window),
 * pool windows of 2x2, 1x2 and 2x1 pixels, pool clamps that narrow the conv's, odd channel
 * counts, and in_c 3 and 4.
 */
function fusedIr(): IrModel {
  const b = new HandBuilder([9, 7, 1]);
  const none = { top: 0, bottom: 0, left: 0, right: 0 };
  b.conv('k1 in_c 1', 3, [3, 3], [1, 1], { top: 1, bottom: 1, left: 1, right: 1 }, [], 70, { zeroPoint: 9 }); // [9, 7, 3]
  b.pool('max_pool2d', 'p1 2x2', [2, 2], [2, 2], none, { min: -20, max: 60 }); // [4, 3, 3]
  b.conv('k2 in_c 3', 4, [2, 2], [1, 1], { top: 0, bottom: 1, left: 0, right: 0 }, [1]); // [4, 2, 4]
  b.pool('max_pool2d', 'p2 1x2', [1, 2], [1, 2], none); // [4, 1, 4]
  b.conv('k3 in_c 4', 5, [1, 1], [1, 1], none, [0], 90); // [4, 1, 5]
  b.pool('max_pool2d', 'p3 2x1', [2, 1], [2, 1], none, { min: -128, max: 30 }); // [2, 1, 5]
  b.reshape('flatten'); // [10]
  b.fc('out', 4, []);
  return b.build('fused');
}

/**
 * A chain of spatial layers for row bands (bands.ts): odd heights (13, 7, 3), padding at every
 * border, stride 2 (a depthwise and a conv), a conv2d on 1 input channel (the pairs path, whose
 * whole-word row reads must stay inside the band), on 5 channels (gathered) and on 8, a conv fused
 * with a 2x2 max pooling over an odd conv output (its last row read by no window), depthwise with
 * depth multiplier 2, max pooling with padding and an average pooling whose last window reaches
 * into the bottom padding.
 */
function bandsIr(): IrModel {
  const b = new HandBuilder([13, 9, 1]);
  const same1 = { top: 1, bottom: 1, left: 1, right: 1 };
  const none = { top: 0, bottom: 0, left: 0, right: 0 };
  b.conv('b1 in_c 1', 8, [3, 3], [1, 1], same1, [], 70); // [13, 9, 8]
  b.depthwise('b2 dw s2', 1, [3, 3], [2, 2], same1); // [7, 5, 8]
  b.conv('b3 1x1', 5, [1, 1], [1, 1], none, [0]); // [7, 5, 5]
  b.conv('b4 in_c 5', 6, [3, 3], [1, 1], same1, [], 90); // [7, 5, 6]
  b.pool('max_pool2d', 'b5 fused 2x2', [2, 2], [2, 2], none); // [3, 2, 6], fused into b4
  b.depthwise('b6 dw m2', 2, [3, 3], [1, 1], same1); // [3, 2, 12]
  b.pool('max_pool2d', 'b7 max 3x3', [3, 3], [1, 1], same1, { min: -90, max: 100 }); // [3, 2, 12]
  b.pool('avg_pool2d', 'b8 avg 2x2', [2, 2], [1, 1], { top: 0, bottom: 1, left: 0, right: 1 }); // [3, 2, 12]
  b.conv('b9 s2', 4, [3, 3], [2, 2], { top: 1, bottom: 1, left: 1, right: 0 }, []); // [2, 1, 4]
  b.reshape('flatten'); // [8]
  b.fc('out', 3, []);
  return b.build('bands');
}

/**
 * Bands that hold fewer input rows than the kernel has: a run of a 3x3 conv with padding 1 and the
 * 1x1 conv after it, in bands of one row, gives the 3x3 conv's top and bottom bands two input rows
 * (and a row of padding): the pairs path (1 input channel), the im2col path (4 channels) and
 * depthwise.
 */
function shortBandsIr(): IrModel {
  const b = new HandBuilder([7, 6, 1]);
  const same1 = { top: 1, bottom: 1, left: 1, right: 1 };
  const none = { top: 0, bottom: 0, left: 0, right: 0 };
  b.conv('s1 in_c 1', 4, [3, 3], [1, 1], same1, [], 70); // [7, 6, 4]
  b.conv('s2 1x1', 4, [1, 1], [1, 1], none, []); // [7, 6, 4]
  b.conv('s3 in_c 4', 4, [3, 3], [1, 1], same1, []); // [7, 6, 4]
  b.conv('s4 1x1', 5, [1, 1], [1, 1], none, []); // [7, 6, 5]
  b.depthwise('s5 dw', 1, [3, 3], [1, 1], same1); // [7, 6, 5]
  b.conv('s6 1x1', 3, [1, 1], [1, 1], none, []); // [7, 6, 3]
  b.reshape('flatten');
  b.fc('out', 3, []);
  return b.build('short-bands');
}

// ---------------------------------------------------------------------------------------------
// Host build and run.

async function buildHost(lib: ReturnType<typeof generateLibrary>, label: string, extra: string[] = [], variant = 'portable'): Promise<string> {
  const dir = join(work, label);
  writeLibrary(dir, lib);
  const sources = Object.keys(lib.files).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));
  const exe = join(dir, `host_driver_${variant}`);
  await execa('gcc', [...HOST_FLAGS, ...extra, `-I${dir}`, join(FIXTURES, 'host_driver.c'), ...sources, '-o', exe]);
  return exe;
}

async function runHost(exe: string, mode: 's8' | 'u8', inputs: Uint8Array, numClasses: number): Promise<{ logits: Int8Array[]; classes: number[]; smlad: number }> {
  const inFile = `${exe}.${mode}.in`;
  const outFile = `${exe}.${mode}.out`;
  writeFileSync(inFile, inputs);
  const { stdout } = await execa(exe, [mode, inFile, outFile]);
  const smlad = Number(/smlad=(\d+)/.exec(stdout)?.[1] ?? NaN);
  const file = readFileSync(outFile);
  const raw = new Int8Array(file.buffer, file.byteOffset, file.length).slice();
  const stride = numClasses + 1;
  const logits: Int8Array[] = [];
  const classes: number[] = [];
  for (let i = 0; i + stride <= raw.length; i += stride) {
    logits.push(raw.slice(i, i + numClasses));
    classes.push(raw[i + numClasses]! & 0xff);
  }
  return { logits, classes, smlad };
}

function randomInputs(ir: IrModel, count: number, seed: number): Int8Array[] {
  const size = tensorSize(ir.tensors.find((t) => t.id === ir.input.tensor)!);
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, (_, k) => {
    const x = new Int8Array(size);
    for (let i = 0; i < size; i++) {
      // A few saturated inputs first, then uniform, then "image-like" (mostly background).
      x[i] = k === 0 ? -128 : k === 1 ? 127 : k % 3 === 0 ? (rng.next() < 0.8 ? -128 : rng.int(-128, 127)) : rng.int(-128, 127);
    }
    return x;
  });
}

function concat(arrays: (Int8Array | Uint8Array)[]): Uint8Array {
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.length), o);
    o += a.length;
  }
  return out;
}

function expectSameAsReference(ir: IrModel, inputs: Int8Array[], got: { logits: Int8Array[]; classes: number[] }, what: string): void {
  expect(got.logits.length, `${what}: outputs`).toBe(inputs.length);
  let mismatches = 0;
  let first = '';
  inputs.forEach((x, k) => {
    const ref = runReference(ir, x);
    const c = got.logits[k]!;
    const same = ref.length === c.length && ref.every((v, i) => v === c[i]);
    if (!same || got.classes[k] !== argmax(ref)) {
      mismatches++;
      first ||= `input ${k}: C [${[...c].join(', ')}] class ${got.classes[k]}, reference [${[...ref].join(', ')}] class ${argmax(ref)}`;
    }
  });
  expect(mismatches, `${what}: ${mismatches} mismatching inputs; first: ${first}`).toBe(0);
}

async function checkBitExact(ir: IrModel, label: string, count: number, opts: GenerateOptions = {}): Promise<void> {
  const lib = generateLibrary(ir, opts);
  const numClasses = ir.output.numClasses;
  const inputs = randomInputs(ir, count, 99);
  const rng = new SeededRandom(7);
  const pixels = Array.from({ length: 40 }, () => Uint8Array.from({ length: inputs[0]!.length }, () => rng.int(0, 255)));
  for (const [variant, flags] of HOST_VARIANTS) {
    const exe = await buildHost(lib, label, [...flags], variant);
    const s8 = await runHost(exe, 's8', concat(inputs), numClasses);
    expectSameAsReference(ir, inputs, s8, `${label} ${variant} model_predict`);
    // The DSP build really took the SMLAD path (every test model has conv2d and fully_connected).
    if (variant === 'dsp') expect(s8.smlad).toBeGreaterThan(0);
    else expect(s8.smlad).toBe(0);
    const u8 = await runHost(exe, 'u8', concat(pixels), numClasses);
    expectSameAsReference(ir, pixels.map((p) => pixelsToInput(ir, p)), u8, `${label} ${variant} model_predict_u8`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('generated C equals the reference interpreter bit for bit (host gcc, ASan + UBSan)', () => {
  it('hand-made IR (asymmetric windows, depth multiplier 3, positive shifts, clamps)', async () => {
    const ir = handIr();
    // The IR really exercises the left-shift path.
    const shifts = ir.ops.flatMap((op) => ('requant' in op ? [...op.requant.shift] : []));
    expect(Math.max(...shifts)).toBeGreaterThan(0);
    await checkBitExact(ir, 'hand', 400);
  });

  it('conv + max pool fusion (odd conv sizes, windows of 4, 2 and 1x2 pixels, pool clamps), and the same IR unfused', async () => {
    const ir = fusedIr();
    const fused = generateLibrary(ir, { rowBands: false });
    const unfused = generateLibrary(ir, { fusePools: false, rowBands: false });
    // Every pool is fused: no max pool kernel, a smaller arena than the layer-by-layer schedule.
    expect(fused.files['tinyforge_max_pool2d.c']).toBeUndefined();
    expect(unfused.files['tinyforge_max_pool2d.c']).toBeDefined();
    expect(fused.layerByLayerBoundBytes).toBe(unfused.arenaLowerBoundBytes);
    expect(fused.arenaBytes).toBeLessThan(unfused.arenaBytes);
    await checkBitExact(ir, 'fused', 300);
    await checkBitExact(ir, 'fused-off', 150, { fusePools: false });
  });

  it('kernel paths IR (1-channel input, odd channel and pixel counts, padding at every border, stride 2, 1x1, shifts 0 and -1)', async () => {
    const ir = kernelsIr();
    const shifts = new Set(ir.ops.flatMap((op) => ('requant' in op ? [...op.requant.shift] : [])));
    for (const s of [0, -1]) expect(shifts.has(s), `shift ${s} present`).toBe(true);
    expect([...shifts].some((s) => s > 0)).toBe(true);
    const zeroPoints = ir.ops.map((op) => ir.tensors[op.input]!.zeroPoint);
    expect(zeroPoints).toContain(127);
    expect(zeroPoints).toContain(-128);
    await checkBitExact(ir, 'kernels', 400);
  });

  it('depthwise IR (depth multipliers 4, 5, 6, 8: packed rows of one input channel, in place and gathered; four channels per input value)', async () => {
    const ir = depthwiseIr();
    // The layers take the paths they are meant to: packed weights exactly where depthwisePacked says.
    const packed = resolveLayers(ir).filter((L) => L.kind === 'depthwise_conv2d').map((L) => L.family === 'conv' && L.kernelWeights instanceof Int32Array);
    expect(packed).toEqual([true, true, true, false, false, false]);
    await checkBitExact(ir, 'depthwise', 300);
  });

  it('row bands: the planner\'s choice on the bands IR (odd heights, padding at every border, stride 2)', async () => {
    const ir = bandsIr();
    const chosen = generateLibrary(ir, { rowBands: true });
    const off = generateLibrary(ir);
    // The planner chose a run, and only because its arena is smaller.
    expect(chosen.rowBands).toBeDefined();
    expect(chosen.arenaBytes).toBeLessThan(off.arenaBytes);
    expect(chosen.unbandedArenaBytes).toBe(off.arenaBytes);
    expect(off.rowBands).toBeUndefined();
    expect(chosen.files['model.c']).toContain('model_band_rows(');
    expect(off.files['model.c']).not.toContain('model_band_rows(');
    await checkBitExact(ir, 'bands-chosen', 200);
  });

  // Forced runs (whatever their arena): the whole spatial prefix (the fused view has b1 .. b9 as
  // ops 0 .. 7) at 1 and 2 rows, a middle run from the stride-2 depthwise, one ending at the fused
  // conv, and one from the 1x1 conv to the average pooling.
  const forced: [number, number, number][] = [[0, 7, 1], [0, 7, 2], [1, 5, 1], [0, 3, 3], [2, 6, 2]];
  it('row bands holding fewer input rows than the kernel (top and bottom bands of 3x3 convs with padding): pairs, im2col and depthwise paths', async () => {
    for (const start of [0, 2, 4]) {
      await checkBitExact(shortBandsIr(), `bands-short-${start}`, 40, { rowBands: { start, end: start + 1, rows: 1 } });
    }
  });

  for (const [start, end, rows] of forced) {
    it(`row bands: ops ${start} .. ${end} of the bands IR in bands of ${rows} row(s)`, async () => {
      await checkBitExact(bandsIr(), `bands-${start}-${end}-${rows}`, 60, { rowBands: { start, end, rows } });
    });
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`randomIr(${seed})`, async () => {
      await checkBitExact(randomIr(seed), `random-${seed}`, 300);
    });
  }

  it('randomIr(11, mnist-cnn)', async () => {
    await checkBitExact(randomIr(11, { architecture: 'mnist-cnn' }), 'mnist', 200);
  });

  it('a tensor of more than 32,767 elements (24x24x64, as in the Keras CNN): only each dimension is an int16 field', async () => {
    const b = new HandBuilder([24, 24, 1]);
    const none = { top: 0, bottom: 0, left: 0, right: 0 };
    b.conv('wide', 64, [3, 3], [1, 1], { top: 1, bottom: 1, left: 1, right: 1 }, []); // [24, 24, 64]
    b.pool('max_pool2d', 'pool', [2, 2], [2, 2], none); // [12, 12, 64]
    b.reshape('flatten'); // [9216]
    b.fc('logits', 10, []);
    await checkBitExact(b.build('wide'), 'wide', 8);
  });

  it('the comparison can fail: a wrong zero point in the generated C is caught', async () => {
    const ir = randomIr(1);
    const lib = generateLibrary(ir);
    const broken = { ...lib, files: { ...lib.files } };
    // Off-by-one output zero point in the last layer's parameter block.
    const text = lib.files['model.c']!;
    const at = text.lastIndexOf('.output_offset = ');
    const m = /^\.output_offset = (-?\d+),/.exec(text.slice(at))!;
    broken.files['model.c'] = text.slice(0, at) + `.output_offset = ${Number(m[1]) + 1},` + text.slice(at + m[0].length);
    const exe = await buildHost(broken, 'broken');
    const inputs = randomInputs(ir, 20, 5);
    const got = await runHost(exe, 's8', concat(inputs), ir.output.numClasses);
    expect(() => expectSameAsReference(ir, inputs, got, 'broken')).toThrow(/mismatching/);
  });
});

describe('kernel helpers', () => {
  it('conv2d weights: OHWI rows zero-padded to 4 taps, channel pairs interleaved; bias with the input offset folded in', () => {
    const ir = kernelsIr();
    const layers = resolveLayers(ir);
    for (const L of layers) {
      if (L.family !== 'conv' && L.family !== 'fc') continue;
      const op = L.op;
      const inZp = L.input.zeroPoint;
      const channels = L.family === 'fc' ? L.outN : L.outShape.c;
      const k = op.weights.length / channels;
      for (let c = 0; c < channels; c++) {
        const row = op.weights.subarray(c * k, (c + 1) * k);
        const sum = row.reduce((a, v) => a + v, 0);
        const expectedBias = L.kind === 'depthwise_conv2d' ? op.bias[c]! : op.bias[c]! - inZp * sum;
        expect(L.kernelBias[c], `${op.name} channel ${c} bias`).toBe(expectedBias);
      }
      if (L.kind !== 'conv2d') continue;
      const w = L.kernelWeights;
      if (L.inShape.c < 4) {
        // Few input channels (below 4): each kernel row of L = kernel_w * in_c taps as pairs in SXTB16 order
        // ((4m, 4m + 2), (4m + 1, 4m + 3)), those holding a tap below L; rows of 3 taps two at a
        // time: (a0, a2), (b0, b2), (a1, b1), an odd last row (0, 2), (1, -). Packed as int16 in
        // int32, channel pairs interleaved word by word.
        const rowLen = L.kernel[1] * L.inShape.c;
        const kh = L.kernel[0];
        const expected: [number, number][] = []; // [row * rowLen + tap] or -1
        const at = (ky: number, t: number) => (t < rowLen ? ky * rowLen + t : -1);
        if (rowLen === 3) {
          for (let ky = 0; ky < kh; ky += 2) {
            if (ky + 1 < kh) expected.push([at(ky, 0), at(ky, 2)], [at(ky + 1, 0), at(ky + 1, 2)], [at(ky, 1), at(ky + 1, 1)]);
            else expected.push([at(ky, 0), at(ky, 2)], [at(ky, 1), -1]);
          }
        } else {
          for (let ky = 0; ky < kh; ky++) {
            for (let m = 0; 4 * m < rowLen; m++) {
              expected.push([at(ky, 4 * m), at(ky, 4 * m + 2)]);
              if (4 * m + 1 < rowLen) expected.push([at(ky, 4 * m + 1), at(ky, 4 * m + 3)]);
            }
          }
        }
        const pairs = expected.length;
        expect(w, op.name).toBeInstanceOf(Int32Array);
        expect(w.length, op.name).toBe(Math.ceil(channels / 2) * 2 * pairs);
        for (let c = 0; c < Math.ceil(channels / 2) * 2; c++) {
          expected.forEach(([lo, hi], i) => {
            const word = w[(c >> 1) * 2 * pairs + 2 * i + (c & 1)]!;
            const tap = (t: number) => (c < channels && t >= 0 ? op.weights[c * k + t]! : 0);
            expect((word << 16) >> 16, `${op.name} channel ${c} pair ${i} low`).toBe(tap(lo));
            expect(word >> 16, `${op.name} channel ${c} pair ${i} high`).toBe(tap(hi));
          });
        }
        continue;
      }
      const kp = Math.ceil(k / 4) * 4;
      expect(w, op.name).toBeInstanceOf(Int8Array);
      // + 4 zero bytes: the DSP loop reads the odd taps one byte further on.
      expect(w.length, op.name).toBe(Math.ceil(channels / 2) * 2 * kp + 4);
      expect([...w.subarray(w.length - 4)]).toEqual([0, 0, 0, 0]);
      for (let c = 0; c < Math.ceil(channels / 2) * 2; c++) {
        for (let t = 0; t < kp; t++) {
          // Pair c >> 1, group t >> 2: row c & 1 at +4, tap t & 3.
          const at = (c >> 1) * 2 * kp + (t >> 2) * 8 + (c & 1) * 4 + (t & 3);
          const expected = c < channels && t < k ? op.weights[c * k + t]! : 0;
          expect(w[at], `${op.name} channel ${c} tap ${t}`).toBe(expected);
        }
      }
    }
  });

  it('depthwise weights of one input channel: blocks of 4 channels, rows of 4-tap groups as int16 pairs in SXTB16 order', () => {
    const kernel = readFileSync(join(KERNELS, 'tinyforge_depthwise_conv2d.c'), 'utf8');
    expect(Number(/#define TINYFORGE_DW_WINDOW_BYTES (\d+)/.exec(kernel)?.[1])).toBe(DEPTHWISE_WINDOW_BYTES);
    expect(depthwisePacked(1, 2, 10, 8)).toBe(true);
    expect(depthwisePacked(1, 1, 3, 3)).toBe(false);
    expect(depthwisePacked(2, 4, 3, 3)).toBe(false);
    expect(depthwisePacked(1, 4, 12, 11)).toBe(false); // 12 rows of 12 taps > 128
    const layers = resolveLayers(depthwiseIr()).filter((L) => L.kind === 'depthwise_conv2d' && L.kernelWeights instanceof Int32Array);
    expect(layers.length).toBe(3);
    for (const L of layers) {
      if (L.family !== 'conv') continue;
      const [kh, kw] = L.kernel;
      const m = L.outShape.c;
      const groups = Math.ceil(kw / 4);
      const w = L.kernelWeights;
      expect(w.length, L.op.name).toBe(Math.ceil(m / 4) * kh * groups * 8);
      for (let c = 0; c < Math.ceil(m / 4) * 4; c++) {
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < groups * 4; kx++) {
            // Word ((block * kh + ky) * groups + group) * 8 + 2 * (c & 3) + (tap & 1), half tap >> 1.
            const t = kx & 3;
            const word = w[((Math.floor(c / 4) * kh + ky) * groups + (kx >> 2)) * 8 + 2 * (c & 3) + (t & 1)]!;
            const got = t >> 1 ? word >> 16 : (word << 16) >> 16;
            const expected = c < m && kx < kw ? L.op.weights[(ky * kw + kx) * m + c]! : 0;
            expect(got, `${L.op.name} channel ${c} tap (${ky}, ${kx})`).toBe(expected);
          }
        }
      }
    }
  });

  it('tinyforge_requant.h equals the reference fixed-point functions (edge cases and random), with and without a long multiply', async () => {
    const rng = new SeededRandom(31);
    const MIN = -2147483648;
    const MAX = 2147483647;
    const edge = [MIN, MIN + 1, -1073741824, -65536, -2, -1, 0, 1, 2, 65535, 1073741824, MAX - 1, MAX];
    const lines: string[] = [];
    const expected: number[] = [];
    const i32 = (): number => (rng.next() < 0.2 ? rng.pick(edge) : rng.int(MIN, MAX));
    // The second operand of SRDHM is always a multiplier, in [0, 2^31 - 1] (the IR validator's range).
    const mult = (): number => (rng.next() < 0.2 ? rng.pick([0, 1, 65535, 65536, 1073741824, MAX - 1, MAX]) : rng.int(1073741824, MAX));
    for (const a of edge) for (const b of edge.filter((v) => v >= 0)) {
      lines.push(`s ${a} ${b}`);
      expected.push(saturatingRoundingDoublingHighMul(a, b));
    }
    for (let k = 0; k < 3000; k++) {
      const a = i32();
      const b = mult();
      lines.push(`s ${a} ${b}`);
      expected.push(saturatingRoundingDoublingHighMul(a, b));
    }
    for (let e = 0; e <= 31; e++) {
      for (let k = 0; k < 60; k++) {
        // Exact ties (x = (2j + 1) * 2^(e - 1)) and random values.
        const x = k < 20 && e > 0 ? Math.max(MIN, Math.min(MAX, (rng.int(-1000, 1000) * 2 + 1) * 2 ** (e - 1))) : i32();
        lines.push(`r ${x} ${e}`);
        expected.push(roundingDivideByPOT(x, e));
      }
    }
    // Keep x * 2^shift inside int32 (the generator guarantees it for real layers).
    const scaled = (shift: number): number => {
      const limit = shift > 0 ? Math.floor(MAX / 2 ** shift) : MAX;
      return rng.next() < 0.1 ? rng.pick([-limit, limit, 0, 1, -1, -(2 ** 30), 2 ** 30]) : rng.int(-limit, limit);
    };
    for (let k = 0; k < 6000; k++) {
      // Every right shift often (the fused rounding), left shifts and 0 too.
      const shift = k < 3100 ? -(k % 31) - 1 : rng.int(-31, 30);
      const m = mult();
      const x = scaled(shift);
      lines.push(`m ${x} ${m} ${shift}`);
      expected.push(multiplyByQuantizedMultiplier(x, m, shift));
    }
    // Ties of the final rounding: with m = 2^30, SRDHM(x, m) = x / 2 for an even x, so
    // x = (2j + 1) * 2^e gives exactly (2j + 1) * 2^(e - 1), half-way between two multiples of 2^e.
    for (let e = 1; e <= 17; e++) {
      for (let k = 0; k < 20; k++) {
        const x = (rng.int(-5000, 5000) * 2 + 1) * 2 ** e;
        lines.push(`m ${x} 1073741824 ${-e}`);
        expected.push(multiplyByQuantizedMultiplier(x, 1073741824, -e));
      }
    }
    for (let k = 0; k < 3000; k++) {
      const shift = rng.int(-31, 30);
      const m = mult();
      const [a, b] = [scaled(shift), scaled(shift)];
      const min = rng.int(-128, 127);
      const max = rng.int(min, 127);
      const offset = rng.int(-128, 127);
      const q = (acc: number): number => Math.min(max, Math.max(min, multiplyByQuantizedMultiplier(acc, m, shift) + offset));
      lines.push(`q ${a} ${m} ${shift} ${offset} ${min} ${max}`);
      expected.push(q(a));
      lines.push(`p ${a} ${b} ${m} ${shift} ${offset} ${min} ${max}`);
      expected.push(q(a), q(b));
    }
    for (const [variant, flags] of [['long', []], ['mul32', NO_LONG_MULTIPLY]] as const) {
      const exe = join(work, `requant_${variant}`);
      await execa('gcc', [...HOST_FLAGS, ...flags, `-I${KERNELS}`, join(FIXTURES, 'requant_driver.c'), '-o', exe]);
      const { stdout } = await execa(exe, { input: lines.join('\n') + '\n' });
      const got = stdout.trim().split(/\s+/).map(Number);
      expect(got.length, variant).toBe(expected.length);
      const bad = got.findIndex((v, i) => v !== expected[i]);
      expect(bad, bad >= 0 ? `${variant}: result ${bad}: C ${got[bad]}, reference ${expected[bad]}` : '').toBe(-1);
    }
  });
});

describe('cross-compilation with arm-none-eabi-gcc', () => {
  const targets: [string, string[], boolean][] = [
    ['cortex-m0', ['-mcpu=cortex-m0'], false],
    ['cortex-m3', ['-mcpu=cortex-m3'], false],
    ['cortex-m4', ['-mcpu=cortex-m4', '-mfpu=fpv4-sp-d16', '-mfloat-abi=hard'], true],
    ['cortex-m4-portable', ['-mcpu=cortex-m4', '-mfpu=fpv4-sp-d16', '-mfloat-abi=hard', '-DTINYFORGE_PORTABLE'], false],
  ];

  async function crossCompile(lib: ReturnType<typeof generateLibrary>, label: string, flags: string[]): Promise<string> {
    const dir = join(work, label);
    writeLibrary(dir, lib);
    const objects: string[] = [];
    for (const f of Object.keys(lib.files).filter((n) => n.endsWith('.c'))) {
      const obj = join(dir, f.replace(/\.c$/, '.o'));
      await execa('arm-none-eabi-gcc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-mthumb', '-Os', ...flags, `-I${dir}`, '-c', join(dir, f), '-o', obj]);
      objects.push(obj);
    }
    return dir;
  }

  it('builds every kernel for M0, M3 (portable only) and M4 (DSP path), -Wall -Wextra -Werror', async () => {
    const lib = generateLibrary(randomIr(2));
    expect(Object.keys(lib.files)).toContain('tinyforge_depthwise_conv2d.c');
    for (const [name, flags, dsp] of targets) {
      const dir = await crossCompile(lib, `arm-${name}`, flags);
      for (const kernel of ['tinyforge_conv2d', 'tinyforge_fully_connected']) {
        const { stdout } = await execa('arm-none-eabi-objdump', ['-d', join(dir, `${kernel}.o`)]);
        expect(/\bsmlad\b/.test(stdout), `${name}: SMLAD in ${kernel}.o`).toBe(dsp);
        expect(/\bsxtb16\b/.test(stdout), `${name}: SXTB16 in ${kernel}.o`).toBe(dsp);
      }
      const { stdout: pool } = await execa('arm-none-eabi-objdump', ['-d', join(dir, 'tinyforge_max_pool2d.o')]);
      expect(/\bssub8\b/.test(pool) && /\bsel\b/.test(pool), `${name}: SSUB8/SEL in tinyforge_max_pool2d.o`).toBe(dsp);
    }
  });

  it('runtime code (everything but model_weights.o) of the MNIST CNN is under 6 KB at -Os on Cortex-M4', async () => {
    const lib = generateLibrary(randomIr(1, { architecture: 'mnist-cnn' }));
    const dir = await crossCompile(lib, 'size-m4', targets[2]![1]);
    const objects = readdirSync(dir).filter((f) => f.endsWith('.o'));
    const { stdout } = await execa('arm-none-eabi-size', objects.map((o) => join(dir, o)));
    const rows = stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    let runtime = 0;
    let weights = 0;
    for (const r of rows) {
      const text = Number(r[0]);
      const data = Number(r[1]);
      if (r[5]!.endsWith('model_weights.o')) weights += text + data;
      else runtime += text + data;
      if (r[5]!.endsWith('model.o')) expect(Number(r[2]), 'arena in .bss').toBe(lib.arenaBytes);
    }
    expect(weights).toBe(lib.weightsBytes);
    expect(runtime).toBeLessThan(6 * 1024);
    console.log(`codegen: MNIST CNN runtime code ${runtime} bytes, weights ${weights} bytes (cortex-m4, -Os, objects before linking)`);
  });
});

describe('on target in QEMU: real SXTB16/SMLAD/SSUB8/SEL (Cortex-M4) and portable (Cortex-M3, Cortex-M0 code) equal the reference', () => {
  // Cortex-M0 code (ARMv6-M: no long multiply, so the 16-bit-halves product) runs on the
  // Cortex-M3 machine, which executes every ARMv6-M instruction.
  const machines: [string, string, string[], boolean][] = [
    ['mps2-an386', 'cortex-m4', ['-mcpu=cortex-m4', '-mfpu=fpv4-sp-d16', '-mfloat-abi=hard'], true],
    ['mps2-an385', 'cortex-m3', ['-mcpu=cortex-m3'], false],
    ['mps2-an385', 'cortex-m0', ['-mcpu=cortex-m0'], false],
  ];
  for (const [machine, cpu, flags, dsp] of machines) {
    it(`${machine} (${cpu}${dsp ? ', DSP path' : ''})`, async () => {
      const cases: [string, IrModel, number, GenerateOptions][] = [
        ['hand', handIr(), 150, {}],
        ['fused', fusedIr(), 100, {}],
        ['fused-off', fusedIr(), 60, { fusePools: false }],
        ['kernels', kernelsIr(), 150, {}],
        ['depthwise', depthwiseIr(), 100, {}],
        ['mnist', randomIr(11, { architecture: 'mnist-cnn' }), 40, {}],
        ['bands', bandsIr(), 60, { rowBands: true }],
        ['bands-prefix', bandsIr(), 40, { rowBands: { start: 0, end: 7, rows: 2 } }],
        ['bands-short', shortBandsIr(), 30, { rowBands: { start: 0, end: 1, rows: 1 } }],
      ];
      for (const [label, ir, count, opts] of cases) {
        const lib = generateLibrary(ir, opts);
        const dir = join(work, `qemu-${cpu}-${label}`);
        writeLibrary(dir, lib);
        const elf = join(dir, 'model.elf');
        const sources = Object.keys(lib.files).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));
        await execa('arm-none-eabi-gcc', [
          '-std=c99', '-Wall', '-Wextra', '-Werror', '-O2', '-mthumb', ...flags, `-I${dir}`,
          '--specs=rdimon.specs', '-T', join(FIXTURES, 'qemu/link.ld'), '-Wl,--no-warn-rwx-segments',
          join(FIXTURES, 'qemu/startup.c'), join(FIXTURES, 'host_driver.c'), ...sources, '-o', elf,
        ]);
        const { stdout: disassembly } = await execa('arm-none-eabi-objdump', ['-d', elf]);
        expect(disassembly).toContain('<tinyforge_conv2d>:');
        // The model's functions (one block per symbol in objdump's output).
        const model = disassembly.split(/\n\n/).filter((block) => /^[0-9a-f]+ <(tinyforge|model)_\w*(\.\w+)*>:/m.test(block)).join('\n');
        expect(/\bsmlad\b/.test(model), `${cpu}: SMLAD in the model's code`).toBe(dsp);
        if ('tinyforge_max_pool2d.c' in lib.files) expect(/\bssub8\b/.test(model), `${cpu}: SSUB8 in the model's code`).toBe(dsp);
        if (ir.ops.some((op) => op.kind === 'depthwise_conv2d' && op.depthMultiplier === 1)) {
          expect(/\bsmlabb\b/.test(model) && /\bsxtab16\b/.test(model), `${cpu}: depthwise SMLABB/SXTAB16 in the model's code`).toBe(dsp);
        }
        if (label === 'depthwise') {
          // Depth multipliers > 1: the packed rows (SMLAD) and the four channels per input value (SMLATB).
          const fn = (name: string) => model.split(/\n(?=[0-9a-f]+ <)/).find((block) => block.trim().includes(`<${name}>:`)) ?? '';
          expect(fn('tinyforge_dw_rows_4'), `${cpu}: tinyforge_dw_rows_4`).not.toBe('');
          expect(/\bsmlad\b/.test(fn('tinyforge_dw_rows_4')), `${cpu}: SMLAD in tinyforge_dw_rows_4`).toBe(dsp);
          expect(/\bsmlatb\b/.test(fn('tinyforge_dw_fan_4')), `${cpu}: SMLATB in tinyforge_dw_fan_4`).toBe(dsp);
        }
        // No libgcc 64-bit multiply on any core: the requantization forms its products inline.
        expect(model, `${cpu}: call of __muldi3`).not.toMatch(/\bbl\s+[0-9a-f]+ <__(muldi3|aeabi_lmul)>/);
        // Nor a libgcc division in the convolutions (Cortex-M0 has no divide instruction).
        const convolutions = model.split(/\n(?=[0-9a-f]+ <)/).filter((block) => /^[0-9a-f]+ <tinyforge_(conv2d|depthwise_conv2d|dw)\w*>:/.test(block.trim()));
        expect(convolutions.length).toBeGreaterThan(0);
        expect(convolutions.join('\n'), `${cpu}: division call in a convolution`).not.toMatch(/\bbl\s+[0-9a-f]+ <__(aeabi_idiv|divsi3)\w*>/);
        const inputs = randomInputs(ir, count, 4242);
        const inFile = join(dir, 'inputs.bin');
        const outFile = join(dir, 'outputs.bin');
        writeFileSync(inFile, concat(inputs));
        const run = await execa(
          'qemu-system-arm',
          ['-M', machine, '-nographic', '-monitor', 'none', '-semihosting-config', 'enable=on,target=native', '-kernel', elf, '-append', `s8 ${inFile} ${outFile}`],
          { timeout: 120_000, reject: false },
        );
        expect(run.exitCode, `${cpu} ${label}: ${run.stdout} ${run.stderr}`).toBe(0);
        expect(run.stdout).toContain(`${count} inputs`);
        const file = readFileSync(outFile);
        const raw = new Int8Array(file.buffer, file.byteOffset, file.length);
        const n = ir.output.numClasses;
        const got = {
          logits: inputs.map((_, k) => raw.slice(k * (n + 1), k * (n + 1) + n)),
          classes: inputs.map((_, k) => raw[k * (n + 1) + n]! & 0xff),
        };
        expectSameAsReference(ir, inputs, got, `${cpu} ${label}`);
      }
    });
  }
});

describe('generated sources', () => {
  it('have the fixed API, constants matching the IR, and only the kernels the model uses', () => {
    const ir = randomIr(4, { architecture: 'mnist-cnn' });
    const lib = generateLibrary(ir);
    const names = Object.keys(lib.files).sort();
    expect(names).toEqual(
      [
        'README.md', 'model.c', 'model.h', 'model_weights.c', 'model_weights.h',
        'tinyforge_avg_pool2d.c', 'tinyforge_conv2d.c', 'tinyforge_dsp.h', 'tinyforge_fully_connected.c',
        'tinyforge_kernels.h', 'tinyforge_requant.h',
      ].sort(),
    );
    // Every max pooling follows a conv2d and is fused into it: no max pool kernel. Without fusion it is there.
    expect(Object.keys(generateLibrary(ir, { fusePools: false }).files)).toContain('tinyforge_max_pool2d.c');
    const h = lib.files['model.h']!;
    const define = (name: string): string => new RegExp(`#define ${name}\\s+(.+)`).exec(h)?.[1]?.trim() ?? '';
    expect(define('MODEL_INPUT_HEIGHT')).toBe('28');
    expect(define('MODEL_INPUT_WIDTH')).toBe('28');
    expect(define('MODEL_INPUT_CHANNELS')).toBe('1');
    expect(define('MODEL_INPUT_SIZE')).toBe('784');
    expect(define('MODEL_NUM_CLASSES')).toBe('10');
    expect(define('MODEL_INPUT_ZERO_POINT')).toBe('(-128)');
    expect(define('MODEL_ARENA_SIZE')).toBe(String(lib.arenaBytes));
    expect(define('MODEL_MACS')).toBe(`${lib.macs}UL`);
    expect(h).toContain('int model_predict(const int8_t *input, int8_t *logits);');
    expect(h).toContain('int model_predict_u8(const uint8_t *pixels, int8_t *logits);');
    // MACs: 3x3 'same' convolutions count only taps inside the input.
    const taps = (n: number) => 3 * n - 2; // valid taps along one axis of a 3-wide 'same' window
    const conv = (hw: number, cin: number, cout: number) => taps(hw) ** 2 * cin * cout;
    expect(lib.macs).toBe(conv(28, 1, 8) + conv(14, 8, 16) + conv(7, 16, 32) + 32 * 10);
    // Weights: conv2d with in_c >= 4: int8 rows padded to whole groups of 4 taps, + 4 bytes;
    // with 1 input channel: int16 pairs of taps (3x3x1 -> 5 pairs, 20 bytes); + 3 int32 arrays per layer.
    const counts = ir.ops.flatMap((op) => {
      if (!('weights' in op)) return [];
      const k = op.weights.length / op.bias.length;
      const rows = Math.ceil(op.bias.length / 2) * 2;
      const kernelWeights =
        op.kind !== 'conv2d' ? op.weights.length : k !== 9 ? rows * Math.ceil(k / 4) * 4 + 4 : rows * 5 * 4;
      return [kernelWeights + 12 * op.bias.length];
    });
    expect(lib.weightsBytes).toBe(counts.reduce((a, b) => a + b, 0));
    // One kernel call per layer that computes something.
    const calls = lib.files['model.c']!.match(/^\s+tinyforge_\w+\(&model_\w+_params, &model_arena\[\d+\], &model_arena\[\d+\]\);$/gm) ?? [];
    expect(calls.length).toBe(ir.ops.filter((op) => op.kind !== 'reshape' && op.kind !== 'max_pool2d').length);
    // Exactly one static arena, declared as int32 words (4-byte aligned, valid for int32 scratch).
    expect(lib.files['model.c']!.match(/static (int8_t|int16_t|int32_t|uint8_t) \w+\[/g)).toEqual(['static int32_t model_arena_words[']);
    expect(lib.files['model.c']).toContain('static int32_t model_arena_words[MODEL_ARENA_SIZE / 4];');
    expect(lib.arenaBytes % 4).toBe(0);
    // Each conv2d's scratch is the planned one, inside the arena.
    const scratch = [...lib.files['model.c']!.matchAll(/\.im2col = &model_arena\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(scratch.length).toBe(ir.ops.filter((op) => op.kind === 'conv2d').length);
    for (const off of scratch) expect(off % 4).toBe(0);
  });

  it('contain no float, no malloc, and include only <stdint.h>, <string.h> (and <arm_acle.h> on the DSP path)', () => {
    const lib = generateLibrary(handIr());
    for (const [name, text] of Object.entries(lib.files)) {
      if (!/\.[ch]$/.test(name)) continue;
      // The optional float I/O helpers (declared in model.h, last in model.c) are the one exception.
      const code = text.replace(/\/\*[^]*?\*\//g, '').replace(/\/\/.*$/gm, '')
        .replace(/^void model_(de)?quantize_\w+\(const (float|int8_t) \*\w+, (int8_t|float) \*\w+\);$/gm, '')
        .replace(/^void model_quantize_input\(const float \*values, int8_t \*input\)\n\{[^]*$/m, '');
      expect(code, name).not.toMatch(/\b(float|double|malloc|calloc|free|printf)\b/);
      for (const m of code.matchAll(/#include\s+([<"][^>"]+[>"])/g)) {
        const inc = m[1]!;
        if (inc.startsWith('"')) expect(Object.keys(lib.files), `${name} includes ${inc}`).toContain(inc.slice(1, -1));
        else expect(['<stdint.h>', '<string.h>', ...(name === 'tinyforge_dsp.h' ? ['<arm_acle.h>'] : [])], `${name} includes ${inc}`).toContain(inc);
      }
    }
    // <arm_acle.h> only behind the DSP feature test.
    const dsp = lib.files['tinyforge_dsp.h']!;
    const guard = dsp.indexOf('#if defined(__ARM_FEATURE_DSP)');
    expect(guard).toBeGreaterThan(0);
    expect(dsp.indexOf('#include <arm_acle.h>')).toBeGreaterThan(guard);
    expect(dsp).toContain('!defined(TINYFORGE_PORTABLE)');
    // Kernels use intrinsics only where tinyforge_dsp.h has selected the DSP path.
    for (const [name, text] of Object.entries(lib.files)) {
      if (!name.endsWith('.c')) continue;
      const code = text.replace(/\/\*[^]*?\*\//g, '');
      const lines = code.split('\n');
      let depth = 0;
      let inDsp = 0;
      for (const line of lines) {
        if (/^#if/.test(line)) {
          depth++;
          if (line.includes('TINYFORGE_DSP')) inDsp = depth;
        } else if (/^#else/.test(line) && inDsp === depth) inDsp = -depth;
        else if (/^#endif/.test(line)) {
          if (Math.abs(inDsp) === depth) inDsp = 0;
          depth--;
        }
        if (/__(smlad|sxtb16|sxtab16|ssub8|sel)\(/.test(line)) expect(inDsp, `${name}: ${line.trim()} outside #if defined(TINYFORGE_DSP)`).toBeGreaterThan(0);
      }
    }
  });

  it('format weights 16 per line, const, named model_<layer>_*', () => {
    const lib = generateLibrary(handIr());
    const w = lib.files['model_weights.c']!;
    // conv 1: 5 channels (one zero row added) x 3*2*4 = 24 taps, + 4 zero bytes.
    expect(w).toMatch(/^const int8_t model_conv_1_weights\[148\] = \{$/m);
    expect(w).toMatch(/^const int32_t model_fc1_bias\[13\] = \{$/m);
    expect(w).toMatch(/^const int32_t model_l1x1_shift\[6\] = \{$/m);
    const body = /model_conv_1_weights\[148\] = \{\n([^}]*)\};/.exec(w)![1]!.trim().split('\n');
    expect(body.length).toBe(Math.ceil(148 / 16));
    expect(body[0]!.split(',').filter((s) => s.trim() !== '').length).toBe(16);
    expect(lib.files['model_weights.h']).toContain('extern const int8_t model_conv_1_weights[148];');
  });

  it('are deterministic', () => {
    expect(generateLibrary(randomIr(3)).files).toEqual(generateLibrary(randomIr(3)).files);
  });
});

describe('errors and file handling', () => {
  it('refuses an IR whose int32 accumulator could overflow', () => {
    const ir = randomIr(1, { architecture: 'mnist-cnn' });
    const fc = ir.ops.find((op) => op.kind === 'fully_connected')!;
    if (fc.kind !== 'fully_connected') throw new Error('unreachable');
    fc.bias[3] = 2147480000;
    expect(() => generateLibrary(ir)).toThrow(UserError);
    expect(() => generateLibrary(ir)).toThrow(/logits.*channel 3.*overflow/);
  });

  it('refuses an IR whose accumulator could overflow only with the input offset folded into the bias', () => {
    // Weights all 1 and an input zero point zp <= 0: the plain bound |bias| + xMax * n (xMax =
    // 127 - zp) is exactly INT32_MAX, but the folded bias is bias - zp * n and its partial sums can
    // reach it + 128 * n = bias + (xMax + 1) * n.
    const ir = randomIr(1, { architecture: 'mnist-cnn' });
    const fc = ir.ops.find((op) => op.kind === 'fully_connected')!;
    if (fc.kind !== 'fully_connected') throw new Error('unreachable');
    const n = fc.weights.length / fc.bias.length;
    const zp = ir.tensors.find((t) => t.id === fc.input)!.zeroPoint;
    expect(zp).toBeLessThanOrEqual(0);
    fc.weights.fill(1, 0, n);
    expect(fc.requant.shift[0]).toBeLessThanOrEqual(0);
    fc.bias[0] = 2147483647 - (127 - zp) * n;
    expect(() => generateLibrary(ir)).toThrow(/logits.*channel 0.*folded/);
    fc.bias[0] -= 1 * n; // now the folded partial sums fit too
    expect(() => generateLibrary(ir)).not.toThrow();
  });

  it('refuses a fully connected layer whose size does not fit its int16 field, naming it', () => {
    const b = new HandBuilder([24, 24, 1]);
    b.conv('wide', 64, [1, 1], [1, 1], { top: 0, bottom: 0, left: 0, right: 0 }, []); // [24, 24, 64]: allowed
    b.reshape('flatten'); // [36864]: allowed
    b.fc('huge', 2, []); // in_n = 36864: not
    expect(() => generateLibrary(b.build('huge'))).toThrow(/op 2 'huge' \(fully_connected\): in_n = 36864 is too large for its int16 field \(at most 32767\)/);
  });

  it('refuses an IR that fails validation', () => {
    const ir = randomIr(2);
    ir.tensors[1]!.shape = [1, 2, 3];
    expect(() => generateLibrary(ir)).toThrow(UserError);
  });

  it('writeLibrary replaces a previous generation and removes only its own stale files', () => {
    const dir = join(work, 'rewrite');
    writeLibrary(dir, generateLibrary(randomIr(1)));
    expect(existsSync(join(dir, 'tinyforge_depthwise_conv2d.c'))).toBe(true);
    writeFileSync(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
    // A kernel file earlier versions generated (and no longer exists) is removed too.
    writeFileSync(join(dir, 'tinyforge_dot.c'), '/* old */\n');
    const mnist = generateLibrary(randomIr(1, { architecture: 'mnist-cnn' }));
    writeLibrary(dir, mnist);
    const present = readdirSync(dir).sort();
    expect(present).toEqual([...Object.keys(mnist.files), 'main.c', '.tinyforge-files'].sort());
    expect(readFileSync(join(dir, 'model.c'), 'utf8')).toBe(mnist.files['model.c']);
  });
});
