// The memory the main thread and the training workers share (one SharedArrayBuffer), and the
// barrier the workers meet at each step. Layout, in 4-byte words:
//   control   [arrived, generation]                  the barrier
//   results   [loss, correct] per worker               (float32)
//   images    batch x input size                       (float32, written by the main thread)
//   labels    batch                                    (int32)
//   slots     per worker: every trainable gradient, then every moving statistic (float32)
//   weights   every weight of the model, in getWeights() order (written by worker 0 after a step)
// Each worker writes only its own slot; after the barrier every worker reads all slots in the
// same order, so every copy computes bit-identical averages.

export interface ExchangeLayout {
  workers: number;
  batchSize: number;
  inputSize: number;
  /** Floats in one worker's slot: gradients then moving statistics. */
  slotSize: number;
  /** Floats of all the model's weights. */
  weightCount: number;
}

export interface Exchange {
  layout: ExchangeLayout;
  buffer: SharedArrayBuffer;
  control: Int32Array;
  results: Float32Array;
  images: Float32Array;
  labels: Int32Array;
  slots: Float32Array[];
  weights: Float32Array;
}

const CONTROL_WORDS = 2;
const ARRIVED = 0;
const GENERATION = 1;

/** Views over `buffer` (a new one of the right size when absent). */
export function openExchange(layout: ExchangeLayout, buffer?: SharedArrayBuffer): Exchange {
  const { workers, batchSize, inputSize, slotSize, weightCount } = layout;
  const words = [CONTROL_WORDS, 2 * workers, batchSize * inputSize, batchSize, workers * slotSize, weightCount];
  const total = words.reduce((a, b) => a + b, 0);
  const shared = buffer ?? new SharedArrayBuffer(total * 4);
  if (shared.byteLength !== total * 4) throw new Error(`exchange buffer holds ${shared.byteLength} bytes, the layout needs ${total * 4}`);
  const offsets: number[] = [];
  words.reduce((at, n) => (offsets.push(at), at + n), 0);
  const f32 = (i: number) => new Float32Array(shared, offsets[i] * 4, words[i]);
  const slots = Array.from({ length: workers }, (_, w) => new Float32Array(shared, (offsets[4] + w * slotSize) * 4, slotSize));
  return {
    layout, buffer: shared, control: new Int32Array(shared, 0, CONTROL_WORDS),
    results: f32(1), images: f32(2), labels: new Int32Array(shared, offsets[3] * 4, batchSize), slots, weights: f32(5),
  };
}

/** Blocks (Atomics.wait: worker threads only) until every worker has arrived. Reusable. */
export function arriveAndWait(exchange: Exchange): void {
  const { control } = exchange;
  const generation = Atomics.load(control, GENERATION);
  if (Atomics.add(control, ARRIVED, 1) === exchange.layout.workers - 1) {
    Atomics.store(control, ARRIVED, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    return;
  }
  while (Atomics.load(control, GENERATION) === generation) Atomics.wait(control, GENERATION, generation);
}

/** The rows [start, end) of a `count`-row batch that worker `index` of `workers` trains on. */
export function shardOf(count: number, workers: number, index: number): { start: number; end: number } {
  const base = Math.floor(count / workers);
  const extra = count % workers;
  const start = index * base + Math.min(index, extra);
  return { start, end: start + base + (index < extra ? 1 : 0) };
}
