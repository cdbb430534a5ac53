/*
 * On-target test harness: runs the generated model over inputs read from a host file and writes
 * each result back, all through semihosting (QEMU: -semihosting-config enable=on,target=native).
 *
 * Command line (QEMU -append; SYS_GET_CMDLINE puts the image name first, which is skipped):
 *     in=<input file> out=<result file> offset=<first input> count=<number of inputs>
 * Input file: records back to back; the harness reads records offset .. offset+count-1, one at a
 *     time (RAM stays small). Image models (FW_MODEL_HAS_PREDICT_U8): raw uint8 pixels,
 *     FW_MODEL_INPUT_SIZE bytes per image, through fw_model_predict_u8. Any other model: the input
 *     tensor's raw bytes (FW_MODEL_INPUT_BYTES: int8, or float32 little-endian), through fw_model_predict.
 * Result file: a 16-byte header, then one record per input, all little-endian:
 *     header  "TFH1", uint32 input record bytes, uint32 FW_MODEL_OUTPUT_BYTES, uint32 count
 *     record  uint8 class, the output's FW_MODEL_OUTPUT_BYTES (the int8 logits of a classifier),
 *             uint32 SysTick ticks of the inference
 * Exit status: 0, or one of firmware/startup/exit_codes.h (with a message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit_codes.h"
#include "firmware_model.h"
#include "semihost.h"
#include "ticks.h"

#define HEADER_SIZE 16
#define RECORD_SIZE (1 + FW_MODEL_OUTPUT_BYTES + 4)
#if defined(FW_MODEL_HAS_PREDICT_U8)
#define INPUT_RECORD_BYTES FW_MODEL_INPUT_SIZE
#else
#define INPUT_RECORD_BYTES FW_MODEL_INPUT_BYTES
#endif

struct harness_args {
    const char *in;
    const char *out;
    unsigned long offset;
    unsigned long count;
};

/* Static rather than on the stack: the stack is 2 KB on the smallest boards. */
static char cmdline[512];
static fw_model_input_t input[FW_MODEL_INPUT_SIZE];
static uint8_t record[RECORD_SIZE];
#if defined(FW_MODEL_OUTPUT_FLOAT32)
/* float32 outputs are written here (aligned) and copied into the record. */
static fw_model_output_t output[FW_MODEL_OUTPUT_SIZE];
#endif

#define NO_IMAGE (-1L)

/* Reports on stderr (naming the image, unless NO_IMAGE) and exits with status. No printf: it
 * would pull several KB of formatting code into every firmware. */
static void fail(int status, const char *what, long image)
{
    fputs("tinyforge harness: ", stderr);
    fputs(what, stderr);
    if (image != NO_IMAGE) {
        char digits[12];
        int n = sizeof digits;

        digits[--n] = '\0';
        do {
            digits[--n] = (char)('0' + image % 10);
            image /= 10;
        } while (image > 0);
        fputs(" (image ", stderr);
        fputs(digits + n, stderr);
        fputs(")", stderr);
    }
    fputs("\n", stderr);
    exit(status);
}

/* Parses a decimal number that must fill the whole value; returns 0 if it does not. */
static int parse_count(const char *text, unsigned long *value)
{
    char *end;

    if (*text < '0' || *text > '9')
        return 0;
    *value = strtoul(text, &end, 10);
    return *end == '\0';
}

/* Splits the command line in place into space-separated key=value words. */
static int parse_args(char *line, struct harness_args *args)
{
    int seen = 0;

    for (char *word = strtok(line, " "); word != NULL; word = strtok(NULL, " ")) {
        if (strncmp(word, "in=", 3) == 0) {
            args->in = word + 3;
            seen |= 1;
        } else if (strncmp(word, "out=", 4) == 0) {
            args->out = word + 4;
            seen |= 2;
        } else if (strncmp(word, "offset=", 7) == 0) {
            if (!parse_count(word + 7, &args->offset))
                return 0;
            seen |= 4;
        } else if (strncmp(word, "count=", 6) == 0) {
            if (!parse_count(word + 6, &args->count))
                return 0;
            seen |= 8;
        }
        /* Anything else (the image name QEMU puts first) is ignored. */
    }
    return seen == 15;
}

static void put_u32(uint8_t *to, uint32_t value)
{
    to[0] = (uint8_t)value;
    to[1] = (uint8_t)(value >> 8);
    to[2] = (uint8_t)(value >> 16);
    to[3] = (uint8_t)(value >> 24);
}

int main(void)
{
    struct harness_args args = { 0 };

    (void)fw_model_init(); /* hands an external-arena library its arena; nothing otherwise */

    int length = semihost_get_cmdline(cmdline, sizeof cmdline);
    if (length < 0 || !parse_args(cmdline, &args))
        fail(EXIT_USAGE, "usage: in=<images> out=<results> offset=<n> count=<n>", NO_IMAGE);

    FILE *in = fopen(args.in, "rb");
    if (in == NULL)
        fail(EXIT_OPEN_INPUT, "cannot open the image file", NO_IMAGE);
    /* Unbuffered: each record is one semihosting read straight into `input`, and stdio
     * allocates no buffer from the small heap. */
    setvbuf(in, NULL, _IONBF, 0);
    if (fseek(in, (long)(args.offset * INPUT_RECORD_BYTES), SEEK_SET) != 0)
        fail(EXIT_READ_INPUT, "cannot seek to the first image", (long)args.offset);

    FILE *out = fopen(args.out, "wb");
    if (out == NULL)
        fail(EXIT_OPEN_OUTPUT, "cannot create the result file", NO_IMAGE);
    setvbuf(out, NULL, _IONBF, 0);

    uint8_t header[HEADER_SIZE] = { 'T', 'F', 'H', '1' };
    put_u32(header + 4, INPUT_RECORD_BYTES);
    put_u32(header + 8, FW_MODEL_OUTPUT_BYTES);
    put_u32(header + 12, (uint32_t)args.count);
    if (fwrite(header, 1, sizeof header, out) != sizeof header)
        fail(EXIT_WRITE_OUTPUT, "cannot write the result file header", NO_IMAGE);

    for (unsigned long i = 0; i < args.count; i++) {
        unsigned long image = args.offset + i;
        if (fread(input, 1, INPUT_RECORD_BYTES, in) != INPUT_RECORD_BYTES)
            fail(EXIT_READ_INPUT, "the image file ends before the requested range", (long)image);

#if defined(FW_MODEL_OUTPUT_FLOAT32)
        fw_model_output_t *result = output;
#else
        fw_model_output_t *result = (fw_model_output_t *)(record + 1); /* int8: straight into the record */
#endif
        ticks_start();
#if defined(FW_MODEL_HAS_PREDICT_U8)
        int predicted = fw_model_predict_u8((const uint8_t *)input, result);
#else
        int predicted = fw_model_predict(input, result);
#endif
        uint32_t ticks = ticks_now();

        record[0] = (uint8_t)predicted;
#if defined(FW_MODEL_OUTPUT_FLOAT32)
        memcpy(record + 1, output, FW_MODEL_OUTPUT_BYTES);
#endif
        put_u32(record + 1 + FW_MODEL_OUTPUT_BYTES, ticks);
        if (fwrite(record, 1, sizeof record, out) != sizeof record)
            fail(EXIT_WRITE_OUTPUT, "cannot write a result", (long)image);
    }

    fclose(in);
    if (fclose(out) != 0)
        fail(EXIT_WRITE_OUTPUT, "cannot close the result file", NO_IMAGE);
    return EXIT_OK;
}
