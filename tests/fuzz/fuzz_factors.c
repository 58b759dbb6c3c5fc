/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_factors.c - the emission factor file (factors.h): loaded or refused
 * with errors naming the file; a loaded set answers every selection with a
 * factor of the kind asked for, or none.
 */
#include "fuzzutil.h"
#include "officemeter/config/factors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("emission-factors.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_factor_set set;
    int rc = om_factors_load(path, &set, &diag);
    fuzz_check_diag(&diag, path);
    if (rc == 0) {
        static const char *const regions[] = {"CN", "UK", "HK", "SG"};
        for (int k = 0; k < OM_FACTOR__COUNT; k++)
            for (size_t r = 0; r < sizeof regions / sizeof regions[0]; r++) {
                const om_factor *f = om_factors_select(&set, NULL, regions[r], (om_factor_kind)k,
                                                       2024);
                FUZZ_CHECK(!f || (int)f->kind == k, "a factor of another kind selected");
                if (f)
                    (void)om_factor_tonnes_per_unit(f);
            }
    }
    om_factors_free(&set);
    om_diag_free(&diag);
    return 0;
}
