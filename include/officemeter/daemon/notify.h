/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.h - tell systemd how a daemon is doing (the sd_notify protocol).
 *
 * A unit with Type=notify starts the daemon with $NOTIFY_SOCKET naming an
 * AF_UNIX datagram socket ("/run/systemd/notify", or "@name" in the abstract
 * namespace). The daemon sends newline-separated assignments to it:
 * READY=1 when it is serving, WATCHDOG=1 from its main loop at least every
 * half $WATCHDOG_USEC (else systemd kills and restarts it), STOPPING=1 when
 * it begins to shut down, STATUS=text for `systemctl status`.
 *
 * This is a small replacement for libsystemd's sd_notify(), so the daemons
 * need no libsystemd. Without $NOTIFY_SOCKET (started by hand, in a test,
 * under another supervisor) every call does nothing and returns 0.
 *
 * Every function returns 1 when the message was sent, 0 when there is no
 * socket to send it to, and -1 with errno set when sending failed (a bad
 * $NOTIFY_SOCKET, no listener). A daemon logs a failure once and carries on:
 * a lost notification is systemd's concern, not a reason to stop polling.
 * The functions read the environment and keep no state; they are safe to
 * call from any thread, but NotifyAccess=main accepts only messages from the
 * main process (threads are part of it; a forked child is not).
 */
#ifndef OFFICEMETER_NOTIFY_H
#define OFFICEMETER_NOTIFY_H

#include <stdint.h>

/* Sends STATE verbatim ("READY=1\nSTATUS=polling 4 meters"). */
int om_notify(const char *state);

/* READY=1, with STATUS=status when status is not NULL. Send it once the
 * daemon is configured and serving (the agent: connected or buffering). */
int om_notify_ready(const char *status);
/* WATCHDOG=1: the main loop is alive. */
int om_notify_watchdog(void);
/* STOPPING=1: shutting down on purpose (systemd will not call it a crash). */
int om_notify_stopping(void);
/* RELOADING=1 at the start of a SIGHUP reload; send om_notify_ready() when
 * the reload is done (or refused and the old configuration kept). */
int om_notify_reloading(void);
/* STATUS=text: one line shown by `systemctl status` (newlines become
 * spaces, since they separate assignments in the protocol). */
int om_notify_status(const char *text);

/* The watchdog period in microseconds from $WATCHDOG_USEC, or 0 when the
 * watchdog is off: the variable is unset, not a positive number, or
 * $WATCHDOG_PID names another process (the variables were inherited). Send
 * WATCHDOG=1 at least every half of it. */
uint64_t om_notify_watchdog_usec(void);

#endif
