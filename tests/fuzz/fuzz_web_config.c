/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_web_config.c - the web view's config (config/webcfg.h, web.yaml):
 * loaded, or refused with errors naming the file.
 */
#include "fuzzutil.h"
#include "officemeter/config/webcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("web.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_web_config cfg;
    om_web_config_load(path, &cfg, &diag);
    fuzz_check_diag(&diag, path);
    om_web_config_free(&cfg);
    om_diag_free(&diag);
    return 0;
}
