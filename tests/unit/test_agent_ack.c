/*
 * test_agent_ack.c - the aggregator's acknowledgement as the agent reads it,
 * and the agent's topic names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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

static void test_topics(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(om_topic(buf, sizeof buf, "shanghai", "sh-gw1", "readings"), 0);
    assert_string_equal(buf, "officemeter/v1/shanghai/sh-gw1/readings");
    assert_int_equal(om_topic(buf, 20, "shanghai", "sh-gw1", "ack"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
