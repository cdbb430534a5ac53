// A model file verified on the config's dataset (model.verifyOn "dataset"): each 28x28 test image
// becomes one input record of the model, and its label lets verify report on-target accuracy. The
// pixels are mapped as tinyforge trains (real value = pixel / 255) and quantized with the model's
// own input scale and zero point (TFLite's rounding, half away from zero), so an exported
// tinyforge model imported back takes exactly the int8 values its zoo form computes on
// (q = pixel - 128 for its scale 1/255 and zero point -128).
import { loadDataset, type Dataset } from '../data/datasets.js';
import type { Config } from '../config/types.js';
import { graphInputs, tensorSize, type IrModel, type IrTensor } from '../ir/types.js';
import { roundHalfAwayFromZero } from '../quantize/multiplier.js';
import { UserError } from '../util/errors.js';
import type { InputRecords } from './imported-inputs.js';

const IMAGE_PIXELS = 28 * 28;

/** Why the model cannot take the dataset's images (or give a class per image), or null. */
export function datasetMismatch(ir: IrModel, classes: number): string | null {
  const inputs = graphInputs(ir).map((i) => ir.tensors.find((t) => t.id === i.tensor)!);
  if (inputs.length !== 1) return `the model has ${inputs.length} inputs; a dataset image feeds one`;
  const shape = inputs[0].shape.filter((d) => d !== 1);
  const image = (shape.length === 2 && shape[0] === 28 && shape[1] === 28) || (shape.length === 1 && shape[0] === IMAGE_PIXELS);
  if (!image) return `its input is ${inputs[0].shape.join('x')}, the dataset's images are 28x28x1 (accepted: [28, 28, 1], [28, 28], [784])`;
  const output = ir.tensors.find((t) => t.id === ir.output.tensor)!;
  if (tensorSize(output) !== classes) return `its output has ${tensorSize(output)} values, the dataset has ${classes} classes (one score each)`;
  return null;
}

/** 0..255 pixels -> the bytes of one input record of `t` (int8, or float32 little-endian). */
function pixelRecord(t: IrTensor, pixels: Uint8Array, out: Uint8Array): void {
  if (t.dtype === 'float32') {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    pixels.forEach((p, i) => view.setFloat32(4 * i, Math.fround(p / 255), true));
    return;
  }
  pixels.forEach((p, i) => {
    const q = roundHalfAwayFromZero(p / 255 / t.scale) + t.zeroPoint;
    out[i] = Math.max(-128, Math.min(127, q)) & 0xff;
  });
}

/** The first `count` test images (all when undefined) as input records, with their labels. */
export function datasetRecords(config: Config, ir: IrModel, count?: number, data?: Dataset): InputRecords {
  const set = data ?? loadDataset(config.dataset);
  const problem = datasetMismatch(ir, set.classNames.length);
  if (problem) {
    throw new UserError(
      `${config.path}: /model/verifyOn: "dataset" needs a model that takes ${set.name}'s images, but ${problem}; ` +
        'use "inputs" or "random"', undefined, { file: config.path, field: '/model/verifyOn' },
    );
  }
  if (count !== undefined && count > set.test.count) {
    throw new UserError(`--images ${count}: the ${set.name} test set has only ${set.test.count} images`, undefined, { field: '--images' });
  }
  const n = count ?? set.test.count;
  const input = ir.tensors.find((t) => t.id === ir.input.tensor)!;
  const recordBytes = tensorSize(input) * (input.dtype === 'float32' ? 4 : 1);
  const bytes = new Uint8Array(n * recordBytes);
  for (let k = 0; k < n; k++) {
    pixelRecord(input, set.test.images.subarray(k * IMAGE_PIXELS, (k + 1) * IMAGE_PIXELS), bytes.subarray(k * recordBytes, (k + 1) * recordBytes));
  }
  return { bytes, count: n, recordBytes, source: `${set.name} test set (${n} images)`, labels: set.test.labels.slice(0, n) };
}
