// Activation ranges for int8 quantization, observed on calibration images from the training
// set: per op output, either the plain min/max or a central percentile range that ignores rare
// outliers (which would otherwise stretch the scale and cost resolution for everything else).
import * as tf from '@tensorflow/tfjs';
import type { FloatGraph } from './float-graph.js';

export interface Range {
  min: number;
  max: number;
}

export interface CalibrationOptions {
  method: 'minmax' | 'percentile';
  percentile: number;
}

/** A model that returns the output of every named layer, in the order given. */
export function tapModel(model: tf.LayersModel, layerNames: string[]): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: layerNames.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
}

/** Runs `images` (float, NHWC flattened) through the tap model in batches, one callback per tap. */
export function forEachTapBatch(
  taps: tf.LayersModel, images: Float32Array, count: number, shape: number[],
  visit: (tap: number, values: Float32Array) => void, batch = 100,
): void {
  const size = shape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const outputs = tf.tidy(() => {
      const x = tf.tensor(images.subarray(start * size, (start + n) * size), [n, ...shape]);
      const y = taps.predict(x);
      return Array.isArray(y) ? y : [y];
    });
    outputs.forEach((t, i) => visit(i, t.dataSync() as Float32Array));
    tf.dispose(outputs);
  }
}

function percentileRange(values: Float32Array, percentile: number): Range {
  const sorted = Float32Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))];
  return { min: at(100 - percentile), max: at(percentile) };
}

/** One range per op of the graph, keyed by the op's output layer. */
export function calibrate(
  model: tf.LayersModel, graph: FloatGraph, images: Float32Array, count: number, options: CalibrationOptions,
): Map<string, Range> {
  const layers = [...new Set(graph.ops.map((op) => op.outputLayer))];
  const taps = tapModel(model, layers);
  const ranges = layers.map(() => ({ min: Infinity, max: -Infinity }));
  const collected: Float32Array[][] = layers.map(() => []);
  forEachTapBatch(taps, images, count, graph.inputShape, (i, values) => {
    if (options.method === 'percentile') {
      collected[i].push(Float32Array.from(values));
      return;
    }
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      if (v < ranges[i].min) ranges[i].min = v;
      if (v > ranges[i].max) ranges[i].max = v;
    }
  });
  if (options.method === 'percentile') {
    collected.forEach((chunks, i) => {
      const all = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
      let offset = 0;
      for (const c of chunks) {
        all.set(c, offset);
        offset += c.length;
      }
      ranges[i] = percentileRange(all, options.percentile);
    });
  }
  return new Map(layers.map((name, i) => [name, ranges[i]]));
}
