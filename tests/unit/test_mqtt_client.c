/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mqtt_client.c - the MQTT layer against a real mosquitto on loopback.
 *
 * Pure parts first (URI spelling, credentials files and their permissions),
 * then a broker started by the test on a free port: connect, subscribe,
 * QoS 1 publish with its delivered callback, the inbox, a connect failure
 * with a readable reason, a broker restart after which the client is
 * connected and subscribed again without help, and the timer slack of
 * paho's threads (set while connected, the default while reconnecting). Tests that need mosquitto
 * are skipped when it is not installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "officemeter/mqtt/mqtt.h"

static const char *mosquitto_path(void)
{
    static const char *const candidates[] = {"/usr/sbin/mosquitto", "/usr/bin/mosquitto",
                                             "/usr/local/sbin/mosquitto"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static int port_open(unsigned port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

typedef struct {
    char dir[64];
    char conf[128];
    unsigned port;
    pid_t pid;
} broker;

static void broker_start(broker *b)
{
    FILE *f = fopen(b->conf, "w");
    assert_non_null(f);
    fprintf(f, "listener %u 127.0.0.1\nallow_anonymous true\npersistence false\n", b->port);
    fclose(f);
    b->pid = fork();
    assert_true(b->pid >= 0);
    if (b->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        dup2(devnull, 1);
        execl(mosquitto_path(), "mosquitto", "-c", b->conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(b->port); i++)
        usleep(20000);
    assert_true(port_open(b->port));
}

static void broker_stop(broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
}

static int setup_broker(void **state)
{
    if (!mosquitto_path())
        return 0;
    broker *b = calloc(1, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/om-mqtt-test.XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    snprintf(b->conf, sizeof b->conf, "%s/mosquitto.conf", b->dir);
    b->port = free_port();
    broker_start(b);
    *state = b;
    return 0;
}

static int teardown_broker(void **state)
{
    broker *b = *state;
    if (!b)
        return 0;
    broker_stop(b);
    unlink(b->conf);
    rmdir(b->dir);
    free(b);
    return 0;
}

/* ---- pure ------------------------------------------------------------- */

static void test_paho_uri(void **state)
{
    char out[128];
    bool tls = true;
    assert_int_equal(om_mqtt_paho_uri("mqtt://127.0.0.1:1884", out, sizeof out, &tls), 0);
    assert_string_equal(out, "tcp://127.0.0.1:1884");
    assert_false(tls);
    assert_int_equal(om_mqtt_paho_uri("mqtts://broker.example.com", out, sizeof out, &tls), 0);
    assert_string_equal(out, "ssl://broker.example.com:8883");
    assert_true(tls);
    assert_int_equal(om_mqtt_paho_uri("mqtt://[::1]", out, sizeof out, &tls), 0);
    assert_string_equal(out, "tcp://[::1]:1883");
    assert_int_equal(om_mqtt_paho_uri("http://x", out, sizeof out, &tls), -1);
    assert_int_equal(om_mqtt_paho_uri("mqtt://", out, sizeof out, &tls), -1);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_credentials(void **state)
{
    char dir[] = "/tmp/om-cred.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[512];
    char *user = NULL, *pass = NULL;
    snprintf(path, sizeof path, "%s/credentials", dir);

    write_file(path, "gw1:s3cret:with:colons\n", 0600);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), 0);
    assert_string_equal(user, "gw1");
    assert_string_equal(pass, "s3cret:with:colons");
    free(user);
    free(pass);

    /* Readable by others: refused, and the message names the mode, never the secret. */
    write_file(path, "gw1:topsecret\n", 0644);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), -1);
    assert_non_null(strstr(err, "0644"));
    assert_null(strstr(err, "topsecret"));
    assert_null(user);

    write_file(path, ":nouser\n", 0600);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty user name"));

    write_file(path, "no-colon-here\n", 0600);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), -1);
    assert_non_null(strstr(err, "no colon"));
    assert_null(strstr(err, "no-colon-here"));

    write_file(path, "a:b\nc:d\n", 0600);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than one line"));

    write_file(path, "", 0600);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty"));

    /* Under systemd with LoadCredential=mqtt:…, the unit's private copy
     * wins over the configured (root-only) path. */
    char creddir[160], copy[192];
    snprintf(creddir, sizeof creddir, "%s/creds", dir);
    assert_int_equal(mkdir(creddir, 0700), 0);
    snprintf(copy, sizeof copy, "%s/mqtt", creddir);
    write_file(copy, "gw9:fromsystemd\n", 0400);
    write_file(path, "gw1:fromfile\n", 0600);
    setenv("CREDENTIALS_DIRECTORY", creddir, 1);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), 0);
    assert_string_equal(user, "gw9");
    free(user);
    free(pass);
    unlink(copy);
    /* A unit given other credentials only: the configured path is read. */
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), 0);
    assert_string_equal(user, "gw1");
    free(user);
    free(pass);
    unsetenv("CREDENTIALS_DIRECTORY");
    rmdir(creddir);

    unlink(path);
    assert_int_equal(om_mqtt_read_credentials(path, &user, &pass, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read credentials file"));
    rmdir(dir);
}

/* ---- against a broker ------------------------------------------------- */

typedef struct {
    int connected;
    int lost;
    int delivered;
    int failed;
    /* the timer slack (ns) of the thread each callback last ran on */
    long slack_connected, slack_lost, slack_delivered;
} events;

static void record_slack(long *where)
{
    __atomic_store_n(where, (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), __ATOMIC_SEQ_CST);
}

static void ev_connected(void *ctx, unsigned count)
{
    record_slack(&((events *)ctx)->slack_connected);
    __atomic_add_fetch(&((events *)ctx)->connected, 1, __ATOMIC_SEQ_CST);
}
static void ev_lost(void *ctx, const char *why)
{
    record_slack(&((events *)ctx)->slack_lost);
    __atomic_add_fetch(&((events *)ctx)->lost, 1, __ATOMIC_SEQ_CST);
}
static void ev_delivered(void *ctx, int token)
{
    record_slack(&((events *)ctx)->slack_delivered);
    __atomic_add_fetch(&((events *)ctx)->delivered, 1, __ATOMIC_SEQ_CST);
}
static void ev_failed(void *ctx, const char *why, unsigned retry_ms)
{
    __atomic_add_fetch(&((events *)ctx)->failed, 1, __ATOMIC_SEQ_CST);
}

static om_mqtt *client_with_slack(unsigned port, const char *id, events *ev, unsigned slack_ms)
{
    char uri[64], err[256];
    snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", port);
    om_mqtt_options o;
    om_mqtt_options_init(&o);
    o.uri = uri;
    o.client_id = id;
    o.min_retry_ms = 100;
    o.max_retry_ms = 400;
    o.connect_timeout_s = 2;
    o.paho_timer_slack_ms = slack_ms;
    om_mqtt_callbacks cb = {.ctx = ev, .connected = ev_connected, .lost = ev_lost,
                            .delivered = ev_delivered, .connect_failed = ev_failed};
    om_mqtt *m = om_mqtt_new(&o, &cb, err, sizeof err);
    if (!m)
        fail_msg("om_mqtt_new: %s", err);
    return m;
}

static om_mqtt *client_for(unsigned port, const char *id, events *ev)
{
    return client_with_slack(port, id, ev, 0);
}

static int recv_payload(om_mqtt *m, const char *want, unsigned timeout_ms)
{
    om_mqtt_message msg;
    int rc = om_mqtt_recv(m, &msg, timeout_ms);
    if (rc != 1)
        return -1;
    int same = strcmp(msg.payload, want) == 0;
    om_mqtt_message_free(&msg);
    return same ? 0 : -1;
}

static void test_publish_receive(void **state)
{
    broker *b = *state;
    if (!b)
        skip();
    events ev = {0};
    om_mqtt *m = client_for(b->port, "test-pubsub", &ev);
    assert_int_equal(om_mqtt_start(m), 0);
    char err[256];
    assert_int_equal(om_mqtt_wait_connected(m, 5000, err, sizeof err), 0);
    assert_int_equal(om_mqtt_subscribe(m, "om/test/#", 1), 0);
    usleep(200000); /* SUBACK */

    int token = -1;
    assert_int_equal(om_mqtt_publish(m, "om/test/a", "hello", 5, 1, false, &token), 0);
    assert_int_equal(recv_payload(m, "hello", 3000), 0);
    for (int i = 0; i < 100 && __atomic_load_n(&ev.delivered, __ATOMIC_SEQ_CST) == 0; i++)
        usleep(20000);
    assert_int_equal(ev.delivered, 1);
    assert_int_equal(om_mqtt_inflight(m), 0);

    /* An empty inbox times out with 0. */
    om_mqtt_message msg;
    assert_int_equal(om_mqtt_recv(m, &msg, 50), 0);

    om_mqtt_stats st;
    om_mqtt_get_stats(m, &st);
    assert_true(st.connected);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.received, 1);

    om_mqtt_stop(m, 1000);
    assert_false(om_mqtt_is_connected(m));
    assert_int_equal(om_mqtt_publish(m, "om/test/a", "x", 1, 1, false, NULL), -1);
    assert_int_equal(om_mqtt_recv(m, &msg, 10), -1);
    om_mqtt_free(m);
}

static void test_reconnect_resubscribes(void **state)
{
    broker *b = *state;
    if (!b)
        skip();
    events ev = {0};
    om_mqtt *m = client_for(b->port, "test-reconnect", &ev);
    assert_int_equal(om_mqtt_subscribe(m, "om/re/#", 1), 0); /* before connecting */
    assert_int_equal(om_mqtt_start(m), 0);
    char err[256];
    assert_int_equal(om_mqtt_wait_connected(m, 5000, err, sizeof err), 0);

    broker_stop(b);
    for (int i = 0; i < 200 && om_mqtt_is_connected(m); i++)
        usleep(20000);
    assert_false(om_mqtt_is_connected(m));
    assert_int_equal(om_mqtt_publish(m, "om/re/x", "lost", 4, 1, false, NULL), -1);
    usleep(500000); /* a few failed attempts with backoff */
    broker_start(b);
    assert_int_equal(om_mqtt_wait_connected(m, 5000, err, sizeof err), 0);
    usleep(300000); /* SUBACK of the re-subscription */
    assert_int_equal(om_mqtt_publish(m, "om/re/x", "again", 5, 1, false, NULL), 0);
    assert_int_equal(recv_payload(m, "again", 3000), 0);
    assert_true(ev.connected >= 2);
    assert_int_equal(ev.lost, 1);
    assert_true(ev.failed >= 1);
    om_mqtt_free(m);
}

static int wait_count(int *counter, int want, unsigned timeout_ms)
{
    for (unsigned waited = 0; __atomic_load_n(counter, __ATOMIC_SEQ_CST) < want; waited += 20) {
        if (waited >= timeout_ms)
            return -1;
        usleep(20000);
    }
    return 0;
}

/* paho's threads get the slack while connected, through the callbacks that
 * run on them, and the default again when the connection is lost, so that
 * the reconnect is as quick as the first connect. */
static void test_timer_slack(void **state)
{
    broker *b = *state;
    if (!b)
        skip();
    const long slack_ns = 700L * 1000000L;
    const long default_ns = (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0); /* threads inherit it */
    assert_true(default_ns < slack_ns);
    events ev = {0};
    om_mqtt *m = client_with_slack(b->port, "test-slack", &ev, 700);
    assert_int_equal(om_mqtt_start(m), 0);
    char err[256];
    assert_int_equal(om_mqtt_wait_connected(m, 5000, err, sizeof err), 0);
    assert_int_equal(wait_count(&ev.connected, 1, 2000), 0);
    assert_int_equal(ev.slack_connected, slack_ns);
    assert_int_equal(om_mqtt_publish(m, "om/slack", "x", 1, 1, false, NULL), 0);
    assert_int_equal(wait_count(&ev.delivered, 1, 2000), 0);
    assert_int_equal(ev.slack_delivered, slack_ns);
    /* The slack is the thread's own: the caller's stays as it was. */
    assert_int_equal(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), default_ns);

    broker_stop(b);
    assert_int_equal(wait_count(&ev.lost, 1, 4000), 0);
    assert_int_equal(ev.slack_lost, default_ns);
    broker_start(b);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(om_mqtt_wait_connected(m, 5000, err, sizeof err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 2500); /* backoff of at most 400 ms, then a connect not held back */
    assert_int_equal(wait_count(&ev.connected, 2, 2000), 0);
    assert_int_equal(ev.slack_connected, slack_ns);
    /* Idle long enough for paho's receive thread to sleep with its slack;
     * stopping still takes its 100 ms nap, not a slack-long one. */
    usleep(1200000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    om_mqtt_free(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 600);

    /* 0: paho's threads keep the default. */
    events ev0 = {0};
    m = client_for(b->port, "test-noslack", &ev0);
    assert_int_equal(om_mqtt_start(m), 0);
    assert_int_equal(om_mqtt_wait_connected(m, 5000, err, sizeof err), 0);
    assert_int_equal(wait_count(&ev0.connected, 1, 2000), 0);
    assert_int_equal(ev0.slack_connected, default_ns);
    om_mqtt_free(m);
}

static void test_connect_refused(void **state)
{
    events ev = {0};
    om_mqtt *m = client_for(free_port(), "test-refused", &ev);
    assert_int_equal(om_mqtt_start(m), 0);
    char err[256];
    assert_int_equal(om_mqtt_wait_connected(m, 700, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot connect to mqtt://127.0.0.1:"));
    assert_non_null(strstr(err, ": connection refused (no broker listening on 127.0.0.1 port "));
    assert_true(ev.failed >= 2); /* it kept retrying */
    om_mqtt_free(m);
}

static void test_bad_options(void **state)
{
    char err[256];
    om_mqtt_options o;
    om_mqtt_options_init(&o);
    o.uri = "http://127.0.0.1";
    o.client_id = "x";
    assert_null(om_mqtt_new(&o, NULL, err, sizeof err));
    assert_non_null(strstr(err, "invalid broker URI"));
    o.uri = "mqtts://127.0.0.1";
    o.ca_file = "/nonexistent/ca.pem";
    assert_null(om_mqtt_new(&o, NULL, err, sizeof err));
    assert_non_null(strstr(err, "cannot read TLS CA file /nonexistent/ca.pem"));
    o.client_id = NULL;
    assert_null(om_mqtt_new(&o, NULL, err, sizeof err));
    om_mqtt_free(NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paho_uri),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test_setup_teardown(test_publish_receive, setup_broker, teardown_broker),
        cmocka_unit_test_setup_teardown(test_reconnect_resubscribes, setup_broker,
                                        teardown_broker),
        cmocka_unit_test_setup_teardown(test_timer_slack, setup_broker, teardown_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
