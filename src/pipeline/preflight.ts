// Checks made before `run` trains (minutes to hours): the tools the later stages need, and whether
// the model can fit the board at all. Both used to surface only after training.
import type { Config } from '../config/types.js';
import { profileSpec } from '../models/profile.js';
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
  /** The largest input + output pair of one layer, int8: the arena's floor for any plan. */
  arenaBytes: number;
}

/** Lower bounds of what the generated library will need, from the model spec alone (no training). */
export function estimateFit(config: Config): FitEstimate {
  const spec = buildSpec(config.model);
  const profile = profileSpec(spec);
  let weightsBytes = 0;
  let arenaBytes = 0;
  let input = spec.inputShape.reduce((a, b) => a * b, 1);
  for (const layer of profile.layers) {
    const output = layer.outputShape.reduce((a, b) => a * b, 1);
    if (layer.deployedParams > 0) {
      const channels = layer.outputShape[layer.outputShape.length - 1];
      weightsBytes += layer.deployedParams - channels + 4 * channels;
    }
    // Reshapes and dropout are views of their input (no second buffer).
    const view = layer.kind === 'flatten' || layer.kind === 'dropout';
    if (!view) arenaBytes = Math.max(arenaBytes, input + output);
    input = output;
  }
  return { weightsBytes, arenaBytes };
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
