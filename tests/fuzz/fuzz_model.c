/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_model.c - the meter model loader (catalogue.h): any text gives a
 * model whose register specs the codec accepts, or errors naming the file.
 */
#include "fuzzutil.h"
#include "officemeter/base/codec.h"
#include "officemeter/config/catalogue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("model.yaml", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_model model;
    int rc = om_model_load(path, &model, &diag);
    fuzz_check_diag(&diag, path);
    FUZZ_CHECK(rc == 0 ? diag.count == 0 : diag.count > 0, "rc %d with %zu messages", rc,
               diag.count);
    if (rc == 0)
        for (size_t i = 0; i < model.nquantities; i++)
            FUZZ_CHECK(om_codec_spec_problem(&model.quantities[i].spec) == NULL,
                       "a loaded model with a spec the codec refuses");
    om_model_free(&model);
    om_diag_free(&diag);
    return 0;
}
