/*
 * Reset and vector table for every board: the build links with -nostartfiles, so this file does
 * crt0's job. The linker script (firmware/linker/sections.ld) provides the symbols used here.
 *
 * Two builds use it:
 *  - the harness firmware (src/toolchain/build.ts): newlib with rdimon semihosting, stdio
 *    opened before main, exit() with main's status, malloc served by _sbrk below;
 *  - the footprint firmware (src/toolchain/footprint.ts, compiled with TINYFORGE_FOOTPRINT):
 *    what a product flashes. No libc start-up, no stdio, no heap: reset, copy .data, clear
 *    .bss, main, then sleep. Same vector table, same fault set-up.
 *
 * TINYFORGE_MEMORY_REPORT (harness test builds only) paints the stack before main and, on
 * exit, prints "tinyforge memory: stack=<bytes> heap=<bytes>" over semihosting: the deepest
 * the stack went and the most the heap was grown. It is how the board profiles'
 * stackSize and heapSize were sized (test/firmware.test.ts keeps checking them).
 */
#include <stddef.h>
#include <stdint.h>
#if !defined(TINYFORGE_FOOTPRINT)
#include <errno.h>
#include <stdlib.h>
#endif
#if defined(TINYFORGE_MEMORY_REPORT)
#include "memcheck.h"
#include "semihost.h"

static void memory_report(void);
#endif

int main(void);
#if !defined(TINYFORGE_FOOTPRINT)
/* newlib's rdimon: opens the semihosting stdin/stdout/stderr. Not declared in any header. */
void initialise_monitor_handles(void);
/* newlib: runs constructors (and, through them, _init). */
void __libc_init_array(void);
#endif

void Reset_Handler(void);
void Default_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SecureFault_Handler(void);
/* Weak aliases of Default_Handler (faults.c) until someone defines them: the harness defines
 * SysTick_Handler. */
void SVC_Handler(void);
void DebugMon_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);

extern uint32_t __stack_top;
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start, __bss_end;
#if !defined(TINYFORGE_FOOTPRINT)
extern char __heap_start, __heap_end;
#endif

/* No peripheral interrupt is ever enabled, so 32 external slots are plenty: they only make a
 * stray interrupt land in Default_Handler rather than jump through garbage. */
#define EXTERNAL_IRQS 32

__attribute__((section(".vectors"), used))
static const uintptr_t vector_table[16 + EXTERNAL_IRQS] = {
    [0] = (uintptr_t)&__stack_top,
    [1] = (uintptr_t)Reset_Handler,
    [2] = (uintptr_t)NMI_Handler,
    [3] = (uintptr_t)HardFault_Handler,
    [4] = (uintptr_t)MemManage_Handler,
    [5] = (uintptr_t)BusFault_Handler,
    [6] = (uintptr_t)UsageFault_Handler,
    [7] = (uintptr_t)SecureFault_Handler, /* ARMv8-M only; reserved (never taken) before */
    [11] = (uintptr_t)SVC_Handler,
    [12] = (uintptr_t)DebugMon_Handler,
    [14] = (uintptr_t)PendSV_Handler,
    [15] = (uintptr_t)SysTick_Handler,
    [16 ... 16 + EXTERNAL_IRQS - 1] = (uintptr_t)Default_Handler,
};

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)
#define SHCSR_SECUREFAULTENA (1u << 19)

void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* Hard-float code may touch FP registers anywhere (even in libc): grant CP10/CP11 full
     * access first, or the first FP instruction is a UsageFault (NOCP). */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
    /* Let MemManage, BusFault and UsageFault reach their own handlers, so the crash report
     * names them, instead of all escalating to HardFault. (ARMv6-M has only HardFault.) */
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;
#endif
#if defined(__ARM_ARCH_8M_MAIN__)
    SCB_SHCSR |= SHCSR_SECUREFAULTENA;
#endif

    const uint32_t *from = &__data_load;
    for (uint32_t *to = &__data_start; to < &__data_end; )
        *to++ = *from++;
    for (uint32_t *p = &__bss_start; p < &__bss_end; )
        *p++ = 0;

#if defined(TINYFORGE_FOOTPRINT)
    /* Plain C needs nothing more: no constructors, no stdio. When main is done the core sleeps
     * (no interrupt is enabled, so for good: a product's main would not return). */
    (void)main();
    for (;;)
        __asm__ volatile("wfi");
#else
#if defined(TINYFORGE_MEMORY_REPORT)
    memcheck_paint_stack();
    /* atexit: the report comes on every way out through exit(), the harness's failures too.
     * (newlib keeps the first 32 handlers in a static table: no heap is taken for it.) */
    atexit(memory_report);
#endif
    initialise_monitor_handles();
    __libc_init_array();
    /* exit() flushes stdio and ends in rdimon's _exit: a semihosting exit with main's status. */
    exit(main());
#endif
}

#if !defined(TINYFORGE_FOOTPRINT)

/* malloc's memory: exactly the .heap section, so the RAM figure from the linker is the truth.
 * (newlib's own _sbrk grows up to the stack pointer, which here sits below the heap.) */
static char *brk = &__heap_start;
#if defined(TINYFORGE_MEMORY_REPORT)
static char *brk_high_water = &__heap_start;
#endif

void *_sbrk(ptrdiff_t increment)
{
    if (increment > &__heap_end - brk || increment < &__heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *previous = brk;
    brk += increment;
#if defined(TINYFORGE_MEMORY_REPORT)
    if (brk > brk_high_water)
        brk_high_water = brk;
#endif
    return previous;
}

#if defined(TINYFORGE_MEMORY_REPORT)
static void memory_report(void)
{
    /* Static: a buffer on the stack would itself land in the painted region (harmlessly, as
     * the scan comes first, but there is no need). */
    static char message[96];
    uint32_t stack = memcheck_stack_used();
    char *end = memcheck_append(message, "tinyforge memory: stack=");

    end = memcheck_append_uint(end, stack);
    end = memcheck_append(end, " heap=");
    end = memcheck_append_uint(end, (uint32_t)(brk_high_water - &__heap_start));
    end = memcheck_append(end, "\n");
    *end = '\0';
    semihost_write0(message);
}
#endif

/* __libc_init_array and exit call these; with -nostartfiles nobody else provides them. */
void _init(void)
{
}

void _fini(void)
{
}
#endif /* !TINYFORGE_FOOTPRINT */
