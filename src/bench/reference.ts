// Throughput of the int8 reference interpreter: images/s of evaluateReference over the 10k
// MNIST test images.
//
//   node dist/bench/reference.js [model.ir.json]     (default: out/default/model.ir.json)
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadDataset } from '../data/datasets.js';
import { loadIr } from '../ir/io.js';
import { tensorSize } from '../ir/types.js';
import { evaluateReference } from '../reference/interpreter.js';
import { UserError } from '../util/errors.js';
import { runBench } from './main.js';

const DEFAULT_IR = 'out/default/model.ir.json';

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
  const { images, labels } = loadDataset({ name: 'mnist', dir: null, trainLimit: 1, testLimit: null }).test;

  // Warm up (JIT) on a few hundred images, then time the whole set.
  const warm = 500;
  evaluateReference(ir, images.subarray(0, warm * 784), labels.subarray(0, warm));
  const start = performance.now();
  const { accuracy } = evaluateReference(ir, images, labels);
  const seconds = (performance.now() - start) / 1000;
  const n = labels.length;
  console.log(`${irPath}: ${n} images in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} images/s (int8 accuracy ${(accuracy * 100).toFixed(2)}%)`);
}

await runBench(main);
