/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_readings.c - a message as the aggregator takes it: judged as a
 * readings message (ingest.h), then, like every message the daemon
 * receives, added to a group with the health and status judges too,
 * committed to a store and acknowledged (agg_group.h over an in-memory
 * SQLite store: the sequence state included, where a seq of INT64_MAX used
 * to overflow).
 *
 * Invariants: a refused envelope stores nothing; every counted seq and
 * skipped range lies in 1 .. 2^53, ranges sorted and below the highest
 * seq; a stored poll's values are finite and within the plausibility
 * bound; nreadings is the sum of the stored polls' values; an
 * acknowledgement lies in 0 .. 2^53 and never goes backwards for its epoch.
 */
#include <stdio.h>
#include <string.h>

#include "agg_group.h"
#include "fuzzutil.h"
#include "officemeter/daemon/log.h"
#include "officemeter/config/site.h"
#include "officemeter/proto/ingest.h"
#include "officemeter/store/store.h"

#define NOW INT64_C(1718000000000)
/* The in-memory store starts again after this many inputs: it only grows.
 * (Opening one costs as much as a few hundred inputs under ASan; a finding
 * that needs the store's history is replayed with the inputs before it:
 * libFuzzer's -runs on the corpus, or scripts/fuzz's logs.) */
#define STORE_RUNS 1000

static om_site sites[2];
static om_store *store;
static agg_group *group;
static unsigned runs;

/* gw1's acknowledgement of the message's epoch before the commit: the
 * commit's must not be lower ("never backwards"). */
static char epoch_before[OM_EPOCH_LEN + 1];
static int64_t upto_before;

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
    om_log_set_level(OM_LOG_ERROR); /* the group logs what it refuses: not per input here */
    group = agg_group_new();
    return 0;
}

static void open_store(void)
{
    char err[512];
    om_store_close(store);
    store = om_store_open(":memory:", OM_STORE_CREATE, err, sizeof err);
    if (!store)
        fuzz_fail("in-memory store: %s", err);
}

static void on_ack(void *ctx, const char *site, const char *gateway, const char *epoch,
                   int64_t upto)
{
    (void)ctx;
    (void)site;
    FUZZ_CHECK(upto >= 0 && upto <= OM_SEQ_MAX, "ack upto %lld out of range", (long long)upto);
    if (strcmp(gateway, "gw1") == 0 && strcmp(epoch, epoch_before) == 0)
        FUZZ_CHECK(upto >= upto_before, "ack of gw1 epoch %s went back from %lld to %lld",
                   epoch, (long long)upto_before, (long long)upto);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store || ++runs % STORE_RUNS == 0)
        open_store();
    om_ingest_rules rules = {NOW, 300000, 1 << 20, sites, 2};
    om_topic topic = {.kind = OM_TOPIC_READINGS, .site = "sim-office", .gateway = "gw1"};
    om_readings_msg m;
    epoch_before[0] = '\0';
    if (om_ingest_readings(&rules, &topic, data, size, &m) == 0) {
        fuzz_check_judged(&m);
        if (m.verdict.fate != OM_FATE_REJECT &&
            om_store_seq_upto(store, "sim-office", "gw1", m.epoch, &upto_before) == 0)
            memcpy(epoch_before, m.epoch, sizeof epoch_before);
    }
    om_readings_msg_free(&m);

    static const char *const topics[] = {
        "officemeter/v1/sim-office/gw1/readings", "officemeter/v1/sim-office/gw1/health",
        "officemeter/v1/sim-office/gw1/status", "officemeter/v1/sim-office/gw2/readings",
    };
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        if (agg_group_add(group, &rules, topics[i], data, size, NOW) < 0)
            fuzz_fail("out of memory");
    int rc = agg_group_commit(group, store, on_ack, NULL, NULL);
    FUZZ_CHECK(rc != AGG_COMMIT_UNAVAILABLE, "the in-memory store failed: %s",
               om_store_errmsg(store));
    FUZZ_CHECK(agg_group_messages(group) == 0, "the group was not emptied");
    return 0;
}
