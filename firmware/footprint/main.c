/*
 * The footprint firmware's main (src/toolchain/footprint.ts): what a product that classifies
 * images flashes, minus its sensor driver. One inference on an image held in RAM, the class
 * stored where the rest of the product (or a debugger) reads it. No libc beyond what the model
 * library itself calls (memcpy), no stdio, no heap, no semihosting.
 *
 * TINYFORGE_FOOTPRINT_CHECK builds the test-only variant: check.c fills the image with a known
 * pattern and paints the stack before the inference, then reports the class, the logits and
 * the stack high-water mark over semihosting and ends the emulation. The inference itself is
 * the same code either way.
 */
#include <stdint.h>

#include "firmware_model.h"

#if defined(TINYFORGE_FOOTPRINT_CHECK)
#include "check.h"
#endif

/* The image to classify (for a model whose input is not an image: its input tensor). In a
 * product a camera or sensor driver fills it; here nothing does, and the empty asm statement in
 * main (which "may read and write memory") stands in for that driver: the compiler cannot assume
 * the buffer still holds zeros, so the inference cannot be folded away. Not static, so that it
 * is visible in the map and to a debugger. */
#if defined(FW_MODEL_HAS_PREDICT_U8)
uint8_t footprint_image[FW_MODEL_INPUT_SIZE];
#else
fw_model_input_t footprint_image[FW_MODEL_INPUT_SIZE];
#endif

/* The model's output: the logits, and the class in a volatile so the store is never dropped. */
fw_model_output_t footprint_logits[FW_MODEL_OUTPUT_SIZE];
volatile int32_t footprint_class = -1;

int main(void)
{
#if defined(TINYFORGE_FOOTPRINT_CHECK)
    footprint_check_begin((uint8_t *)footprint_image, sizeof footprint_image);
#endif
    __asm__ volatile("" : : "r"(footprint_image) : "memory");
    (void)fw_model_init(); /* hands an external-arena library its arena; nothing otherwise */

#if defined(FW_MODEL_HAS_PREDICT_U8)
    footprint_class = fw_model_predict_u8(footprint_image, footprint_logits);
#else
    footprint_class = fw_model_predict(footprint_image, footprint_logits);
#endif

#if defined(TINYFORGE_FOOTPRINT_CHECK)
    footprint_check_end(footprint_class, (const int8_t *)footprint_logits, FW_MODEL_OUTPUT_BYTES);
#endif
    return 0;
}
