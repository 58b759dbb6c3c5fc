/* SPDX-License-Identifier: Apache-2.0 */
/*
 * om_mqtt.c - one MQTT connection over paho's MQTTAsync (see om_mqtt.h for
 * the state diagram).
 *
 * Why a manager thread instead of paho's automaticReconnect: paho reconnects
 * only after a connection that once succeeded was lost, and retries at whole
 * seconds; a daemon that starts while the broker is down must retry as well,
 * and tests need sub-second retries. The manager owns every connect call;
 * paho's callbacks only record outcomes and wake it.
 *
 * In-flight QoS 1 publishes are counted: a slot is reserved before the send
 * (so a PUBACK racing back never finds the count at zero) and released on
 * success or failure; the count restarts at zero when the connection is
 * lost. A late failure report for a lost connection may then release a
 * slot of the new one; the count never goes below zero, and paho's own
 * maxInflight check still stops a burst, so the cost is a refused send.
 */
#include "officemeter/mqtt/mqtt.h"
#include "officemeter/base/clock.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <MQTTAsync.h>

typedef enum { ST_IDLE, ST_CONNECTING, ST_CONNECTED, ST_BACKOFF, ST_STOPPED } conn_state;

typedef struct inbox_node {
    struct inbox_node *next;
    om_mqtt_message msg;
} inbox_node;

typedef struct {
    char *filter;
    int qos;
} subscription;

struct om_mqtt {
    MQTTAsync client;
    /* options, owned copies */
    char *uri, *client_id, *username, *password, *ca_file, *cert_file, *key_file;
    char **uris, **paho_uris; /* every broker, as configured and in paho's form */
    size_t nuris;
    size_t attempt;           /* the one the next (or current) connect tries */
    size_t server;            /* the one of the current or last connection */
    char round_why[640];      /* why each broker of this round of attempts failed */
    char *will_topic, *will_payload;
    om_mqtt_options opts;
    bool tls;
    om_mqtt_callbacks cb;

    pthread_mutex_t lock;
    pthread_cond_t state_cond; /* state changes, stop requests */
    /* ninflight went down (PUBACK, failure, lost connection). Apart from
     * state_cond so that a PUBACK does not wake the connection manager,
     * which waits on state_cond: one thread wake-up less per message. */
    pthread_cond_t flight_cond;
    pthread_cond_t inbox_cond; /* inbox not empty / not full */
    conn_state state;
    bool stopping;
    bool started;
    pthread_t manager;
    unsigned failures;    /* consecutive failed attempts */
    int64_t retry_at_ms;  /* monotonic */
    unsigned seed;
    char errmsg[640];
    char connect_error[640];

    subscription *subs;
    size_t nsubs;

    unsigned ninflight; /* QoS 1 publishes awaiting PUBACK */
    bool slack_unwinding; /* om_mqtt_stop is taking paho's timer slack away */
    bool slack_dropped;   /* and its round trip came back */

    inbox_node *head, *tail;
    size_t depth;
    bool inbox_closed;

    om_mqtt_stats stats;
};

void om_mqtt_options_init(om_mqtt_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->verify = true;
    opts->clean_session = true;
}

int om_mqtt_paho_uri(const char *uri, char *out, size_t outlen, bool *tls)
{
    static const struct {
        const char *scheme;
        const char *paho;
        bool tls;
    } schemes[] = {
        {"mqtt://", "tcp://", false},
        {"tcp://", "tcp://", false},
        {"mqtts://", "ssl://", true},
        {"ssl://", "ssl://", true},
    };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncmp(uri, schemes[i].scheme, n) != 0)
            continue;
        const char *rest = uri + n;
        if (*rest == '\0')
            return -1;
        /* paho needs a port; add the scheme's default. */
        const char *colon = strrchr(rest, ':');
        const char *bracket = strrchr(rest, ']');
        bool has_port = colon && (!bracket || colon > bracket);
        int w = has_port ? snprintf(out, outlen, "%s%s", schemes[i].paho, rest)
                         : snprintf(out, outlen, "%s%s:%u", schemes[i].paho, rest,
                                    schemes[i].tls ? 8883u : 1883u);
        if (w < 0 || (size_t)w >= outlen)
            return -1;
        if (tls)
            *tls = schemes[i].tls;
        return 0;
    }
    return -1;
}

/* ---- credentials ------------------------------------------------------ */

/* systemd's private copy, when the unit was given one (LoadCredential=mqtt:…). */
static const char *systemd_credential(char *buf, size_t len)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir || snprintf(buf, len, "%s/mqtt", dir) >= (int)len)
        return NULL;
    return access(buf, F_OK) == 0 ? buf : NULL;
}

int om_mqtt_read_credentials(const char *path, char **username, char **password, char *err,
                             size_t errlen)
{
    *username = *password = NULL;
    char copy[4096];
    const char *given = systemd_credential(copy, sizeof copy);
    if (given)
        path = given;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read credentials file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char line[1024];
    int rc = -1;
    if (fstat(fileno(f), &st) < 0) {
        snprintf(err, errlen, "cannot read credentials file %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "credentials file %s is not a regular file", path);
        goto done;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "credentials file %s is accessible by group or others (mode %04o, expected "
                 "0600 or 0400): run chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        goto done;
    }
    if (!fgets(line, sizeof line, f)) {
        snprintf(err, errlen, "credentials file %s is empty (expected one line "
                 "\"username:password\")", path);
        goto done;
    }
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n') {
        snprintf(err, errlen, "credentials file %s: line too long", path);
        goto done;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    char extra[8];
    if (fgets(extra, sizeof extra, f) && strspn(extra, " \t\r\n") != strlen(extra)) {
        snprintf(err, errlen, "credentials file %s has more than one line (expected one line "
                 "\"username:password\")", path);
        goto done;
    }
    char *colon = strchr(line, ':');
    if (!colon || colon == line) {
        snprintf(err, errlen, "credentials file %s is not \"username:password\" (%s)", path,
                 colon ? "empty user name" : "no colon");
        goto done;
    }
    *colon = '\0';
    *username = strdup(line);
    *password = strdup(colon + 1);
    if (!*username || !*password) {
        free(*username);
        free(*password);
        *username = *password = NULL;
        snprintf(err, errlen, "credentials file %s: out of memory", path);
        goto done;
    }
    rc = 0;
done:
    /* The line held the password: do not leave it on the stack. */
    memset(line, 0, sizeof line);
    fclose(f);
    return rc;
}

/* ---- helpers under the lock ------------------------------------------- */

static unsigned retry_delay_ms(om_mqtt *m)
{
    /* min × 2^(failures-1), with ±20 % jitter so that a fleet of gateways
     * does not reconnect in lockstep after a broker restart, and capped
     * after the jitter: max_retry_ms is a promise (a broker back is found
     * within it), not an average. */
    uint64_t d = m->opts.min_retry_ms;
    for (unsigned i = 1; i < m->failures && d < m->opts.max_retry_ms; i++)
        d *= 2;
    if (d > m->opts.max_retry_ms)
        d = m->opts.max_retry_ms;
    unsigned span = (unsigned)(d / 5);
    if (span > 0)
        d = d - span + (unsigned)rand_r(&m->seed) % (2 * span + 1);
    if (d > m->opts.max_retry_ms)
        d = m->opts.max_retry_ms;
    return (unsigned)d;
}

static void inflight_release(om_mqtt *m)
{
    if (m->ninflight > 0)
        m->ninflight--;
}

static void set_subscribe_error(om_mqtt *m, const char *filter, int rc)
{
    snprintf(m->errmsg, sizeof m->errmsg, "subscribe to %s failed: %s", filter,
             MQTTAsync_strerror(rc));
}

/* ---- paho callbacks --------------------------------------------------- */

static const char *connack_reason(int code)
{
    switch (code) {
    case 1: return "connection refused: unacceptable protocol version";
    case 2: return "connection refused: client id rejected";
    case 3: return "connection refused: server unavailable";
    case 4: return "connection refused: bad user name or password";
    case 5: return "connection refused: not authorised";
    default: return NULL;
    }
}

/* MQTT 5 CONNACK reason codes (the ones a misconfiguration produces). */
static const char *connack5_reason(int code)
{
    switch (code) {
    case MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION:
        return "connection refused: MQTT 5 not supported by the broker";
    case MQTTREASONCODE_CLIENT_IDENTIFIER_NOT_VALID: return "connection refused: client id rejected";
    case MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD:
        return "connection refused: bad user name or password";
    case MQTTREASONCODE_NOT_AUTHORIZED: return "connection refused: not authorised";
    case MQTTREASONCODE_SERVER_UNAVAILABLE: return "connection refused: server unavailable";
    case MQTTREASONCODE_SERVER_BUSY: return "connection refused: server busy";
    case MQTTREASONCODE_BANNED: return "connection refused: banned";
    default: return NULL;
    }
}

static void subscribe_all(om_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->nsubs;
    char **filters = calloc(n ? n : 1, sizeof *filters);
    int *qos = calloc(n ? n : 1, sizeof *qos);
    for (size_t i = 0; filters && qos && i < n; i++) {
        filters[i] = strdup(m->subs[i].filter);
        qos[i] = m->subs[i].qos;
    }
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; filters && qos && i < n; i++) {
        if (!filters[i])
            continue;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        int rc = MQTTAsync_subscribe(m->client, filters[i], qos[i], &ro);
        if (rc != MQTTASYNC_SUCCESS) {
            pthread_mutex_lock(&m->lock);
            set_subscribe_error(m, filters[i], rc);
            pthread_mutex_unlock(&m->lock);
        }
        free(filters[i]);
    }
    free(filters);
    free(qos);
}

/* ---- timer slack ------------------------------------------------------
 *
 * paho's receive thread polls its sockets with a one-second timeout and
 * sleeps 100 ms after each timeout; its send thread waits one second for
 * commands. Those timers are not options, and an idle gateway pays for
 * them: each wake-up of a thread costs tens of microseconds of CPU on a
 * virtual machine, about 30 us per meter-poll at 64 meters every 10 s. They
 * only look for keepalive and command timeouts, which are seconds long, so
 * while connected paho's threads run with opts.paho_timer_slack_ms of timer
 * slack (prctl(2) PR_SET_TIMERSLACK): the kernel may fire those timeouts
 * that much later, with whatever else wakes the machine. A socket that
 * becomes readable, and a command (publish, disconnect), still wake the
 * threads at once. What may come later: a message that arrives while the
 * receive thread is in its 100 ms sleep after an idle second (by up to the
 * slack) and a keepalive ping. om_mqtt_stop takes the slack away before it
 * disconnects (drop_paho_slack), so that stopping is as quick as without.
 *
 * Slack is a property of the calling thread and paho gives no hook to its
 * threads, so each of our paho callbacks sets it for the thread it runs on:
 * the slack while connected, the kernel's default otherwise, so that a
 * (re)connect is not slowed down. A thread remembers what it has set. */
static _Thread_local unsigned long thread_slack_ns;

/* Whether paho's threads should have slack now; m->lock held. */
static bool slack_wanted(const om_mqtt *m)
{
    return m->state == ST_CONNECTED && !m->slack_unwinding;
}

static void settle_thread_slack(om_mqtt *m, bool slack)
{
    unsigned long want = slack ? m->opts.paho_timer_slack_ms * 1000000ul : 0;
    if (want == thread_slack_ns)
        return;
    /* 0 restores the thread's default slack, the one it was created with. */
    if (prctl(PR_SET_TIMERSLACK, want, 0, 0, 0) == 0)
        thread_slack_ns = want;
}

static void connected(om_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    m->server = m->attempt;
    m->attempt = 0; /* after a loss, the list is tried from its first broker again */
    m->state = ST_CONNECTED;
    m->failures = 0;
    m->stats.connects++;
    unsigned count = (unsigned)m->stats.connects;
    m->connect_error[0] = '\0';
    bool slack = slack_wanted(m);
    pthread_cond_broadcast(&m->state_cond);
    pthread_mutex_unlock(&m->lock);
    settle_thread_slack(m, slack);
    subscribe_all(m);
    if (m->cb.connected)
        m->cb.connected(m->cb.ctx, count);
}

static void on_connect_success(void *ctx, MQTTAsync_successData *resp)
{
    (void)resp;
    connected(ctx);
}

static void on_connect_success5(void *ctx, MQTTAsync_successData5 *resp)
{
    (void)resp;
    connected(ctx);
}

/* paho says "TCP/TLS connect failure" for everything from a typo in the
 * host name to an untrusted certificate. A plain TCP connection to the same
 * address tells those apart, and the line a technician reads says which. */
static void diagnose_one(const char *uri, char *why, size_t len)
{
    char paho[512];
    bool tls = false;
    if (om_mqtt_paho_uri(uri, paho, sizeof paho, &tls) < 0) {
        snprintf(why, len, "connect failed");
        return;
    }
    char *host = paho + 6; /* after "tcp://" or "ssl://" */
    char *colon = strrchr(host, ':');
    *colon = '\0';
    const char *port = colon + 1;
    if (host[0] == '[') {
        host++;
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, len, "cannot resolve host \"%.80s\": %s", host, gai_strerror(rc));
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = 0;
    if (fd < 0) {
        err = errno;
    } else if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
        err = errno;
    } else {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        socklen_t elen = sizeof err;
        if (poll(&pfd, 1, 2000) <= 0)
            err = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            err = errno;
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    if (err == ECONNREFUSED)
        snprintf(why, len, "connection refused (no broker listening on %.80s port %.6s)", host, port);
    else if (err == ETIMEDOUT)
        snprintf(why, len, "no answer from %.80s port %.6s (host down, or a firewall?)", host, port);
    else if (err)
        snprintf(why, len, "%s (%.80s port %.6s)", strerror(err), host, port);
    else if (tls)
        snprintf(why, len, "TLS handshake failed (is ca_file the CA that signed the broker's "
                 "certificate, does the certificate name %.80s, does port %.6s speak TLS?)", host,
                 port);
    else
        snprintf(why, len, "the broker closed the connection (does port %.6s expect TLS?)", port);
}

/* code: paho's or the broker's (MQTT 3.1.1 return code, MQTT 5 reason
 * code); message may be NULL. */
static void connect_failed(om_mqtt *m, bool have, int code, bool v5, const char *message)
{
    char one[320];
    pthread_mutex_lock(&m->lock);
    const char *uri = m->uris[m->attempt];
    pthread_mutex_unlock(&m->lock);
    const char *reason = !have ? NULL : v5 ? connack5_reason(code) : connack_reason(code);
    if (reason)
        snprintf(one, sizeof one, "%s", reason);
    else if (!have || code == MQTTASYNC_FAILURE)
        diagnose_one(uri, one, sizeof one);
    else if (message)
        snprintf(one, sizeof one, "%s", message);
    else
        snprintf(one, sizeof one, "%s", MQTTAsync_strerror(code));
    pthread_mutex_lock(&m->lock);
    if (m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    if (m->nuris > 1) {
        /* With a list, the next broker is tried at once; only a round in
         * which every one failed counts as a failure (and waits). */
        size_t used = m->attempt == 0 ? 0 : strlen(m->round_why);
        snprintf(m->round_why + used, sizeof m->round_why - used, "%s%s: %s",
                 m->attempt ? "; " : "", uri, one);
        if (m->attempt + 1 < m->nuris) {
            m->attempt++;
            m->state = ST_IDLE;
            pthread_cond_broadcast(&m->state_cond);
            pthread_mutex_unlock(&m->lock);
            return;
        }
        m->attempt = 0;
    }
    char why[sizeof m->round_why];
    snprintf(why, sizeof why, "%s", m->nuris > 1 ? m->round_why : one);
    m->failures++;
    m->stats.connect_failures++;
    unsigned delay = retry_delay_ms(m);
    m->retry_at_ms = om_mono_ms() + delay;
    m->state = ST_BACKOFF;
    if (m->nuris > 1)
        snprintf(m->connect_error, sizeof m->connect_error, "cannot connect to any of %zu "
                 "brokers: %.560s", m->nuris, why);
    else
        snprintf(m->connect_error, sizeof m->connect_error, "cannot connect to %.200s: %.400s",
                 m->uri, why);
    snprintf(m->errmsg, sizeof m->errmsg, "%s", m->connect_error);
    pthread_cond_broadcast(&m->state_cond);
    pthread_mutex_unlock(&m->lock);
    settle_thread_slack(m, false);
    if (m->cb.connect_failed)
        m->cb.connect_failed(m->cb.ctx, why, delay);
}

static void on_connect_failure(void *ctx, MQTTAsync_failureData *resp)
{
    connect_failed(ctx, resp != NULL, resp ? resp->code : 0, false, resp ? resp->message : NULL);
}

static void on_connect_failure5(void *ctx, MQTTAsync_failureData5 *resp)
{
    /* A refusal carries the broker's reason code; a network failure paho's code. */
    int code = !resp ? 0 : resp->reasonCode ? (int)resp->reasonCode : resp->code;
    connect_failed(ctx, resp != NULL, code, resp && resp->reasonCode, resp ? resp->message : NULL);
}

static void on_connection_lost(void *ctx, char *cause)
{
    om_mqtt *m = ctx;
    pthread_mutex_lock(&m->lock);
    if (m->stopping || m->state != ST_CONNECTED) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    m->stats.lost++;
    m->ninflight = 0;
    /* The first retry comes quickly: a broker restart is the common case. */
    m->failures = 0;
    m->attempt = 0;
    m->retry_at_ms = om_mono_ms() + m->opts.min_retry_ms;
    m->state = ST_BACKOFF;
    snprintf(m->errmsg, sizeof m->errmsg, "connection to %s lost%s%s", m->uri,
             cause ? ": " : "", cause ? cause : "");
    pthread_cond_broadcast(&m->state_cond);
    pthread_cond_broadcast(&m->flight_cond);
    pthread_mutex_unlock(&m->lock);
    settle_thread_slack(m, false);
    if (m->cb.lost)
        m->cb.lost(m->cb.ctx, cause ? cause : "closed by the broker or the network");
}

/* A queued message that is never taken: its prepared work too. */
static void discard(om_mqtt *m, om_mqtt_message *msg)
{
    if (msg->prepared && m->cb.discard)
        m->cb.discard(m->cb.ctx, msg->prepared);
    msg->prepared = NULL;
    om_mqtt_message_free(msg);
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
    om_mqtt *m = ctx;
    inbox_node *node = calloc(1, sizeof *node);
    size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    size_t plen = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    if (node) {
        node->msg.topic = malloc(tlen + 1);
        node->msg.payload = malloc(plen + 1);
    }
    if (!node || !node->msg.topic || !node->msg.payload) {
        if (node) {
            free(node->msg.topic);
            free(node->msg.payload);
            free(node);
        }
        return 0; /* paho offers it again later */
    }
    memcpy(node->msg.topic, topic, tlen);
    node->msg.topic[tlen] = '\0';
    if (plen)
        memcpy(node->msg.payload, msg->payload, plen);
    node->msg.payload[plen] = '\0';
    node->msg.len = plen;
    node->msg.qos = msg->qos;
    node->msg.retained = msg->retained != 0;
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    if (m->cb.prepare)
        node->msg.prepared = m->cb.prepare(m->cb.ctx, node->msg.topic, node->msg.payload, plen);

    pthread_mutex_lock(&m->lock);
    /* A full inbox holds back paho's receive thread, and with it the TCP
     * stream: back-pressure to the broker rather than dropping messages. */
    while (m->depth >= m->opts.inbox_capacity && !m->inbox_closed && !m->stopping)
        pthread_cond_wait(&m->inbox_cond, &m->lock);
    if (m->inbox_closed || m->stopping) {
        pthread_mutex_unlock(&m->lock);
        discard(m, &node->msg);
        free(node);
        return 1;
    }
    if (m->tail)
        m->tail->next = node;
    else
        m->head = node;
    m->tail = node;
    m->depth++;
    m->stats.received++;
    bool slack = slack_wanted(m);
    pthread_cond_broadcast(&m->inbox_cond);
    pthread_mutex_unlock(&m->lock);
    settle_thread_slack(m, slack);
    if (m->cb.received)
        m->cb.received(m->cb.ctx);
    return 1;
}

/* paho calls the callbacks of the client's MQTT version: MQTT 3.1.1's
 * (successData) or MQTT 5's (successData5); both end here. */
static void published(om_mqtt *m, int token, int qos)
{
    pthread_mutex_lock(&m->lock);
    if (qos > 0)
        inflight_release(m);
    m->stats.delivered++;
    bool slack = slack_wanted(m);
    pthread_cond_broadcast(&m->flight_cond);
    pthread_mutex_unlock(&m->lock);
    settle_thread_slack(m, slack);
    if (m->cb.delivered)
        m->cb.delivered(m->cb.ctx, token);
}

static void on_publish_success(void *ctx, MQTTAsync_successData *resp)
{
    published(ctx, resp ? resp->token : 0, resp ? resp->alt.pub.message.qos : 0);
}

static void on_publish_success5(void *ctx, MQTTAsync_successData5 *resp)
{
    published(ctx, resp ? resp->token : 0, resp ? resp->alt.pub.message.qos : 0);
}

static void publish_failed(om_mqtt *m, int code, const char *message)
{
    pthread_mutex_lock(&m->lock);
    inflight_release(m);
    m->stats.publish_failures++;
    snprintf(m->errmsg, sizeof m->errmsg, "publish failed: %s",
             message ? message : MQTTAsync_strerror(code));
    bool slack = slack_wanted(m);
    pthread_cond_broadcast(&m->flight_cond);
    pthread_mutex_unlock(&m->lock);
    settle_thread_slack(m, slack);
}

static void on_publish_failure(void *ctx, MQTTAsync_failureData *resp)
{
    publish_failed(ctx, resp ? resp->code : MQTTASYNC_FAILURE, resp ? resp->message : NULL);
}

static void on_publish_failure5(void *ctx, MQTTAsync_failureData5 *resp)
{
    publish_failed(ctx, resp ? resp->code : MQTTASYNC_FAILURE, resp ? resp->message : NULL);
}

/* ---- the manager ------------------------------------------------------ */

static int connect_once(om_mqtt *m)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    bool v5 = m->opts.mqtt_version == 5;
    if (v5) {
        /* MQTT 5: clean start, and how long the session outlives a
         * disconnect (0xFFFFFFFF: forever, MQTT 3.1.1's persistent session). */
        co = co5;
        co.cleanstart = m->opts.clean_session;
        MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
        expiry.value.integer4 = m->opts.clean_session       ? 0
                                : m->opts.session_expiry_s ? m->opts.session_expiry_s
                                                           : 0xFFFFFFFFu;
        MQTTProperties_add(&props, &expiry);
        co.connectProperties = &props;
        co.onSuccess5 = on_connect_success5;
        co.onFailure5 = on_connect_failure5;
    } else {
        co.cleansession = m->opts.clean_session;
        co.MQTTVersion = MQTTVERSION_3_1_1;
        co.onSuccess = on_connect_success;
        co.onFailure = on_connect_failure;
    }
    /* One broker per attempt (paho's serverURIs with the one to try): the
     * callbacks then know which one answered, which paho itself does not
     * report reliably for a list. */
    pthread_mutex_lock(&m->lock);
    co.serverURIs = &m->paho_uris[m->attempt];
    pthread_mutex_unlock(&m->lock);
    co.serverURIcount = 1;
    co.keepAliveInterval = (int)m->opts.keepalive_s;
    co.maxInflight = (int)m->opts.max_inflight;
    co.connectTimeout = (int)m->opts.connect_timeout_s;
    co.automaticReconnect = 0;
    co.username = m->username;
    co.password = m->password;
    co.context = m;
    if (m->will_topic) {
        will.topicName = m->will_topic;
        will.message = m->will_payload ? m->will_payload : "";
        will.qos = m->opts.will_qos;
        will.retained = m->opts.will_retain;
        co.will = &will;
    }
    if (m->tls) {
        ssl.trustStore = m->ca_file;
        ssl.keyStore = m->cert_file;
        ssl.privateKey = m->key_file;
        ssl.enableServerCertAuth = m->opts.verify;
        ssl.verify = m->opts.verify;
        co.ssl = &ssl;
    }
    int rc = MQTTAsync_connect(m->client, &co);
    MQTTProperties_free(&props);
    return rc;
}

static void *manager_main(void *arg)
{
    om_mqtt *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        if (m->state == ST_IDLE) {
            m->state = ST_CONNECTING;
            pthread_mutex_unlock(&m->lock);
            int rc = connect_once(m);
            pthread_mutex_lock(&m->lock);
            if (rc != MQTTASYNC_SUCCESS && m->state == ST_CONNECTING) {
                m->failures++;
                m->stats.connect_failures++;
                m->retry_at_ms = om_mono_ms() + retry_delay_ms(m);
                m->state = ST_BACKOFF;
                snprintf(m->connect_error, sizeof m->connect_error, "cannot connect to %s: %s",
                         m->uri, MQTTAsync_strerror(rc));
                snprintf(m->errmsg, sizeof m->errmsg, "%s", m->connect_error);
                pthread_cond_broadcast(&m->state_cond);
            }
            continue;
        }
        if (m->state != ST_BACKOFF) {
            /* CONNECTED or CONNECTING: nothing is due until a callback or
             * om_mqtt_stop changes the state and signals. */
            pthread_cond_wait(&m->state_cond, &m->lock);
            continue;
        }
        int64_t left = m->retry_at_ms - om_mono_ms();
        if (left <= 0) {
            m->state = ST_IDLE;
            continue;
        }
        struct timespec ts;
        ts = om_deadline_after(CLOCK_MONOTONIC, left);
        pthread_cond_timedwait(&m->state_cond, &m->lock, &ts);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* ---- public ----------------------------------------------------------- */

/* paho initialises OpenSSL when the first client is created unless told
 * otherwise, which costs about 3 MiB of resident memory even for a plain
 * mqtt:// connection. OpenSSL 1.1 and later initialise themselves on first
 * use, so paho is told to leave it: a TLS connection still works, a plain
 * one never pays. */
static pthread_once_t paho_once = PTHREAD_ONCE_INIT;

static void paho_global_init(void)
{
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = 0;
    MQTTAsync_global_init(&init);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The list of brokers, as given and in paho's form (uri alone when none). */
static int copy_uris(om_mqtt *m, const om_mqtt_options *opts)
{
    size_t n = opts->nuris ? opts->nuris : 1;
    m->uris = calloc(n, sizeof *m->uris);
    m->paho_uris = calloc(n, sizeof *m->paho_uris);
    if (!m->uris || !m->paho_uris)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *uri = opts->nuris ? opts->uris[i] : opts->uri;
        char paho[512];
        om_mqtt_paho_uri(uri, paho, sizeof paho, NULL); /* checked by om_mqtt_new */
        m->nuris++;
        if (!(m->uris[i] = strdup(uri)) || !(m->paho_uris[i] = strdup(paho)))
            return -1;
    }
    return 0;
}

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
    if (path && access(path, R_OK) != 0) {
        snprintf(err, errlen, "cannot read TLS %s %s: %s", what, path, strerror(errno));
        return -1;
    }
    return 0;
}

om_mqtt *om_mqtt_new(const om_mqtt_options *opts, const om_mqtt_callbacks *callbacks, char *err,
                     size_t errlen)
{
    char paho_uri[512];
    bool tls = false;
    if (!opts || !opts->uri || !opts->client_id || !opts->client_id[0]) {
        snprintf(err, errlen, "MQTT: a broker URI and a client id are required");
        return NULL;
    }
    if (om_mqtt_paho_uri(opts->uri, paho_uri, sizeof paho_uri, &tls) < 0) {
        snprintf(err, errlen, "invalid broker URI \"%s\" (expected mqtt://HOST[:PORT] or "
                 "mqtts://HOST[:PORT])", opts->uri);
        return NULL;
    }
    for (size_t i = 0; i < opts->nuris; i++) {
        char other[512];
        bool other_tls = false;
        if (!opts->uris[i] ||
            om_mqtt_paho_uri(opts->uris[i], other, sizeof other, &other_tls) < 0) {
            snprintf(err, errlen, "invalid broker URI \"%s\" (expected mqtt://HOST[:PORT] or "
                     "mqtts://HOST[:PORT])", opts->uris[i] ? opts->uris[i] : "");
            return NULL;
        }
        if (other_tls != tls) {
            snprintf(err, errlen, "brokers %s and %s: all TLS or none", opts->uri, opts->uris[i]);
            return NULL;
        }
    }
    if (tls && (check_readable("CA file", opts->ca_file, err, errlen) < 0 ||
                check_readable("certificate", opts->cert_file, err, errlen) < 0 ||
                check_readable("key", opts->key_file, err, errlen) < 0))
        return NULL;

    om_mqtt *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->opts = *opts;
    if (!m->opts.keepalive_s)
        m->opts.keepalive_s = OM_MQTT_DEFAULT_KEEPALIVE_S;
    if (!m->opts.connect_timeout_s)
        m->opts.connect_timeout_s = OM_MQTT_DEFAULT_CONNECT_TIMEOUT_S;
    if (!m->opts.min_retry_ms)
        m->opts.min_retry_ms = OM_MQTT_DEFAULT_MIN_RETRY_MS;
    if (!m->opts.max_retry_ms)
        m->opts.max_retry_ms = OM_MQTT_DEFAULT_MAX_RETRY_MS;
    if (m->opts.max_retry_ms < m->opts.min_retry_ms)
        m->opts.max_retry_ms = m->opts.min_retry_ms;
    if (!m->opts.max_inflight)
        m->opts.max_inflight = OM_MQTT_DEFAULT_MAX_INFLIGHT;
    if (!m->opts.inbox_capacity)
        m->opts.inbox_capacity = OM_MQTT_DEFAULT_INBOX;
    m->tls = tls;
    if (callbacks)
        m->cb = *callbacks;
    m->uri = strdup(opts->uri);
    m->client_id = strdup(opts->client_id);
    m->username = dup_or_null(opts->username);
    m->password = dup_or_null(opts->password);
    m->ca_file = dup_or_null(opts->ca_file);
    m->cert_file = dup_or_null(opts->cert_file);
    m->key_file = dup_or_null(opts->key_file);
    m->will_topic = dup_or_null(opts->will_topic);
    m->will_payload = dup_or_null(opts->will_payload);
    m->seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)m;
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->state_cond, &ca);
    pthread_cond_init(&m->flight_cond, &ca);
    pthread_cond_init(&m->inbox_cond, &ca);
    pthread_condattr_destroy(&ca);
    m->state = ST_IDLE;
    if (!m->uri || !m->client_id || copy_uris(m, opts) < 0) {
        snprintf(err, errlen, "out of memory");
        om_mqtt_free(m);
        return NULL;
    }
    pthread_once(&paho_once, paho_global_init);
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    cro.sendWhileDisconnected = 0;
    cro.MQTTVersion = m->opts.mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    int rc = MQTTAsync_createWithOptions(&m->client, paho_uri, m->client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "cannot create MQTT client for %s: %s", opts->uri,
                 MQTTAsync_strerror(rc));
        m->client = NULL;
        om_mqtt_free(m);
        return NULL;
    }
    rc = MQTTAsync_setCallbacks(m->client, m, on_connection_lost, on_message, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "cannot set MQTT callbacks: %s", MQTTAsync_strerror(rc));
        om_mqtt_free(m);
        return NULL;
    }
    return m;
}

int om_mqtt_start(om_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->started) {
        pthread_mutex_unlock(&m->lock);
        return 0;
    }
    m->started = true;
    m->state = ST_IDLE;
    pthread_mutex_unlock(&m->lock);
    if (pthread_create(&m->manager, NULL, manager_main, m) != 0) {
        pthread_mutex_lock(&m->lock);
        m->started = false;
        snprintf(m->errmsg, sizeof m->errmsg, "cannot start the MQTT manager thread");
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    return 0;
}

int om_mqtt_wait_connected(om_mqtt *m, unsigned timeout_ms, char *err, size_t errlen)
{
    struct timespec ts;
    ts = om_deadline_after(CLOCK_MONOTONIC, timeout_ms);
    pthread_mutex_lock(&m->lock);
    while (m->state != ST_CONNECTED && !m->stopping) {
        if (pthread_cond_timedwait(&m->state_cond, &m->lock, &ts) == ETIMEDOUT)
            break;
    }
    int rc = m->state == ST_CONNECTED ? 0 : -1;
    if (rc < 0 && err) {
        if (m->connect_error[0])
            snprintf(err, errlen, "%s", m->connect_error);
        else
            snprintf(err, errlen, "cannot connect to %s: no answer within %u ms", m->uri,
                     timeout_ms);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

bool om_mqtt_is_connected(om_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    bool c = m->state == ST_CONNECTED;
    pthread_mutex_unlock(&m->lock);
    return c;
}

int om_mqtt_subscribe(om_mqtt *m, const char *filter, int qos)
{
    pthread_mutex_lock(&m->lock);
    subscription *grown = realloc(m->subs, (m->nsubs + 1) * sizeof *grown);
    char *copy = strdup(filter);
    if (!grown || !copy) {
        if (grown)
            m->subs = grown;
        free(copy);
        snprintf(m->errmsg, sizeof m->errmsg, "out of memory");
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    m->subs = grown;
    m->subs[m->nsubs].filter = copy;
    m->subs[m->nsubs].qos = qos;
    m->nsubs++;
    bool connected = m->state == ST_CONNECTED;
    pthread_mutex_unlock(&m->lock);
    if (connected) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        int rc = MQTTAsync_subscribe(m->client, filter, qos, &ro);
        if (rc != MQTTASYNC_SUCCESS) {
            /* Kept in the list: the next connect subscribes again. */
            pthread_mutex_lock(&m->lock);
            set_subscribe_error(m, filter, rc);
            pthread_mutex_unlock(&m->lock);
            return -1;
        }
    }
    return 0;
}

int om_mqtt_publish(om_mqtt *m, const char *topic, const void *payload, size_t len, int qos,
                    bool retain, int *token)
{
    pthread_mutex_lock(&m->lock);
    if (m->state != ST_CONNECTED) {
        snprintf(m->errmsg, sizeof m->errmsg, "not connected to %s", m->uri);
        m->stats.publish_failures++;
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    if (qos > 0 && m->ninflight >= m->opts.max_inflight) {
        snprintf(m->errmsg, sizeof m->errmsg, "%u messages in flight to %s", m->ninflight,
                 m->uri);
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    if (qos > 0)
        m->ninflight++;
    pthread_mutex_unlock(&m->lock);

    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (m->opts.mqtt_version == 5) {
        ro.onSuccess5 = on_publish_success5;
        ro.onFailure5 = on_publish_failure5;
    } else {
        ro.onSuccess = on_publish_success;
        ro.onFailure = on_publish_failure;
    }
    ro.context = m;
    int rc = MQTTAsync_send(m->client, topic, (int)len, payload, qos, retain ? 1 : 0, &ro);
    pthread_mutex_lock(&m->lock);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(m->errmsg, sizeof m->errmsg, "publish to %s failed: %s", topic,
                 MQTTAsync_strerror(rc));
        m->stats.publish_failures++;
        if (qos > 0)
            inflight_release(m);
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    m->stats.published++;
    pthread_mutex_unlock(&m->lock);
    if (token)
        *token = ro.token;
    return 0;
}

unsigned om_mqtt_inflight(om_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    unsigned n = m->ninflight;
    pthread_mutex_unlock(&m->lock);
    return n;
}

int om_mqtt_recv(om_mqtt *m, om_mqtt_message *msg, unsigned timeout_ms)
{
    struct timespec ts;
    ts = om_deadline_after(CLOCK_MONOTONIC, timeout_ms);
    pthread_mutex_lock(&m->lock);
    while (!m->head && !m->inbox_closed && timeout_ms > 0) {
        if (pthread_cond_timedwait(&m->inbox_cond, &m->lock, &ts) == ETIMEDOUT)
            break;
    }
    if (!m->head) {
        int rc = m->inbox_closed ? -1 : 0;
        pthread_mutex_unlock(&m->lock);
        return rc;
    }
    inbox_node *node = m->head;
    m->head = node->next;
    if (!m->head)
        m->tail = NULL;
    m->depth--;
    pthread_cond_broadcast(&m->inbox_cond);
    pthread_mutex_unlock(&m->lock);
    *msg = node->msg;
    free(node);
    return 1;
}

void om_mqtt_message_free(om_mqtt_message *msg)
{
    if (!msg)
        return;
    free(msg->topic);
    free(msg->payload);
    msg->topic = msg->payload = NULL;
    msg->len = 0;
    msg->prepared = NULL; /* the taker's (callbacks.prepare) */
}

void om_mqtt_get_stats(om_mqtt *m, om_mqtt_stats *out)
{
    pthread_mutex_lock(&m->lock);
    *out = m->stats;
    out->inbox_depth = m->depth;
    out->inflight = m->ninflight;
    out->connected = m->state == ST_CONNECTED;
    pthread_mutex_unlock(&m->lock);
}

void om_mqtt_server(om_mqtt *m, char *buf, size_t len)
{
    pthread_mutex_lock(&m->lock);
    snprintf(buf, len, "%s", m->nuris ? m->uris[m->server] : m->uri);
    pthread_mutex_unlock(&m->lock);
}

void om_mqtt_errmsg(om_mqtt *m, char *buf, size_t len)
{
    pthread_mutex_lock(&m->lock);
    snprintf(buf, len, "%s", m->errmsg);
    pthread_mutex_unlock(&m->lock);
}

static void on_slack_dropped(void *ctx, MQTTAsync_successData *resp)
{
    om_mqtt *m = ctx;
    (void)resp;
    settle_thread_slack(m, false);
    pthread_mutex_lock(&m->lock);
    m->slack_dropped = true;
    pthread_cond_broadcast(&m->state_cond);
    pthread_mutex_unlock(&m->lock);
}

static void on_slack_drop_failed(void *ctx, MQTTAsync_failureData *resp)
{
    (void)resp;
    on_slack_dropped(ctx, NULL);
}

static void on_slack_dropped5(void *ctx, MQTTAsync_successData5 *resp)
{
    (void)resp;
    on_slack_dropped(ctx, NULL);
}

static void on_slack_drop_failed5(void *ctx, MQTTAsync_failureData5 *resp)
{
    (void)resp;
    on_slack_dropped(ctx, NULL);
}

/* Before a clean disconnect, paho's receive thread is given back the
 * default timer slack, or the end of the connection (and the socket of a
 * client that replaces this one) would wait for its next timeout, slack
 * included: a second or two. An UNSUBACK is the one reply that makes it
 * run a callback of ours without changing anything: the filter was never
 * subscribed to. Waits up to 500 ms; called with m->lock held. */
static void drop_paho_slack(om_mqtt *m)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (m->opts.mqtt_version == 5) {
        ro.onSuccess5 = on_slack_dropped5;
        ro.onFailure5 = on_slack_drop_failed5;
    } else {
        ro.onSuccess = on_slack_dropped;
        ro.onFailure = on_slack_drop_failed;
    }
    ro.context = m;
    m->slack_unwinding = true; /* no callback gives it back from now on */
    m->slack_dropped = false;
    pthread_mutex_unlock(&m->lock);
    int rc = MQTTAsync_unsubscribe(m->client, "officemeter/-/none", &ro);
    pthread_mutex_lock(&m->lock);
    if (rc != MQTTASYNC_SUCCESS)
        return;
    struct timespec ts;
    ts = om_deadline_after(CLOCK_MONOTONIC, 500);
    while (!m->slack_dropped)
        if (pthread_cond_timedwait(&m->state_cond, &m->lock, &ts) == ETIMEDOUT)
            break;
}

void om_mqtt_stop(om_mqtt *m, unsigned timeout_ms)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    if (m->state == ST_STOPPED) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    /* Let in-flight QoS 1 messages reach the broker first. */
    struct timespec ts;
    ts = om_deadline_after(CLOCK_MONOTONIC, timeout_ms);
    while (m->state == ST_CONNECTED && m->ninflight > 0) {
        if (pthread_cond_timedwait(&m->flight_cond, &m->lock, &ts) == ETIMEDOUT)
            break;
    }
    bool was_connected = m->state == ST_CONNECTED;
    if (was_connected && m->opts.paho_timer_slack_ms)
        drop_paho_slack(m);
    m->stopping = true;
    bool started = m->started;
    pthread_cond_broadcast(&m->state_cond);
    pthread_cond_broadcast(&m->inbox_cond);
    pthread_mutex_unlock(&m->lock);
    if (started)
        pthread_join(m->manager, NULL);
    if (m->client && (was_connected || MQTTAsync_isConnected(m->client))) {
        /* In-flight messages were waited for above: paho need not wait
         * again (its timeout delays the disconnect itself). */
        MQTTAsync_disconnectOptions dc = MQTTAsync_disconnectOptions_initializer;
        dc.timeout = 100;
        if (MQTTAsync_disconnect(m->client, &dc) == MQTTASYNC_SUCCESS) {
            for (unsigned i = 0; i < 200 && MQTTAsync_isConnected(m->client); i++)
                usleep(10000);
        }
    }
    pthread_mutex_lock(&m->lock);
    m->state = ST_STOPPED;
    m->started = false;
    m->inbox_closed = true;
    pthread_cond_broadcast(&m->state_cond);
    pthread_cond_broadcast(&m->inbox_cond);
    pthread_mutex_unlock(&m->lock);
}

void om_mqtt_free(om_mqtt *m)
{
    if (!m)
        return;
    om_mqtt_stop(m, 0);
    if (m->client)
        MQTTAsync_destroy(&m->client);
    while (m->head) {
        inbox_node *n = m->head;
        m->head = n->next;
        discard(m, &n->msg);
        free(n);
    }
    for (size_t i = 0; i < m->nsubs; i++)
        free(m->subs[i].filter);
    free(m->subs);
    if (m->password)
        memset(m->password, 0, strlen(m->password));
    free(m->uri);
    free(m->client_id);
    free(m->username);
    free(m->password);
    free(m->ca_file);
    free(m->cert_file);
    free(m->key_file);
    free(m->will_topic);
    free(m->will_payload);
    for (size_t i = 0; i < m->nuris; i++) {
        free(m->uris[i]);
        free(m->paho_uris[i]);
    }
    free(m->uris);
    free(m->paho_uris);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->state_cond);
    pthread_cond_destroy(&m->flight_cond);
    pthread_cond_destroy(&m->inbox_cond);
    free(m);
}
