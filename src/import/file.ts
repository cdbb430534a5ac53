// Reading a .tflite file from disk for `tinyforge import` and for configs that name a model file.
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import type { ValidIr } from '../ir/validate.js';
import { importTflite } from './import.js';

/** Imports `path`, naming it `label` (as the user wrote it) in messages and metadata. */
export function importTfliteFile(path: string, label = path): ValidIr {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${label}: model file not found`);
    throw new UserError(`${label}: cannot read the model file: ${(err as Error).message}`);
  }
  return importTflite(bytes, { label });
}
