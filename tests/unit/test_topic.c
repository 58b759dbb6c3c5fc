/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_topic.c - the contract's topics: built, read, and refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "officemeter/proto/topic.h"

static void test_parse(void **state)
{
    (void)state;
    om_topic t;
    char err[160];
    assert_int_equal(om_topic_parse("officemeter/v1/sim-office/gw1/readings", &t, err, sizeof err), 0);
    assert_int_equal(t.kind, OM_TOPIC_READINGS);
    assert_string_equal(t.site, "sim-office");
    assert_string_equal(t.gateway, "gw1");
    assert_int_equal(om_topic_parse("officemeter/v1/s/g/status", &t, err, sizeof err), 0);
    assert_int_equal(t.kind, OM_TOPIC_STATUS);
    assert_int_equal(om_topic_parse("officemeter/v1/s/g/health", &t, err, sizeof err), 0);
    assert_int_equal(t.kind, OM_TOPIC_HEALTH);
    assert_int_equal(om_topic_parse("officemeter/v1/s/g/ack", &t, err, sizeof err), 0);
    assert_int_equal(t.kind, OM_TOPIC_ACK);
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *topic;
        const char *why;
    } cases[] = {
        {"officemeter/v2/s/g/readings", "does not start with officemeter/v1/"},
        {"officemeter/v1/S/g/readings", "invalid site or gateway id"},
        {"officemeter/v1/s/-g/readings", "invalid site or gateway id"},
        {"officemeter/v1/s/g/readings/x", "is not officemeter/v1/{site}/{gateway}/{kind}"},
        {"officemeter/v1/s/readings", "is not officemeter/v1/{site}/{gateway}/{kind}"},
        {"officemeter/v1/s/g/other", "unknown topic kind \"other\""},
        {"officemeter/v1/s//readings", "invalid site or gateway id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        om_topic t;
        char err[160] = "";
        if (om_topic_parse(cases[i].topic, &t, err, sizeof err) != -1)
            fail_msg("accepted %s", cases[i].topic);
        if (!strstr(err, cases[i].why))
            fail_msg("%s: got \"%s\", expected \"%s\"", cases[i].topic, err, cases[i].why);
    }
}

/* Ids of up to 64 characters, as in site files; not one more. */
static void test_id_length(void **state)
{
    (void)state;
    char id[OM_ID_LEN + 2], topic[OM_TOPIC_MAX + 8], err[160];
    memset(id, 'a', OM_ID_LEN);
    id[OM_ID_LEN] = '\0';
    om_topic t;
    assert_int_equal(om_topic_format(topic, sizeof topic, id, id, OM_TOPIC_READINGS), 0);
    assert_int_equal(om_topic_parse(topic, &t, err, sizeof err), 0);
    assert_string_equal(t.site, id);
    assert_string_equal(t.gateway, id);
    strcat(id, "a");
    assert_int_equal(om_topic_format(topic, sizeof topic, id, "g", OM_TOPIC_READINGS), 0);
    assert_int_equal(om_topic_parse(topic, &t, err, sizeof err), -1);
}

/* What the agent and the aggregator build is what the parser reads. */
static void test_format(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(om_topic_format(buf, sizeof buf, "shanghai", "sh-gw1", OM_TOPIC_READINGS), 0);
    assert_string_equal(buf, "officemeter/v1/shanghai/sh-gw1/readings");
    assert_int_equal(om_topic_format(buf, sizeof buf, "s", "g", OM_TOPIC_ACK), 0);
    assert_string_equal(buf, "officemeter/v1/s/g/ack");
    assert_int_equal(om_topic_format(buf, 22, "s", "g", OM_TOPIC_ACK), -1);
    assert_int_equal(om_topic_format(buf, 23, "s", "g", OM_TOPIC_ACK), 0);
    for (int k = OM_TOPIC_READINGS; k <= OM_TOPIC_ACK; k++) {
        om_topic t;
        char err[160];
        assert_int_equal(om_topic_format(buf, sizeof buf, "site-1", "gw.2", (om_topic_kind)k), 0);
        assert_int_equal(om_topic_parse(buf, &t, err, sizeof err), 0);
        assert_int_equal(t.kind, k);
        assert_string_equal(om_topic_leaf(t.kind), strrchr(buf, '/') + 1);
    }
    assert_int_equal(om_topic_filter(buf, sizeof buf, OM_TOPIC_HEALTH), 0);
    assert_string_equal(buf, "officemeter/v1/+/+/health");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_id_length),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
