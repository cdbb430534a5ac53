// Where each stage's artifact lives inside a config's output directory, and where the package's
// own folders (templates/, firmware/, configs/) are, whether running from src/ or dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunPaths {
  root: string;
  log: string;
  resolvedConfig: string;
  modelDir: string;
  history: string;
  trainMetrics: string;
  ir: string;
  evaluation: string;
  cDir: string;
  firmwareDir: string;
  verifyReport: string;
}

export function runPaths(outputDir: string): RunPaths {
  return {
    root: outputDir,
    log: join(outputDir, 'run.log'),
    resolvedConfig: join(outputDir, 'config.resolved.json'),
    modelDir: join(outputDir, 'model'),
    history: join(outputDir, 'history.json'),
    trainMetrics: join(outputDir, 'metrics.json'),
    ir: join(outputDir, 'model.ir.json'),
    evaluation: join(outputDir, 'evaluation.json'),
    cDir: join(outputDir, 'c'),
    firmwareDir: join(outputDir, 'firmware'),
    verifyReport: join(outputDir, 'verify.json'),
  };
}

let root: string | undefined;

/** The directory holding tinyforge's package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('tinyforge: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  root = dir;
  return dir;
}
