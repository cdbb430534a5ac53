// Builds a generated library with the host driver (test/fixtures/codegen/host_driver.c) under
// AddressSanitizer + UBSan, on the portable path or the DSP path (a C model of the ACLE
// intrinsics), and runs it over a batch of inputs in one process.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { writeLibrary, type GeneratedLibrary } from '../../src/codegen/generate.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = resolve(HERE, '../fixtures/codegen');
export const HOST_FLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
/** Kernel path -> extra compile flags. */
export const KERNEL_PATHS: Record<'portable' | 'dsp', string[]> = {
  portable: [],
  dsp: ['-D__ARM_FEATURE_DSP=1', `-I${join(FIXTURES, 'acle')}`],
};

/** Writes the library into `dir` and builds the host driver for one kernel path; returns the executable. */
export async function buildHostDriver(lib: Pick<GeneratedLibrary, 'files'>, dir: string, path: keyof typeof KERNEL_PATHS): Promise<string> {
  writeLibrary(dir, lib);
  const sources = Object.keys(lib.files).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));
  const exe = join(dir, `host_driver_${path}`);
  await execa('gcc', [...HOST_FLAGS, ...KERNEL_PATHS[path], `-I${dir}`, join(FIXTURES, 'host_driver.c'), ...sources, '-o', exe]);
  return exe;
}

/**
 * Runs the driver on inputs (records of the model's input bytes, back to back); returns each
 * record's output bytes (outputBytes each) and the returned class.
 */
export async function runHostDriver(exe: string, inputs: Uint8Array, outputBytes: number): Promise<{ outputs: Uint8Array[]; classes: number[]; smlad: number }> {
  const inFile = `${exe}.in`;
  const outFile = `${exe}.out`;
  writeFileSync(inFile, inputs);
  const { stdout } = await execa(exe, ['s8', inFile, outFile]);
  const raw = new Uint8Array(readFileSync(outFile));
  const outputs: Uint8Array[] = [];
  const classes: number[] = [];
  for (let at = 0; at + outputBytes + 1 <= raw.length; at += outputBytes + 1) {
    outputs.push(raw.slice(at, at + outputBytes));
    classes.push(raw[at + outputBytes]!);
  }
  return { outputs, classes, smlad: Number(/smlad=(\d+)/.exec(stdout)?.[1] ?? NaN) };
}
