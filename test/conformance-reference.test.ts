// Conformance of the TypeScript reference with TensorFlow Lite Micro: every model under
// ../shared/conformance (the three TFLM example models and the single-op models of ops/) is
// imported from its .tflite file and run on every input in inputs.bin; every output byte must
// equal TFLM's golden outputs.bin. Where the folder has them, the pre-softmax logits (logits.bin)
// and every intermediate tensor of a few inferences (intermediates.bin, located by meta.json's
// extra_goldens) must be equal too; a mismatch names the first op whose output diverges.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTfliteFile } from '../src/import/file.js';
import { graphInputs, type IrModel } from '../src/ir/types.js';
import { packageRoot } from '../src/paths.js';
import { runReferenceBytes, runReferenceBytesTrace } from '../src/reference/interpreter.js';

// ../shared/conformance relative to the repository root (a sibling of the checkout).
const ROOT = join(packageRoot(), '..', 'shared', 'conformance');

interface GoldenTensor {
  name: string;
  bytes: number;
  offset_in_record?: number;
  producer?: string;
  producer_op?: number;
}
interface Meta {
  N: number;
  extra_goldens?: {
    'logits.bin'?: { tensor: GoldenTensor; bytes_per_inference: number };
    'intermediates.bin'?: { inference_indices: number[]; record_bytes: number; tensors: GoldenTensor[] };
  };
}

/** Every model folder: the real models, then ops/<name> in index.json order. */
function modelFolders(): string[] {
  if (!existsSync(ROOT)) return [];
  const real = ['hello_world_int8', 'micro_speech_quantized', 'person_detect'];
  const ops = Object.keys(JSON.parse(readFileSync(join(ROOT, 'ops', 'index.json'), 'utf8')).models as object).map((m) => `ops/${m}`);
  return [...real, ...ops];
}

function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function tensorByName(ir: IrModel, name: string): number | undefined {
  return ir.tensors.find((t) => t.name === name)?.id;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Bytes per inference of the graph's inputs and output (int8: 1 per element, float32: 4). */
function ioBytes(ir: IrModel): { input: number; output: number } {
  const bytes = (id: number) => {
    const t = ir.tensors.find((x) => x.id === id)!;
    return t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'float32' ? 4 : 1);
  };
  return { input: graphInputs(ir).reduce((n, i) => n + bytes(i.tensor), 0), output: bytes(ir.output.tensor) };
}

/**
 * The first golden intermediate (in TFLM's op order) that the reference does not reproduce, or
 * undefined when all of them match (tensors the IR elides, e.g. a RESHAPE's, are skipped), and
 * how many tensors were compared.
 */
function firstDivergence(ir: IrModel, folder: string, meta: Meta, inputs: Uint8Array, inputBytes: number): { compared: number; divergence?: string } {
  const table = meta.extra_goldens?.['intermediates.bin'];
  if (!table) return { compared: 0 };
  let compared = 0;
  const records = readBytes(join(ROOT, folder, 'intermediates.bin'));
  const tensors = [...table.tensors].sort((a, b) => (a.producer_op ?? 0) - (b.producer_op ?? 0));
  for (const [r, k] of table.inference_indices.entries()) {
    const trace = runReferenceBytesTrace(ir, inputs.subarray(k * inputBytes, (k + 1) * inputBytes));
    for (const g of tensors) {
      const id = tensorByName(ir, g.name);
      if (id === undefined) continue;
      const data = trace.get(id)!;
      const ours = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const start = r * table.record_bytes + g.offset_in_record!;
      const golden = records.subarray(start, start + g.bytes);
      compared++;
      if (!equalBytes(ours, golden)) {
        const at = ours.findIndex((v, i) => v !== golden[i]);
        return { compared, divergence: `inference ${k}: tensor "${g.name}" (TFLM op ${g.producer_op} ${g.producer}) first differs at byte ${at}` };
      }
    }
  }
  return { compared };
}

const folders = modelFolders();

if (folders.length === 0) {
  describe('reference vs TFLite Micro goldens', () => {
    it.skip(`skipped: ${ROOT} is absent (the conformance models live next to the repository)`, () => {});
  });
}

describe.skipIf(folders.length === 0)(`reference vs TFLite Micro goldens (${ROOT})`, () => {
  for (const folder of folders) {
    it(`${folder}: every output byte equals TFLM's`, () => {
      const dir = join(ROOT, folder);
      const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
      const ir = importTfliteFile(join(dir, 'model.tflite'));
      const { input: inputBytes, output: outputBytes } = ioBytes(ir);
      const inputs = readBytes(join(dir, 'inputs.bin'));
      const golden = readBytes(join(dir, 'outputs.bin'));
      expect(inputs.length).toBe(meta.N * inputBytes);
      expect(golden.length).toBe(meta.N * outputBytes);

      const logits = meta.extra_goldens?.['logits.bin'];
      const logitsGolden = logits && readBytes(join(dir, 'logits.bin'));
      const logitsId = logits && tensorByName(ir, logits.tensor.name);
      if (logits) expect(logitsId, `IR tensor for the logits "${logits.tensor.name}"`).toBeDefined();

      const wrong: number[] = [];
      for (let k = 0; k < meta.N; k++) {
        const x = inputs.subarray(k * inputBytes, (k + 1) * inputBytes);
        const want = golden.subarray(k * outputBytes, (k + 1) * outputBytes);
        let ok: boolean;
        if (logits && logitsGolden && logitsId !== undefined) {
          const trace = runReferenceBytesTrace(ir, x);
          const out = trace.get(ir.output.tensor)!;
          const l = trace.get(logitsId)!;
          const n = logits.bytes_per_inference;
          ok = equalBytes(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), want) &&
            equalBytes(new Uint8Array(l.buffer, l.byteOffset, l.byteLength), logitsGolden.subarray(k * n, (k + 1) * n));
        } else {
          ok = equalBytes(runReferenceBytes(ir, x), want);
        }
        if (!ok) wrong.push(k);
      }
      const { compared, divergence } = firstDivergence(ir, folder, meta, inputs, inputBytes);
      expect({ wrongInferences: wrong, firstDivergingIntermediate: divergence }).toEqual({ wrongInferences: [], firstDivergingIntermediate: undefined });
      // Where TFLM's intermediates are given, the IR's tensor names must let us compare them.
      if (meta.extra_goldens?.['intermediates.bin']) expect(compared).toBeGreaterThan(0);
    });
  }
});
