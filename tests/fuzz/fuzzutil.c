/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzzutil.c - helpers of the fuzz targets (fuzzutil.h).
 */
#include "fuzzutil.h"

#include "officemeter/base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[256];
    struct stat st;
    const char *dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm"
                      : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/om-fuzz-%d-%s", dir, (int)getpid(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        fuzz_fail("cannot write the scratch file %s", path);
    return path;
}

static uint64_t take(fuzz_input *in, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v <<= 8;
        if (in->size) {
            v |= *in->data++;
            in->size--;
        }
    }
    return v;
}

uint8_t fuzz_u8(fuzz_input *in)
{
    return (uint8_t)take(in, 1);
}

uint16_t fuzz_u16(fuzz_input *in)
{
    return (uint16_t)take(in, 2);
}

uint32_t fuzz_u32(fuzz_input *in)
{
    return (uint32_t)take(in, 4);
}

uint64_t fuzz_u64(fuzz_input *in)
{
    return take(in, 8);
}

double fuzz_double(fuzz_input *in)
{
    uint64_t bits = fuzz_u64(in);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FUZZ FINDING: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

void fuzz_check_diag(const void *diag, const char *path)
{
    const om_diag *d = diag;
    size_t n = strlen(path);
    for (size_t i = 0; i < d->count; i++)
        if (strncmp(d->messages[i], path, n) != 0 || d->messages[i][n] != ':')
            fuzz_fail("a message that does not name the file: %s", d->messages[i]);
}
