// `tinyforge flash`: build the deployable image for the chip's own addresses and write it with
// OpenOCD. Without a probe OpenOCD fails; that is one line naming the board and OpenOCD's error.
import { join } from 'node:path';
import { execa } from 'execa';
import { buildStage } from '../pipeline/verify-stage.js';
import { loadBoard } from '../toolchain/boards.js';
import { flashCommand } from '../toolchain/openocd.js';
import { diesWithParent } from '../toolchain/qemu.js';
import { findTool } from '../toolchain/tools.js';
import { EnvironmentError } from '../util/errors.js';
import { irOf, openRun } from './context.js';

/** The last line OpenOCD printed that says what went wrong (it reports on stderr). */
export function openocdCause(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.filter((l) => /^Error/i.test(l)).pop() ?? lines.pop() ?? 'no output';
}

export async function flashConfig(file: string, opts: { dryRun?: boolean }): Promise<void> {
  const { config, paths } = openRun(file, 'flash');
  const board = loadBoard(config.target.board);
  const outDir = join(paths.firmwareDir, 'hardware');
  // The deployable image (no semihosting: the harness firmware would stop at its first
  // semihosting call without a debugger attached). A debugger reads footprint_class.
  const hex = join(outDir, 'footprint', 'footprint.hex');
  const command = flashCommand(board, hex);
  if (opts.dryRun) {
    console.log(command.map((a) => (/[\s{}"]/.test(a) ? `'${a}'` : a)).join(' '));
    return;
  }
  const openocd = findTool('openocd');
  await buildStage(config, paths, irOf(config, paths), { target: 'hardware', outDir });
  // OpenOCD's progress goes to the console as it comes, and is kept to say why it failed.
  const [program, args] = diesWithParent(openocd, command.slice(1));
  const result = await execa(program, args, {
    stdin: 'ignore', stdout: 'inherit', stderr: ['pipe', 'inherit'], timeout: 120_000, reject: false,
  });
  if (result.failed) {
    const how = result.timedOut ? 'timed out after 120 s' : `exit status ${result.exitCode ?? result.signal}`;
    throw new EnvironmentError(
      `openocd could not flash board ${board.name} (${how}): ${openocdCause(String(result.stderr ?? ''))}; is the probe connected and powered?`,
    );
  }
}
