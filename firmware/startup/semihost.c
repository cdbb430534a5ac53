/* Semihosting calls: BKPT 0xAB with the operation in r0 and its argument in r1 (Arm's
 * "Semihosting for AArch32 and AArch64", M-profile form). QEMU needs
 * -semihosting-config enable=on, or the first BKPT locks the core up. */
#include "semihost.h"

#include <stdint.h>

enum {
    SYS_WRITE0 = 0x04,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT = 0x18,
    SYS_EXIT_EXTENDED = 0x20,
};

/* The reason code that means "the application exited"; anything else is reported as a failure. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int semihost_call(int operation, void *argument)
{
    register int r0 __asm__("r0") = operation;
    register void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihost_write0(const char *text)
{
    semihost_call(SYS_WRITE0, (void *)text);
}

int semihost_get_cmdline(char *buf, size_t size)
{
    struct {
        char *buf;
        int size;
    } block = { buf, (int)size };

    if (semihost_call(SYS_GET_CMDLINE, &block) != 0)
        return -1;
    return block.size;
}

void semihost_exit(int status)
{
    /* SYS_EXIT on AArch32 carries only a reason code (QEMU maps it to 0 or 1); the extended
     * form carries the status itself, which is how distinct error codes reach the host. */
    uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };

    semihost_call(SYS_EXIT_EXTENDED, block);
    /* A host without the extended call returns here: fall back to a plain failure exit. */
    semihost_call(SYS_EXIT, (void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0x20023u));
    for (;;) {
    }
}
