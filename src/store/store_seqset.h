/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_seqset.h - the seqs of one (gateway, epoch) dealt with above the
 * cumulative acknowledgement: sorted, disjoint, non-adjacent ranges, and
 * how the acknowledgement moves when the lowest one touches it (not a
 * public API).
 *
 *     upto = 1030, set [1032..1040] [1050..1050]
 *     add 1031..1031, advance -> upto = 1040, set [1050..1050]
 *
 * The PostgreSQL backend merges a group's seqs into the committed state
 * with it. (The SQLite writer, store_write.c, keeps its own copy of the
 * same arithmetic for now.)
 */
#ifndef OFFICEMETER_STORE_SEQSET_H
#define OFFICEMETER_STORE_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/payload.h"

typedef struct {
    om_seq_range *r;
    size_t n, cap;
} seqset;

/* Merges from..to in (from <= to). Returns 0 or -1 (memory). */
int seqset_add(seqset *s, int64_t from, int64_t to);
/* Adds every range of src. */
int seqset_add_all(seqset *s, const seqset *src);
/* Drops what is at or below *upto, then moves *upto over a range that
 * starts right after it. */
void seqset_advance(seqset *s, int64_t *upto);
void seqset_clear(seqset *s);
/* In sorted ranges r[0..n), the one starting at first, or NULL (a binary
 * search: an epoch holds up to 65 536 of them). Both backends use it to
 * write only the ranges a commit changed. */
const om_seq_range *seq_range_at(const om_seq_range *r, size_t n, int64_t first);
void seqset_free(seqset *s);

#endif
