/*
 * Instruction counting with SysTick. Under QEMU's `-icount shift=0` every instruction advances
 * virtual time by 1 ns, so SysTick ticks at a fixed number of instructions per tick (40 on the
 * MPS2 boards' 25 MHz clock); the host multiplies by the board profile's instructionsPerTick.
 * On silicon the same ticks are processor clock cycles.
 */
#ifndef TINYFORGE_TICKS_H
#define TINYFORGE_TICKS_H

#include <stdint.h>

/* (Re)starts counting from zero, SysTick running from the processor clock. Restarting also
 * restarts QEMU's tick period, so a measurement does not depend on what ran before it: the
 * same code gives the same count whatever image it was preceded by. */
void ticks_start(void);

/* Ticks since the last ticks_start (modulo 2^32, about 170 s of emulated time at 40 per tick). */
uint32_t ticks_now(void);

#endif
