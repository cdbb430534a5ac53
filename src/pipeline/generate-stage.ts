// Generate stage: model.ir.json -> the C library in <out>/c (see docs/c-api.md), and the package
// forms the config or the command line asks for in <out>/packages/<kind>/ (docs/integration.md).
import { join } from 'node:path';
import { generateLibrary, writeLibrary, tinyforgeVersion, type GeneratedLibrary } from '../codegen/generate.js';
import { generatePackage, packageName, writePackage, type PackageSample } from '../codegen/packages.js';
import { modelHash } from '../codegen/prefix.js';
import type { Config, PackageKind } from '../config/types.js';
import { loadDataset } from '../data/datasets.js';
import { graphInputs, tensorSize, type IrModel } from '../ir/types.js';
import type { RunPaths } from '../paths.js';
import { argmax, pixelsToInput, runReference, runReferenceBytes } from '../reference/interpreter.js';
import { quantizedSide } from '../codegen/api.js';
import { footprintCheckImage } from '../toolchain/footprint.js';
import { log } from '../util/log.js';
import type { ValidIr } from '../ir/validate.js';

export interface GenerateStageResult extends GeneratedLibrary {
  /** Package folders written, by kind. */
  packages: Partial<Record<PackageKind, string>>;
}

export function generateStage(
  config: Config, paths: RunPaths, ir: ValidIr, opts: { packages?: PackageKind[] } = {},
): GenerateStageResult {
  const { codegen } = config;
  const lib = generateLibrary(ir, { prefix: codegen.prefix, arena: codegen.arena, modelVersion: codegen.version, rowBands: codegen.rowBands,
    rowBandsMaxExtraMacs: codegen.rowBandsMaxExtraMacs ?? undefined,
  });
  writeLibrary(paths.cDir, lib);
  log.info(
    `wrote ${Object.keys(lib.files).length} files to ${paths.cDir} (prefix ${lib.prefix}): arena ${lib.arenaBytes} bytes ` +
      `(lower bound ${lib.arenaLowerBoundBytes}), weights ${lib.weightsBytes} bytes` +
      (lib.rowBands
        ? `; ${lib.rowBands.first} .. ${lib.rowBands.last} in row bands (arena ${lib.unbandedArenaBytes} without, +${lib.rowBands.extraMacs} MACs; codegen.rowBands: false turns them off)`
        : ''),
  );
  const kinds = [...new Set([...codegen.package, ...(opts.packages ?? [])])];
  const packages: Partial<Record<PackageKind, string>> = {};
  if (kinds.length === 0) return { ...lib, packages };

  if (codegen.url === null && kinds.includes('arduino')) {
    log.warn(`config ${config.name}: codegen.url is not set; the Arduino Library Manager requires library.properties' url field`);
  }
  const info = {
    name: ir.name,
    version: codegen.version,
    tinyforgeVersion: tinyforgeVersion(ir),
    hash: modelHash(ir),
    author: codegen.author,
    url: codegen.url,
    portable: config.target.dsp === 'off',
    optimization: config.target.optimization,
    arenaExternal: codegen.arena === 'external',
    arenaBytes: lib.arenaBytes,
    weightsBytes: lib.weightsBytes,
    macs: lib.macs,
    sample: sampleInput(config, ir, lib.hasPredictU8),
  };
  for (const kind of kinds) {
    const dir = join(paths.root, 'packages', kind, packageName(lib.prefix));
    writePackage(dir, generatePackage(kind, lib, info));
    packages[kind] = dir;
    log.info(`wrote the ${kind} package to ${dir}`);
  }
  return { ...lib, packages };
}

/**
 * The example sketches' input: for an image model (one with <prefix>_predict_u8), the first test
 * image of the config's dataset, or, where the dataset cannot be read here, the fixed pattern of
 * the footprint check; for any other model, that pattern as the input tensor's values (int8, or
 * for a float32 input the real values it quantizes to). With the class the reference gives it.
 */
function sampleInput(config: Config, ir: IrModel, image: boolean): PackageSample {
  if (!image) return tensorSample(ir);
  const size = ir.tensors.find((t) => t.id === ir.input.tensor)!.shape.reduce((a, b) => a * b, 1);
  let pixels: Uint8Array;
  let what: string;
  try {
    const test = loadDataset({ ...config.dataset, trainLimit: 1, testLimit: 1 }).test;
    if (test.images.length !== size) throw new Error(`images of ${test.images.length} bytes, the model takes ${size}`);
    pixels = test.images.slice(0, size);
    what = `the first ${config.dataset.name} test image (label ${test.labels[0]})`;
  } catch (err) {
    log.debug(`sample input: ${(err as Error).message}; using a fixed pattern`);
    pixels = footprintCheckImage(size);
    what = 'a fixed pseudo-random pattern (the dataset could not be read when the package was generated)';
  }
  return { values: pixels, image: true, ctype: 'uint8_t', expected: argmax(runReference(ir, pixelsToInput(ir, pixels))), what };
}

/** A non-image model's sample: the footprint check's pattern as int8 values, dequantized for a float32 input. */
function tensorSample(ir: IrModel): PackageSample {
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const tensors = graphInputs(ir).map((i) => byId.get(i.tensor)!);
  const isFloat = tensors[0]!.dtype === 'float32';
  const values: number[] = [];
  const record: number[] = [];
  for (const t of tensors) {
    const q = quantizedSide(ir, t, 'input');
    const pattern = footprintCheckImage(tensorSize(t));
    for (const p of pattern) {
      const v = (p - 128) | 0;
      if (!isFloat) {
        values.push(v);
        record.push(v & 0xff);
        continue;
      }
      const x = Math.fround(q.scale * (v - q.zeroPoint));
      values.push(x);
      record.push(...new Uint8Array(Float32Array.of(x).buffer));
    }
  }
  const out = runReferenceBytes(ir, Uint8Array.from(record));
  const output = byId.get(ir.output.tensor)!;
  const decoded = output.dtype === 'float32' ? new Float32Array(out.buffer, out.byteOffset, out.length / 4) : new Int8Array(out.buffer, out.byteOffset, out.length);
  return {
    values,
    image: false,
    ctype: isFloat ? 'float' : 'int8_t',
    expected: argmax(decoded),
    what: `a fixed pseudo-random pattern of input values (${isFloat ? 'float32' : 'int8'})`,
  };
}
