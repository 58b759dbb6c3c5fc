/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_status.c - the gateway's status message (status.h): a state is
 * "online", "offline" or "" (a cleared retained message); a refusal has a
 * code and a reason.
 */
#include <string.h>

#include "fuzzutil.h"
#include "officemeter/proto/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char state[16];
    om_verdict v;
    if (om_status_parse(data, size, 4096, state, sizeof state, &v) == 0)
        FUZZ_CHECK(strcmp(state, "online") == 0 || strcmp(state, "offline") == 0 ||
                       (state[0] == '\0' && size == 0),
                   "state \"%s\"", state);
    else
        FUZZ_CHECK(v.fate == OM_FATE_REJECT && v.code && v.reason[0], "refused without a reason");
    return 0;
}
