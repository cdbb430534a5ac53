/*
 * Exit statuses the firmware hands to QEMU through semihosting. src/toolchain/exitcodes.ts
 * holds the same table for the host: change both together.
 */
#ifndef TINYFORGE_EXIT_CODES_H
#define TINYFORGE_EXIT_CODES_H

#define EXIT_OK 0

/* Harness I/O (firmware/harness/harness.c). */
#define EXIT_USAGE 2        /* command line missing or malformed */
#define EXIT_OPEN_INPUT 3   /* the image file could not be opened */
#define EXIT_READ_INPUT 4   /* seek or read failed: the range runs past the end of the file */
#define EXIT_OPEN_OUTPUT 5  /* the result file could not be created */
#define EXIT_WRITE_OUTPUT 6 /* a write or the final close of the result file failed */

/* Faults (firmware/startup/faults.c): the core crashed, the handler reported it. */
#define EXIT_HARD_FAULT 70
#define EXIT_MEM_MANAGE 71
#define EXIT_BUS_FAULT 72
#define EXIT_USAGE_FAULT 73
#define EXIT_SECURE_FAULT 74
#define EXIT_NMI 75
#define EXIT_UNEXPECTED_IRQ 76

#endif
