/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_bills.c - the bill file reader (config/bills.h) over any bytes: a
 * bill file is accepted, or refused with errors that name the file; every
 * accepted bill has a period that ends on or after it starts, a finite
 * quantity from 0 to 1e12 as written, an account and a document; the overlap check then runs on
 * whatever was read.
 */
#include <math.h>

#include "fuzzutil.h"
#include "officemeter/config/bills.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *file = "bills/alpha.csv";
    om_diag diag;
    om_diag_init(&diag);
    om_bill_set set = {0};
    om_bills_parse(file, "alpha", (const char *)data, size, &set, &diag);
    fuzz_check_diag(&diag, file);
    for (size_t i = 0; i < set.nbills; i++) {
        const om_bill *b = &set.bills[i];
        FUZZ_CHECK(b->start <= b->end, "bill %zu ends before it starts", i);
        FUZZ_CHECK(isfinite(b->written) && b->written >= 0 && b->written <= 1e12,
                   "bill %zu: quantity %g as written", i, b->written);
        FUZZ_CHECK(isfinite(b->quantity) && b->quantity >= 0, "bill %zu: quantity %g", i,
                   b->quantity);
        FUZZ_CHECK(b->document[0] && b->account[0], "bill %zu without document or account", i);
    }
    om_bills_check_overlaps(&set, &diag);
    om_bills_free(&set);
    om_diag_free(&diag);
    return 0;
}
