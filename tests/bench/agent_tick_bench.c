/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_tick_bench.c - the delivery loop's work for one poll cycle, without
 * threads, MQTT or Modbus: append a cycle of polls to the outbox, hand them
 * out and encode the readings message, apply the acknowledgement. Prints the
 * CPU time of each step per meter-poll (thread CPU clock), so outbox and
 * payload changes can be measured in seconds rather than in minutes of
 * run_agent_bench.sh.
 *
 * usage: agent_tick_bench OUTBOX METERS TICKS
 * Values are what a PM5xxx gives: float32 voltages and power every tick,
 * 64-bit Wh counters scaled to kWh every sixth tick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "officemeter/outbox/outbox.h"
#include "officemeter/proto/payload.h"

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s OUTBOX METERS TICKS\n", argv[0]);
        return 2;
    }
    int meters = atoi(argv[2]), ticks = atoi(argv[3]);
    char err[512];
    om_outbox *ob = om_outbox_open(argv[1], err, sizeof err);
    if (!ob) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char (*ids)[24] = calloc((size_t)meters, sizeof *ids);
    om_outbox_entry *e = calloc((size_t)meters, sizeof *e);
    om_poll_value *v = calloc((size_t)meters * 6, sizeof *v);
    size_t cap = 256 * 1024;
    char *buf = malloc(cap + 1);
    om_batch batch;
    om_batch_init(&batch);
    for (int m = 0; m < meters; m++)
        snprintf(ids[m], sizeof ids[m], "bench-%02d", m + 1);
    int64_t t0 = 1795918000000, spent[3] = {0, 0, 0}, bytes = 0;
    srand(1);
    for (int k = 0; k < ticks; k++) {
        int64_t t = t0 + (int64_t)k * 10000;
        for (int m = 0; m < meters; m++) {
            om_poll_value *pv = v + m * 6;
            size_t n = 0;
            if (k % 6 == 0) {
                pv[n++] = (om_poll_value){OM_Q_ENERGY_IMPORT_KWH,
                                          (double)(20000000 + m * 1000 + k * 83) * 0.001};
                pv[n++] = (om_poll_value){OM_Q_ENERGY_EXPORT_KWH, (double)(259 + k) * 0.001};
            }
            pv[n++] = (om_poll_value){OM_Q_POWER_KW, (double)(float)(12.5 + rand() % 1000 * 0.0137)};
            pv[n++] = (om_poll_value){OM_Q_VOLTAGE_L1_V, (double)(float)(229.5 + rand() % 100 * 0.013)};
            pv[n++] = (om_poll_value){OM_Q_VOLTAGE_L2_V, (double)(float)(230.1 + rand() % 100 * 0.013)};
            pv[n++] = (om_poll_value){OM_Q_VOLTAGE_L3_V, (double)(float)(231.2 + rand() % 100 * 0.013)};
            e[m] = (om_outbox_entry){.meter = ids[m], .t_ms = t + m, .values = pv, .nvalues = n};
        }
        int64_t c0 = cpu_ns();
        int64_t first = 0;
        if (om_outbox_append_many(ob, e, (size_t)meters, &first) < 0)
            goto fail;
        int64_t c1 = cpu_ns();
        size_t budget = om_payload_budget(cap, "bench-64", "gw1", om_outbox_epoch(ob));
        if (om_outbox_next_batch(ob, k * 10000 + 1, 500, budget, &batch) < 0)
            goto fail;
        size_t len = 0, npolls = 0;
        if (om_payload_encode_readings("bench-64", "gw1", &batch, buf, cap, &len, &npolls, err,
                                       sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        bytes += (int64_t)len;
        int64_t c2 = cpu_ns();
        size_t deleted = 0;
        if (om_outbox_ack(ob, om_outbox_epoch(ob), first + meters - 1, &deleted) < 0)
            goto fail;
        int64_t c3 = cpu_ns();
        if (k > 0) { /* the first tick pays for preparing statements */
            spent[0] += c1 - c0;
            spent[1] += c2 - c1;
            spent[2] += c3 - c2;
        }
    }
    double polls = (double)(ticks - 1) * meters;
    printf("per meter-poll: append %.2f us, hand out + encode %.2f us, ack %.2f us, total %.2f us "
           "(%.0f bytes of message per poll)\n",
           spent[0] / polls / 1e3, spent[1] / polls / 1e3, spent[2] / polls / 1e3,
           (spent[0] + spent[1] + spent[2]) / polls / 1e3, bytes / (polls + meters));
    om_batch_free(&batch);
    om_outbox_close(ob);
    free(ids);
    free(e);
    free(v);
    free(buf);
    return 0;
fail:
    fprintf(stderr, "%s\n", om_outbox_errmsg(ob));
    return 1;
}
