/* SPDX-License-Identifier: Apache-2.0 */
/*
 * digest.h - SHA-256 as lower-case hex, the one hash of the audit trail:
 * the readings a meter's month was computed from, the approved report, and
 * every file of an evidence pack (docs/methodology.md, "Approval and
 * restatement"). A thin wrapper over nettle.
 */
#ifndef OFFICEMETER_DIGEST_H
#define OFFICEMETER_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/report/consumption.h"

/* 64 hex digits and a NUL. */
#define OM_SHA256_HEX 65

typedef struct {
    uint64_t state[16]; /* room for nettle's struct sha256_ctx (112 bytes) */
} om_sha256;

void om_sha256_init(om_sha256 *h);
void om_sha256_update(om_sha256 *h, const void *data, size_t len);
void om_sha256_hex(om_sha256 *h, char out[OM_SHA256_HEX]);

/* The digest of a buffer. */
void om_sha256_of(const void *data, size_t len, char out[OM_SHA256_HEX]);
/* The digest of a file; -1 when it cannot be read (errno). */
int om_sha256_file(const char *path, char out[OM_SHA256_HEX]);
/* The digest of readings as the text lines "T,VALUE\n" (T in ms UTC, VALUE
 * the shortest text that reads back as the same double), so that anyone can
 * recompute it from a CSV export with sha256sum. */
void om_sha256_samples(const om_sample *s, size_t n, char out[OM_SHA256_HEX]);

#endif
