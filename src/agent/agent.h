/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.h - the gateway daemon: bus workers, outbox, MQTT, and the loop
 * that joins them.
 *
 * Threads: one per bus (busworker.h) polls meters and queues results; the
 * main thread runs the delivery loop (deliver.c): polls into the outbox
 * (durable first), due polls out to the broker (batched, paced), the
 * aggregator's acknowledgements back into the outbox, health and quota
 * every so often, and signals (SIGTERM: stop; SIGHUP: reload). paho's
 * threads only set flags and fill the MQTT inbox.
 *
 *   om_agent_start --> running: om_agent_run loop
 *        ^                |  SIGHUP: om_agent_reload (new setup checked
 *        |                |  first; a bad one is logged and ignored)
 *        +----------------+
 *                         |  SIGTERM: workers finish their current poll,
 *                         v  polls stored, due ones published, "offline"
 *                  om_agent_stop
 */
#ifndef OM_AGENT_AGENT_H
#define OM_AGENT_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "busworker.h"
#include "heldpolls.h"
#include "officemeter/mqtt/mqtt.h"
#include "officemeter/outbox/outbox.h"
#include "officemeter/proto/topic.h"
#include "pollq.h"
#include "setup.h"
#include "wake.h"

typedef struct {
    const char *config_path;
    const om_bus_override *overrides;
    size_t noverrides;
    const char *log_level; /* overrides the config's; NULL: the config's */
    bool once;             /* for om_agent_once: an ack is awaited, keep the MQTT client prompt */
} om_agent_options;

typedef struct {
    uint64_t polls_stored;
    uint64_t polls_unstamped;  /* not stored: the wall clock is before the build date */
    uint64_t store_failures;   /* appends that failed (a full disk): polls held in memory */
    uint64_t polls_lost;       /* polls let go of while the outbox could not store them */
    uint64_t messages_published;
    uint64_t polls_published;  /* resends included */
    uint64_t publish_failures;
    uint64_t acks;
    uint64_t acks_other_epoch;
    uint64_t acks_refused;     /* malformed, or beyond the last seq */
    uint64_t polls_acked;
    uint64_t quota_runs_over;  /* quota enforcement that could not get under the quota */
} om_agent_counters;

typedef struct om_agent {
    om_agent_options opts;
    om_agent_setup setup;
    om_outbox *ob;
    om_mqtt *mq;
    char t_readings[OM_TOPIC_MAX];
    char t_status[OM_TOPIC_MAX];
    char t_ack[OM_TOPIC_MAX];
    char t_health[OM_TOPIC_MAX];
    om_bus_worker **workers;
    size_t nworkers;
    struct om_tcp_mux *tcp_mux;    /* drives the Modbus TCP buses' workers */
    int64_t resume_after_ms;       /* the last tick before a reload restarted the workers */
    om_pollq q;
    om_held_polls held;            /* while the outbox cannot store (heldpolls.h) */
    bool store_failing;            /* logged: the outbox cannot store */
    om_wake wake;                  /* the delivery loop sleeps on it */
    om_agent_counters n;

    /* set from other threads */
    volatile int connected_event; /* a (re)connect: mark unsent, birth */
    int polls_event;               /* polls queued (atomic) */
    int publish_blocked;           /* waiting for an in-flight slot (atomic) */
    volatile int starting;         /* before the first connection: failures are the caller's */

    int64_t started_ms;      /* wall */
    int64_t next_health_ms;  /* monotonic */
    int64_t next_quota_ms;
    int64_t next_resend_ms;
    int64_t watchdog_ms;     /* systemd watchdog ping period; 0: off */
    int64_t next_watchdog_ms;
    bool publish_pending;    /* the last batch was full: more may be due */
    double tokens;           /* message pacing (token bucket) */
    int64_t tokens_at_us;
    bool clock_bad;          /* logged: the clock is before the build date */
    char *buf;               /* one readings message */
    size_t bufcap;
    om_batch batch;
} om_agent;

/* Loads the setup (errors to diag), opens the outbox, creates the MQTT
 * client. Does not connect or poll yet. Returns 0, or -1 with one line in
 * err (and, for file problems, every error in diag). */
int om_agent_init(om_agent *a, const om_agent_options *opts, om_diag *diag, char *err,
                  size_t errlen);
/* Connects (waiting up to the configured connect timeout) and subscribes.
 * Returns 0, or -1 with one line in err. */
int om_agent_connect(om_agent *a, char *err, size_t errlen);
/* Starts the bus workers. */
int om_agent_start_workers(om_agent *a, char *err, size_t errlen);

/* Tells the service manager the daemon is serving (READY=1 and a status
 * line); nothing when not run by one. */
void om_agent_notify_ready(om_agent *a);

/* The daemon loop; returns when *term becomes non-zero. *hup triggers a
 * reload and is reset. Sends the service manager's watchdog pings. */
void om_agent_run(om_agent *a, volatile sig_atomic_t *term, volatile sig_atomic_t *hup);
/* Wakes the daemon loop, so that it looks at *term and *hup at once. Safe
 * from a signal handler and from any thread. */
void om_agent_wake(om_agent *a);

/* --once: poll every meter once (all buses in parallel), store, publish,
 * and wait up to ack_timeout_ms for the acknowledgement of everything held.
 * Returns 0 (acknowledged), 1 (failure, reason in err), 3 (no ack in time). */
int om_agent_once(om_agent *a, unsigned ack_timeout_ms, char *err, size_t errlen);


/* Graceful end: workers stop after their current poll, queued polls are
 * stored, due polls published, "offline" status sent, MQTT disconnected. */
void om_agent_shutdown(om_agent *a);
void om_agent_free(om_agent *a);

/* ---- delivery steps (deliver.c) ----------------------------------------- */

/* Queued polls into the outbox, in one transaction, after the polls held
 * in memory since storing last failed. When storing fails, the newest poll
 * of each meter (and its newest counter reading) is held for the next
 * attempt, the rest counted as lost; logged once when storing fails and
 * once when it works again. Returns the number stored. */
size_t om_agent_store_polls(om_agent *a);
/* Due polls out, as far as pacing allows. Returns messages published. */
size_t om_agent_publish_due(om_agent *a);
/* One received message (ack topic). */
void om_agent_handle_message(om_agent *a, const om_mqtt_message *msg);
void om_agent_publish_birth(om_agent *a);
void om_agent_publish_offline(om_agent *a);
void om_agent_publish_health(om_agent *a);
void om_agent_enforce_quota(om_agent *a);

/* ---- health (health.c) ---------------------------------------------------- */

/* The health message, malloc'd JSON text (NULL when out of memory). */
char *om_agent_health_json(om_agent *a);

#endif
