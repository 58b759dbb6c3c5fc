/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_policy.c - the reporting policy (factors.h) against the shipped
 * factor set: loaded, or refused with errors naming the file; a loaded
 * policy never selects a factor of another kind.
 */
#include "fuzzutil.h"
#include "officemeter/config/factors.h"

static om_factor_set factors;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    om_diag diag;
    om_diag_init(&diag);
    if (om_factors_load(OM_SOURCE_DIR "/sites/emission-factors.yaml", &factors, &diag) < 0)
        fuzz_fail("cannot load the shipped factors");
    om_diag_free(&diag);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("reporting.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_policy policy;
    int rc = om_policy_load(path, &factors, &policy, &diag);
    fuzz_check_diag(&diag, path);
    if (rc == 0)
        for (size_t i = 0; i < policy.nchoices; i++) {
            const om_factor_choice *c = &policy.choices[i];
            const om_factor *f = om_factors_select(&factors, &policy, c->region, c->kind, c->year);
            FUZZ_CHECK(!f || f->kind == c->kind, "a factor of another kind selected");
        }
    om_policy_free(&policy);
    om_diag_free(&diag);
    return 0;
}
