/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_alert_policy.c - the alert policy (config/alertcfg.h, alerts.yaml)
 * against the test office's site file: loaded, or refused with errors
 * naming the file.
 */
#include "fuzzutil.h"
#include "officemeter/config/alertcfg.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/config/site.h"

static om_catalogue cat;
static om_site site;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    om_diag diag;
    om_diag_init(&diag);
    if (om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &cat, &diag) < 0 ||
        om_site_load(OM_TEST_DATA "/sites/sim-office.yaml", &cat, &site, &diag) < 0)
        fuzz_fail("cannot load the catalogue and the test office");
    om_diag_free(&diag);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("alerts.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_alert_policy policy;
    om_alert_policy_load(path, &site, 1, &policy, &diag);
    fuzz_check_diag(&diag, path);
    om_alert_policy_free(&policy);
    om_diag_free(&diag);
    return 0;
}
