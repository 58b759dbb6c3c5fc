/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollupdb.h - monthly rollups in the aggregator's database.
 *
 * The readings are read through the store's connection (store.h); the
 * rollups live in tables of their own (rollup_months, rollup_meters,
 * rollup_events) with their own schema version, so the store's migrations
 * and ours never wait on each other. A site's month is replaced as a whole
 * in one transaction: re-running a rollup changes nothing but the time it
 * was computed. Each stored month carries a fingerprint of what it was
 * computed from (site file, policy, meter models, method version); the
 * report recomputes a month whose fingerprint no longer matches, and any
 * provisional month.
 */
#ifndef OFFICEMETER_ROLLUPDB_H
#define OFFICEMETER_ROLLUPDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/report/rollup.h"
#include "officemeter/store/store.h"

/* Version of the rollup tables (rollup_meta 'schema'). */
#define OM_ROLLUPDB_SCHEMA 2

typedef struct om_rollupdb om_rollupdb;

/* Prepares the rollup tables on an open store (creating them when the
 * store is writable and they are missing; a read-only store without them
 * holds no stored month, and om_rollupdb_save fails). Returns NULL with
 * the reason in err. */
om_rollupdb *om_rollupdb_open(om_store *st, char *err, size_t errlen);
void om_rollupdb_close(om_rollupdb *db);
const char *om_rollupdb_errmsg(const om_rollupdb *db);

/* A reading source over the store for om_rollup_site_month. */
void om_rollupdb_source(om_rollupdb *db, om_rollup_source *src);

/* What a month's figures depend on besides the readings. */
uint64_t om_rollup_fingerprint(const om_site *site, const om_policy *policy);

typedef struct {
    bool stored;
    bool provisional;
    uint64_t fingerprint;
    int64_t computed_at;
} om_rollup_state;

int om_rollupdb_state(om_rollupdb *db, const char *site, int year, unsigned month,
                      om_rollup_state *out);

/* Replaces a site's month (its rows and events) in one transaction. */
int om_rollupdb_save(om_rollupdb *db, const om_site *site, int year, unsigned month,
                     bool provisional, int64_t computed_at, uint64_t fingerprint,
                     const om_meter_month *rows, size_t nrows, const om_month_event *events,
                     size_t nevents);

/* Appends a site's stored rows (and, when events is non-NULL, events) of a
 * year to the caller's malloc'd arrays. */
int om_rollupdb_load_year(om_rollupdb *db, const char *site, int year, om_meter_month **rows,
                          size_t *nrows, om_month_event **events, size_t *nevents);

/* ---- retention (report/retention.h, docs/methodology.md "Retention") ----
 * Raw readings of old months are thinned to what the rollups need; how
 * many counter readings were dropped is kept per 15-minute bucket
 * (retained_counts), so a month's `readings` stays what it was (the source
 * of om_rollupdb_source counts them), and each site's thinned period is
 * recorded (retained_months). */

/* One series of a site to thin: the times of its readings to drop
 * (ascending, within the period). A counter's drops are counted. */
typedef struct {
    const char *meter;
    om_quantity quantity;
    const int64_t *drop;
    size_t ndrop;
    bool counter;
} om_retain_series;

/* The digest of a stored meter-month's readings as it will be once the
 * period is thinned (rollup_meters.readings_sha256): retention writes it
 * with the thinning, so that a month checked against its readings later
 * finds them unchanged in meaning and is not rolled up again. */
typedef struct {
    const char *meter;
    om_quantity quantity;
    int year;
    unsigned month;
    const char *sha256;
} om_retain_digest;

/* Drops the readings of a site's series in [from, to), counts them,
 * records the period as thinned (kept: the readings left) and sets the
 * stored digests of the site's meter-months given, all in one
 * transaction. */
int om_rollupdb_thin(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                     const om_retain_series *series, size_t nseries,
                     const om_retain_digest *digests, size_t ndigests, uint64_t kept, int64_t at);
/* Whether a site's period starting at `from` was thinned already. */
int om_rollupdb_thinned(om_rollupdb *db, const char *site, int64_t from, bool *done);

#endif
