/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_topic.c - topic parsing (topic.h). A topic that parses names valid
 * ids and formats back to exactly the same text; one that does not says why.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "officemeter/base/id.h"
#include "officemeter/proto/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    om_topic t;
    char err[256] = "";
    if (om_topic_parse(text, &t, err, sizeof err) == 0) {
        FUZZ_CHECK(om_id_valid(t.site) && om_id_valid(t.gateway), "invalid id accepted");
        char again[OM_TOPIC_MAX];
        FUZZ_CHECK(om_topic_format(again, sizeof again, t.site, t.gateway, t.kind) == 0,
                   "a parsed topic does not format");
        FUZZ_CHECK(strcmp(again, text) == 0, "topic \"%s\" formats back as \"%s\"", text, again);
    } else {
        FUZZ_CHECK(err[0] != '\0', "a refused topic without a reason");
    }
    char filter[OM_TOPIC_MAX];
    FUZZ_CHECK(om_topic_filter(filter, sizeof filter, OM_TOPIC_READINGS) == 0, "filter");
    free(text);
    return 0;
}
