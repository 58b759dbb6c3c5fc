/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_fault.h - fault modes a simulated meter can be given (--fault).
 *
 *   timeout          never answers
 *   exception:CODE   answers every request with Modbus exception CODE (1..11)
 *   slow:MS          answers after MS milliseconds
 *   reset@TIME       counters restart from 0 at simulated TIME
 *   rollover         counters start just below their rollover value and wrap
 *   glitch@TIME      counters read 0 for one simulated minute from TIME
 *   leak:M3H         constant extra water flow, day and night
 *   na               quantities with "not available" patterns report them
 *
 * and, to drill alerts, faults that start (and may end) at a simulated time;
 * WHEN is TIME or TIME/UNTIL:
 *
 *   leak:M3H@WHEN    the leak runs from TIME (until UNTIL)
 *   baseload:KW@WHEN an electricity meter draws KW more, day and night (a step
 *                    of its base load); baseload:KW alone: from the start
 *   timeout@WHEN     the meter stops answering at TIME (and answers again at UNTIL)
 *   offline@WHEN     a gateway fault (GATEWAY=offline@WHEN): its uplink to the
 *                    broker (--uplink) is cut at TIME (and restored at UNTIL)
 *
 * A meter may have several (--fault m=slow:200 --fault m=leak:0.3).
 */
#ifndef OM_SIM_FAULT_H
#define OM_SIM_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool timeout;
    unsigned exception; /* 0: none */
    unsigned slow_ms;
    int64_t reset_at;   /* OM_TIME_NONE: none */
    bool rollover;
    int64_t glitch_at;  /* OM_TIME_NONE: none */
    double leak_m3h;    /* 0: none */
    bool na;
    /* Windows [from, until) in simulated time; OM_TIME_NONE: open. */
    int64_t leak_from, leak_until;       /* leak_m3h within; both open: always */
    double step_kw;                      /* baseload: extra kW, 0: none */
    int64_t step_from, step_until;
    int64_t timeout_from, timeout_until; /* timeout@: both open: no window */
    bool offline;                        /* a gateway fault: offline@ */
    int64_t offline_from, offline_until;
} om_sim_faults;

/* True when t is in [from, until) (an open end is unbounded). */
bool om_sim_fault_window(int64_t from, int64_t until, int64_t t);

void om_sim_faults_init(om_sim_faults *f);

/* Parse "METER=MODE": the meter id goes to meter (NUL-terminated), the mode
 * is added to f (which may already hold other modes). Returns 0, or -1 with
 * a one-line reason in err. */
int om_sim_fault_parse(const char *text, char *meter, size_t meterlen, om_sim_faults *f,
                       char *err, size_t errlen);

/* "timeout, slow:200" - for logs; returns buf. */
char *om_sim_faults_describe(const om_sim_faults *f, char *buf, size_t len);

#endif
