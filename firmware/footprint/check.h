/*
 * TEST ONLY: the footprint firmware's self-check (main.c with TINYFORGE_FOOTPRINT_CHECK).
 * Never part of what the footprint figures measure.
 */
#ifndef TINYFORGE_FOOTPRINT_CHECK_H
#define TINYFORGE_FOOTPRINT_CHECK_H

#include <stdint.h>

/* Fills `image` with the check pattern (src/toolchain/footprint.ts footprintCheckImage computes
 * the same bytes) and paints the free stack. */
void footprint_check_begin(uint8_t *image, uint32_t size);

/* Prints "tinyforge footprint: class=<c> logits=<l0>,<l1>,... stack_used=<bytes>
 * stack_size=<bytes>" over semihosting and ends the emulation with status 0. */
void footprint_check_end(int32_t predicted, const int8_t *logits, uint32_t count) __attribute__((noreturn));

#endif
