/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aggregator.h - the central daemon: subscribe, judge, group-commit,
 * acknowledge, reload sites on request.
 *
 * main.c parses the command line and installs signal handlers (which only
 * set the flags below); everything else is here, so tests can link it.
 */
#ifndef OFFICEMETER_AGGREGATOR_H
#define OFFICEMETER_AGGREGATOR_H

#include <signal.h>
#include <stddef.h>

#include "officemeter/config/aggcfg.h"

typedef struct om_aggregator om_aggregator;

/* Set by signal handlers, read by the main loop. */
typedef struct {
    volatile sig_atomic_t stop;   /* SIGTERM, SIGINT: commit what is held, exit 0 */
    volatile sig_atomic_t reload; /* SIGHUP: commit, then reload the site files */
} om_aggregator_signals;

/* Loads the sites, opens (or creates) the database and prepares the MQTT
 * client. Returns NULL after logging every reason (config errors one per
 * line, as file:line:col: key: message). cfg must outlive the aggregator. */
om_aggregator *om_aggregator_new(const om_agg_config *cfg);

/* Connects and runs until sig->stop. ready_file (optional) is written once
 * the database is open and the broker connection is up. Returns 0 after a
 * clean stop, -1 on a fatal error. */
int om_aggregator_run(om_aggregator *a, om_aggregator_signals *sig, const char *ready_file);

void om_aggregator_free(om_aggregator *a);

#endif
