// The inputs `verify` runs an imported model on, and the reference's outputs for them. An input
// record is every graph input's bytes, in input order, back to back (int8 bytes; float32
// little-endian): the layout of the conformance suite's inputs.bin. They come from the config's
// `model.inputs` file, or are seeded random values when it names none.
import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import type { Config } from '../config/types.js';
import { dtypeBytes, graphInputs, tensorSize, type IrModel, type IrTensor } from '../ir/types.js';
import { argmax } from '../reference/interpreter.js';
import { runReferenceBytes } from '../reference/run-graph.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { datasetRecords } from './imported-dataset.js';

export interface InputRecords {
  /** count records of recordBytes bytes each. */
  bytes: Uint8Array;
  count: number;
  recordBytes: number;
  /** Where they came from, for the report: a file, a dataset, or "random (seed s)". */
  source: string;
  /** The class of each record, when they come from a labelled dataset (verifyOn "dataset"). */
  labels?: Uint8Array;
}

const tensorOf = (ir: IrModel, id: number): IrTensor => ir.tensors.find((t) => t.id === id)!;

/** Bytes of one record: every graph input, in order. */
export function inputRecordBytes(ir: IrModel): number {
  return graphInputs(ir).reduce((sum, i) => sum + tensorSize(tensorOf(ir, i.tensor)) * dtypeBytes(tensorOf(ir, i.tensor)), 0);
}

export function outputRecordBytes(ir: IrModel): number {
  const t = tensorOf(ir, ir.output.tensor);
  return tensorSize(t) * dtypeBytes(t);
}

/**
 * The records verify runs an imported model on (model.verifyOn): the model.inputs file, the
 * dataset's test images, or seeded random records; the first `count` of them when given.
 */
export function verifyInputs(config: Config, ir: IrModel, count?: number): InputRecords {
  const mode = verifyMode(config);
  if (mode === 'dataset') return datasetRecords(config, ir, count);
  const all = mode === 'inputs' ? fileRecords(config, ir) : randomInputs(config, ir, count);
  if (count !== undefined && count > all.count) {
    throw new UserError(`--images ${count}: ${all.source} holds only ${all.count} input records`, undefined, { field: '--images' });
  }
  if (count === undefined || count === all.count) return all;
  return { ...all, bytes: all.bytes.subarray(0, count * all.recordBytes), count };
}

/** model.verifyOn resolved ('auto' becomes 'inputs' or 'random'), checked against model.inputs. */
export function verifyMode(config: Config): 'inputs' | 'dataset' | 'random' {
  const { verifyOn, inputs } = config.model;
  if (verifyOn === 'auto') return inputs !== null ? 'inputs' : 'random';
  const fail = (why: string) => new UserError(`${config.path}: /model/verifyOn: "${verifyOn}" ${why}`, undefined, { file: config.path, field: '/model/verifyOn' });
  if (verifyOn === 'inputs' && inputs === null) throw fail('needs model.inputs (a file of input records)');
  if (verifyOn !== 'inputs' && inputs !== null) throw fail(`contradicts model.inputs (${relative(process.cwd(), inputs) || inputs}); remove one`);
  return verifyOn;
}

function randomInputs(config: Config, ir: IrModel, count?: number): InputRecords {
  const n = count ?? config.model.randomInputs;
  return { bytes: randomRecords(ir, n, config.model.inputSeed), count: n, recordBytes: inputRecordBytes(ir), source: `random (seed ${config.model.inputSeed})` };
}

function fileRecords(config: Config, ir: IrModel): InputRecords {
  const recordBytes = inputRecordBytes(ir);
  const file = config.model.inputs!;
  {
    const shown = relative(process.cwd(), file) || file;
    const bytes = new Uint8Array(readFileSync(file));
    if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
      throw new UserError(
        `${shown} (model.inputs): expected a whole number of ${recordBytes}-byte input records ` +
          `(${describeRecord(ir)}), found ${bytes.length} bytes`,
      );
    }
    return { bytes, count: bytes.length / recordBytes, recordBytes, source: shown };
  }
}

function describeRecord(ir: IrModel): string {
  return graphInputs(ir)
    .map((i) => tensorOf(ir, i.tensor))
    .map((t) => `${t.dtype ?? 'int8'} ${t.shape.join('x')}`)
    .join(' + ');
}

/**
 * Seeded random records: int8 inputs uniform over -128..127; a float32 input uniform over the
 * real range its QUANTIZE can represent, widened by a tenth on each side so clamping is tried.
 */
export function randomRecords(ir: IrModel, count: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const bytes = new Uint8Array(count * inputRecordBytes(ir));
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (let n = 0; n < count; n++) {
    for (const input of graphInputs(ir)) {
      const t = tensorOf(ir, input.tensor);
      if (t.dtype === 'float32') {
        const [lo, hi] = floatRange(ir, t.id);
        for (let i = 0; i < tensorSize(t); i++, at += 4) view.setFloat32(at, rng.uniform(lo, hi), true);
      } else {
        for (let i = 0; i < tensorSize(t); i++) bytes[at++] = rng.int(256);
      }
    }
  }
  return bytes;
}

function floatRange(ir: IrModel, id: number): [number, number] {
  const q = ir.ops.find((op) => op.kind === 'quantize' && op.input === id);
  const out = q && tensorOf(ir, q.output);
  if (!out) return [-1, 1];
  const lo = out.scale * (-128 - out.zeroPoint);
  const hi = out.scale * (127 - out.zeroPoint);
  const margin = (hi - lo) / 10;
  return [lo - margin, hi + margin];
}

/** The reference's output bytes for every record. */
export function referenceOutputs(ir: IrModel, records: InputRecords): Uint8Array {
  const outBytes = outputRecordBytes(ir);
  const out = new Uint8Array(records.count * outBytes);
  for (let n = 0; n < records.count; n++) {
    out.set(runReferenceBytes(ir, records.bytes.subarray(n * records.recordBytes, (n + 1) * records.recordBytes)), n * outBytes);
  }
  return out;
}

/** The class each output record scores highest (first on ties, as the zoo's argmax). */
export function predictedClasses(ir: IrModel, outputs: Uint8Array): Uint8Array {
  const output = tensorOf(ir, ir.output.tensor);
  const outBytes = outputRecordBytes(ir);
  const count = outputs.length / outBytes;
  const classes = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const at = outputs.byteOffset + n * outBytes;
    const scores = output.dtype === 'float32' ? new Float32Array(outputs.slice(n * outBytes, (n + 1) * outBytes).buffer) : new Int8Array(outputs.buffer, at, outBytes);
    classes[n] = argmax(scores);
  }
  return classes;
}

export interface OutputComparison {
  /** Records whose output bytes differ. */
  mismatches: number;
  /** The first few: the record, how many bytes differ, and 8 bytes from the first that does. */
  first: { input: number; differingBytes: number; firstByte: number; expected: number[]; actual: number[] }[];
}

/** Byte-for-byte comparison of two sets of output records of `outBytes` bytes each. */
export function compareOutputs(expected: Uint8Array, actual: Uint8Array, outBytes: number, keep = 10): OutputComparison {
  const first: OutputComparison['first'] = [];
  let mismatches = 0;
  for (let n = 0; n * outBytes < expected.length; n++) {
    const want = expected.subarray(n * outBytes, (n + 1) * outBytes);
    const got = actual.subarray(n * outBytes, (n + 1) * outBytes);
    const differing = want.reduce((k, v, i) => k + (v === got[i] ? 0 : 1), 0);
    if (differing === 0) continue;
    mismatches++;
    if (first.length >= keep) continue;
    const firstByte = want.findIndex((v, i) => v !== got[i]);
    const window = (b: Uint8Array): number[] => Array.from(new Int8Array(b.buffer, b.byteOffset + firstByte, Math.min(8, outBytes - firstByte)));
    first.push({ input: n, differingBytes: differing, firstByte, expected: window(want), actual: window(got) });
  }
  return { mismatches, first };
}

/**
 * The reference against the config's model.outputs (another runtime's results on the same
 * inputs), or null when the config names none.
 */
export function checkExpectedOutputs(config: Config, ir: IrModel, records: InputRecords, reference: Uint8Array): (OutputComparison & { file: string }) | null {
  const file = config.model.outputs;
  if (file === null) return null;
  const shown = relative(process.cwd(), file) || file;
  if (config.model.inputs === null) throw new UserError(`${shown} (model.outputs): expected outputs need the inputs they came from (model.inputs)`);
  const expected = new Uint8Array(readFileSync(file));
  const outBytes = outputRecordBytes(ir);
  // One record per record of the inputs file, of which verify may run only the first ones (--images).
  const inputCount = statSync(config.model.inputs).size / records.recordBytes;
  if (expected.length !== inputCount * outBytes) {
    throw new UserError(`${shown} (model.outputs): expected ${inputCount} records of ${outBytes} bytes (one per input record), found ${expected.length} bytes`);
  }
  return { file: shown, ...compareOutputs(expected.subarray(0, records.count * outBytes), reference, outBytes) };
}
