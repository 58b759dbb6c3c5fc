/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ack.c - the acknowledgement (ack.h): what parses is in range, and
 * encodes and parses back to the same acknowledgement.
 */
#include <string.h>

#include "fuzzutil.h"
#include "officemeter/proto/ack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_ack ack;
    char err[256] = "";
    if (om_ack_parse((const char *)data, size, &ack, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0] != '\0', "refused without a reason");
        return 0;
    }
    FUZZ_CHECK(ack.upto >= 0 && ack.upto <= OM_SEQ_MAX, "upto %lld", (long long)ack.upto);
    FUZZ_CHECK(strlen(ack.epoch) == OM_EPOCH_LEN, "epoch length");
    char buf[OM_ACK_MAX];
    int n = om_ack_encode(&ack, buf, sizeof buf);
    FUZZ_CHECK(n > 0, "a parsed acknowledgement does not encode");
    om_ack again;
    FUZZ_CHECK(om_ack_parse(buf, (size_t)n, &again, err, sizeof err) == 0, "%s", err);
    FUZZ_CHECK(again.upto == ack.upto && strcmp(again.epoch, ack.epoch) == 0, "round trip");
    return 0;
}
