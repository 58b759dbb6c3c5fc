/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.c - signal set-up shared by officemeter-agent and -aggregator.
 */
#include "officemeter/daemon/signals.h"

#include <signal.h>
#include <string.h>

void om_daemon_install_signals(void (*on_stop)(int), void (*on_reload)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_reload;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}
