// Generate stage: model.ir.json -> the C library in <out>/c (see docs/c-api.md).
import { generateLibrary, writeLibrary, type GeneratedLibrary } from '../codegen/generate.js';
import type { IrModel } from '../ir/types.js';
import type { RunPaths } from '../paths.js';
import { log } from '../util/log.js';

export function generateStage(paths: RunPaths, ir: IrModel): GeneratedLibrary {
  const lib = generateLibrary(ir);
  writeLibrary(paths.cDir, lib);
  log.info(
    `wrote ${Object.keys(lib.files).length} files to ${paths.cDir}: arena ${lib.arenaBytes} bytes ` +
      `(lower bound ${lib.arenaLowerBoundBytes}), weights ${lib.weightsBytes} bytes`,
  );
  return lib;
}
