/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_site.c - the site file loader (site.h) against the shipped
 * catalogue: any text gives a site or errors that name the file, never a
 * crash, a hang or a leak.
 */
#include "fuzzutil.h"
#include "officemeter/config/site.h"

static om_catalogue catalogue;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    om_diag diag;
    om_diag_init(&diag);
    if (om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &catalogue, &diag) < 0)
        fuzz_fail("cannot load the catalogue");
    om_diag_free(&diag);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("site.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_site site;
    int rc = om_site_load(path, &catalogue, &site, &diag);
    fuzz_check_diag(&diag, path);
    FUZZ_CHECK(rc == 0 ? diag.count == 0 : diag.count > 0, "rc %d with %zu messages", rc,
               diag.count);
    om_site_free(&site);
    om_diag_free(&diag);
    return 0;
}
