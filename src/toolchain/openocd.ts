// The OpenOCD command line that writes a firmware image to a real board. Building it needs no
// hardware; running it does (and an image linked with buildFirmware's target 'hardware').
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { listBoards, loadBoard, type Board } from './boards.js';

/**
 * ["openocd", "-f", <interface>, ["-c", "transport select …"], "-f", <target>, "-c",
 *  "program {<hex>} verify reset exit"]: program the flash, read it back to verify, reset the
 * chip so it runs the new image, and quit. Script paths are relative to OpenOCD's own
 * scripts directory (/usr/share/openocd/scripts on Debian), where it looks them up.
 */
export function flashCommand(board: Board | string, hexPath: string): string[] {
  const profile = typeof board === 'string' ? loadBoard(board) : board;
  if (!profile.openocd) {
    const flashable = listBoards().filter((name) => loadBoard(name).openocd !== null);
    throw new UserError(
      `board ${profile.name} exists only in QEMU (no "openocd" entry in ${profile.file}), so it cannot be flashed; ` +
        `boards with an OpenOCD configuration: ${flashable.join(', ')}`,
    );
  }
  const image = isAbsolute(hexPath) ? hexPath : resolve(hexPath);
  // OpenOCD reads commands as Tcl: braces quote the path (spaces included) but cannot hold braces.
  if (/[{}]/.test(image)) throw new UserError(`firmware image path ${image}: braces cannot be passed to OpenOCD`);
  const { interface: iface, transport, target } = profile.openocd;
  return [
    'openocd',
    '-f', iface,
    ...(transport ? ['-c', `transport select ${transport}`] : []),
    '-f', target,
    '-c', `program {${image}} verify reset exit`,
  ];
}
