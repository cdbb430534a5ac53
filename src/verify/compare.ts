// Bit-exactness: the firmware's int8 logits and classes against the TypeScript reference's.
export interface Mismatch {
  image: number;
  expectedClass: number;
  actualClass: number;
  expectedLogits: number[];
  actualLogits: number[];
}

export interface Comparison {
  images: number;
  /** Images whose class or any logit differs. */
  mismatches: number;
  /** The first few, for the report. */
  first: Mismatch[];
}

export function compareLogits(
  expected: { classes: Uint8Array; logits: Int8Array },
  actual: { classes: Uint8Array; logits: Int8Array },
  numClasses: number,
  keep = 10,
): Comparison {
  const images = expected.classes.length;
  if (actual.classes.length !== images || actual.logits.length !== expected.logits.length) {
    throw new Error(`compareLogits: ${images} reference results but ${actual.classes.length} from the firmware`);
  }
  const first: Mismatch[] = [];
  let mismatches = 0;
  for (let i = 0; i < images; i++) {
    let same = expected.classes[i] === actual.classes[i];
    for (let k = 0; k < numClasses && same; k++) same = expected.logits[i * numClasses + k] === actual.logits[i * numClasses + k];
    if (same) continue;
    mismatches++;
    if (first.length < keep) {
      const slice = (a: Int8Array) => Array.from(a.subarray(i * numClasses, (i + 1) * numClasses));
      first.push({
        image: i, expectedClass: expected.classes[i], actualClass: actual.classes[i],
        expectedLogits: slice(expected.logits), actualLogits: slice(actual.logits),
      });
    }
  }
  return { images, mismatches, first };
}

export function formatMismatches(c: Comparison): string {
  return c.first
    .map((m) => `  image ${m.image}: class ${m.actualClass} (reference ${m.expectedClass}), logits [${m.actualLogits.join(', ')}] vs reference [${m.expectedLogits.join(', ')}]`)
    .join('\n');
}
