// Finds the external programs the toolchain runs. A missing one is a UserError that names the
// Debian package providing it, rather than an ENOENT from deep inside execa.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../util/errors.js';

export type ToolName =
  | 'arm-none-eabi-gcc'
  | 'arm-none-eabi-objcopy'
  | 'arm-none-eabi-objdump'
  | 'arm-none-eabi-size'
  | 'qemu-system-arm'
  | 'openocd'
  | 'gcc'
  | 'setpriv';

const ARM_PACKAGES = 'gcc-arm-none-eabi libnewlib-arm-none-eabi';

/** The Debian packages to install for each tool (binutils-arm-none-eabi comes with gcc-arm-none-eabi). */
export const debianPackages: Record<ToolName, string> = {
  'arm-none-eabi-gcc': ARM_PACKAGES,
  'arm-none-eabi-objcopy': ARM_PACKAGES,
  'arm-none-eabi-objdump': ARM_PACKAGES,
  'arm-none-eabi-size': ARM_PACKAGES,
  'qemu-system-arm': 'qemu-system-arm',
  openocd: 'openocd',
  gcc: 'gcc',
  setpriv: 'util-linux',
};

export function installHint(tool: ToolName): string {
  return `apt-get install ${debianPackages[tool]}`;
}

const found = new Map<string, string>();

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of `tool`, looked up in `searchPath` (PATH by default; tests pass their own
 * to simulate a machine without the tool).
 */
export function findTool(tool: ToolName, searchPath: string = process.env.PATH ?? ''): string {
  const key = `${tool}\0${searchPath}`;
  const cached = found.get(key);
  if (cached) return cached;
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    if (isExecutableFile(candidate)) {
      found.set(key, candidate);
      return candidate;
    }
  }
  throw new EnvironmentError(
    `${tool} was not found on PATH (${searchPath || 'empty'}). Install it with: ${installHint(tool)}`,
  );
}
