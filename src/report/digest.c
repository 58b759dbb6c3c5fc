/* SPDX-License-Identifier: Apache-2.0 */
/*
 * digest.c - SHA-256 over buffers, files and readings, through nettle.
 */
#include "officemeter/report/digest.h"

#include <errno.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

#include "officemeter/base/numfmt.h"

_Static_assert(sizeof(om_sha256) >= sizeof(struct sha256_ctx), "om_sha256 too small");

void om_sha256_init(om_sha256 *h)
{
    sha256_init((struct sha256_ctx *)(void *)h);
}

void om_sha256_update(om_sha256 *h, const void *data, size_t len)
{
    sha256_update((struct sha256_ctx *)(void *)h, len, data);
}

void om_sha256_hex(om_sha256 *h, char out[OM_SHA256_HEX])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest((struct sha256_ctx *)(void *)h, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

void om_sha256_of(const void *data, size_t len, char out[OM_SHA256_HEX])
{
    om_sha256 h;
    om_sha256_init(&h);
    om_sha256_update(&h, data, len);
    om_sha256_hex(&h, out);
}

int om_sha256_file(const char *path, char out[OM_SHA256_HEX])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    om_sha256 h;
    om_sha256_init(&h);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        om_sha256_update(&h, buf, n);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        errno = EIO;
        return -1;
    }
    om_sha256_hex(&h, out);
    return 0;
}

void om_sha256_samples(const om_sample *s, size_t n, char out[OM_SHA256_HEX])
{
    om_sha256 h;
    om_sha256_init(&h);
    for (size_t i = 0; i < n; i++) {
        char v[40], line[80];
        if (om_format_double(s[i].v, v, sizeof v) == 0)
            snprintf(v, sizeof v, "nan");
        int len = snprintf(line, sizeof line, "%" PRId64 ",%s\n", s[i].t, v);
        om_sha256_update(&h, line, (size_t)len);
    }
    om_sha256_hex(&h, out);
}
