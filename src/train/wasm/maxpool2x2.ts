// MaxPoolGrad for the one pooling the zoo uses: 2x2 windows, stride 2, no padding. The generic
// kernel (gradients.ts) resets a per-channel running maximum and its position for every window
// and loops over window taps; here each window is four loads and three compares per channel,
// and every element of dx is written exactly once (no zero-fill pass). Same semantics: the first
// maximum of the window, strictly greater wins, receives dy (a window of NaNs passes nothing).

/** Whether the specialised path applies (2x2, stride 2, no padding on top/left). */
export function isPlain2x2(filterHeight: number, filterWidth: number, strideHeight: number, strideWidth: number,
  padTop: number, padLeft: number): boolean {
  return filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && padTop === 0 && padLeft === 0;
}

/**
 * dx for an NHWC input x of [batch, height, width, channels] pooled to [batch, outHeight,
 * outWidth, channels] (outHeight = floor(height / 2)); rows and columns no window covers get 0.
 */
export function maxPoolGrad2x2(x: Float32Array, dy: Float32Array, dx: Float32Array,
  batch: number, height: number, width: number, channels: number, outHeight: number, outWidth: number): void {
  const row = width * channels;
  if (outHeight * 2 !== height || outWidth * 2 !== width) dx.fill(0);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const p = ((b * height + oh * 2) * width + ow * 2) * channels;
        for (let c = 0; c < channels; c++, o++) {
          const i0 = p + c;
          const i1 = i0 + channels;
          const i2 = i0 + row;
          const i3 = i2 + channels;
          const v0 = x[i0];
          const v1 = x[i1];
          const v2 = x[i2];
          const v3 = x[i3];
          let at = v0 > -Infinity ? 0 : -1;
          let best = at === 0 ? v0 : -Infinity;
          if (v1 > best) { best = v1; at = 1; }
          if (v2 > best) { best = v2; at = 2; }
          if (v3 > best) at = 3;
          const g = dy[o];
          dx[i0] = at === 0 ? g : 0;
          dx[i1] = at === 1 ? g : 0;
          dx[i2] = at === 2 ? g : 0;
          dx[i3] = at === 3 ? g : 0;
        }
      }
    }
  }
}
