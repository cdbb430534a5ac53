// Checks made before `run` trains (minutes to hours): the tools the later stages need, and whether
// the model can fit the board at all. Both used to surface only after training.
import { MAX_FUSED_POOL_PIXELS } from '../codegen/fuse.js';
import type { Config } from '../config/types.js';
import { profileSpec, type ModelProfile } from '../models/profile.js';
import type { LayerSpec, ModelSpec } from '../models/spec.js';
import { buildSpec } from '../models/zoo.js';
import { loadBoard, type Board } from '../toolchain/boards.js';
import { findTool, type ToolName } from '../toolchain/tools.js';
import { UserError } from '../util/errors.js';

/** Every external program that build and verify run. */
const PIPELINE_TOOLS: ToolName[] = ['arm-none-eabi-gcc', 'arm-none-eabi-objcopy', 'arm-none-eabi-size', 'arm-none-eabi-objdump', 'qemu-system-arm'];

/** Throws (exit 3, naming the Debian package) for the first missing tool. */
export function checkToolchain(): void {
  for (const tool of PIPELINE_TOOLS) findTool(tool);
}

export interface FitEstimate {
  /** int8 weights + int32 biases: no generated library can be smaller. */
  weightsBytes: number;
  /** The arena's floor for any plan (arenaFloorBytes). */
  arenaBytes: number;
}

/** Can the generator fold this pooling into the conv2d before it: non-overlapping windows of at most four pixels, no padding. */
function foldsIntoConv(layer: LayerSpec | undefined): boolean {
  return layer?.kind === 'max_pool2d' && layer.pool * layer.pool > 1 && layer.pool * layer.pool <= MAX_FUSED_POOL_PIXELS &&
    layer.stride === layer.pool && layer.padding === 'valid';
}

/** Layers the generator may run in row bands (src/codegen/bands.ts). */
function spatial(layer: LayerSpec | undefined): boolean {
  return layer !== undefined && ['conv2d', 'depthwise_conv2d', 'max_pool2d', 'avg_pool2d'].includes(layer.kind);
}

/**
 * The arena's floor for any plan the code generator can make: the largest input + output pair of
 * one kernel call, int8. A conv2d followed by a max pooling it absorbs is one call that never stores
 * the conv's full output (its pair is input + pooled output); reshapes and dropout are views.
 * `rowBands` (codegen.rowBands): a spatial layer next to another may run in row bands, where its
 * whole input and output need not be live together, so only the other layers' pairs count, and the
 * network input, which is always whole.
 */
export function arenaFloorBytes(spec: ModelSpec, profile: ModelProfile = profileSpec(spec), rowBands = false): number {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const real = profile.layers.map((l, i) => ({ layer: spec.layers[i], output: size(l.outputShape) }))
    .filter(({ layer }) => layer.kind !== 'flatten' && layer.kind !== 'dropout');
  let input = size(spec.inputShape);
  let floor = rowBands ? input : 0;
  for (let i = 0; i < real.length; i++) {
    const first = i;
    const fused = real[i].layer.kind === 'conv2d' && foldsIntoConv(real[i + 1]?.layer);
    if (fused) i++;
    const bandable = rowBands && spatial(real[i].layer) && (spatial(real[first - 1]?.layer) || spatial(real[i + 1]?.layer));
    if (!bandable) floor = Math.max(floor, input + real[i].output);
    input = real[i].output;
  }
  return floor;
}

/** Lower bounds of what the generated library will need, from the model spec alone (no training). */
export function estimateFit(config: Config): FitEstimate {
  const spec = buildSpec(config.model);
  const profile = profileSpec(spec);
  let weightsBytes = 0;
  for (const layer of profile.layers) {
    if (layer.deployedParams > 0) {
      const channels = layer.outputShape[layer.outputShape.length - 1];
      weightsBytes += layer.deployedParams - channels + 4 * channels;
    }
  }
  return { weightsBytes, arenaBytes: arenaFloorBytes(spec, profile, config.codegen.rowBands) };
}

/** Refuses (exit 2) a model that cannot fit the board's flash or RAM, whatever training gives. */
export function checkBoardFit(config: Config, board: Board = loadBoard(config.target.board)): FitEstimate {
  const fit = estimateFit(config);
  const flash = Math.min(board.flash.size, board.qemu.flash.size);
  const ram = Math.min(board.ram.size, board.qemu.ram.size);
  const arenaRoom = ram - board.stackSize - board.heapSize;
  const problems: string[] = [];
  if (fit.weightsBytes > flash) problems.push(`its weights alone take ${fit.weightsBytes} bytes of flash, and the board has ${flash}`);
  if (fit.arenaBytes > arenaRoom) {
    problems.push(`its activations need at least ${fit.arenaBytes} bytes of RAM, and the board has ${arenaRoom} ` +
      `(${ram} minus stack ${board.stackSize} and heap ${board.heapSize})`);
  }
  if (problems.length) {
    throw new UserError(
      `${config.path}: model ${config.model.architecture} cannot fit board ${board.name} (${board.file}): ${problems.join('; ')}. ` +
        'Choose a smaller model (model.widthMultiplier) or another target.board',
      undefined, { file: config.path, field: '/target/board' },
    );
  }
  return fit;
}
