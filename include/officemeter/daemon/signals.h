/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.h - what both daemons do the same way at startup.
 *
 * Signal handlers only set flags (the main loops act on them): SIGTERM and
 * SIGINT ask for a clean stop, SIGHUP for a reload; SIGPIPE is ignored so a
 * broker closing its socket is an error return, not a dead process.
 */
#ifndef OFFICEMETER_DAEMON_H
#define OFFICEMETER_DAEMON_H

void om_daemon_install_signals(void (*on_stop)(int), void (*on_reload)(int));

#endif
