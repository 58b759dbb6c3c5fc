/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_agent_config.c - agent.yaml (agentcfg.h): loaded, or refused with
 * errors naming the file; a loaded one keeps its backoff in order.
 */
#include "fuzzutil.h"
#include "officemeter/config/agentcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("agent.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_agent_config cfg;
    int rc = om_agent_config_load(path, &cfg, &diag);
    fuzz_check_diag(&diag, path);
    if (rc == 0)
        FUZZ_CHECK((uint64_t)cfg.delivery.reconnect_min_ms <=
                       (uint64_t)cfg.delivery.reconnect_max_s * 1000u,
                   "reconnect_min_ms above reconnect_max_s accepted");
    om_agent_config_free(&cfg);
    om_diag_free(&diag);
    return 0;
}
