/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest.c - the aggregator's judges alone (ingest.h, health.h,
 * status.h) on one message, for speed: the readings target also writes
 * every message to a store, which costs a hundred times more per input.
 * The invariants are fuzz_check_judged's (fuzzutil.h), plus a quarantined
 * or rejected poll judged again from its record (requeue) keeping its fate,
 * and the fast reader of well-formed messages, where it accepts a message,
 * judging it exactly as the full judge does (judged_same.h).
 */
#include <string.h>

#include "fuzzutil.h"
#include "judged_same.h"
#include "officemeter/config/site.h"
#include "officemeter/proto/health.h"
#include "officemeter/proto/ingest.h"
#include "officemeter/proto/status.h"

#define NOW INT64_C(1718000000000)

static om_site sites[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    om_diag diag;
    om_diag_init(&diag);
    if (om_site_load(OM_TEST_DATA "/sites/sim-office.yaml", NULL, &sites[0], &diag) < 0 ||
        om_site_load(OM_SOURCE_DIR "/sites/london.yaml", NULL, &sites[1], &diag) < 0)
        fuzz_fail("cannot load the test sites");
    om_diag_free(&diag);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_ingest_rules rules = {NOW, 300000, 1 << 20, sites, 2};
    om_topic topic = {.kind = OM_TOPIC_READINGS, .site = "sim-office", .gateway = "gw1"};
    om_readings_msg m, full;
    if (om_ingest_readings_fast(&rules, &topic, data, size, &m) == 1) {
        if (om_ingest_readings_full(&rules, &topic, data, size, &full) == 0) {
            const char *diff = judged_difference(&m, &full);
            FUZZ_CHECK(!diff, "the fast reader and the full judge differ in %s", diff);
        }
        om_readings_msg_free(&full);
    }
    om_readings_msg_free(&m);
    if (om_ingest_readings(&rules, &topic, data, size, &m) == 0) {
        fuzz_check_judged(&m);
        for (size_t i = 0; m.verdict.fate != OM_FATE_REJECT && i < m.npolls; i++) {
            const om_ingest_poll *p = &m.polls[i];
            if (p->verdict.fate != OM_FATE_QUARANTINE || !p->json)
                continue;
            om_ingest_poll again;
            if (om_ingest_poll_text(&rules, &topic, p->poll.seq, p->json, &again) == 0)
                FUZZ_CHECK(again.verdict.fate == p->verdict.fate &&
                               strcmp(again.verdict.code, p->verdict.code) == 0,
                           "a quarantined poll judged again as %s", again.verdict.code);
            om_ingest_poll_free(&again);
        }
    }
    om_readings_msg_free(&m);
    int64_t depth, errors;
    om_verdict v;
    om_health_parse(data, size, 1 << 20, &depth, &errors, &v);
    char state[16];
    om_status_parse(data, size, 1 << 20, state, sizeof state, &v);
    return 0;
}
