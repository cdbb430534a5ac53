// A row-band run (bands.ts) -> the C that runs it: a loop over the bands of the run's last output,
// each band working out the rows every layer computes (from the last layer back to the first) and
// calling each layer's kernel on a copy of its parameter block with in_h, out_h and pad_top set for
// the band. Plus the helper type and function (once per model) and the memory-plan comment lines.
import type { BandPlan } from './bands.js';
import { commentSafe, shapeText } from './format.js';
import { conv2dFunction } from './layers.js';

/** What the band loop needs to know of each layer's C besides its geometry. */
export interface BandLayerNames {
  /** The layer's const parameter block. */
  pName: string;
  /** The layer's name, for comments. */
  name: string;
}

/** The C type of the band row helper and the helper itself (static, in <prefix>.c). */
export function bandHelper(prefix: string): string {
  return [
    `/* The rows one layer computes in one band of a row-band run (see ${prefix}_run). */`,
    'typedef struct {',
    '    int32_t out_first, out_last;  /* output rows [out_first, out_last) */',
    '    int32_t in_first, in_last;    /* the input rows they read */',
    '    int16_t in_h, out_h, pad_top; /* the kernel\'s fields for this band */',
    `} ${prefix}_band_t;`,
    '',
    '/*',
    ' * Output rows [out_first, out_last) of a layer whose output row o reads input rows',
    ' * o * stride - pad .. o * stride - pad + span - 1 (a conv2d with a fused max pooling of n rows: n',
    ' * conv rows per output row), those inside [0, in_h). Only the top band reads padding rows',
    ' * (pad_top); the bottom band\'s last windows reach past in_h, which the kernel skips as padding.',
    ' */',
    `static ${prefix}_band_t ${prefix}_band_rows(int32_t out_first, int32_t out_last,`,
    `${' '.repeat(2 * prefix.length + 26)}int32_t stride, int32_t pad, int32_t span, int32_t in_h)`,
    '{',
    '    const int32_t top = out_first * stride - pad;',
    '    const int32_t bottom = (out_last - 1) * stride - pad + span;',
    `    ${prefix}_band_t b;`,
    '    b.out_first = out_first;',
    '    b.out_last = out_last;',
    '    b.in_first = (top > 0) ? top : 0;',
    '    b.in_last = (bottom < in_h) ? bottom : in_h;',
    '    b.in_h = (int16_t)(b.in_last - b.in_first);',
    '    b.out_h = (int16_t)(out_last - out_first);',
    '    b.pad_top = (int16_t)(b.in_first - top);',
    '    return b;',
    '}',
  ].join('\n');
}

function paramsType(band: BandPlan, k: number): string {
  const L = band.layers[k]!.layer;
  if (L.family === 'pool') return 'tinyforge_pool2d_params_t';
  return L.kind === 'conv2d' ? 'tinyforge_conv2d_params_t' : 'tinyforge_depthwise_conv2d_params_t';
}

function kernelName(band: BandPlan, k: number): string {
  const L = band.layers[k]!.layer;
  if (L.family === 'conv' && L.kind === 'conv2d') return conv2dFunction(L.inShape.c);
  return `tinyforge_${L.kind}`;
}

/** One line: what the run does, above the loop in <prefix>_run. */
export function bandBrief(band: BandPlan, names: BandLayerNames[]): string {
  const last = band.layers[band.layers.length - 1]!;
  return (
    `${names[0]!.name} .. ${names[names.length - 1]!.name} (${band.layers.length} layers) in row bands: ` +
    `${band.rows} of the ${last.outH} output rows at a time (${band.bands} bands)`
  );
}

/**
 * The loop running the band run. `arena`: the C expression of the arena (int8_t *); `at(tensor)`
 * the arena offset of a whole tensor; `workspace` the workspace's offset; `externalArena`: the
 * im2col pointers are set per call.
 */
export function bandLoop(
  band: BandPlan,
  names: BandLayerNames[],
  prefix: string,
  offsets: { input: number; output: number; workspace: number },
  externalArena: boolean,
): string[] {
  const n = band.layers.length;
  const last = band.layers[n - 1]!;
  const lines: string[] = [];
  const rows = band.rows;
  lines.push(`for (int32_t row = 0; row < ${last.outH}; row += ${rows}) {`);
  lines.push('    /* The rows each layer computes in this band, from the last layer back to the first. */');
  for (let k = n - 1; k >= 0; k--) {
    const L = band.layers[k]!;
    const range = k === n - 1 ? `row, (row + ${rows} < ${last.outH}) ? row + ${rows} : ${last.outH}` : `b${k + 1}.in_first, b${k + 1}.in_last`;
    lines.push(
      `    const ${prefix}_band_t b${k} = ${prefix}_band_rows(${range}, ${L.stride}, ${L.pad}, ${L.span}, ${L.inH}); /* ${names[k]!.name} */`,
    );
  }
  const buffer = (k: number) => `&${prefix}_arena[${offsets.workspace + band.bufferOffsets[k]!}]`;
  for (let k = 0; k < n; k++) {
    const L = band.layers[k]!;
    const input = k === 0 ? `&${prefix}_arena[${offsets.input} + b0.in_first * ${L.inRowBytes}]` : buffer(k - 1);
    const output = k === n - 1 ? `&${prefix}_arena[${offsets.output} + b${k}.out_first * ${L.outRowBytes}]` : buffer(k);
    const held = k === n - 1 ? 'into the whole output' : `into a band of at most ${band.bufferRows[k]} rows`;
    lines.push(`    { /* ${names[k]!.name}: rows [b${k}.out_first, b${k}.out_last) of ${L.outH}, ${held} */`);
    lines.push(`        ${paramsType(band, k)} p = ${names[k]!.pName};`);
    lines.push(`        p.in_h = b${k}.in_h;`);
    lines.push(`        p.out_h = b${k}.out_h;`);
    lines.push(`        p.pad_top = b${k}.pad_top;`);
    if (externalArena && band.scratchSizes[k]! > 0) {
      lines.push(`        p.im2col = &${prefix}_arena[${offsets.workspace + band.scratchOffsets[k]!}];`);
    }
    lines.push(`        ${kernelName(band, k)}(&p, ${input}, ${output});`);
    lines.push('    }');
  }
  lines.push('}');
  return lines;
}

/** Memory-plan comment lines for the workspace of a band run placed at `workspace`. */
export function bandPlacementLines(band: BandPlan, names: BandLayerNames[], workspace: number, width: number): string[] {
  const range = (off: number, bytes: number) => `[${String(off).padStart(width)}, ${String(off + bytes).padStart(width)})`;
  const lines: string[] = [];
  band.bufferBytes.forEach((bytes, k) => {
    const t = band.layers[k]!.layer.output;
    lines.push(
      `  ${range(workspace + band.bufferOffsets[k]!, bytes)}  band of ${band.bufferRows[k]} rows of ${commentSafe(t.name)} ${shapeText(t.shape)}`,
    );
  });
  band.scratchSizes.forEach((bytes, k) => {
    if (bytes > 0) lines.push(`  ${range(workspace + band.scratchOffsets[k]!, bytes)}  im2col scratch of ${names[k]!.name}`);
  });
  return lines;
}
