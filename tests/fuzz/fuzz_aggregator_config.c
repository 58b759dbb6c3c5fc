/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_aggregator_config.c - aggregator.yaml (aggcfg.h): loaded, or refused
 * with errors naming the file; a loaded one keeps its backoff in order.
 */
#include "fuzzutil.h"
#include "officemeter/config/aggcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("aggregator.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_agg_config cfg;
    int rc = om_agg_config_load(path, &cfg, &diag);
    fuzz_check_diag(&diag, path);
    if (rc == 0)
        FUZZ_CHECK((uint64_t)cfg.reconnect_min_ms <= (uint64_t)cfg.reconnect_max_s * 1000u,
                   "reconnect_min_ms above reconnect_max_s accepted");
    om_agg_config_free(&cfg);
    om_diag_free(&diag);
    return 0;
}
