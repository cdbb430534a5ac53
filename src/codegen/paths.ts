// The package's templates/ folder (found from the package root, so it works from src/ and dist/).
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

export function kernelsDir(): string {
  return join(templatesDir(), 'kernels');
}
