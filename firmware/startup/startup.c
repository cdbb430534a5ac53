/*
 * Reset and vector table for every board: the build links with -nostartfiles, so this file does
 * crt0's job. The linker script (firmware/linker/sections.ld) provides the symbols used here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int main(void);
/* newlib's rdimon: opens the semihosting stdin/stdout/stderr. Not declared in any header. */
void initialise_monitor_handles(void);
/* newlib: runs constructors (and, through them, _init). */
void __libc_init_array(void);

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
extern char __heap_start, __heap_end;

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

    initialise_monitor_handles();
    __libc_init_array();
    /* exit() flushes stdio and ends in rdimon's _exit: a semihosting exit with main's status. */
    exit(main());
}

/* malloc's memory: exactly the .heap section, so the RAM figure from the linker is the truth.
 * (newlib's own _sbrk grows up to the stack pointer, which here sits below the heap.) */
void *_sbrk(ptrdiff_t increment)
{
    static char *brk = &__heap_start;

    if (increment > &__heap_end - brk || increment < &__heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *previous = brk;
    brk += increment;
    return previous;
}

/* __libc_init_array and exit call these; with -nostartfiles nobody else provides them. */
void _init(void)
{
}

void _fini(void)
{
}
