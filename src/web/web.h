/* SPDX-License-Identifier: Apache-2.0 */
/*
 * web.h - officemeter-web's parts and the one request/response shape they
 * share (not a public API; the unit tests include it).
 *
 *   MHD thread ──▶ http.c: auth, headers ──▶ route.c ──▶ api.c / pages.c / metrics.c
 *                                               │            │
 *                                   dbpool (one read-only    figures.c (from the hourly
 *                                   store per worker)        aggregates), svg.c (charts)
 *
 * Handlers are plain functions of (web_ctx, web_req) into a web_resp, so
 * the unit tests call them without a socket. Every handler checks its
 * parameters (400 with what and why), the user's sites (403) and what
 * exists (404) before it reads anything.
 */
#ifndef OFFICEMETER_WEB_H
#define OFFICEMETER_WEB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/config/aggcfg.h"
#include "officemeter/config/webcfg.h"
#include "officemeter/portfolio/portfolio.h"
#include "officemeter/store/rollupdb.h"
#include "officemeter/store/store.h"
#include "officemeter/users/users.h"

/* ---- a growing text buffer (wbuf.c) --------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    bool failed; /* out of memory: the response becomes a 500 */
} wbuf;

void wb_put(wbuf *b, const char *text);
void wb_putn(wbuf *b, const char *text, size_t n);
void wb_printf(wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text into HTML (element content and quoted attributes). */
void wb_html(wbuf *b, const char *text);
/* A number with `decimals` decimals and thin grouping; "–" for NAN. */
void wb_fixed(wbuf *b, double v, int decimals);
void wb_free(wbuf *b);

/* ---- requests and responses -------------------------------------------------- */

typedef struct {
    const char *method;
    const char *path; /* without the query */
    /* The query parameter `name` (URL-decoded), NULL when absent. */
    const char *(*arg)(void *argctx, const char *name);
    void *argctx;
    const char *const *names; /* every query parameter's name, for web_params_only */
    size_t nnames;
    const om_user *user; /* NULL when there is no users file (loopback only) */
} web_req;

typedef struct {
    int status;
    const char *type;       /* Content-Type */
    wbuf body;
    char disposition[160];  /* Content-Disposition, "" for none */
    bool no_store;          /* Cache-Control: no-store */
} web_resp;

/* ---- the daemon's shared state (web.c) ---------------------------------------- */

/* One worker's read-only connection. */
typedef struct {
    om_store *st;
    om_rollupdb *db;
    bool busy;
} web_conn;

typedef struct web_cache web_cache;

typedef struct {
    const om_web_config *cfg;
    om_agg_config agg;
    bool have_agg;
    const char *database;
    om_portfolio pf;
    om_users users;
    bool have_users;
    int64_t fixed_now; /* --now: the clock for replayed data; 0: the real clock */
    web_conn *conns;
    size_t nconns;
    pthread_mutex_t lock; /* conns, cache */
    pthread_rwlock_t users_lock; /* held for reading by each request, for writing by a reload */
    pthread_cond_t freed;
    web_cache *cache;
    void *summaries;       /* per site: summary.c's cache (under lock) */
    struct web_page *pages; /* answers kept page_cache_s seconds (under lock) */
    size_t npages;
    struct web_flight *flights; /* keys being computed (under lock, page_cache.c) */
    pthread_cond_t answered;    /* a key in flight got its answer */
    uint64_t pages_computed;    /* answers computed for the page cache (under lock) */
    uint64_t pages_shared;      /* requests answered by waiting for another's */
    /* Counters for /metrics (under lock). */
    uint64_t requests[6]; /* by status class: 2xx, 3xx, 4xx, 5xx, 401, 403 */
} web_ctx;

/* Loads everything the config names and opens nconns read-only
 * connections. Returns 0, or -1 after printing every reason to stderr. */
int web_open(web_ctx *w, const om_web_config *cfg, int64_t fixed_now, size_t nconns);
void web_close(web_ctx *w);
/* Reads the users file again (SIGHUP); a file with errors is refused and
 * the users before kept. Returns 0 or -1 (logged). */
int web_reload_users(web_ctx *w);
int64_t web_now(const web_ctx *w);
web_conn *web_conn_get(web_ctx *w);
void web_conn_put(web_ctx *w, web_conn *c);

/* The rows a report of `year` reads (om_portfolio_year) of a site (or
 * all: NULL), from stored rollups and months computed in memory, reused
 * for cfg->cache_s seconds. verify: stored months are checked against
 * their readings, as the report of an approved year does (costly: the
 * readings of every month are read). Returns 0, or -1 with err. */
int web_year_rows(web_ctx *w, web_conn *c, const om_site *site, int year, bool verify,
                  om_year_rows *out, char *err, size_t errlen);
void web_cache_free(web_cache *cache);

/* Answers kept for page_cache_s seconds, by key (user and URL), computed
 * once (page_cache.c). web_page_cache_get copies a kept answer into rs:
 * WEB_PAGE_HIT. When another request is computing the same key, it waits
 * for that answer (single flight: twenty first requests of one page
 * compute it once). WEB_PAGE_MINE: the caller computes it and must call
 * web_page_cache_put with that claim, which keeps it (200 only: errors
 * are not kept) and wakes the waiters. WEB_PAGE_COMPUTE: compute without keeping (the cache
 * is off, too many keys in flight, or the answer waited for was an error
 * or took longer than the wait's bound). */
typedef enum { WEB_PAGE_HIT, WEB_PAGE_MINE, WEB_PAGE_COMPUTE } web_page_claim;
web_page_claim web_page_cache_get(web_ctx *w, const char *key, web_resp *rs);
void web_page_cache_put(web_ctx *w, const char *key, const web_resp *rs, web_page_claim claim);
/* Forgets every kept answer (a user's sites changed); takes the lock. */
void web_page_cache_expire(web_ctx *w);
void web_page_cache_free(web_ctx *w);

/* ---- routing (route.c) ------------------------------------------------------------ */

/* Answers one request (any method; only GET and HEAD are served). */
void web_handle(web_ctx *w, const web_req *rq, web_resp *rs);
bool web_may_see(const web_req *rq, const char *site);
bool web_sees_all(const web_req *rq);

/* Error responses: a JSON body for /api/ and /metrics, an HTML page
 * otherwise; `why` says what and where ("year: invalid (got "x", ...)"). */
void web_error(const web_req *rq, web_resp *rs, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- parameters (params.c) ---------------------------------------------------------- */

/* Each returns 0 (absent: *out keeps its default), 1 (set) or -1 after
 * answering 400 naming the parameter. */
int web_param_year(const web_req *rq, web_resp *rs, const char *name, int *out);
int web_param_date(const web_req *rq, web_resp *rs, const char *name, int32_t *days);
int web_param_time(const web_req *rq, web_resp *rs, const char *name, int64_t *ms);
int web_param_quantity(const web_req *rq, web_resp *rs, const char *name, int *quantity);
int web_param_uint(const web_req *rq, web_resp *rs, const char *name, unsigned lo, unsigned hi,
                   unsigned *out);
/* Refuses parameters the route does not know (a typo must not be ignored). */
int web_params_only(const web_req *rq, web_resp *rs, const char *const *known);

/* ---- handlers ----------------------------------------------------------------------- */

/* JSON API (api.c). parts: the path's segments after /api/v1/. */
void web_api(web_ctx *w, const web_req *rq, web_resp *rs, char **parts, size_t nparts);
/* HTML pages (pages.c, page_site.c, page_meter.c). */
void web_page_portfolio(web_ctx *w, const web_req *rq, web_resp *rs);
void web_page_site(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site);
void web_page_meter(web_ctx *w, const web_req *rq, web_resp *rs, const om_site *site,
                    const om_meter *meter);
void web_page_report(web_ctx *w, const web_req *rq, web_resp *rs, int year);
void web_page_report_file(web_ctx *w, const web_req *rq, web_resp *rs, int year,
                          const char *format);
/* Prometheus text exposition (metrics.c). */
void web_metrics(web_ctx *w, const web_req *rq, web_resp *rs);
/* The stylesheet (pages.c). */
void web_static_css(web_resp *rs);

#endif
