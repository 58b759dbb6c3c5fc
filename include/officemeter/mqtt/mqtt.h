/* SPDX-License-Identifier: Apache-2.0 */
/*
 * om_mqtt.h - the daemons' MQTT connection: paho-mqtt-c's asynchronous
 * client behind a small interface.
 *
 * Both daemons need the same things from MQTT and nothing more: one
 * connection that is always trying to be up (TLS, credentials, a last will,
 * reconnect with backoff), QoS 1 publishing with a callback when the broker
 * has taken a message, subscriptions that survive reconnects, and received
 * messages queued in an inbox that another thread drains at its own pace.
 *
 * Connection states (one manager thread drives every transition):
 *
 *     om_mqtt_start
 *          |
 *          v           on_failure (refused, unreachable, TLS, bad login)
 *     CONNECTING ------------------------------------+
 *          |  on_success: re-subscribe, call          |
 *          |  callbacks.connected                     v
 *          v                                     BACKOFF: wait min_retry_ms,
 *      CONNECTED --- connection lost ----------> doubled per failure, +-20 %
 *          |         (callbacks.lost)            jitter, never above max_retry_ms,
 *          |                                     then CONNECTING again
 *          | om_mqtt_stop / om_mqtt_free
 *          v
 *       STOPPED (a clean disconnect: the broker does not publish the will)
 *
 * Messages are published only while CONNECTED (om_mqtt_publish returns -1
 * otherwise): the agent's outbox, not the client library, is the buffer, so
 * nothing depends on paho's in-memory queue surviving anything.
 *
 * Thread safety: every function may be called from any thread. Callbacks
 * run on paho's or the manager's threads; they must not call om_mqtt_free.
 */
#ifndef OFFICEMETER_OM_MQTT_H
#define OFFICEMETER_OM_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct om_mqtt om_mqtt;

/* How to connect. Strings are copied by om_mqtt_new. */
typedef struct {
    const char *uri;       /* mqtt://, tcp:// (plain) or mqtts://, ssl:// (TLS) HOST[:PORT] */
    /* Brokers to try in this order on every connect (paho's serverURIs):
     * the first that answers is used until the connection is lost. NULL
     * (or nuris 0): uri alone. uri should be uris[0]; it names the broker
     * in messages until one has been connected to. */
    const char *const *uris;
    size_t nuris;
    const char *client_id; /* required */
    const char *username;  /* NULL: anonymous */
    const char *password;  /* never logged, never in an error message */
    /* TLS, used with mqtts:// and ssl:// only */
    const char *ca_file;   /* NULL: the system's trust store */
    const char *cert_file; /* client certificate (PEM), with key_file */
    const char *key_file;
    bool verify;           /* verify the server's certificate and host name */
    bool clean_session;    /* false: the broker keeps subscriptions and queued QoS 1 messages */
    /* 0: MQTT 3.1.1. 5: MQTT 5, where clean_session is the clean start
     * flag, and a session that is not clean lasts session_expiry_s after a
     * disconnect (0: forever, as in MQTT 3.1.1); a clean one ends with it. */
    unsigned mqtt_version;
    unsigned session_expiry_s;
    unsigned keepalive_s;  /* 0: OM_MQTT_DEFAULT_KEEPALIVE_S */
    unsigned connect_timeout_s; /* one attempt; 0: OM_MQTT_DEFAULT_CONNECT_TIMEOUT_S */
    unsigned min_retry_ms; /* 0: OM_MQTT_DEFAULT_MIN_RETRY_MS */
    unsigned max_retry_ms; /* 0: OM_MQTT_DEFAULT_MAX_RETRY_MS */
    unsigned max_inflight; /* QoS 1 messages awaiting PUBACK; 0: OM_MQTT_DEFAULT_MAX_INFLIGHT */
    size_t inbox_capacity; /* received messages held; 0: OM_MQTT_DEFAULT_INBOX */
    /* Timer slack of paho's two threads while connected, in ms (0: the
     * kernel's default of 50 us). paho wakes them about three times a
     * second to look at its timers whether or not there is anything to do;
     * with slack the kernel may run those timeouts up to this much later,
     * together with other wake-ups. Sockets and commands still wake them at
     * once; see "Timer slack" in om_mqtt.c for what may come later. */
    unsigned paho_timer_slack_ms;
    /* last will; will_topic NULL: none */
    const char *will_topic;
    const char *will_payload;
    int will_qos;
    bool will_retain;
} om_mqtt_options;

#define OM_MQTT_DEFAULT_KEEPALIVE_S 30u
#define OM_MQTT_DEFAULT_CONNECT_TIMEOUT_S 10u
#define OM_MQTT_DEFAULT_MIN_RETRY_MS 500u
#define OM_MQTT_DEFAULT_MAX_RETRY_MS 60000u
#define OM_MQTT_DEFAULT_MAX_INFLIGHT 64u
#define OM_MQTT_DEFAULT_INBOX 4096u

/* Zeroes opts and sets verify and clean_session to true. */
void om_mqtt_options_init(om_mqtt_options *opts);

/* Called on the library's threads; any may be NULL. */
typedef struct {
    void *ctx;
    /* Each successful connect, after the subscriptions are re-sent. `count` is
     * 1 for the first connection, 2 after the first reconnect, ... */
    void (*connected)(void *ctx, unsigned count);
    /* The connection was lost (not after om_mqtt_stop); `why` is a short text. */
    void (*lost)(void *ctx, const char *why);
    /* A connect attempt failed; the manager retries after `retry_ms`. */
    void (*connect_failed)(void *ctx, const char *why, unsigned retry_ms);
    /* The broker acknowledged a QoS 1 publish (PUBACK) or a QoS 0 one was
     * written to the socket. */
    void (*delivered)(void *ctx, int token);
    /* A message is waiting in the inbox for om_mqtt_recv (called on paho's
     * thread after it was queued): for a caller that sleeps on something
     * other than om_mqtt_recv. */
    void (*received)(void *ctx);
    /* Work on a message on paho's receiving thread, before it is queued:
     * the result goes with it (om_mqtt_message.prepared), so that work
     * overlaps with the caller's on its own thread. discard frees a result
     * that is never taken (the client stopped with the message queued); a
     * taken one is the caller's. Either may be NULL. */
    void *(*prepare)(void *ctx, const char *topic, const void *payload, size_t len);
    void (*discard)(void *ctx, void *prepared);
} om_mqtt_callbacks;

/* One received message; payload is NUL-terminated (payload[len] == 0). */
typedef struct {
    char *topic;
    char *payload;
    size_t len;
    int qos;
    bool retained;
    void *prepared; /* callbacks.prepare's result, NULL without one */
} om_mqtt_message;

typedef struct {
    uint64_t connects;        /* successful connections */
    uint64_t connect_failures;
    uint64_t lost;            /* connections lost */
    uint64_t published;       /* accepted by om_mqtt_publish */
    uint64_t publish_failures;
    uint64_t delivered;       /* delivered callbacks */
    uint64_t received;        /* messages put in the inbox */
    size_t inbox_depth;
    unsigned inflight;        /* QoS 1 published and not yet delivered */
    bool connected;
} om_mqtt_stats;

/* Creates a client (not yet connecting). callbacks may be NULL. Returns NULL
 * with a one-line reason in err (bad URI, TLS files unreadable, paho error). */
om_mqtt *om_mqtt_new(const om_mqtt_options *opts, const om_mqtt_callbacks *callbacks, char *err,
                     size_t errlen);

/* Starts connecting in the background; from now on the client reconnects
 * whenever the connection is down, until om_mqtt_stop. Returns 0 or -1. */
int om_mqtt_start(om_mqtt *m);

/* Waits until connected: 0, or -1 after timeout_ms with the reason of the
 * last failed attempt in err (e.g. "connection refused by 127.0.0.1:1883",
 * "bad user name or password"). */
int om_mqtt_wait_connected(om_mqtt *m, unsigned timeout_ms, char *err, size_t errlen);

bool om_mqtt_is_connected(om_mqtt *m);

/* Subscribes now if connected, and again after every reconnect. */
int om_mqtt_subscribe(om_mqtt *m, const char *filter, int qos);

/* Publishes; *token (optional) identifies it in callbacks.delivered.
 * Returns 0, or -1 when not connected, too many messages are in flight, or
 * paho refuses (reason in om_mqtt_errmsg). */
int om_mqtt_publish(om_mqtt *m, const char *topic, const void *payload, size_t len, int qos,
                    bool retain, int *token);

/* QoS 1 messages published and not yet acknowledged by the broker. */
unsigned om_mqtt_inflight(om_mqtt *m);

/* Takes the oldest received message: 1 (fill *msg, free it with
 * om_mqtt_message_free), 0 when none arrived within timeout_ms (0: do not
 * wait), -1 after om_mqtt_stop. */
int om_mqtt_recv(om_mqtt *m, om_mqtt_message *msg, unsigned timeout_ms);
void om_mqtt_message_free(om_mqtt_message *msg);

void om_mqtt_get_stats(om_mqtt *m, om_mqtt_stats *out);

/* The broker of the current (or last) connection as configured (one of
 * uris), or uri before any connection. */
void om_mqtt_server(om_mqtt *m, char *buf, size_t len);

/* The reason of the last failure (publish, subscribe, connect), for logs. */
void om_mqtt_errmsg(om_mqtt *m, char *buf, size_t len);

/* Waits up to timeout_ms for in-flight QoS 1 messages, then disconnects
 * cleanly (no will) and stops reconnecting. Idempotent. */
void om_mqtt_stop(om_mqtt *m, unsigned timeout_ms);

/* Stops (if needed) and releases everything; NULL is a no-op. */
void om_mqtt_free(om_mqtt *m);

/* "mqtts://h:8883" -> "ssl://h:8883" (paho's spelling). Returns 0, or -1 for
 * a scheme other than mqtt, mqtts, tcp, ssl; *tls tells which. */
int om_mqtt_paho_uri(const char *uri, char *out, size_t outlen, bool *tls);

/* "username:password" from a credentials file. The file must be a regular
 * file not readable by group or others (mode 0600 or 0400), hold one line
 * (a trailing newline is allowed) with a non-empty user name before the first
 * colon. Returns 0, or -1 with a reason naming the file, never its content.
 *
 * Under systemd with LoadCredential=mqtt:PATH (a root-only file the daemon
 * user cannot open), the unit's private copy $CREDENTIALS_DIRECTORY/mqtt is
 * read instead of path, so one agent.yaml serves the unit and a hand-run
 * --check or --once as root alike. */
int om_mqtt_read_credentials(const char *path, char **username, char **password, char *err,
                             size_t errlen);

#endif
