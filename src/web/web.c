/* SPDX-License-Identifier: Apache-2.0 */
/*
 * web.c - what every request shares: the portfolio, the users, one
 * read-only database connection per worker thread, and the months
 * computed in memory.
 *
 * Read-only connections in WAL mode never block the aggregator: a reader
 * sees the snapshot of its first SELECT, and the writer appends to the WAL
 * meanwhile. A worker holds its connection for one request only.
 *
 * The cache: the rows of (site, year) that web_year_rows returns, computed
 * with om_portfolio_year (stored months, and in memory the months a report
 * would compute again: missing, provisional, other inputs), kept for
 * cache_s seconds. So a page's monthly bars cost one computation of the
 * current month per site and minute, however many people look.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/clock.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/daemon/log.h"
#include "officemeter/store/hours.h"
#include "web.h"

typedef struct {
    char site[64]; /* "" for every site */
    int year;
    bool verify;   /* stored months checked against their readings (om_rows_opts) */
    int64_t at;    /* monotonic ms when computed */
    om_year_rows rows;
} cache_entry;

struct web_cache {
    cache_entry *entries;
    size_t n, cap;
};

int64_t web_now(const web_ctx *w)
{
    return w->fixed_now ? w->fixed_now : om_wall_ms();
}

static int load_files(web_ctx *w, const om_web_config *cfg)
{
    om_diag diag;
    om_diag_init(&diag);
    int rc = 0;
    if (cfg->aggregator_config) {
        rc = om_agg_config_load(cfg->aggregator_config, &w->agg, &diag);
        w->have_agg = true;
    }
    const char *sites_dir = cfg->sites_dir ? cfg->sites_dir : w->agg.sites_dir;
    w->database = cfg->database ? cfg->database : w->agg.database;
    if (rc == 0) {
        om_portfolio_paths paths = {
            .sites_dir = sites_dir,
            .catalogue = cfg->catalogue            ? cfg->catalogue
                         : w->have_agg ? w->agg.catalogue
                                                   : OM_AGG_DEFAULT_CATALOGUE,
        };
        rc = om_portfolio_load(&paths, &w->pf, &diag);
    }
    if (rc == 0 && cfg->users_file) {
        rc = om_users_load(cfg->users_file, &w->users, &diag);
        w->have_users = true;
    }
    om_diag_print(&diag, stderr);
    om_diag_free(&diag);
    return rc;
}

int web_open(web_ctx *w, const om_web_config *cfg, int64_t fixed_now, size_t nconns)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->fixed_now = fixed_now;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->freed, NULL);
    pthread_cond_init(&w->answered, NULL);
    pthread_rwlock_init(&w->users_lock, NULL);
    if (load_files(w, cfg) < 0)
        return -1;
    w->cache = calloc(1, sizeof *w->cache);
    w->conns = calloc(nconns, sizeof *w->conns);
    if (!w->cache || !w->conns) {
        fprintf(stderr, "officemeter-web: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < nconns; i++) {
        char err[1024];
        web_conn *c = &w->conns[i];
        c->st = om_store_open(w->database, OM_STORE_READONLY, err, sizeof err);
        if (c->st)
            c->db = om_rollupdb_open(c->st, err, sizeof err);
        if (!c->st || !c->db) {
            fprintf(stderr, "officemeter-web: %s\n", err);
            return -1;
        }
        w->nconns++;
    }
    if (!om_store_has_hours(w->conns[0].st))
        om_log(OM_LOG_WARNING, "%s has no hourly aggregates yet: the dashboards stay empty "
               "until officemeter-aggregator of this version has opened it once", w->database);
    return 0;
}

int web_reload_users(web_ctx *w)
{
    if (!w->cfg->users_file)
        return 0;
    om_diag diag;
    om_diag_init(&diag);
    om_users fresh;
    int rc = om_users_load(w->cfg->users_file, &fresh, &diag);
    for (size_t i = 0; i < diag.count; i++)
        om_log(OM_LOG_ERROR, "%s", diag.messages[i]);
    om_diag_free(&diag);
    if (rc < 0) {
        om_users_free(&fresh);
        return -1;
    }
    pthread_rwlock_wrlock(&w->users_lock);
    om_users_free(&w->users);
    w->users = fresh;
    /* Answers kept for a user whose sites changed must go too. */
    web_page_cache_expire(w);
    pthread_rwlock_unlock(&w->users_lock);
    return 0;
}

void web_cache_free(web_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < cache->n; i++)
        om_year_rows_free(&cache->entries[i].rows);
    free(cache->entries);
    free(cache);
}

void web_close(web_ctx *w)
{
    for (size_t i = 0; i < w->nconns; i++) {
        om_rollupdb_close(w->conns[i].db);
        om_store_close(w->conns[i].st);
    }
    free(w->conns);
    web_cache_free(w->cache);
    free(w->summaries);
    web_page_cache_free(w);
    om_users_free(&w->users);
    om_portfolio_free(&w->pf);
    if (w->have_agg)
        om_agg_config_free(&w->agg);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->freed);
    pthread_cond_destroy(&w->answered);
    pthread_rwlock_destroy(&w->users_lock);
    memset(w, 0, sizeof *w);
}

web_conn *web_conn_get(web_ctx *w)
{
    pthread_mutex_lock(&w->lock);
    for (;;) {
        for (size_t i = 0; i < w->nconns; i++)
            if (!w->conns[i].busy) {
                w->conns[i].busy = true;
                pthread_mutex_unlock(&w->lock);
                return &w->conns[i];
            }
        pthread_cond_wait(&w->freed, &w->lock);
    }
}

void web_conn_put(web_ctx *w, web_conn *c)
{
    om_store_read_end(c->st);
    pthread_mutex_lock(&w->lock);
    c->busy = false;
    pthread_cond_signal(&w->freed);
    pthread_mutex_unlock(&w->lock);
}

/* ---- computed months ---------------------------------------------------------- */

static int copy_rows(om_year_rows *dst, const om_year_rows *src)
{
    size_t nr = dst->nrows + src->nrows, ne = dst->nevents + src->nevents;
    om_meter_month *rows = src->nrows ? realloc(dst->rows, (nr ? nr : 1) * sizeof *rows)
                                      : dst->rows;
    if (src->nrows && !rows)
        return -1;
    dst->rows = rows;
    om_month_event *events = src->nevents ? realloc(dst->events, (ne ? ne : 1) * sizeof *events)
                                          : dst->events;
    if (src->nevents && !events)
        return -1;
    dst->events = events;
    if (src->nrows)
        memcpy(dst->rows + dst->nrows, src->rows, src->nrows * sizeof *src->rows);
    if (src->nevents)
        memcpy(dst->events + dst->nevents, src->events, src->nevents * sizeof *src->events);
    dst->nrows = nr;
    dst->nevents = ne;
    dst->computed += src->computed;
    return 0;
}

static bool cache_is(const cache_entry *e, const char *site, int year, bool verify)
{
    return e->year == year && e->verify == verify && strcmp(e->site, site) == 0;
}

static cache_entry *cache_find(web_cache *c, const char *site, int year, bool verify,
                               int64_t fresh_after)
{
    for (size_t i = 0; i < c->n; i++)
        if (cache_is(&c->entries[i], site, year, verify))
            return c->entries[i].at >= fresh_after ? &c->entries[i] : NULL;
    return NULL;
}

static void cache_put(web_cache *c, const char *site, int year, bool verify, om_year_rows *rows)
{
    cache_entry *e = NULL;
    for (size_t i = 0; i < c->n && !e; i++)
        if (cache_is(&c->entries[i], site, year, verify))
            e = &c->entries[i];
    if (!e) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 64;
            cache_entry *grown = realloc(c->entries, cap * sizeof *grown);
            if (!grown) {
                om_year_rows_free(rows);
                return;
            }
            c->entries = grown;
            c->cap = cap;
        }
        e = &c->entries[c->n++];
        memset(e, 0, sizeof *e);
        snprintf(e->site, sizeof e->site, "%s", site);
        e->year = year;
        e->verify = verify;
    }
    om_year_rows_free(&e->rows);
    e->rows = *rows;
    e->at = om_mono_ms();
    memset(rows, 0, sizeof *rows);
}

/* One site's rows: from the cache, or computed and cached. */
static int site_rows(web_ctx *w, web_conn *c, const om_site *site, int year, bool verify,
                     om_year_rows *out, char *err, size_t errlen)
{
    int64_t fresh_after = om_mono_ms() - (int64_t)w->cfg->cache_s * 1000;
    pthread_mutex_lock(&w->lock);
    cache_entry *e = w->cfg->cache_s ? cache_find(w->cache, site->site, year, verify, fresh_after) : NULL;
    int rc = e ? copy_rows(out, &e->rows) : 1;
    pthread_mutex_unlock(&w->lock);
    if (rc <= 0) {
        if (rc < 0)
            snprintf(err, errlen, "out of memory");
        return rc;
    }
    om_year_rows fresh = {0};
    /* Read-only: computed months stay in memory (save false). */
    om_rows_opts o = {.now = web_now(w), .verify = verify};
    if (om_portfolio_year(c->st, c->db, &w->pf, site, year, &o, &fresh, err, errlen) < 0) {
        om_year_rows_free(&fresh);
        return -1;
    }
    if (copy_rows(out, &fresh) < 0) {
        om_year_rows_free(&fresh);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_lock(&w->lock);
    cache_put(w->cache, site->site, year, verify, &fresh);
    pthread_mutex_unlock(&w->lock);
    om_year_rows_free(&fresh);
    return 0;
}

int web_year_rows(web_ctx *w, web_conn *c, const om_site *site, int year, bool verify,
                  om_year_rows *out, char *err, size_t errlen)
{
    if (site)
        return site_rows(w, c, site, year, verify, out, err, errlen);
    for (size_t i = 0; i < w->pf.sites.nsites; i++)
        if (site_rows(w, c, &w->pf.sites.sites[i], year, verify, out, err, errlen) < 0)
            return -1;
    return 0;
}
