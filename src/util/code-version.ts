// Which tinyforge produced a result: the package version, the git commit when the package is a
// checkout, and a hash of everything that decides a result (sources, templates, the native
// trainer's C++, the locked dependency versions). A sweep compares the hash, not the version
// string: results of two builds of the same version with different kernels must not be mixed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../paths.js';

export interface CodeVersion {
  /** package.json's version. */
  version: string;
  /** `git rev-parse HEAD` of the package's checkout, with "-dirty" when tracked files differ; null outside git. */
  commit: string | null;
  /** sha256 (16 hex digits) of the files that decide a result; equal hashes mean the same code. */
  codeHash: string;
}

/** Folders and files hashed, relative to the package root; src/ when present, else the built dist/. */
function hashedRoots(root: string): string[] {
  const code = existsSync(join(root, 'src')) ? 'src' : 'dist';
  return [code, 'templates', 'firmware', 'native/torch/src', 'package-lock.json'].filter((p) => existsSync(join(root, p)));
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => filesUnder(join(path, entry.name)));
}

function gitCommit(root: string): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', ...hashedRoots(root)) !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

let cached: CodeVersion | undefined;

/** This process's code version (computed once: a process runs one version of the code). */
export function codeVersion(): CodeVersion {
  if (cached) return cached;
  const root = packageRoot();
  const hash = createHash('sha256');
  for (const file of hashedRoots(root).flatMap((p) => filesUnder(join(root, p)))) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  cached = { version: pkg.version ?? 'unknown', commit: gitCommit(root), codeHash: hash.digest('hex').slice(0, 16) };
  return cached;
}
