// Locating the package's templates/ folder: the code runs from dist/codegen/*.js after tsc and
// from src/codegen/*.ts under vitest, so walk up from this module to the folder holding
// package.json.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (cachedRoot = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`codegen: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

export function kernelsDir(): string {
  return join(templatesDir(), 'kernels');
}
