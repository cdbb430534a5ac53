// Lower bounds on what a candidate model needs on a board, computed from its spec alone, before it
// is trained. They are bounds, not estimates: a candidate is rejected only when even the bound
// exceeds a budget, so no model that could fit is ever thrown away. Whatever passes is measured
// on target later (flash, RAM and instructions are exact after the first rung).
import type { Config } from '../../config/types.js';
import { profileSpec, type ModelProfile } from '../../models/profile.js';
import { buildSpec } from '../../models/zoo.js';
import { arenaFloorBytes } from '../../pipeline/preflight.js';
import type { Board } from '../../toolchain/boards.js';

export interface SearchBudgets {
  flashBytes: number | null;
  ramBytes: number | null;
  latencyMs: number | null;
  maxInstructionsPerInference: number | null;
  minAccuracy: number | null;
}

export interface CandidateBounds {
  params: number;
  macs: number;
  /** int8 weights + int32 biases + per-channel multiplier and shift (int32 each). */
  weightsBytes: number;
  /** The arena's floor for any plan the generator makes (pipeline/preflight.ts arenaFloorBytes). */
  arenaBytes: number;
  /**
   * One instruction per MAC on a core without DSP (MULS), half an instruction with SMLAD (two
   * MACs per instruction): the arithmetic alone, every other instruction left out.
   */
  instructions: number;
}

export function candidateBounds(config: Config, board: Board): CandidateBounds {
  const spec = buildSpec(config.model);
  const profile: ModelProfile = profileSpec(spec);
  let weightsBytes = 0;
  for (const layer of profile.layers) {
    if (layer.deployedParams > 0) {
      const channels = layer.outputShape.at(-1)!;
      weightsBytes += layer.deployedParams - channels + channels * (4 + 4 + 4);
    }
  }
  const arenaBytes = arenaFloorBytes(spec, profile, config.codegen.rowBands);
  const macsPerInstruction = board.dsp && config.target.dsp === 'auto' ? 2 : 1;
  return { params: profile.params, macs: profile.macs, weightsBytes, arenaBytes, instructions: Math.ceil(profile.macs / macsPerInstruction) };
}

/** Why the bounds already break a budget, or null when the candidate may fit. */
export function boundsProblem(bounds: CandidateBounds, budgets: SearchBudgets, board: Board): string | null {
  const problems: string[] = [];
  const flash = budgets.flashBytes ?? board.flash.size;
  if (bounds.weightsBytes > flash) problems.push(`weights alone need ${bounds.weightsBytes} B of flash (budget ${flash} B)`);
  const ram = (budgets.ramBytes ?? board.ram.size) - board.stackSize;
  if (bounds.arenaBytes > ram) problems.push(`the arena needs at least ${bounds.arenaBytes} B of RAM (budget less the ${board.stackSize} B stack: ${ram} B)`);
  const maxInstructions = Math.min(
    budgets.maxInstructionsPerInference ?? Infinity,
    budgets.latencyMs === null ? Infinity : (budgets.latencyMs / 1000) * board.clockHz,
  );
  if (bounds.instructions > maxInstructions) {
    problems.push(`at least ${bounds.instructions} instructions per inference (budget ${Math.floor(maxInstructions)})`);
  }
  return problems.length ? problems.join('; ') : null;
}
