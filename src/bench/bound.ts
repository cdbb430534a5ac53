// The arithmetic bound the kernel benchmarks state beside every instruction count.

/**
 * Instructions per MAC the arithmetic alone needs: SMLAD does two MACs (DSP path: 0.5); MLA one
 * (Cortex-M3/M4/M7/M33 portable: 1); ARMv6-M/ARMv8-M Baseline have only MULS + ADDS (2).
 */
export function boundPerMac(core: string, path: 'portable' | 'dsp'): number {
  if (path === 'dsp') return 0.5;
  return /cortex-m(0|0plus|1|23)$/.test(core) ? 2 : 1;
}
