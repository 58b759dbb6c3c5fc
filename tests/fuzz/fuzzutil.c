/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzzutil.c - helpers of the fuzz targets (fuzzutil.h).
 */
#include "fuzzutil.h"

#include "officemeter/base/diag.h"
#include "officemeter/proto/ingest.h"

#include <math.h>
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

/* The invariants of a judged readings message (fuzzutil.h). */
void fuzz_check_judged(const void *msg)
{
    const om_readings_msg *m = msg;
    if (m->verdict.fate == OM_FATE_REJECT) {
        FUZZ_CHECK(m->nstore == 0 && m->nreadings == 0, "a refused message stores readings");
        FUZZ_CHECK(m->verdict.code && m->verdict.reason[0], "a refusal without code or reason");
        return;
    }
    int64_t top = 0;
    size_t readings = 0, stored = 0;
    for (size_t i = 0; i < m->npolls; i++) {
        const om_ingest_poll *p = &m->polls[i];
        if (p->has_seq) {
            FUZZ_CHECK(p->poll.seq >= 1 && p->poll.seq <= OM_SEQ_MAX, "seq %lld counted",
                       (long long)p->poll.seq);
            if (p->poll.seq > top)
                top = p->poll.seq;
        }
        if (p->verdict.fate != OM_FATE_STORE) {
            FUZZ_CHECK(p->verdict.code && p->json, "a poll refused without code or record");
            continue;
        }
        stored++;
        readings += p->poll.nvalues;
        FUZZ_CHECK(p->has_seq && p->poll.nvalues > 0, "a stored poll without seq or values");
        for (size_t k = 0; k < p->poll.nvalues; k++)
            FUZZ_CHECK(isfinite(p->poll.values[k].value) &&
                           fabs(p->poll.values[k].value) <= OM_INGEST_VALUE_MAX,
                       "a stored value out of bounds");
    }
    FUZZ_CHECK(stored == m->nstore && readings == m->nreadings, "counts disagree");
    for (size_t i = 0; i < m->nskipped; i++) {
        FUZZ_CHECK(m->skipped[i].from >= 1 && m->skipped[i].from <= m->skipped[i].to &&
                       m->skipped[i].to < top, "skipped range out of range");
        FUZZ_CHECK(i == 0 || m->skipped[i].from > m->skipped[i - 1].to, "skipped out of order");
    }
}
