// The row-band run of a generated library (src/codegen/bands.ts) in one line, for bench:mcu and
// bench:kernels.
import type { RowBandSummary } from '../codegen/generate.js';

/** The row-band run of a generated library in one line (bench:mcu and bench:kernels). */
export function rowBandsLine(b: RowBandSummary, unbandedArenaBytes: number, validMacs: number): string {
  return (
    `row bands: ${b.first} .. ${b.last} (${b.layers} layers) in ${b.bands} bands of ${b.rows} row${b.rows === 1 ? '' : 's'}, ` +
    `workspace ${b.workspaceBytes} bytes; arena without bands ${unbandedArenaBytes}; recomputed halo rows +${b.extraMacs} MACs ` +
    `(+${((100 * b.extraMacs) / validMacs).toFixed(1)}% of ${validMacs} on valid taps; --no-bands: without)`
  );
}
