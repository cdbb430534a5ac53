/*
 * Measuring memory from inside a test build: stack painting (fill the free stack with a
 * pattern, run, find the lowest word that changed) and the few text helpers needed to report
 * the figures over semihosting without printf. Only test builds call these; the linker drops
 * them everywhere else (--gc-sections).
 */
#ifndef TINYFORGE_MEMCHECK_H
#define TINYFORGE_MEMCHECK_H

#include <stdint.h>

/* Fills the stack from its bottom (lowest address) up to the caller's stack pointer with a
 * pattern. Everything below the stack pointer is free at that moment, so nothing is lost. */
void memcheck_paint_stack(void);

/* Bytes between the top of the stack and the lowest word that no longer holds the pattern:
 * the deepest the stack went since memcheck_paint_stack (frames above the painting call, e.g.
 * Reset_Handler's and main's, included). */
uint32_t memcheck_stack_used(void);

/* The .stack section's size (the board profile's or the footprint build's reservation). */
uint32_t memcheck_stack_size(void);

/* Append text or a decimal number at `to`; return the new end (no terminator written). */
char *memcheck_append(char *to, const char *text);
char *memcheck_append_uint(char *to, uint32_t value);
char *memcheck_append_int(char *to, int32_t value);

#endif
