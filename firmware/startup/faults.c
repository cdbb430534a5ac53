/*
 * Fault handlers: say what crashed and where, then end the emulation with a distinct status.
 * A crash must never hang the host waiting for a timeout. Only semihosting calls are used here:
 * the crash may have left stdio, the heap or .data in any state.
 */
#include <stdint.h>

#include "exit_codes.h"
#include "semihost.h"

void fault_report(const uint32_t *frame, int status) __attribute__((noreturn, used));

/* Each handler hands the stacked exception frame (r0-r3, r12, lr, pc, xPSR on the main stack:
 * the firmware never switches to the process stack) and its exit status to fault_report. Naked,
 * so no prologue touches a stack that may be the very thing that broke. A BL (fault_report never
 * returns, so the lost LR does not matter) rather than a jump through a register: BL reaches
 * anywhere on every core, and src/toolchain/stack.ts can follow it when it bounds the stack. */
#define FAULT_HANDLER(name, status)                  \
    __attribute__((naked)) void name(void)           \
    {                                                \
        __asm__ volatile(".syntax unified\n\t"       \
                         "mrs r0, msp\n\t"           \
                         "movs r1, #" #status "\n\t" \
                         "bl fault_report");         \
    }

FAULT_HANDLER(HardFault_Handler, 70)
FAULT_HANDLER(MemManage_Handler, 71)
FAULT_HANDLER(BusFault_Handler, 72)
FAULT_HANDLER(UsageFault_Handler, 73)
FAULT_HANDLER(SecureFault_Handler, 74)
FAULT_HANDLER(NMI_Handler, 75)
FAULT_HANDLER(Default_Handler, 76)

/* Exceptions nobody handles land in Default_Handler, which reports them instead of hanging;
 * a strong definition elsewhere (the harness's SysTick_Handler) takes precedence. */
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

/* The numbers above are spelled out because the assembler needs literals; keep them in step. */
_Static_assert(EXIT_HARD_FAULT == 70 && EXIT_MEM_MANAGE == 71 && EXIT_BUS_FAULT == 72 &&
                   EXIT_USAGE_FAULT == 73 && EXIT_SECURE_FAULT == 74 && EXIT_NMI == 75 &&
                   EXIT_UNEXPECTED_IRQ == 76,
               "fault handler statuses out of step with exit_codes.h");

extern char __ram_start, __ram_end;

static char *append(char *to, const char *text)
{
    while (*text)
        *to++ = *text++;
    return to;
}

static char *append_hex(char *to, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";

    to = append(to, "0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        *to++ = digits[(value >> shift) & 0xFu];
    return to;
}

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
#define HAS_FAULT_STATUS_REGISTERS 1
#endif

#if defined(HAS_FAULT_STATUS_REGISTERS)
static char *append_register(char *to, const char *name, uint32_t address)
{
    to = append(to, " ");
    to = append(to, name);
    to = append(to, "=");
    return append_hex(to, *(volatile const uint32_t *)address);
}
#endif

static const char *fault_name(int status)
{
    switch (status) {
    case EXIT_HARD_FAULT: return "HardFault";
    case EXIT_MEM_MANAGE: return "MemManage fault";
    case EXIT_BUS_FAULT: return "BusFault";
    case EXIT_USAGE_FAULT: return "UsageFault";
    case EXIT_SECURE_FAULT: return "SecureFault";
    case EXIT_NMI: return "NMI";
    default: return "unexpected exception";
    }
}

void fault_report(const uint32_t *frame, int status)
{
    char message[256];
    char *end = message;

    end = append(end, "tinyforge: firmware crashed: ");
    end = append(end, fault_name(status));
    if (status == EXIT_UNEXPECTED_IRQ) {
        uint32_t ipsr;
        __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
        end = append(end, " ");
        end = append_hex(end, ipsr & 0x1FFu);
    }
    /* A stack overflow leaves the stack pointer outside RAM: then there is no frame to read. */
    const char *frame_bytes = (const char *)frame;
    if (frame_bytes >= &__ram_start && frame_bytes + 32 <= &__ram_end) {
        end = append(end, " at pc=");
        end = append_hex(end, frame[6]);
        end = append(end, " lr=");
        end = append_hex(end, frame[5]);
    } else {
        end = append(end, " with the stack pointer outside RAM (stack overflow?) sp=");
        end = append_hex(end, (uint32_t)(uintptr_t)frame);
    }
#if defined(HAS_FAULT_STATUS_REGISTERS)
    /* ARMv6-M has no fault status registers; the others say what went wrong and at which address. */
    end = append_register(end, "cfsr", 0xE000ED28u);
    end = append_register(end, "hfsr", 0xE000ED2Cu);
    end = append_register(end, "mmfar", 0xE000ED34u);
    end = append_register(end, "bfar", 0xE000ED38u);
#endif
#if defined(__ARM_ARCH_8M_MAIN__)
    end = append_register(end, "sfsr", 0xE000EDE4u);
#endif
    end = append(end, "\n");
    *end = '\0';

    semihost_write0(message);
    semihost_exit(status);
}
