/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_health.c - the health message (health.h), as received and as
 * `officemeter status` reads it stored: counters are never negative and
 * never overflow (UBSan would stop the run), whatever the numbers.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "officemeter/proto/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t depth, errors;
    om_verdict v;
    if (om_health_parse(data, size, 1 << 16, &depth, &errors, &v) == 0) {
        FUZZ_CHECK(depth >= -1 && errors >= -1, "depth %lld errors %lld", (long long)depth,
                   (long long)errors);
    } else {
        FUZZ_CHECK(v.code && v.reason[0], "refused without a reason");
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static const char *const meters[] = {"a", "main", "water", ""};
    for (size_t i = 0; i < sizeof meters / sizeof meters[0]; i++)
        FUZZ_CHECK(om_health_meter_errors(text, meters[i]) >= -1, "negative errors");
    free(text);
    return 0;
}
