/*
 * tinyforge_concatenation.c - concatenation of int8 tensors along one axis (TFLite Micro's
 * CONCATENATION for int8, which requires one quantization for all inputs and the output: the
 * bytes are copied unchanged).
 *
 * With the shapes seen as [outer, axis, inner], input k contributes axis_k * inner contiguous
 * bytes to every one of the `outer` output blocks, inputs in order.
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_kernels.h"

void tinyforge_concatenation(const tinyforge_concatenation_params_t *p, const int8_t *const *inputs,
                             int8_t *output)
{
    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t k = 0; k < p->num_inputs; k++) {
            const int32_t n = p->copy_bytes[k];
            memcpy(output, inputs[k] + o * n, (size_t)n);
            output += n;
        }
    }
}
