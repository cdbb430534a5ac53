// What the firmware's exit statuses mean. Same table as firmware/startup/exit_codes.h.
export const firmwareExitCodes: Record<number, string> = {
  0: 'success',
  1: 'abort() or a plain semihosting failure exit',
  2: 'bad harness command line (expected in=, out=, offset=, count=)',
  3: 'the harness could not open the image file',
  4: 'the image file ends before the requested range (seek or read failed)',
  5: 'the harness could not create the result file',
  6: 'writing or closing the result file failed',
  70: 'HardFault',
  71: 'MemManage fault',
  72: 'BusFault',
  73: 'UsageFault',
  74: 'SecureFault',
  75: 'NMI',
  76: 'unexpected exception or interrupt',
};

/** True for the statuses the fault handlers use: the firmware crashed. */
export function isFaultExit(code: number): boolean {
  return code >= 70 && code <= 76;
}

export function describeExit(code: number): string {
  return firmwareExitCodes[code] ?? `exit status ${code} (not one of the firmware's: QEMU itself may have failed)`;
}
