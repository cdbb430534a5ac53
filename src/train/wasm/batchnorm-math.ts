// The per-channel arithmetic of the training batch norm, shared by its cpu and wasm kernels
// (batchnorm.ts, batchnorm-wasm.ts), which differ only in how they sum over the rows.
// Tensors are viewed as [M, C] rows (NHWC: M = N*H*W); small vectors are float64.

export interface BatchStatistics {
  mean: Float64Array;
  /** Biased (divided by M), as tfjs-layers' moments. */
  variance: Float64Array;
  /** y = x * gain + shift per channel. */
  gain: Float64Array;
  shift: Float64Array;
}

/** Mean and variance from the per-channel sums of x and x^2, and the affine map they give. */
export function batchStatistics(sums: Float64Array, squareSums: Float64Array, rows: number,
  gamma: Float32Array, beta: Float32Array, epsilon: number): BatchStatistics {
  const channels = sums.length;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  const gain = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    mean[c] = sums[c] / rows;
    // E[x^2] - mean^2 can round below zero when the variance is tiny against the mean.
    variance[c] = Math.max(squareSums[c] / rows - mean[c] * mean[c], 0);
    gain[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
    shift[c] = beta[c] - mean[c] * gain[c];
  }
  return { mean, variance, gain, shift };
}

export interface GradientCoefficients {
  /** dx = dy * dyGain + x * xGain + shift, per channel. */
  dyGain: Float64Array;
  xGain: Float64Array;
  shift: Float64Array;
  dScale: Float64Array;
}

/**
 * With r = 1 / sqrt(variance + epsilon), S1 = sum(dy), S2 = sum(dy * (x - mean)):
 *   dx = gamma * r * (dy - S1 / M - (x - mean) * r^2 * S2 / M),  dgamma = r * S2,  dbeta = S1.
 * (The full gradient through the batch statistics, as autodiff of the composite gives.)
 */
export function gradientCoefficients(dySums: Float64Array, dyCentredSums: Float64Array, rows: number,
  gamma: Float32Array, mean: Float32Array, variance: Float32Array, epsilon: number): GradientCoefficients {
  const channels = dySums.length;
  const dyGain = new Float64Array(channels);
  const xGain = new Float64Array(channels);
  const shift = new Float64Array(channels);
  const dScale = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const r = 1 / Math.sqrt(variance[c] + epsilon);
    dyGain[c] = gamma[c] * r;
    xGain[c] = -dyGain[c] * r * r * dyCentredSums[c] / rows;
    shift[c] = -dyGain[c] * dySums[c] / rows - xGain[c] * mean[c];
    dScale[c] = r * dyCentredSums[c];
  }
  return { dyGain, xGain, shift, dScale };
}

/**
 * out = u * uGain + v * vGain + shift per channel (v optional). Channel-outer loops with the
 * coefficients in locals: measured about twice as fast in V8 as indexing them per element.
 */
export function affineRows(out: Float32Array, u: Float32Array, uGain: Float64Array,
  v: Float32Array | null, vGain: Float64Array | null, shift: Float64Array): void {
  const channels = uGain.length;
  const n = out.length;
  for (let c = 0; c < channels; c++) {
    const a = uGain[c];
    const d = shift[c];
    if (v && vGain) {
      const b = vGain[c];
      for (let i = c; i < n; i += channels) out[i] = u[i] * a + v[i] * b + d;
    } else {
      for (let i = c; i < n; i += channels) out[i] = u[i] * a + d;
    }
  }
}

/** Per-channel sums of f(row element) over the rows, in float64: the cpu kernels' reduction. */
export function columnSums(values: Float32Array, channels: number, weight?: Float32Array): Float64Array {
  const sums = new Float64Array(channels);
  const n = values.length;
  for (let c = 0; c < channels; c++) {
    let s = 0;
    if (weight) for (let i = c; i < n; i += channels) s += values[i] * weight[i];
    else for (let i = c; i < n; i += channels) s += values[i];
    sums[c] = s;
  }
  return sums;
}
