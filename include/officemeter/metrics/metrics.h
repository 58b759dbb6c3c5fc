/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - a process's own figures in the Prometheus text exposition
 * format, served on /metrics (the aggregator's metrics_listen): a latency
 * histogram, the writer's helpers, and a small HTTP server (libmicrohttpd)
 * that asks its owner for the text on every scrape.
 */
#ifndef OFFICEMETER_METRICS_H
#define OFFICEMETER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A histogram over fixed upper bounds in seconds (Prometheus's le). Not
 * locked: the owner serialises observe and write. */
#define OM_HISTOGRAM_BUCKETS 14

typedef struct {
    uint64_t counts[OM_HISTOGRAM_BUCKETS]; /* observations <= bound[i] (cumulative when written) */
    uint64_t count;
    double sum;
} om_histogram;

/* The bounds: 1 ms to 10 s. */
extern const double om_histogram_bounds[OM_HISTOGRAM_BUCKETS];

void om_histogram_observe(om_histogram *h, double seconds);

/* "# HELP name help\n# TYPE name type\n". */
void om_prom_head(FILE *out, const char *name, const char *type, const char *help);
/* The histogram's _bucket (cumulative, with +Inf), _sum and _count lines. */
void om_prom_histogram(FILE *out, const char *name, const char *help, const om_histogram *h);

/* Writes the whole exposition to out (an open_memstream); 0 or -1. */
typedef int (*om_metrics_fill)(void *user, FILE *out);

typedef struct om_metrics_server om_metrics_server;

/* Serves GET /metrics on listen ("HOST:PORT"), calling fill on the
 * server's thread for each scrape. Returns NULL with the reason in err. */
om_metrics_server *om_metrics_server_start(const char *listen, om_metrics_fill fill, void *user,
                                           char *err, size_t errlen);
void om_metrics_server_stop(om_metrics_server *s);

#endif
