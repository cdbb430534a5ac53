/*
 * The few semihosting operations the firmware needs without going through newlib: the fault
 * handlers cannot trust stdio (the crash may have corrupted it), and the harness reads its
 * command line, which newlib only fetches from its own crt0 (not linked: -nostartfiles).
 */
#ifndef TINYFORGE_SEMIHOST_H
#define TINYFORGE_SEMIHOST_H

#include <stddef.h>

/* Writes a NUL-terminated string to the host's debug console (QEMU: its stderr/stdout). */
void semihost_write0(const char *text);

/* Copies the command line given to QEMU with -append (preceded by the image name) into buf.
 * Returns the length, or -1 if the host refused or buf was too small. */
int semihost_get_cmdline(char *buf, size_t size);

/* Ends the emulation with this exit status (QEMU returns it to the host, 8 bits). */
void semihost_exit(int status) __attribute__((noreturn));

#endif
