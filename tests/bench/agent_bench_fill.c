/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_bench_fill.c - fill an agent outbox with an outage's worth of polls,
 * for the catch-up benchmark (run_agent_bench.sh).
 *
 * usage: agent_bench_fill OUTBOX METERS SECONDS INTERVAL_S
 * Appends, for every interval of the last SECONDS, one poll per meter
 * ("bench-NN", six values as a PM5xxx would give), one transaction per
 * interval, as the agent itself does while the broker is unreachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "officemeter/outbox/outbox.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s OUTBOX METERS SECONDS INTERVAL_S\n", argv[0]);
        return 2;
    }
    int meters = atoi(argv[2]), seconds = atoi(argv[3]), interval = atoi(argv[4]);
    char err[512];
    om_outbox *ob = om_outbox_open(argv[1], err, sizeof err);
    if (!ob) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000;
    int64_t start = now - (int64_t)seconds * 1000;
    char (*ids)[24] = calloc((size_t)meters, sizeof *ids);
    om_outbox_entry *e = calloc((size_t)meters, sizeof *e);
    om_poll_value *v = calloc((size_t)meters * 6, sizeof *v);
    long total = 0;
    for (int m = 0; m < meters; m++)
        snprintf(ids[m], sizeof ids[m], "bench-%02d", m + 1);
    for (int64_t t = start; t < now; t += (int64_t)interval * 1000) {
        for (int m = 0; m < meters; m++) {
            om_poll_value *pv = v + m * 6;
            double k = (double)(t - start) / 3.6e6;
            pv[0] = (om_poll_value){OM_Q_ENERGY_IMPORT_KWH, 20000.0 + m * 100 + k * 30.0};
            pv[1] = (om_poll_value){OM_Q_ENERGY_EXPORT_KWH, 0.259};
            pv[2] = (om_poll_value){OM_Q_POWER_KW, 12.5 + m * 0.01};
            pv[3] = (om_poll_value){OM_Q_VOLTAGE_L1_V, 229.5};
            pv[4] = (om_poll_value){OM_Q_VOLTAGE_L2_V, 230.1};
            pv[5] = (om_poll_value){OM_Q_VOLTAGE_L3_V, 231.2};
            e[m] = (om_outbox_entry){.meter = ids[m], .t_ms = t, .values = pv, .nvalues = 6};
        }
        if (om_outbox_append_many(ob, e, (size_t)meters, NULL) < 0) {
            fprintf(stderr, "%s\n", om_outbox_errmsg(ob));
            return 1;
        }
        total += meters;
    }
    printf("%ld\n", total);
    om_outbox_close(ob);
    free(ids);
    free(e);
    free(v);
    return 0;
}
