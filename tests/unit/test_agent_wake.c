/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_wake.c - the delivery loop's wake-up: a wake from another
 * thread or a signal handler ends the sleep at once, a wake before the
 * sleep is not lost, several wakes are consumed by one wait, and a sleep
 * with nothing to wake it lasts its timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "officemeter/base/clock.h"
#include "wake.h"

static void test_timeout_without_wake(void **state)
{
    (void)state;
    om_wake w;
    assert_int_equal(om_wake_open(&w), 0);
    int64_t t0 = om_mono_ms();
    assert_int_equal(om_wake_wait(&w, 120), 0);
    int64_t slept = om_mono_ms() - t0;
    assert_true(slept >= 110);
    assert_int_equal(om_wake_wait(&w, 0), 0); /* looking does not block */
    om_wake_close(&w);
    assert_int_equal(w.fd, -1);
}

static void test_wake_before_wait_is_kept(void **state)
{
    (void)state;
    om_wake w;
    assert_int_equal(om_wake_open(&w), 0);
    om_wake_signal(&w);
    om_wake_signal(&w);
    om_wake_signal(&w);
    int64_t t0 = om_mono_ms();
    assert_int_equal(om_wake_wait(&w, 5000), 1);
    assert_true(om_mono_ms() - t0 < 1000);
    /* the three wakes were consumed together: the next wait sleeps */
    assert_int_equal(om_wake_wait(&w, 50), 0);
    om_wake_close(&w);
}

static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    om_wake_signal(arg);
    return NULL;
}

static void test_wake_from_thread(void **state)
{
    (void)state;
    om_wake w;
    assert_int_equal(om_wake_open(&w), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wake_later, &w), 0);
    int64_t t0 = om_mono_ms();
    assert_int_equal(om_wake_wait(&w, 10000), 1);
    int64_t slept = om_mono_ms() - t0;
    pthread_join(t, NULL);
    assert_true(slept >= 50);
    assert_true(slept < 5000);
    om_wake_close(&w);
}

static om_wake *alarm_wake;
static volatile sig_atomic_t alarm_seen;

static void on_alarm(int sig)
{
    (void)sig;
    alarm_seen = 1;
    om_wake_signal(alarm_wake);
}

/* What SIGTERM does to the agent: the handler wakes a minute-long sleep. */
static void test_wake_from_signal_handler(void **state)
{
    (void)state;
    om_wake w;
    assert_int_equal(om_wake_open(&w), 0);
    alarm_wake = &w;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART; /* poll(2) is never restarted: it still returns */
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 100000}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    int64_t t0 = om_mono_ms();
    /* The signal may land in poll (EINTR) or just before it (the eventfd is
     * then readable): either way the sleep ends well before its minute. */
    while (!alarm_seen && om_mono_ms() - t0 < 60000)
        om_wake_wait(&w, 60000);
    int64_t slept = om_mono_ms() - t0;
    assert_true(alarm_seen);
    assert_true(slept < 5000);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGALRM, &sa, NULL);
    om_wake_close(&w);
}

static void test_closed_is_harmless(void **state)
{
    (void)state;
    om_wake w = {.fd = -1};
    om_wake_signal(&w);
    assert_int_equal(om_wake_wait(&w, 10), 0);
    om_wake_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_without_wake),
        cmocka_unit_test(test_wake_before_wait_is_kept),
        cmocka_unit_test(test_wake_from_thread),
        cmocka_unit_test(test_wake_from_signal_handler),
        cmocka_unit_test(test_closed_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
