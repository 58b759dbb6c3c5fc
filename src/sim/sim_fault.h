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
} om_sim_faults;

void om_sim_faults_init(om_sim_faults *f);

/* Parse "METER=MODE": the meter id goes to meter (NUL-terminated), the mode
 * is added to f (which may already hold other modes). Returns 0, or -1 with
 * a one-line reason in err. */
int om_sim_fault_parse(const char *text, char *meter, size_t meterlen, om_sim_faults *f,
                       char *err, size_t errlen);

/* "timeout, slow:200" - for logs; returns buf. */
char *om_sim_faults_describe(const om_sim_faults *f, char *buf, size_t len);

#endif
