// Where the firmware sources live. This file sits at src/toolchain/ and, compiled, at
// dist/toolchain/: both are two levels below the package root that holds firmware/.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const firmwareDir = fileURLToPath(new URL('../../firmware/', import.meta.url));
export const boardsDir = join(firmwareDir, 'boards');
export const boardSchemaPath = join(firmwareDir, 'board.schema.json');
export const linkerDir = join(firmwareDir, 'linker');
export const startupDir = join(firmwareDir, 'startup');
export const harnessDir = join(firmwareDir, 'harness');
export const footprintDir = join(firmwareDir, 'footprint');
