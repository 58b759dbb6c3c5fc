/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_resolve.c - host names looked up on threads of their own.
 *
 * Numeric addresses are told apart from names; "localhost" (from
 * /etc/hosts, no DNS needed) is answered through the descriptor with the
 * port filled in; a name that cannot be valid fails with a message naming
 * it; a lookup let go of while it runs is freed by its thread when the
 * answer comes (the sanitizer build would see a leak or a use after free);
 * and lookups run side by side, not one after the other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "officemeter/modbus/resolve.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for r's descriptor; true when it became readable in time. */
static bool wait_answer(const om_resolve *r, int timeout_ms)
{
    struct pollfd p = {.fd = om_resolve_fd(r), .events = POLLIN};
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static unsigned port_of(const struct addrinfo *a)
{
    if (a->ai_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)a->ai_addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)a->ai_addr)->sin6_port);
}

static void test_numeric(void **state)
{
    (void)state;
    assert_true(om_host_is_numeric("127.0.0.1"));
    assert_true(om_host_is_numeric("192.168.10.20"));
    assert_true(om_host_is_numeric("::1"));
    assert_true(om_host_is_numeric("fe80::1"));
    assert_false(om_host_is_numeric("localhost"));
    assert_false(om_host_is_numeric("gw-3.plant.example"));
    assert_false(om_host_is_numeric("192.168.10"));
    assert_false(om_host_is_numeric(""));
    assert_false(om_host_is_numeric(NULL));
}

static void test_localhost(void **state)
{
    (void)state;
    char err[200];
    om_resolve *r = om_resolve_start("localhost", 1502, err, sizeof err);
    assert_non_null(r);
    assert_true(wait_answer(r, 5000));
    assert_true(om_resolve_done(r));
    const struct addrinfo *a = om_resolve_result(r, err, sizeof err);
    assert_non_null(a);
    bool loopback = false;
    for (; a; a = a->ai_next) {
        assert_int_equal(a->ai_socktype, SOCK_STREAM);
        assert_int_equal(port_of(a), 1502);
        if (a->ai_family == AF_INET)
            loopback |= ntohl(((const struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr) ==
                        INADDR_LOOPBACK;
        else
            loopback |= IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr);
    }
    assert_true(loopback);
    om_resolve_free(r);
    om_resolve_free(NULL);
}

static void test_bad_name(void **state)
{
    (void)state;
    char err[200];
    om_resolve *r = om_resolve_start("bad name", 502, err, sizeof err);
    assert_non_null(r);
    assert_true(wait_answer(r, 5000));
    assert_null(om_resolve_result(r, err, sizeof err));
    assert_non_null(strstr(err, "cannot resolve host \"bad name\": "));
    om_resolve_free(r);
}

/* A lookup that takes 300 ms, whatever the name. */
static int answered;

static int slow_lookup(const char *host, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    (void)host;
    usleep(300 * 1000);
    int rc = getaddrinfo("127.0.0.1", service, hints, res);
    __atomic_add_fetch(&answered, 1, __ATOMIC_SEQ_CST);
    return rc;
}

static void test_let_go_while_running(void **state)
{
    (void)state;
    char err[200];
    answered = 0;
    om_resolve_set_lookup(slow_lookup);
    om_resolve *r = om_resolve_start("gw.example", 502, err, sizeof err);
    assert_non_null(r);
    assert_false(om_resolve_done(r));
    assert_null(om_resolve_result(r, err, sizeof err));
    assert_non_null(strstr(err, "not resolved yet"));
    om_resolve_free(r); /* the thread frees it */
    for (int i = 0; i < 200 && __atomic_load_n(&answered, __ATOMIC_SEQ_CST) == 0; i++)
        usleep(10 * 1000);
    assert_int_equal(answered, 1);
    usleep(20 * 1000); /* past the thread's last touch of r */
    om_resolve_set_lookup(NULL);
}

static void test_side_by_side(void **state)
{
    (void)state;
    enum { N = 8 };
    char err[200];
    om_resolve *r[N];
    answered = 0;
    om_resolve_set_lookup(slow_lookup);
    int64_t t0 = mono_ms();
    for (int i = 0; i < N; i++) {
        r[i] = om_resolve_start("gw.example", (unsigned)(502 + i), err, sizeof err);
        assert_non_null(r[i]);
    }
    for (int i = 0; i < N; i++) {
        assert_true(wait_answer(r[i], 5000));
        const struct addrinfo *a = om_resolve_result(r[i], err, sizeof err);
        assert_non_null(a);
        assert_int_equal(port_of(a), 502 + i);
        om_resolve_free(r[i]);
    }
    int64_t took = mono_ms() - t0;
    if (took > 1500) /* one after the other would be 2400 ms */
        fail_msg("%d lookups of 300 ms took %lld ms", N, (long long)took);
    om_resolve_set_lookup(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_localhost),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_let_go_while_running),
        cmocka_unit_test(test_side_by_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
