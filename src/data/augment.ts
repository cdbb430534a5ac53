// Training-time augmentation: a random rotation about the image centre plus a random shift,
// sampled bilinearly with zero fill. Applied to float pixels in [0, 1] of one batch at a time.
import { Rng } from '../util/random.js';

export interface AugmentOptions {
  maxShift: number;
  maxRotationDeg: number;
}

/** Writes `count` augmented HxW images from `src` into `dst` (both float, one channel). */
export function augmentBatch(
  src: Float32Array,
  dst: Float32Array,
  count: number,
  height: number,
  width: number,
  options: AugmentOptions,
  rng: Rng,
): void {
  const cy = (height - 1) / 2;
  const cx = (width - 1) / 2;
  const size = height * width;
  for (let n = 0; n < count; n++) {
    const angle = (rng.uniform(-1, 1) * options.maxRotationDeg * Math.PI) / 180;
    const dy = rng.uniform(-options.maxShift, options.maxShift);
    const dx = rng.uniform(-options.maxShift, options.maxShift);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const image = src.subarray(n * size, (n + 1) * size);
    const out = dst.subarray(n * size, (n + 1) * size);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // Inverse map: where in the source does this output pixel come from?
        const ry = y - cy - dy;
        const rx = x - cx - dx;
        const sy = cos * ry - sin * rx + cy;
        const sx = sin * ry + cos * rx + cx;
        out[y * width + x] = bilinear(image, height, width, sy, sx);
      }
    }
  }
}

function bilinear(image: Float32Array, height: number, width: number, y: number, x: number): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const at = (yy: number, xx: number) =>
    yy < 0 || yy >= height || xx < 0 || xx >= width ? 0 : image[yy * width + xx];
  return (
    (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
    fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
  );
}
