/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page_cache.c - answers kept page_cache_s seconds, computed once.
 *
 * A fresh daemon (or a page whose answer just expired) asked the same URL
 * by twenty clients at once would compute it twenty times on two cores,
 * each one slower for the others. So a key being computed is "in flight":
 * the first request computes it, the others wait on `answered` and take
 * its answer. Errors are not kept; a waiter whose answer did not come
 * (an error, or WAIT_MS passed) computes on its own. At most MAX_FLIGHTS
 * keys are in flight; beyond that requests compute without waiting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "officemeter/base/clock.h"
#include "web.h"

#define PAGE_CACHE 256
#define MAX_FLIGHTS 64
#define WAIT_MS 30000

struct web_page {
    char *key;
    int64_t until; /* monotonic ms */
    int status;
    const char *type;
    char *body;
    size_t len;
    char disposition[160];
    bool no_store;
};

struct web_flight {
    char *key; /* NULL: a free slot */
};

/* A fresh kept answer of key, copied into rs. Under lock. */
static bool copy_kept(web_ctx *w, const char *key, web_resp *rs)
{
    int64_t now = om_mono_ms();
    for (size_t i = 0; i < w->npages; i++) {
        struct web_page *p = &w->pages[i];
        if (!p->key || p->until <= now || strcmp(p->key, key) != 0)
            continue;
        wb_putn(&rs->body, p->body, p->len);
        rs->status = p->status;
        rs->type = p->type;
        rs->no_store = p->no_store;
        snprintf(rs->disposition, sizeof rs->disposition, "%s", p->disposition);
        return true;
    }
    return false;
}

/* The flight of key, or NULL. Under lock. */
static struct web_flight *flight_of(web_ctx *w, const char *key)
{
    for (size_t i = 0; w->flights && i < MAX_FLIGHTS; i++)
        if (w->flights[i].key && strcmp(w->flights[i].key, key) == 0)
            return &w->flights[i];
    return NULL;
}

/* Starts a flight of key: false when none can be (memory, too many). */
static bool flight_start(web_ctx *w, const char *key)
{
    if (!w->flights && !(w->flights = calloc(MAX_FLIGHTS, sizeof *w->flights)))
        return false;
    for (size_t i = 0; i < MAX_FLIGHTS; i++)
        if (!w->flights[i].key)
            return (w->flights[i].key = strdup(key)) != NULL;
    return false;
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

web_page_claim web_page_cache_get(web_ctx *w, const char *key, web_resp *rs)
{
    if (w->cfg->page_cache_s == 0)
        return WEB_PAGE_COMPUTE;
    web_page_claim claim = WEB_PAGE_COMPUTE;
    pthread_mutex_lock(&w->lock);
    if (copy_kept(w, key, rs)) {
        claim = WEB_PAGE_HIT;
    } else if (flight_of(w, key)) {
        struct timespec deadline;
        deadline_in(&deadline, WAIT_MS);
        int rc = 0;
        while (flight_of(w, key) && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&w->answered, &w->lock, &deadline);
        if (copy_kept(w, key, rs)) {
            claim = WEB_PAGE_HIT;
            w->pages_shared++;
        }
    } else if (flight_start(w, key)) {
        claim = WEB_PAGE_MINE;
        w->pages_computed++;
    }
    pthread_mutex_unlock(&w->lock);
    return claim;
}

/* Keeps an answer in the slot of the same key, an expired one, or the
 * one that expires first. Under lock; takes k and body. */
static void keep(web_ctx *w, char *k, char *body, const web_resp *rs)
{
    if (!w->pages && !(w->pages = calloc(PAGE_CACHE, sizeof *w->pages))) {
        free(k);
        free(body);
        return;
    }
    w->npages = PAGE_CACHE;
    size_t slot = 0;
    for (size_t i = 0; i < PAGE_CACHE; i++) {
        struct web_page *p = &w->pages[i];
        if (p->key && strcmp(p->key, k) == 0) {
            slot = i;
            break;
        }
        if (!p->key || p->until < w->pages[slot].until)
            slot = i;
    }
    struct web_page *p = &w->pages[slot];
    free(p->key);
    free(p->body);
    *p = (struct web_page){k, om_mono_ms() + (int64_t)w->cfg->page_cache_s * 1000, rs->status,
                           rs->type, body, rs->body.len, "", rs->no_store};
    snprintf(p->disposition, sizeof p->disposition, "%s", rs->disposition);
}

void web_page_cache_put(web_ctx *w, const char *key, const web_resp *rs, web_page_claim claim)
{
    if (w->cfg->page_cache_s == 0)
        return;
    char *k = NULL, *body = NULL;
    if (rs->status == 200 && !rs->body.failed) {
        k = strdup(key);
        body = malloc(rs->body.len + 1);
        if (k && body)
            memcpy(body, rs->body.data ? rs->body.data : "", rs->body.len);
    }
    pthread_mutex_lock(&w->lock);
    if (k && body)
        keep(w, k, body, rs);
    else {
        free(k);
        free(body);
    }
    struct web_flight *f = claim == WEB_PAGE_MINE ? flight_of(w, key) : NULL;
    if (f) {
        free(f->key);
        f->key = NULL;
    }
    pthread_cond_broadcast(&w->answered);
    pthread_mutex_unlock(&w->lock);
}

void web_page_cache_expire(web_ctx *w)
{
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->npages; i++)
        w->pages[i].until = 0;
    pthread_mutex_unlock(&w->lock);
}

void web_page_cache_free(web_ctx *w)
{
    for (size_t i = 0; i < w->npages; i++) {
        free(w->pages[i].key);
        free(w->pages[i].body);
    }
    free(w->pages);
    for (size_t i = 0; w->flights && i < MAX_FLIGHTS; i++)
        free(w->flights[i].key);
    free(w->flights);
    w->pages = NULL;
    w->flights = NULL;
    w->npages = 0;
}
