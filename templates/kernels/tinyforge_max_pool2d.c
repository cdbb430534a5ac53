/*
 * tinyforge_max_pool2d.c - int8 max pooling (TFLite reference semantics).
 *
 *     output[oy][ox][c] = clamp(max over valid taps of input[iy][ix][c], act_min, act_max)
 *
 * Taps in the padding are ignored. Scale and zero point are unchanged, so no requantization.
 *
 * All channels of a tap are contiguous in NHWC, so each output pixel is built by streaming whole
 * taps: the first valid tap is copied, every further one raises the output channel by channel,
 * with no per-channel window bookkeeping. The clamp follows, skipped when it is [-128, 127].
 * DSP path: four channels per step, SSUB8 (four signed byte differences, setting a GE flag per
 * lane where the tap is >= the current maximum) then SEL (per lane, the tap where GE is set, the
 * current maximum elsewhere), and the clamp the same way against act_min / act_max in all lanes.
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_dsp.h"
#include "tinyforge_kernels.h"

/* out[c] = max(out[c], in[c]) for c < n. */
static void tinyforge_max_s8(int8_t *out, const int8_t *in, int32_t n)
{
#if defined(TINYFORGE_DSP)
    for (; n >= 4; n -= 4) {
        const int32_t v = tinyforge_read32(in);
        const int32_t m = tinyforge_read32(out);
        (void)__ssub8(v, m);
        tinyforge_write32(out, (int32_t)__sel((uint32_t)v, (uint32_t)m));
        in += 4;
        out += 4;
    }
#endif
    for (; n > 0; n--) {
        if (*in > *out) {
            *out = *in;
        }
        in++;
        out++;
    }
}

/* out[c] = clamp(out[c], act_min, act_max) for c < n. */
static void tinyforge_clamp_s8(int8_t *out, int32_t n, int32_t act_min, int32_t act_max)
{
#if defined(TINYFORGE_DSP)
    /* The bounds in all four lanes. */
    const int32_t min4 = (int32_t)(((uint32_t)act_min & 0xFFu) * 0x01010101u);
    const int32_t max4 = (int32_t)(((uint32_t)act_max & 0xFFu) * 0x01010101u);
    for (; n >= 4; n -= 4) {
        int32_t v = tinyforge_read32(out);
        (void)__ssub8(v, min4);
        v = (int32_t)__sel((uint32_t)v, (uint32_t)min4);
        (void)__ssub8(max4, v);
        tinyforge_write32(out, (int32_t)__sel((uint32_t)v, (uint32_t)max4));
        out += 4;
    }
#endif
    for (; n > 0; n--) {
        if (*out < act_min) {
            *out = (int8_t)act_min;
        }
        if (*out > act_max) {
            *out = (int8_t)act_max;
        }
        out++;
    }
}

void tinyforge_max_pool2d(const tinyforge_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w;
    const int32_t channels = p->channels;
    const int clamped = (p->act_min > INT8_MIN) || (p->act_max < INT8_MAX);

    for (int32_t oy = 0; oy < p->out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_start = (iy0 < 0) ? -iy0 : 0;
        const int32_t ky_end = (iy0 + p->pool_h > p->in_h) ? (p->in_h - iy0) : p->pool_h;

        for (int32_t ox = 0; ox < p->out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
            const int32_t kx_end = (ix0 + p->pool_w > in_w) ? (in_w - ix0) : p->pool_w;

            /* The first valid tap (the generator guarantees one per window), then the others. */
            memcpy(output, input + ((iy0 + ky_start) * in_w + ix0 + kx_start) * channels, (size_t)channels);
            for (int32_t ky = ky_start; ky < ky_end; ky++) {
                const int32_t skip = (ky == ky_start) ? 1 : 0;
                const int8_t *tap = input + ((iy0 + ky) * in_w + ix0 + kx_start + skip) * channels;
                for (int32_t kx = kx_start + skip; kx < kx_end; kx++) {
                    tinyforge_max_s8(output, tap, channels);
                    tap += channels;
                }
            }
            if (clamped) {
                tinyforge_clamp_s8(output, channels, p->act_min, p->act_max);
            }
            output += channels;
        }
    }
}
