// Random but valid IRs for tests: the same seed always gives the same model (own seeded PRNG,
// no Math.random), so a failing seed can be replayed. Used to check the reference interpreter
// against naive kernels, the JSON round trip, and generated C against the interpreter.
//
//   randomIr(seed)                              every op kind on a small random input:
//     [H,W,C] -> conv2d (random kernel/stride/'same'|'valid') -> depthwise_conv2d (M = 1|2)
//     -> max_pool2d -> conv2d 1x1 -> avg_pool2d (global, or 3x3/2 'same' with partial windows)
//     -> reshape (flatten) -> fully_connected -> logits
//   randomIr(seed, { architecture: 'mnist-cnn' })   the small MNIST CNN:
//     28x28x1 -> conv 3x3x8 same -> maxpool 2 -> conv 3x3x16 same -> maxpool 2
//     -> conv 3x3x32 same -> global avgpool -> reshape -> fc 10
//
// Scales and zero points are random but plausible: real requantization multipliers in (0, 1),
// chosen so that outputs spread over a few tens of int8 steps instead of all saturating.
import { Rng } from '../../src/util/random.js';
import { quantizeMultiplier } from '../../src/quantize/multiplier.js';
import {
  IR_VERSION,
  tensorSize,
  type Clamp,
  type IrModel,
  type IrOp,
  type IrTensor,
  type Padding,
  type Requant,
} from '../../src/ir/types.js';

export interface RandomIrOptions {
  /** 'mixed' (default): every op kind; 'mnist-cnn': the 28x28x1 CNN described above. */
  architecture?: 'mixed' | 'mnist-cnn';
  /** Input [H, W, C] for 'mixed' (default: random, H and W in 7..12, C in 1..3). */
  inputShape?: [number, number, number];
  /** Number of logits (default 10). */
  numClasses?: number;
}

/** The project's seeded PRNG (src/util/random.ts) with the inclusive-range helpers tests want. */
export class SeededRandom {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.rng.next();
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
}

type PaddingMode = 'same' | 'valid';
type Activation = 'none' | 'relu' | 'relu6';

/**
 * TF's 'same'/'valid' resolved into explicit padding for one axis. 'valid' on an input smaller
 * than the window falls back to 'same' so that random chains never shrink below 1.
 */
function resolvePadding(inSize: number, window: number, stride: number, mode: PaddingMode): [number, number] {
  if (mode === 'valid' && inSize >= window) return [0, 0];
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + window - inSize, 0);
  // TF puts the odd extra padding at the end (bottom/right).
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function outSize(inSize: number, window: number, stride: number, before: number, after: number): number {
  return Math.floor((inSize + before + after - window) / stride) + 1;
}

/** Builds a chain op by op, keeping track of the current tensor. */
class ChainBuilder {
  readonly tensors: IrTensor[] = [];
  readonly ops: IrOp[] = [];
  current: IrTensor;

  constructor(
    private readonly rng: SeededRandom,
    inputShape: number[],
  ) {
    this.current = this.addTensor('input', inputShape, 1 / 255, -128);
  }

  private addTensor(name: string, shape: number[], scale: number, zeroPoint: number): IrTensor {
    const t: IrTensor = { id: this.tensors.length, name, shape, scale, zeroPoint };
    this.tensors.push(t);
    return t;
  }

  /** A new activation tensor with a random scale and zero point, and the clamp of `activation`. */
  private addActivation(name: string, shape: number[], activation: Activation): { tensor: IrTensor; clamp: Clamp } {
    const scale = this.rng.uniform(0.02, 0.2);
    const zeroPoint = activation === 'none' ? this.rng.int(-40, 40) : this.rng.pick([-128, -128, this.rng.int(-128, 0)]);
    const tensor = this.addTensor(name, shape, scale, zeroPoint);
    const min = activation === 'none' ? -128 : Math.max(-128, zeroPoint);
    const max = activation === 'relu6' ? Math.min(127, zeroPoint + Math.round(6 / scale)) : 127;
    return { tensor, clamp: { min, max } };
  }

  private randomWeights(count: number): Int8Array {
    const w = new Int8Array(count);
    for (let i = 0; i < count; i++) w[i] = this.rng.int(-127, 127);
    return w;
  }

  /**
   * Per-channel weight scales and the requantization they imply. The real multiplier
   * inputScale * weightScale / outputScale is drawn so that a typical accumulator (about
   * sqrt(K) * 70 * 70 for K taps of random int8 values) maps onto a few tens of output steps.
   */
  private requantFor(input: IrTensor, output: IrTensor, channels: number, taps: number): { requant: Requant; bias: Int32Array } {
    const requant: Requant = {
      multiplier: new Int32Array(channels),
      shift: new Int32Array(channels),
      weightScale: new Float64Array(channels),
    };
    const bias = new Int32Array(channels);
    const typicalAcc = Math.sqrt(taps) * 70 * 70;
    for (let c = 0; c < channels; c++) {
      const target = Math.min(0.95, (this.rng.uniform(0.3, 3) * 40) / typicalAcc);
      requant.weightScale[c] = (target * output.scale) / input.scale;
      const real = (input.scale * requant.weightScale[c]) / output.scale;
      const { multiplier, shift } = quantizeMultiplier(real);
      requant.multiplier[c] = multiplier;
      requant.shift[c] = shift;
      // A bias that moves the output by up to about +-30 steps.
      const reach = Math.round(30 / real);
      bias[c] = this.rng.int(-reach, reach);
    }
    return { requant, bias };
  }

  conv2d(name: string, outC: number, kernel: [number, number], stride: [number, number], mode: PaddingMode, activation: Activation): void {
    const input = this.current;
    const [inH, inW, inC] = input.shape;
    const padding = this.padding(input, kernel, stride, mode);
    const shape = [outSize(inH, kernel[0], stride[0], padding.top, padding.bottom), outSize(inW, kernel[1], stride[1], padding.left, padding.right), outC];
    const { tensor, clamp } = this.addActivation(name, shape, activation);
    const taps = kernel[0] * kernel[1] * inC;
    const { requant, bias } = this.requantFor(input, tensor, outC, taps);
    this.ops.push({
      kind: 'conv2d', name, input: input.id, output: tensor.id, kernel, stride, padding,
      weights: this.randomWeights(outC * taps), bias, requant, clamp,
    });
    this.current = tensor;
  }

  depthwise(name: string, depthMultiplier: number, kernel: [number, number], stride: [number, number], mode: PaddingMode, activation: Activation): void {
    const input = this.current;
    const [inH, inW, inC] = input.shape;
    const outC = inC * depthMultiplier;
    const padding = this.padding(input, kernel, stride, mode);
    const shape = [outSize(inH, kernel[0], stride[0], padding.top, padding.bottom), outSize(inW, kernel[1], stride[1], padding.left, padding.right), outC];
    const { tensor, clamp } = this.addActivation(name, shape, activation);
    const { requant, bias } = this.requantFor(input, tensor, outC, kernel[0] * kernel[1]);
    this.ops.push({
      kind: 'depthwise_conv2d', name, input: input.id, output: tensor.id, kernel, stride, padding, depthMultiplier,
      weights: this.randomWeights(kernel[0] * kernel[1] * outC), bias, requant, clamp,
    });
    this.current = tensor;
  }

  pool(kind: 'max_pool2d' | 'avg_pool2d', name: string, pool: [number, number], stride: [number, number], mode: PaddingMode): void {
    const input = this.current;
    const [inH, inW, inC] = input.shape;
    const padding = this.padding(input, pool, stride, mode);
    const shape = [outSize(inH, pool[0], stride[0], padding.top, padding.bottom), outSize(inW, pool[1], stride[1], padding.left, padding.right), inC];
    // Pools keep the input's quantization.
    const tensor = this.addTensor(name, shape, input.scale, input.zeroPoint);
    this.ops.push({ kind, name, input: input.id, output: tensor.id, pool, stride, padding, clamp: { min: -128, max: 127 } });
    this.current = tensor;
  }

  reshape(name: string): void {
    const input = this.current;
    const tensor = this.addTensor(name, [tensorSize(input)], input.scale, input.zeroPoint);
    this.ops.push({ kind: 'reshape', name, input: input.id, output: tensor.id });
    this.current = tensor;
  }

  fullyConnected(name: string, units: number, activation: Activation): void {
    const input = this.current;
    const inUnits = tensorSize(input);
    const { tensor, clamp } = this.addActivation(name, [units], activation);
    const { requant, bias } = this.requantFor(input, tensor, units, inUnits);
    this.ops.push({
      kind: 'fully_connected', name, input: input.id, output: tensor.id,
      weights: this.randomWeights(units * inUnits), bias, requant, clamp,
    });
    this.current = tensor;
  }

  private padding(input: IrTensor, window: [number, number], stride: [number, number], mode: PaddingMode): Padding {
    const [top, bottom] = resolvePadding(input.shape[0], window[0], stride[0], mode);
    const [left, right] = resolvePadding(input.shape[1], window[1], stride[1], mode);
    return { top, left, bottom, right };
  }
}

/** A small random but valid IR (see the file comment); deterministic in `seed`. */
export function randomIr(seed: number, opts: RandomIrOptions = {}): IrModel {
  const rng = new SeededRandom(seed);
  const architecture = opts.architecture ?? 'mixed';
  const numClasses = opts.numClasses ?? 10;
  let b: ChainBuilder;
  if (architecture === 'mnist-cnn') {
    b = new ChainBuilder(rng, [28, 28, 1]);
    b.conv2d('conv1', 8, [3, 3], [1, 1], 'same', 'relu');
    b.pool('max_pool2d', 'pool1', [2, 2], [2, 2], 'valid');
    b.conv2d('conv2', 16, [3, 3], [1, 1], 'same', 'relu');
    b.pool('max_pool2d', 'pool2', [2, 2], [2, 2], 'valid');
    b.conv2d('conv3', 32, [3, 3], [1, 1], 'same', 'relu');
    const [h, w] = b.current.shape;
    b.pool('avg_pool2d', 'gap', [h, w], [h, w], 'valid');
    b.reshape('flatten');
    b.fullyConnected('logits', numClasses, 'none');
  } else {
    const inputShape = opts.inputShape ?? [rng.int(7, 12), rng.int(7, 12), rng.int(1, 3)];
    const activations: Activation[] = ['none', 'relu', 'relu6'];
    const modes: PaddingMode[] = ['same', 'valid'];
    b = new ChainBuilder(rng, [...inputShape]);
    b.conv2d('conv1', rng.int(2, 6), [rng.int(1, 3), rng.int(1, 3)], [rng.int(1, 2), rng.int(1, 2)], rng.pick(modes), rng.pick(activations));
    b.depthwise('dwconv', rng.int(1, 2), [rng.int(2, 3), 3], [rng.int(1, 2), rng.int(1, 2)], rng.pick(modes), rng.pick(activations));
    const p = rng.int(2, 3);
    b.pool('max_pool2d', 'maxpool', [p, p], [rng.int(1, 2), rng.int(1, 2)], rng.pick(modes));
    b.conv2d('pointwise', rng.int(3, 8), [1, 1], [1, 1], 'valid', rng.pick(activations));
    if (rng.next() < 0.5) {
      const [h, w] = b.current.shape;
      b.pool('avg_pool2d', 'gap', [h, w], [h, w], 'valid');
    } else {
      // Windows overlapping the padding: the divisor must count only the positions inside.
      b.pool('avg_pool2d', 'avgpool', [3, 3], [2, 2], 'same');
    }
    b.reshape('flatten');
    b.fullyConnected('logits', numClasses, 'none');
  }
  return {
    irVersion: IR_VERSION,
    name: `random-${architecture}-${seed}`,
    tensors: b.tensors,
    ops: b.ops,
    input: { tensor: 0, pixelOffset: -128 },
    output: { tensor: b.current.id, numClasses },
    metadata: {
      configName: `random-${seed}`,
      configHash: `seed-${seed}`,
      dataset: 'random',
      architecture,
      calibration: { method: 'random', samples: 0 },
      createdAt: '2000-01-01T00:00:00.000Z',
      tinyforgeVersion: '0.0.0-test',
    },
  };
}

/** A random int8 input for `ir` (all of -128..127), deterministic in `seed`. */
export function randomInput(ir: IrModel, seed: number): Int8Array {
  const rng = new SeededRandom(seed);
  const input = ir.tensors.find((t) => t.id === ir.input.tensor)!;
  const data = new Int8Array(tensorSize(input));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(-128, 127);
  return data;
}
