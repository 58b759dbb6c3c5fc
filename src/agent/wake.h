/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wake.h - what the delivery loop sleeps on.
 *
 * The loop sleeps until its next deadline (a resend, health, the quota
 * check, the watchdog), which can be a minute away, so everything that has
 * work for it must be able to wake it: a bus worker with polls, paho's
 * threads with a message or a PUBACK, and the signal handlers of SIGTERM
 * and SIGHUP. A condition variable cannot be signalled from a signal
 * handler; an eventfd can (write(2) is async-signal-safe), so one eventfd
 * serves all of them. Wake-ups before the wait are not lost: the counter
 * stays readable until the wait drains it.
 */
#ifndef OM_AGENT_WAKE_H
#define OM_AGENT_WAKE_H

typedef struct {
    int fd; /* eventfd; -1 when closed */
} om_wake;

/* Returns 0, or -1 with errno set. */
int om_wake_open(om_wake *w);
void om_wake_close(om_wake *w);
/* Safe from any thread and from a signal handler. */
void om_wake_signal(const om_wake *w);
/* Sleeps until om_wake_signal or timeout_ms (0: only looks). Returns 1 when
 * woken (every pending wake-up is consumed), 0 on timeout. */
int om_wake_wait(const om_wake *w, int timeout_ms);

#endif
