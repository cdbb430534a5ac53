// Runs firmware in QEMU with semihosting and deterministic instruction counting, always under a
// timeout: a firmware that never exits is killed and reported, never waited on forever. QEMU is
// started through `setpriv --pdeathsig KILL` (util-linux), so the kernel kills it the moment the
// tinyforge process that started it ends, even by kill -9: no QEMU outlives its verification.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError, UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';
import { loadBoard, type Board } from './boards.js';
import { describeExit } from './exitcodes.js';
import { findTool, installHint } from './tools.js';

export interface QemuOptions {
  board: Board | string;
  elf: string;
  /** Passed with -append; the firmware reads it through SYS_GET_CMDLINE. */
  append?: string;
  /** QEMU's working directory: semihosted file names are relative to it. */
  cwd?: string;
  timeoutMs: number;
}

export interface QemuResult {
  /** QEMU's exit status (the firmware's semihosting exit status), or -1 if QEMU died of a signal. */
  exitCode: number;
  /** The signal QEMU died of, e.g. SIGABRT after "qemu: fatal: Lockup". */
  signal?: string;
  stdout: string;
  stderr: string;
}

/** The run did not finish within its timeout and was killed. */
export class QemuTimeoutError extends EnvironmentError {
  constructor(message: string) {
    super(message);
    this.name = 'QemuTimeoutError';
  }
}

const asBoard = (board: Board | string) => (typeof board === 'string' ? loadBoard(board) : board);

export function qemuArgs(board: Board, elf: string, append?: string): string[] {
  return [
    '-M', board.qemu.machine,
    '-nographic',
    '-semihosting-config', 'enable=on,target=native',
    // One instruction per virtual nanosecond: SysTick then counts instructions, repeatably.
    '-icount', 'shift=0',
    '-kernel', elf,
    ...(append !== undefined ? ['-append', append] : []),
  ];
}

/**
 * The command line that runs `program` so that it dies with this process: setpriv sets the
 * parent-death signal (PR_SET_PDEATHSIG) and execs it, so the pid, exit status, output and
 * timeout handling are QEMU's own. Where setpriv is missing (not Linux), the program runs as is.
 */
export function diesWithParent(program: string, args: string[]): [string, string[]] {
  let setpriv: string;
  try {
    setpriv = findTool('setpriv');
  } catch {
    log.debug(`setpriv not found: ${program} will not be stopped if tinyforge is killed (${installHint('setpriv')})`);
    return [program, args];
  }
  return [setpriv, ['--pdeathsig', 'KILL', program, ...args]];
}

/** Node timers fire at once for delays above 2^31 - 1 ms; 0 would switch the hang check off. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export async function runQemu(options: QemuOptions): Promise<QemuResult> {
  const board = asBoard(options.board);
  const t = options.timeoutMs;
  if (t !== undefined && (!Number.isSafeInteger(t) || t < 1 || t > MAX_TIMEOUT_MS)) {
    throw new UserError(`QEMU timeout: expected a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, found ${t}`, undefined, { field: '--timeout' });
  }
  const qemu = findTool('qemu-system-arm');
  const args = qemuArgs(board, resolve(options.elf), options.append);
  log.debug(`qemu: ${qemu} ${args.join(' ')}`);
  const [program, programArgs] = diesWithParent(qemu, args);
  const result = await execa(program, programArgs, {
    cwd: options.cwd,
    timeout: options.timeoutMs,
    forceKillAfterDelay: 2000,
    stdin: 'ignore',
    reject: false,
  });
  if (result.timedOut) {
    throw new QemuTimeoutError(
      `firmware ${options.elf} hung on board ${board.name} (QEMU machine ${board.qemu.machine}): ` +
        `no exit within ${options.timeoutMs} ms, so QEMU was killed. ` +
        'Raise the timeout if the run is legitimately long; otherwise the firmware loops forever.',
    );
  }
  return { exitCode: result.exitCode ?? -1, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

export interface HarnessOptions {
  board: Board | string;
  elf: string;
  /** N input records back to back, imageSize bytes each: uint8 pixels for image models, the
   * input tensor's raw bytes (<PREFIX>_INPUT_BYTES) otherwise. */
  images: Uint8Array;
  /** Bytes per record: <PREFIX>_INPUT_SIZE for images (default 784 = 28×28×1), <PREFIX>_INPUT_BYTES otherwise. */
  imageSize?: number;
  offset?: number;
  count?: number;
  /** Holds images.bin and results-<k>.bin; owned by this run. */
  workDir: string;
  /** For each QEMU process. */
  timeoutMs: number;
  /** Parallel QEMU processes the range is split across (default 2, the number of cores). */
  processes?: number;
}

export interface HarnessResult {
  /** The predicted class of each image. */
  classes: Uint8Array;
  /** numClasses output bytes per input, input after input: the int8 logits of a classifier (a
   * float32 output's raw little-endian bytes otherwise). */
  logits: Int8Array;
  /** Output bytes per record (<PREFIX>_OUTPUT_BYTES: the number of classes for int8 outputs). */
  numClasses: number;
  /** SysTick ticks per inference, as the firmware measured them. */
  ticks: Uint32Array;
  /** ticks × the board's instructionsPerTick: instructions per inference. */
  instructions: Float64Array;
}

const HEADER_SIZE = 16;
const MAGIC = 'TFH1';

interface Chunk {
  offset: number;
  count: number;
  /** The result file's name inside workDir. */
  results: string;
}

/** Splits count images into at most `processes` contiguous chunks of nearly equal size. */
export function splitRange(count: number, processes: number): Array<{ offset: number; count: number }> {
  const parts = Math.max(1, Math.min(processes, count));
  const chunks = [];
  let offset = 0;
  for (let k = 0; k < parts; k++) {
    const size = Math.floor(count / parts) + (k < count % parts ? 1 : 0);
    chunks.push({ offset, count: size });
    offset += size;
  }
  return chunks;
}

function readResults(file: string, chunk: Chunk, imageSize: number) {
  const data = readFileSync(file);
  const fail = (what: string) => new EnvironmentError(`harness result file ${file}: ${what}`);
  if (data.length < HEADER_SIZE || data.toString('latin1', 0, 4) !== MAGIC) {
    throw fail(`expected a "${MAGIC}" header, found ${data.length} bytes`);
  }
  const inputSize = data.readUInt32LE(4);
  const numClasses = data.readUInt32LE(8);
  const count = data.readUInt32LE(12);
  if (inputSize !== imageSize) {
    throw fail(`the firmware takes ${inputSize}-byte input records (<PREFIX>_INPUT_SIZE / <PREFIX>_INPUT_BYTES), but the records given are ${imageSize} bytes each`);
  }
  if (count !== chunk.count) throw fail(`expected ${chunk.count} records, header says ${count}`);
  const recordSize = 1 + numClasses + 4;
  const expectedLength = HEADER_SIZE + count * recordSize;
  if (data.length !== expectedLength) {
    throw fail(`expected ${expectedLength} bytes (${count} records of ${recordSize}), found ${data.length}`);
  }
  return { data, numClasses, recordSize };
}

/** What happened to a run that did not exit cleanly, in words (lockup, signal, or exit status). */
export function describeOutcome(run: QemuResult): string {
  if (/Lockup/.test(run.stderr)) {
    // The core faulted while it could not take the fault (typically: the stack overflowed past
    // the bottom of RAM, so not even the exception frame could be pushed). QEMU aborts.
    return 'crashed: the core locked up (a fault while handling a fault, typically a stack overflow)';
  }
  if (run.signal) return `QEMU was killed by ${run.signal}`;
  return `exited with status ${run.exitCode}: ${describeExit(run.exitCode)}`;
}

export async function runHarness(options: HarnessOptions): Promise<HarnessResult> {
  const board = asBoard(options.board);
  const imageSize = options.imageSize ?? 784;
  if (options.images.length % imageSize !== 0) {
    throw new UserError(`runHarness: images hold ${options.images.length} bytes, expected a multiple of ${imageSize} (bytes per image)`);
  }
  const available = options.images.length / imageSize;
  const offset = options.offset ?? 0;
  const count = options.count ?? available - offset;
  if (!Number.isInteger(offset) || !Number.isInteger(count) || offset < 0 || count < 0 || offset + count > available) {
    throw new UserError(`runHarness: images ${offset}..${offset + count - 1} requested, but only ${available} images were given`);
  }
  const processes = options.processes ?? 2;
  if (!Number.isInteger(processes) || processes < 1) {
    throw new UserError(`runHarness: processes must be a positive integer, got ${processes}`);
  }

  const workDir = resolve(options.workDir);
  mkdirSync(workDir, { recursive: true });
  // Only the requested range goes to the firmware; chunk offsets are relative to it.
  writeFileAtomic(join(workDir, 'images.bin'), options.images.subarray(offset * imageSize, (offset + count) * imageSize));
  const chunks: Chunk[] = splitRange(count, processes)
    .filter((c) => c.count > 0)
    .map((c, k) => ({ ...c, results: `results-${k}.bin` }));

  const runs = await Promise.allSettled(
    chunks.map(async (chunk) => {
      rmSync(join(workDir, chunk.results), { force: true });
      const append = `in=images.bin out=${chunk.results} offset=${chunk.offset} count=${chunk.count}`;
      const range = `images ${offset + chunk.offset}..${offset + chunk.offset + chunk.count - 1}`;
      const run = await runQemu({ board, elf: options.elf, append, cwd: workDir, timeoutMs: options.timeoutMs }).catch((err: unknown) => {
        throw err instanceof QemuTimeoutError ? new QemuTimeoutError(`${err.message} (harness run over ${range})`) : err;
      });
      if (run.exitCode !== 0) {
        const output = [run.stderr.trim(), run.stdout.trim()].filter(Boolean).join('\n');
        throw new EnvironmentError(
          `harness ${options.elf} on board ${board.name} (${range}) ${describeOutcome(run)}${output ? `\n${output}` : ''}`,
        );
      }
      return readResults(join(workDir, chunk.results), chunk, imageSize);
    }),
  );
  const failure = runs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;

  const parsed = runs.map((r) => (r as PromiseFulfilledResult<ReturnType<typeof readResults>>).value);
  const numClasses = parsed[0]?.numClasses ?? 0;
  if (parsed.some((p) => p.numClasses !== numClasses)) throw new EnvironmentError('harness result files disagree on the number of classes');

  const classes = new Uint8Array(count);
  const logits = new Int8Array(count * numClasses);
  const ticks = new Uint32Array(count);
  const instructions = new Float64Array(count);
  parsed.forEach(({ data, recordSize }, k) => {
    const base = chunks[k].offset;
    for (let i = 0; i < chunks[k].count; i++) {
      const at = HEADER_SIZE + i * recordSize;
      classes[base + i] = data[at];
      logits.set(new Int8Array(data.buffer, data.byteOffset + at + 1, numClasses), (base + i) * numClasses);
      ticks[base + i] = data.readUInt32LE(at + 1 + numClasses);
      instructions[base + i] = ticks[base + i] * board.qemu.instructionsPerTick;
    }
  });
  return { classes, logits, numClasses, ticks, instructions };
}
