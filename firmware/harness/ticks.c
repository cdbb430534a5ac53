#include "ticks.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* processor clock rather than the external reference */

/* The 24-bit maximum: one wrap every 2^24 ticks. Overridable only to test the wrap handling. */
#ifndef TICKS_RELOAD
#define TICKS_RELOAD 0xFFFFFFu
#endif
#define TICKS_PERIOD (TICKS_RELOAD + 1u)

/* The counter counts down RELOAD, ..., 1, 0, RELOAD, ... (about 670 million instructions per
 * period at 40 per tick). COUNTFLAG alone says only that at least one wrap happened since it
 * was last read, so the interrupt that comes with it counts them all: an inference may last
 * any number of periods. */
static volatile uint32_t wraps;

void SysTick_Handler(void)
{
    wraps++;
}

void ticks_start(void)
{
    SYST_CSR = 0;
    wraps = 0;
    SYST_RVR = TICKS_RELOAD;
    SYST_CVR = 0; /* any write clears the counter (and COUNTFLAG) without an interrupt */
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

uint32_t ticks_now(void)
{
    uint32_t wraps_before, current;

    /* If the counter wraps between the two reads, the interrupt has bumped `wraps` by the time
     * it is read again (the exception is taken right after the wrap): read both again. */
    do {
        wraps_before = wraps;
        current = SYST_CVR;
    } while (wraps != wraps_before);
    /* The interrupt comes as the counter reaches 0, so a period runs 0, RELOAD, ..., 1: 0 is
     * the period's first tick. ticks_start leaves the counter at 0 too, so it reads 0 then. */
    return wraps_before * TICKS_PERIOD + (TICKS_PERIOD - current) % TICKS_PERIOD;
}
