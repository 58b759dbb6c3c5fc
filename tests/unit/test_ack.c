/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ack.c - the acknowledgement as the aggregator writes it and the agent
 * reads it: the parser's checks, and encoder and parser as a pair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "officemeter/proto/ack.h"

static int parse(const char *text, om_ack *ack, char *err, size_t errlen)
{
    return om_ack_parse(text, strlen(text), ack, err, errlen);
}

static void test_valid(void **state)
{
    (void)state;
    om_ack ack;
    char err[128];
    assert_int_equal(parse("{\"v\":1,\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":1031}", &ack, err,
                           sizeof err), 0);
    assert_string_equal(ack.epoch, "5f0c9a1e2b7d4c88");
    assert_int_equal(ack.upto, 1031);
    /* keys a later aggregator may add are accepted */
    assert_int_equal(parse("{\"upto\":0,\"epoch\":\"0000000000000000\",\"v\":1,\"t\":17}", &ack,
                           err, sizeof err), 0);
    assert_int_equal(ack.upto, 0);
}

static void test_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *why;
    } cases[] = {
        {"", "not JSON"},
        {"[1,2]", "not a JSON object"},
        {"{\"v\":2,\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":1}", "unsupported version"},
        {"{\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":1}", "unsupported version"},
        {"{\"v\":1,\"epoch\":\"5F0C9A1E2B7D4C88\",\"upto\":1}", "\"epoch\""},
        {"{\"v\":1,\"epoch\":\"5f0c\",\"upto\":1}", "\"epoch\""},
        {"{\"v\":1,\"epoch\":17,\"upto\":1}", "\"epoch\""},
        {"{\"v\":1,\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":-1}", "\"upto\""},
        {"{\"v\":1,\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":1.5}", "\"upto\""},
        /* Beyond the seqs of the contract (1 .. 2^53). */
        {"{\"v\":1,\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":9007199254740993}", "\"upto\""},
        {"{\"v\":1,\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":9223372036854775807}", "\"upto\""},
        {"{\"v\":1,\"epoch\":\"5f0c9a1e2b7d4c88\"}", "\"upto\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        om_ack ack;
        char err[128] = "";
        if (parse(cases[i].text, &ack, err, sizeof err) != -1)
            fail_msg("accepted %s", cases[i].text);
        if (!strstr(err, cases[i].why))
            fail_msg("%s: got \"%s\", expected it to mention %s", cases[i].text, err, cases[i].why);
    }
}

/* What the encoder writes, the parser reads back exactly. */
static void test_pair(void **state)
{
    (void)state;
    static const char *const epochs[] = {"5f0c9a1e2b7d4c88", "0000000000000000",
                                         "ffffffffffffffff"};
    static const int64_t uptos[] = {0, 1, 1031, OM_SEQ_MAX};
    for (size_t e = 0; e < sizeof epochs / sizeof epochs[0]; e++) {
        for (size_t u = 0; u < sizeof uptos / sizeof uptos[0]; u++) {
            om_ack in = {.upto = uptos[u]}, out;
            snprintf(in.epoch, sizeof in.epoch, "%s", epochs[e]);
            char buf[OM_ACK_MAX], err[128];
            int n = om_ack_encode(&in, buf, sizeof buf);
            assert_true(n > 0 && (size_t)n == strlen(buf));
            if (om_ack_parse(buf, (size_t)n, &out, err, sizeof err) != 0)
                fail_msg("%s: %s", buf, err);
            assert_string_equal(out.epoch, in.epoch);
            assert_true(out.upto == in.upto);
        }
    }
    char buf[OM_ACK_MAX];
    om_ack ack = {.epoch = "5f0c9a1e2b7d4c88", .upto = 1031};
    assert_int_equal(om_ack_encode(&ack, buf, sizeof buf), 46);
    assert_string_equal(buf, "{\"v\":1,\"epoch\":\"5f0c9a1e2b7d4c88\",\"upto\":1031}");
}

/* The encoder refuses what the parser would refuse, and what does not fit. */
static void test_encode_refuses(void **state)
{
    (void)state;
    char buf[OM_ACK_MAX];
    om_ack upper = {.epoch = "5F0C9A1E2B7D4C88", .upto = 1};
    om_ack short_epoch = {.epoch = "5f0c", .upto = 1};
    om_ack negative = {.epoch = "5f0c9a1e2b7d4c88", .upto = -1};
    om_ack beyond = {.epoch = "5f0c9a1e2b7d4c88", .upto = OM_SEQ_MAX + 1};
    om_ack good = {.epoch = "5f0c9a1e2b7d4c88", .upto = 1031};
    assert_int_equal(om_ack_encode(&upper, buf, sizeof buf), -1);
    assert_int_equal(om_ack_encode(&short_epoch, buf, sizeof buf), -1);
    assert_int_equal(om_ack_encode(&negative, buf, sizeof buf), -1);
    assert_int_equal(om_ack_encode(&beyond, buf, sizeof buf), -1);
    assert_int_equal(om_ack_encode(&good, buf, 46), -1); /* no room for the NUL */
    assert_int_equal(om_ack_encode(&good, buf, 47), 46);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_pair),
        cmocka_unit_test(test_encode_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
