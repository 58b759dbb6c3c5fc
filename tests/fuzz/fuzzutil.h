/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzzutil.h - what the fuzz targets share: the libFuzzer entry points,
 * an input as a file (the config loaders read paths), an input read as
 * numbers, and a check that aborts with a message (a finding).
 */
#ifndef OFFICEMETER_FUZZUTIL_H
#define OFFICEMETER_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Writes data to this process's scratch file NAME (under /dev/shm when
 * there is one) and returns its path, valid until the next call. */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);

/* Consumes an input from the front: numbers, then the rest as bytes. */
typedef struct {
    const uint8_t *data;
    size_t size;
} fuzz_input;

uint8_t fuzz_u8(fuzz_input *in);
uint16_t fuzz_u16(fuzz_input *in);
uint32_t fuzz_u32(fuzz_input *in);
uint64_t fuzz_u64(fuzz_input *in);
double fuzz_double(fuzz_input *in);

/* Every message of a config loader names the file first ("file:line:col:
 * key: message" or "file: message"); fails otherwise. */
void fuzz_check_diag(const void *diag, const char *path);

/* What every judged readings message (om_readings_msg, proto/ingest.h)
 * keeps: a refused envelope stores nothing and says why; every counted seq
 * and skipped range lies in 1 .. 2^53, ranges sorted and below the highest
 * seq; a stored poll has a seq and finite values within the plausibility
 * bound; nstore and nreadings count what is stored. */
void fuzz_check_judged(const void *msg);

/* An invariant broke: prints the message and aborts (libFuzzer saves the
 * input as the reproducer). */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define FUZZ_CHECK(cond, ...) \
    do {                      \
        if (!(cond))          \
            fuzz_fail(__VA_ARGS__); \
    } while (0)

#endif
