/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_migrate.c - copy a database to the other backend, resumably, and
 * prove the copy by counts and checksums (migrate.h).
 *
 * Backend-neutral: rows come and go through each backend's raw functions
 * (store_ops.h) and the table list of store_tables.c, so SQLite to
 * PostgreSQL and PostgreSQL to SQLite are the same code.
 */
#include "officemeter/store/migrate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/store/alertdb.h"
#include "store_private.h"

#define DEFAULT_BATCH 20000

/* The quantity a database's id stands for; -1 when it has none. */
static int quantity_of_id(const om_store *st, int64_t id)
{
    for (int q = 0; q < OM_Q__COUNT; q++)
        if (st->qid[q] == id)
            return q;
    return -1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A quantity id of `from` as the id of the same quantity in `to`. */
static int translate(const om_store *from, const om_store *to, const store_table *t,
                     store_batch *b, char *err, size_t errlen)
{
    if (t->quantity_col < 0)
        return 0;
    for (size_t r = 0; r < b->nrows; r++) {
        store_value *v = &b->v[r * b->ncols + (size_t)t->quantity_col];
        int q = v->null ? -1 : quantity_of_id(from, v->i);
        if (q < 0 || to->qid[q] == 0) {
            char id[24];
            snprintf(id, sizeof id, "%lld", v->null ? 0LL : (long long)v->i);
            return fail(err, errlen, "%s: quantity id %s is unknown to this program", t->name,
                        id);
        }
        v->i = to->qid[q];
    }
    return 0;
}

/* The target holds nothing, or an unfinished copy of this source. */
static int target_ready(om_store *from, om_store *to, char *err, size_t errlen)
{
    store_batch b = {0};
    int rc = 0;
    for (size_t i = 0; i < store_ntables && rc == 0; i++) {
        const store_table *t = &store_tables[i];
        store_progress p;
        if (to->ops->raw_progress(to, t->name, &p) < 0) {
            rc = fail(err, errlen, "%s", om_store_errmsg(to));
            break;
        }
        if (p.present && strcmp(p.source, om_store_path(from)) != 0) {
            rc = fail(err, errlen, "the target holds a copy of another database (%s); migrate "
                      "into an empty one", p.source);
            break;
        }
        if (p.present || t->rollup || strcmp(t->name, "quantities") == 0)
            continue;
        if (to->ops->raw_select(to, t, NULL, 1, &b) < 0)
            rc = fail(err, errlen, "%s", om_store_errmsg(to));
        else if (b.nrows > 0)
            rc = fail(err, errlen, "the target already holds %s; migrate into an empty "
                      "database", t->name);
    }
    store_batch_free(&b);
    return rc;
}

static int copy_whole(om_store *from, om_store *to, const store_table *t, store_progress *p,
                      store_batch *b, const om_migrate_options *o, char *err, size_t errlen)
{
    if (from->ops->raw_select(from, t, NULL, 0, b) < 0)
        return fail(err, errlen, "%s", om_store_errmsg(from));
    if (translate(from, to, t, b, err, errlen) < 0)
        return -1;
    p->rows = b->nrows;
    p->done = true;
    if (to->ops->raw_insert(to, t, b, true, p, t->name) < 0)
        return fail(err, errlen, "%s", om_store_errmsg(to));
    if (o->progress)
        o->progress(o->ctx, t->name, p->rows, true);
    return 0;
}

static int copy_keyed(om_store *from, om_store *to, const store_table *t, store_progress *p,
                      store_batch *b, const om_migrate_options *o, char *err, size_t errlen)
{
    size_t batch = o->batch_rows ? o->batch_rows : DEFAULT_BATCH;
    store_value key[8];
    char key_text[sizeof p->last_key];
    bool resume = p->present && p->last_key[0];
    if (resume) {
        snprintf(key_text, sizeof key_text, "%s", p->last_key);
        if (store_key_decode(t, key_text, key) < 0)
            return fail(err, errlen, "%s: unreadable progress (%s) in the target", t->name,
                        p->last_key);
    }
    for (;;) {
        if (from->ops->raw_select(from, t, resume ? key : NULL, batch, b) < 0)
            return fail(err, errlen, "%s", om_store_errmsg(from));
        if (b->nrows == 0)
            break;
        const store_value *last = &b->v[(b->nrows - 1) * b->ncols];
        if (store_key_encode(t, last, p->last_key, sizeof p->last_key) < 0)
            return fail(err, errlen, "%s: a key too long to record", t->name);
        if (translate(from, to, t, b, err, errlen) < 0)
            return -1;
        p->rows += b->nrows;
        if (to->ops->raw_insert(to, t, b, false, p, t->name) < 0)
            return fail(err, errlen, "%s", om_store_errmsg(to));
        if (o->progress)
            o->progress(o->ctx, t->name, p->rows, false);
        /* The next batch starts after this one's last key (copied out of
         * the batch, which the next select reuses). */
        snprintf(key_text, sizeof key_text, "%s", p->last_key);
        store_key_decode(t, key_text, key);
        resume = true;
    }
    p->done = true;
    if (to->ops->raw_insert(to, NULL, NULL, false, p, t->name) < 0)
        return fail(err, errlen, "%s", om_store_errmsg(to));
    if (o->progress)
        o->progress(o->ctx, t->name, p->rows, true);
    return 0;
}

int om_store_migrate(om_store *from, om_store *to, const om_migrate_options *opts, char *err,
                     size_t errlen)
{
    om_migrate_options none = {0};
    const om_migrate_options *o = opts ? opts : &none;
    if (to->readonly)
        return fail(err, errlen, "%s: opened read-only", om_store_path(to));
    /* The target's rollup tables, created as rollupdb.h creates them. */
    char why[1024];
    om_rollupdb *rdb = om_rollupdb_open(to, why, sizeof why);
    if (!rdb)
        return fail(err, errlen, "%s", why);
    om_rollupdb_close(rdb);
    /* The source's rollup tables of this program's version, checked before
     * anything is copied: a read-only source is not upgraded, and an older
     * one found after hours of copying readings would waste them. */
    bool rollups;
    if (from->ops->raw_has(from, "rollup_meta", &rollups) < 0)
        return fail(err, errlen, "%s", om_store_errmsg(from));
    if (rollups) {
        om_rollupdb *src = om_rollupdb_open(from, why, sizeof why);
        if (!src)
            return fail(err, errlen, "%s", why);
        om_rollupdb_close(src);
    }
    /* And the approval tables, when the source has approvals to copy. */
    bool approvals;
    if (from->ops->raw_has(from, "report_approvals", &approvals) < 0)
        return fail(err, errlen, "%s", om_store_errmsg(from));
    if (approvals && to->ops->approval_create(to, err, errlen) < 0)
        return -1;
    /* And the alert tables, when the source has alerts (alertdb.h). */
    bool alerts;
    if (from->ops->raw_has(from, "alert_meta", &alerts) < 0)
        return fail(err, errlen, "%s", om_store_errmsg(from));
    if (alerts) {
        om_alertdb *adb = om_alertdb_open(to, NULL, why, sizeof why);
        if (!adb)
            return fail(err, errlen, "%s", why);
        om_alertdb_close(adb);
    }
    if (target_ready(from, to, err, errlen) < 0)
        return -1;
    store_batch b = {0};
    int rc = 0;
    for (size_t i = 0; i < store_ntables && rc == 0; i++) {
        const store_table *t = &store_tables[i];
        if (strcmp(t->name, "quantities") == 0)
            continue; /* each database has its own ids; translate() maps them */
        bool have;
        if (from->ops->raw_has(from, t->name, &have) < 0) {
            rc = fail(err, errlen, "%s", om_store_errmsg(from));
            break;
        }
        store_progress p;
        if (to->ops->raw_progress(to, t->name, &p) < 0) {
            rc = fail(err, errlen, "%s", om_store_errmsg(to));
            break;
        }
        if (p.done) {
            if (o->progress)
                o->progress(o->ctx, t->name, p.rows, true);
            continue;
        }
        snprintf(p.source, sizeof p.source, "%s", om_store_path(from));
        if (!have && t->derived && strcmp(t->name, "meter_hours") == 0 &&
            to->ops->hours_rebuild(to) < 0) {
            /* A source without aggregates: the target's, from its readings
             * (copied by now: readings come first). */
            rc = fail(err, errlen, "%s", om_store_errmsg(to));
            break;
        }
        if (!have) { /* a source without rollups (or aggregates) yet */
            p.done = true;
            rc = to->ops->raw_insert(to, NULL, NULL, false, &p, t->name) < 0
                     ? fail(err, errlen, "%s", om_store_errmsg(to))
                     : 0;
            continue;
        }
        rc = t->nkey ? copy_keyed(from, to, t, &p, &b, o, err, errlen)
                     : copy_whole(from, to, t, &p, &b, o, err, errlen);
        if (rc == 0 && to->ops->raw_finish(to, t) < 0)
            rc = fail(err, errlen, "%s", om_store_errmsg(to));
    }
    store_batch_free(&b);
    return rc;
}

/* ---- proving the copy ----------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* splitmix64's finaliser: sums of mixed hashes do not cancel out the way
 * sums of raw FNV values of similar rows can. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One row's hash: its values by column type, a quantity by name, and for
 * quantities everything but the id (ids are each database's own). */
static uint64_t row_hash(const om_store *st, const store_table *t, const store_value *row)
{
    uint64_t h = 14695981039346656037ull;
    bool is_quantities = strcmp(t->name, "quantities") == 0;
    for (size_t c = is_quantities ? 1 : 0; c < t->ncols; c++) {
        const store_value *v = &row[c];
        unsigned char tag = v->null ? 0 : (unsigned char)(1 + t->cols[c].type);
        h = fnv(h, &tag, 1);
        if (v->null)
            continue;
        if ((int)c == t->quantity_col) {
            int q = quantity_of_id(st, v->i);
            const char *name = q >= 0 ? om_quantity_get((om_quantity)q)->name : "?";
            h = fnv(h, name, strlen(name) + 1);
        } else if (t->cols[c].type == COL_INT) {
            h = fnv(h, &v->i, sizeof v->i);
        } else if (t->cols[c].type == COL_REAL) {
            h = fnv(h, &v->d, sizeof v->d);
        } else {
            uint64_t len = v->len;
            h = fnv(h, &len, sizeof len);
            h = fnv(h, v->s, v->len);
        }
    }
    return mix(h);
}

static int table_sum(om_store *st, const store_table *t, uint64_t *rows, uint64_t *sum,
                     store_batch *b)
{
    *rows = *sum = 0;
    bool have;
    if (st->ops->raw_has(st, t->name, &have) < 0)
        return -1;
    if (!have)
        return 0;
    store_value key[8];
    char key_text[1024];
    bool after = false;
    for (;;) {
        if (st->ops->raw_select(st, t, after ? key : NULL, t->nkey ? DEFAULT_BATCH : 0, b) < 0)
            return -1;
        for (size_t r = 0; r < b->nrows; r++)
            *sum += row_hash(st, t, &b->v[r * b->ncols]);
        *rows += b->nrows;
        if (!t->nkey || b->nrows == 0)
            return 0;
        if (store_key_encode(t, &b->v[(b->nrows - 1) * b->ncols], key_text, sizeof key_text) < 0)
            return store_failf(st, "%s: a key too long", t->name);
        store_key_decode(t, key_text, key);
        after = true;
    }
}

int om_store_compare(om_store *a, om_store *b, om_migrate_check **checks, size_t *n, char *err,
                     size_t errlen)
{
    *checks = calloc(store_ntables, sizeof **checks);
    *n = 0;
    if (!*checks)
        return fail(err, errlen, "out of memory");
    store_batch batch = {0};
    int rc = 0;
    for (size_t i = 0; i < store_ntables; i++) {
        om_migrate_check *c = &(*checks)[*n];
        const store_table *t = &store_tables[i];
        memset(c, 0, sizeof *c);
        snprintf(c->table, sizeof c->table, "%s", t->name);
        om_store *side[2] = {a, b};
        if (t->derived || t->rollup) {
            /* Rebuilt rather than copied when one side has none (the
             * aggregates), or made empty by the target for a source that
             * never rolled up a month (the rollup tables): not compared. */
            bool have[2];
            for (int s = 0; s < 2; s++)
                if (side[s]->ops->raw_has(side[s], t->name, &have[s]) < 0) {
                    rc = fail(err, errlen, "%s", om_store_errmsg(side[s]));
                    goto done;
                }
            if (!have[0] || !have[1])
                continue;
        }
        for (int s = 0; s < 2; s++)
            if (table_sum(side[s], t, &c->rows[s], &c->checksum[s], &batch) < 0) {
                rc = fail(err, errlen, "%s", om_store_errmsg(side[s]));
                goto done;
            }
        (*n)++;
        if (c->rows[0] != c->rows[1] || c->checksum[0] != c->checksum[1])
            rc = 1;
    }
done:
    store_batch_free(&batch);
    return rc;
}
