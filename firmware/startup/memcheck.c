#include "memcheck.h"

/* Section boundaries from firmware/linker/sections.ld. */
extern uint32_t __stack_bottom, __stack_top;

/* Not a value code writes by accident (not 0, not -1, not a small number or an address in
 * RAM or flash on any board), so a word that still holds it was very likely never used. */
#define PAINT 0xC5A5C5A5u

void memcheck_paint_stack(void)
{
    uintptr_t sp;

    __asm__ volatile("mov %0, sp" : "=r"(sp));
    /* Volatile stores: the compiler must neither drop them nor turn the loop into a memset
     * call, whose own frame would sit in the very region being painted. */
    for (volatile uint32_t *word = &__stack_bottom; (uintptr_t)word < sp; word++)
        *word = PAINT;
}

uint32_t memcheck_stack_used(void)
{
    const volatile uint32_t *word = &__stack_bottom;

    while (word < &__stack_top && *word == PAINT)
        word++;
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)word);
}

uint32_t memcheck_stack_size(void)
{
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)&__stack_bottom);
}

char *memcheck_append(char *to, const char *text)
{
    while (*text)
        *to++ = *text++;
    return to;
}

char *memcheck_append_uint(char *to, uint32_t value)
{
    char digits[10];
    int n = 0;

    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value > 0);
    while (n > 0)
        *to++ = digits[--n];
    return to;
}

char *memcheck_append_int(char *to, int32_t value)
{
    if (value < 0) {
        *to++ = '-';
        return memcheck_append_uint(to, 0u - (uint32_t)value);
    }
    return memcheck_append_uint(to, (uint32_t)value);
}
