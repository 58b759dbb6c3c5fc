/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_notify.c - the sd_notify messages, received on a real AF_UNIX
 * datagram socket that the test binds, as systemd would: a path socket and
 * an abstract one, the exact bytes, the sender's pid (NotifyAccess=main
 * checks it), the no-op without $NOTIFY_SOCKET, the errors, and the
 * watchdog period from $WATCHDOG_USEC / $WATCHDOG_PID.
 */
#define _GNU_SOURCE /* struct ucred, SCM_CREDENTIALS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "officemeter/daemon/notify.h"

typedef struct {
    int fd;
    char name[108]; /* as put in $NOTIFY_SOCKET */
    char path[108]; /* the file of a path socket, "" for an abstract one */
} listener;

/* Binds a datagram socket that receives the sender's credentials, and
 * points $NOTIFY_SOCKET at it. */
static void listen_on(listener *l, int abstract)
{
    static unsigned counter;
    memset(l, 0, sizeof *l);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    int on = 1;
    assert_int_equal(setsockopt(l->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
    struct timeval tv = {.tv_sec = 2};
    assert_int_equal(setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t len;
    if (abstract) {
        snprintf(l->name, sizeof l->name, "@officemeter-test-notify-%ld-%u", (long)getpid(),
                 counter++);
        size_t n = strlen(l->name);
        memcpy(addr.sun_path, l->name, n);
        addr.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(l->path, sizeof l->path, "%s/om-notify-%ld-%u.sock", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid(), counter++);
        unlink(l->path);
        snprintf(l->name, sizeof l->name, "%s", l->path);
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s", l->path);
        len = (socklen_t)sizeof addr;
    }
    assert_int_equal(bind(l->fd, (struct sockaddr *)&addr, len), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", l->name, 1), 0);
}

static void listener_close(listener *l)
{
    close(l->fd);
    if (l->path[0])
        unlink(l->path);
    unsetenv("NOTIFY_SOCKET");
}

/* Receives one datagram into buf (NUL-terminated) and returns the sender's
 * pid from its credentials. */
static pid_t receive(listener *l, char *buf, size_t size)
{
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct ucred))];
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                         .msg_controllen = sizeof control.bytes};
    ssize_t n = recvmsg(l->fd, &msg, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    pid_t pid = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            pid = cred.pid;
        }
    }
    return pid;
}

/* Nothing queued on the socket. */
static void assert_nothing_queued(listener *l)
{
    char buf[16];
    assert_int_equal(recv(l->fd, buf, sizeof buf, MSG_DONTWAIT), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_unset_is_a_noop(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(om_notify_ready("up"), 0);
    assert_int_equal(om_notify_watchdog(), 0);
    assert_int_equal(om_notify_stopping(), 0);
    assert_int_equal(om_notify_reloading(), 0);
    assert_int_equal(om_notify_status("x"), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(om_notify_watchdog(), 0);
    unsetenv("NOTIFY_SOCKET");
}

static void check_messages(int abstract)
{
    listener l;
    listen_on(&l, abstract);
    char buf[512];

    assert_int_equal(om_notify_ready(NULL), 1);
    assert_int_equal(receive(&l, buf, sizeof buf), getpid());
    assert_string_equal(buf, "READY=1");

    assert_int_equal(om_notify_ready("polling 3 meters"), 1);
    assert_int_equal(receive(&l, buf, sizeof buf), getpid());
    assert_string_equal(buf, "READY=1\nSTATUS=polling 3 meters");

    assert_int_equal(om_notify_watchdog(), 1);
    receive(&l, buf, sizeof buf);
    assert_string_equal(buf, "WATCHDOG=1");

    assert_int_equal(om_notify_reloading(), 1);
    receive(&l, buf, sizeof buf);
    assert_string_equal(buf, "RELOADING=1");

    assert_int_equal(om_notify_stopping(), 1);
    receive(&l, buf, sizeof buf);
    assert_string_equal(buf, "STOPPING=1");

    assert_int_equal(om_notify("READY=1\nSTATUS=verbatim"), 1);
    receive(&l, buf, sizeof buf);
    assert_string_equal(buf, "READY=1\nSTATUS=verbatim");

    assert_nothing_queued(&l);
    listener_close(&l);
}

static void test_path_socket(void **state)
{
    (void)state;
    check_messages(0);
}

static void test_abstract_socket(void **state)
{
    (void)state;
    check_messages(1);
}

/* A newline in a status would start a new assignment ("STATUS=a\nREADY=1"
 * would claim readiness), so it must not reach the socket. */
static void test_status_newlines_become_spaces(void **state)
{
    (void)state;
    listener l;
    listen_on(&l, 1);
    char buf[256];
    assert_int_equal(om_notify_status("broker down\nREADY=1\r\n"), 1);
    receive(&l, buf, sizeof buf);
    assert_string_equal(buf, "STATUS=broker down READY=1  ");
    assert_int_equal(om_notify_ready("a\nb"), 1);
    receive(&l, buf, sizeof buf);
    assert_string_equal(buf, "READY=1\nSTATUS=a b");
    assert_int_equal(om_notify_status(NULL), 1);
    receive(&l, buf, sizeof buf);
    assert_string_equal(buf, "STATUS=");
    listener_close(&l);
}

static void test_bad_socket_names(void **state)
{
    (void)state;
    setenv("NOTIFY_SOCKET", "run/systemd/notify", 1); /* neither a path nor @name */
    errno = 0;
    assert_int_equal(om_notify_watchdog(), -1);
    assert_int_equal(errno, EINVAL);

    setenv("NOTIFY_SOCKET", "@", 1);
    assert_int_equal(om_notify_watchdog(), -1);
    assert_int_equal(errno, EINVAL);

    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    assert_int_equal(om_notify_ready("x"), -1);
    assert_int_equal(errno, EINVAL);
    unsetenv("NOTIFY_SOCKET");
}

static void test_no_listener_fails(void **state)
{
    (void)state;
    setenv("NOTIFY_SOCKET", "/nonexistent-officemeter-dir/notify", 1);
    errno = 0;
    assert_int_equal(om_notify_watchdog(), -1);
    assert_int_not_equal(errno, 0);

    /* A path socket whose listener has gone: connection refused. */
    listener l;
    listen_on(&l, 0);
    close(l.fd);
    assert_int_equal(om_notify_watchdog(), -1);
    unlink(l.path);
    unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_usec(void **state)
{
    (void)state;
    char pid[32];
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    assert_int_equal(om_notify_watchdog_usec(), 0);

    setenv("WATCHDOG_USEC", "2000000", 1);
    assert_int_equal(om_notify_watchdog_usec(), 2000000);

    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(om_notify_watchdog_usec(), 2000000);

    /* Inherited from a parent the watchdog was meant for. */
    snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(om_notify_watchdog_usec(), 0);
    setenv("WATCHDOG_PID", "not-a-pid", 1);
    assert_int_equal(om_notify_watchdog_usec(), 0);
    unsetenv("WATCHDOG_PID");

    static const char *const bad[] = {"", "0", "-5", "12s", "abc", " 5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("WATCHDOG_USEC", bad[i], 1);
        if (om_notify_watchdog_usec() != 0)
            fail_msg("WATCHDOG_USEC=\"%s\" taken as a period", bad[i]);
    }
    setenv("WATCHDOG_USEC", "18446744073709551615", 1); /* UINT64_MAX: systemd's "infinity" */
    assert_true(om_notify_watchdog_usec() == UINT64_MAX);
    unsetenv("WATCHDOG_USEC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unset_is_a_noop),
        cmocka_unit_test(test_path_socket),
        cmocka_unit_test(test_abstract_socket),
        cmocka_unit_test(test_status_newlines_become_spaces),
        cmocka_unit_test(test_bad_socket_names),
        cmocka_unit_test(test_no_listener_fails),
        cmocka_unit_test(test_watchdog_usec),
    };
    return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
