/* TEST ONLY (see check.h): linked into the footprint firmware's check variant alone. */
#include "check.h"

#include "memcheck.h"
#include "semihost.h"

/* The pattern: the top byte of a linear congruential sequence (the constants of the C
 * standard's example rand), from a fixed seed. */
#define CHECK_SEED 0x2545F491u

void footprint_check_begin(uint8_t *image, uint32_t size)
{
    uint32_t state = CHECK_SEED;

    for (uint32_t i = 0; i < size; i++) {
        state = state * 1103515245u + 12345u;
        image[i] = (uint8_t)(state >> 24);
    }
    memcheck_paint_stack();
}

void footprint_check_end(int32_t predicted, const int8_t *logits, uint32_t count)
{
    /* Measured first, before this function's own calls reach into the painted region. */
    uint32_t used = memcheck_stack_used();
    /* Static: 10 logits of up to 4 characters plus the rest fit easily; 16 per logit bounds it. */
    static char message[96 + 16 * 64];
    char *end = message;

    if (count > 64)
        count = 64;
    end = memcheck_append(end, "tinyforge footprint: class=");
    end = memcheck_append_int(end, predicted);
    end = memcheck_append(end, " logits=");
    for (uint32_t k = 0; k < count; k++) {
        if (k > 0)
            *end++ = ',';
        end = memcheck_append_int(end, logits[k]);
    }
    end = memcheck_append(end, " stack_used=");
    end = memcheck_append_uint(end, used);
    end = memcheck_append(end, " stack_size=");
    end = memcheck_append_uint(end, memcheck_stack_size());
    end = memcheck_append(end, "\n");
    *end = '\0';
    semihost_write0(message);
    semihost_exit(0);
}
