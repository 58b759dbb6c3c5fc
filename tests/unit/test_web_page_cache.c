/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_web_page_cache.c - the web view's answer cache is single flight:
 * requests of a key being computed wait for that answer instead of
 * computing it again; errors are not kept; the waiters of an error compute
 * on their own (src/web/page_cache.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "web.h"

#define WAITERS 8
#define KEY "-\x1f/sites/w000"

typedef struct {
    web_ctx w;
    om_web_config cfg;
} fixture;

typedef struct {
    fixture *f;
    atomic_int *returned;
    web_page_claim claim;
    web_resp rs;
} waiter;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->cfg.page_cache_s = 60;
    f->w.cfg = &f->cfg;
    pthread_mutex_init(&f->w.lock, NULL);
    pthread_cond_init(&f->w.answered, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    web_page_cache_free(&f->w);
    pthread_cond_destroy(&f->w.answered);
    pthread_mutex_destroy(&f->w.lock);
    free(f);
    return 0;
}

static void *ask(void *arg)
{
    waiter *q = arg;
    q->claim = web_page_cache_get(&q->f->w, KEY, &q->rs);
    atomic_fetch_add(q->returned, 1);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The first request owns the key; WAITERS more ask meanwhile. Returns
 * after checking that none of them answered before the owner did. */
static void start_waiters(fixture *f, waiter q[WAITERS], pthread_t t[WAITERS],
                          atomic_int *returned)
{
    web_resp mine = {0};
    assert_int_equal(web_page_cache_get(&f->w, KEY, &mine), WEB_PAGE_MINE);
    for (int i = 0; i < WAITERS; i++) {
        q[i] = (waiter){.f = f, .returned = returned};
        assert_int_equal(pthread_create(&t[i], NULL, ask, &q[i]), 0);
    }
    sleep_ms(300);
    assert_int_equal(atomic_load(returned), 0); /* they wait for the owner's answer */
}

static void computed_once(void **state)
{
    fixture *f = *state;
    waiter q[WAITERS];
    pthread_t t[WAITERS];
    atomic_int returned = 0;
    start_waiters(f, q, t, &returned);
    web_resp rs = {.status = 200, .type = "text/html"};
    wb_put(&rs.body, "the answer");
    web_page_cache_put(&f->w, KEY, &rs, WEB_PAGE_MINE);
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(q[i].claim, WEB_PAGE_HIT);
        assert_int_equal(q[i].rs.status, 200);
        assert_int_equal(q[i].rs.body.len, strlen("the answer"));
        assert_memory_equal(q[i].rs.body.data, "the answer", q[i].rs.body.len);
        wb_free(&q[i].rs.body);
    }
    assert_int_equal(f->w.pages_computed, 1);
    assert_int_equal(f->w.pages_shared, WAITERS);
    /* Kept: the next request is a hit too. */
    web_resp again = {0};
    assert_int_equal(web_page_cache_get(&f->w, KEY, &again), WEB_PAGE_HIT);
    wb_free(&again.body);
    wb_free(&rs.body);
}

static void errors_not_kept(void **state)
{
    fixture *f = *state;
    waiter q[WAITERS];
    pthread_t t[WAITERS];
    atomic_int returned = 0;
    start_waiters(f, q, t, &returned);
    web_resp rs = {.status = 500, .type = "application/json"};
    wb_put(&rs.body, "{\"error\": {}}");
    web_page_cache_put(&f->w, KEY, &rs, WEB_PAGE_MINE);
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(q[i].claim, WEB_PAGE_COMPUTE); /* each computes on its own */
        assert_int_equal(q[i].rs.body.len, 0);
    }
    /* Nothing kept, nothing in flight: the next request owns the key. */
    web_resp next = {0};
    assert_int_equal(web_page_cache_get(&f->w, KEY, &next), WEB_PAGE_MINE);
    web_page_cache_put(&f->w, KEY, &rs, WEB_PAGE_MINE);
    wb_free(&rs.body);
}

static void off_when_zero(void **state)
{
    fixture *f = *state;
    f->cfg.page_cache_s = 0;
    web_resp a = {0}, b = {0};
    assert_int_equal(web_page_cache_get(&f->w, KEY, &a), WEB_PAGE_COMPUTE);
    assert_int_equal(web_page_cache_get(&f->w, KEY, &b), WEB_PAGE_COMPUTE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(computed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_not_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(off_when_zero, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
