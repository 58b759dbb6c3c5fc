/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ingest.c - judging what gateways send (ingest.h), table-driven.
 *
 * Every malformed message of the acceptance list gets the expected reason
 * code and a reason naming the field; a bad poll in a good message is
 * refused alone; meters decide between store, quarantine and reject; the
 * agent's own encoder output (payload.h) is accepted bit for bit, skipped
 * ranges included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/proto/health.h"
#include "officemeter/proto/ingest.h"
#include "officemeter/proto/status.h"
#include "officemeter/proto/payload.h"
#include "officemeter/config/site.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NOW INT64_C(1718000000000)
#define EPOCH "5f0c9a1e2b7d4c88"

static om_site sites[2];

static int setup(void **state)
{
    om_diag diag;
    om_diag_init(&diag);
    if (om_site_load(OM_TEST_DATA "/sites/sim-office.yaml", NULL, &sites[0], &diag) < 0 ||
        om_site_load(OM_SOURCE_DIR "/sites/london.yaml", NULL, &sites[1], &diag) < 0) {
        om_diag_print(&diag, stderr);
        return -1;
    }
    om_diag_free(&diag);
    return 0;
}

static int teardown(void **state)
{
    om_site_free(&sites[0]);
    om_site_free(&sites[1]);
    return 0;
}

static om_ingest_rules rules(void)
{
    om_ingest_rules r = {NOW, 300000, 4096, sites, 2};
    return r;
}

static om_topic topic(const char *site, const char *gw)
{
    om_topic t = {.kind = OM_TOPIC_READINGS};
    snprintf(t.site, sizeof t.site, "%s", site);
    snprintf(t.gateway, sizeof t.gateway, "%s", gw);
    return t;
}

/* A message of sim-office/gw1 with `polls` spliced in. */
static char *message(const char *polls)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
             "\",\"polls\":[%s]}", polls);
    return buf;
}

#define GOOD_POLL "{\"seq\":7,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"energy_import_kwh\":12.5,\"power_kw\":-1.25}}"

static void test_good_message(void **state)
{
    om_ingest_rules r = rules();
    om_topic t = topic("sim-office", "gw1");
    const char *text = message(GOOD_POLL);
    om_readings_msg m;
    assert_int_equal(om_ingest_readings(&r, &t, text, strlen(text), &m), 0);
    assert_int_equal(m.verdict.fate, OM_FATE_STORE);
    assert_string_equal(m.epoch, EPOCH);
    assert_int_equal(m.npolls, 1);
    assert_int_equal(m.nstore, 1);
    assert_int_equal(m.nreadings, 2);
    const om_poll *p = &m.polls[0].poll;
    assert_int_equal(p->seq, 7);
    assert_string_equal(p->meter, "main");
    assert_int_equal(p->t_ms, 1717999990000);
    assert_int_equal(p->nvalues, 2);
    assert_true(m.polls[0].has_seq);
    assert_null(m.polls[0].json);
    om_readings_msg_free(&m);
}

/* Whole-message faults: nothing is used, the code says why. */
static const struct {
    const char *name;
    const char *payload; /* NULL: use len bytes of binary garbage */
    size_t len;
    const char *code;
    const char *in_reason;
} envelope_cases[] = {
    {"empty", "", 0, "empty", "empty payload"},
    {"invalid json", "{\"v\":1,", 0, "bad_json", "invalid JSON"},
    {"binary garbage", NULL, 64, "bad_utf8", "invalid UTF-8"},
    {"not an object", "[1,2]", 0, "not_object", "an array"},
    {"wrong version", "{\"v\":2,\"site\":\"sim-office\"}", 0, "bad_version", "version 2"},
    {"version as string", "{\"v\":\"1\"}", 0, "bad_type", "v: wrong type"},
    {"no version", "{\"site\":\"sim-office\"}", 0, "missing_field", "v: missing"},
    {"site differs from topic",
     "{\"v\":1,\"site\":\"london\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\",\"polls\":[" GOOD_POLL "]}",
     0, "site_mismatch", "\"london\" in the payload, \"sim-office\" in the topic"},
    {"gateway differs from topic",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw9\",\"epoch\":\"" EPOCH "\",\"polls\":[" GOOD_POLL "]}",
     0, "gateway_mismatch", "gateway"},
    {"duplicate keys",
     "{\"v\":1,\"site\":\"sim-office\",\"site\":\"sim-office\",\"gateway\":\"gw1\"}", 0,
     "duplicate_key", "duplicate"},
    {"NaN literal",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":NaN}}]}",
     0, "not_finite", "NaN"},
    {"Infinity literal",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":Infinity}}]}",
     0, "not_finite", "Infinity"},
    {"number overflowing a double",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":1e400}}]}",
     0, "number_too_large", "too large"},
    {"integer overflowing int64",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[{\"seq\":99999999999999999999999,\"meter\":\"main\",\"t\":1,\"values\":{}}]}",
     0, "number_too_large", "too large"},
    {"deeply nested", "{\"v\":[[[[[[[[[[[[1]]]]]]]]]]]]}", 0, "too_deep", "deeper than 8"},
    {"bad epoch",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"XYZ\",\"polls\":[" GOOD_POLL "]}",
     0, "bad_value", "epoch"},
    {"polls not a list",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\",\"polls\":{}}", 0,
     "bad_type", "polls"},
    {"no polls",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH "\",\"polls\":[]}", 0,
     "no_polls", "polls: empty"},
    {"unknown envelope key",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[" GOOD_POLL "],\"extra\":1}", 0, "unknown_field", "extra: unknown key"},
    {"skipped range above the polls",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[" GOOD_POLL "],\"skipped\":[[8,9]]}", 0, "bad_skipped", "skipped[0]"},
    {"skipped range holding a poll's seq",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[" GOOD_POLL ",{\"seq\":9,\"meter\":\"main\",\"t\":1717999990001,\"values\":{\"power_kw\":1.0}}],"
     "\"skipped\":[[6,8]]}", 0, "bad_skipped", "contains seq 7"},
    {"skipped ranges out of order",
     "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
     "\",\"polls\":[" GOOD_POLL "],\"skipped\":[[4,5],[1,2]]}", 0, "bad_skipped", "sorted"},
};

static void test_envelope_faults(void **state)
{
    om_ingest_rules r = rules();
    om_topic t = topic("sim-office", "gw1");
    for (size_t i = 0; i < ARRAY_LEN(envelope_cases); i++) {
        char garbage[64];
        const char *text = envelope_cases[i].payload;
        size_t len = text ? strlen(text) : envelope_cases[i].len;
        if (!text) {
            for (size_t k = 0; k < sizeof garbage; k++)
                garbage[k] = (char)(0x80 + (k * 37) % 128);
            text = garbage;
        }
        om_readings_msg m;
        assert_int_equal(om_ingest_readings(&r, &t, text, len, &m), 0);
        if (m.verdict.fate != OM_FATE_REJECT || strcmp(m.verdict.code, envelope_cases[i].code) != 0 ||
            !strstr(m.verdict.reason, envelope_cases[i].in_reason))
            fail_msg("%s: got fate %d code %s reason \"%s\"", envelope_cases[i].name,
                     m.verdict.fate, m.verdict.code ? m.verdict.code : "-", m.verdict.reason);
        assert_int_equal(m.nstore, 0);
        assert_int_equal(m.nreadings, 0);
        om_readings_msg_free(&m);
    }
}

static void test_size_cap(void **state)
{
    om_ingest_rules r = rules();
    om_topic t = topic("sim-office", "gw1");
    char *big = malloc(5000);
    memset(big, ' ', 4999);
    big[0] = '{';
    big[4998] = '}';
    big[4999] = '\0';
    om_readings_msg m;
    assert_int_equal(om_ingest_readings(&r, &t, big, strlen(big), &m), 0);
    assert_string_equal(m.verdict.code, "too_large");
    assert_non_null(strstr(m.verdict.reason, "4999 bytes exceeds the cap of 4096"));
    om_readings_msg_free(&m);
    free(big);
}

/* Poll faults: the poll is refused alone, the others are kept. */
static const struct {
    const char *name;
    const char *poll;
    const char *code;
    const char *in_reason;
    int has_seq;
} poll_cases[] = {
    {"string for a number",
     "{\"seq\":2,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":\"12.5\"}}",
     "bad_type", "polls[1].values.power_kw: wrong type (got a string", 1},
    {"t as a string", "{\"seq\":2,\"meter\":\"main\",\"t\":\"2024-06-10\",\"values\":{\"power_kw\":1.0}}",
     "bad_type", "polls[1].t: wrong type", 1},
    {"negative timestamp", "{\"seq\":2,\"meter\":\"main\",\"t\":-5,\"values\":{\"power_kw\":1.0}}",
     "bad_time", "before 2000-01-01", 1},
    {"timestamp in 1999",
     "{\"seq\":2,\"meter\":\"main\",\"t\":946684799999,\"values\":{\"power_kw\":1.0}}", "bad_time",
     "before 2000", 1},
    {"timestamp beyond the tolerance",
     "{\"seq\":2,\"meter\":\"main\",\"t\":1718000300001,\"values\":{\"power_kw\":1.0}}", "bad_time",
     "ahead of the aggregator's clock", 1},
    {"absurd timestamp",
     "{\"seq\":2,\"meter\":\"main\",\"t\":9000000000000000000,\"values\":{\"power_kw\":1.0}}",
     "bad_time", "is after the year 9999", 1},
    {"unknown quantity",
     "{\"seq\":2,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"gas_m3\":1.0}}",
     "unknown_quantity", "gas_m3: unknown quantity", 1},
    {"absurd value",
     "{\"seq\":2,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":1e300}}",
     "bad_value", "out of range", 1},
    {"negative counter",
     "{\"seq\":2,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"energy_import_kwh\":-1.0}}",
     "bad_value", "cannot be negative", 1},
    {"seq zero", "{\"seq\":0,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":1.0}}",
     "bad_seq", "seq: out of range", 0},
    /* Regression (hostile inputs, defect 2): seqs beyond 2^53 (the contract's
     * range, exact in every JSON reader) are refused, INT64_MAX included. */
    {"seq above 2^53",
     "{\"seq\":9007199254740993,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":1.0}}",
     "bad_seq", "seq: out of range (got 9007199254740993, expected 1 to 9007199254740992)", 0},
    {"seq INT64_MAX",
     "{\"seq\":9223372036854775807,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":1.0}}",
     "bad_seq", "seq: out of range", 0},
    {"seq as a real", "{\"seq\":2.5,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":1.0}}",
     "bad_type", "seq: wrong type", 0},
    {"missing meter", "{\"seq\":2,\"t\":1717999990000,\"values\":{\"power_kw\":1.0}}",
     "missing_field", "polls[1].meter: missing", 1},
    {"empty values", "{\"seq\":2,\"meter\":\"main\",\"t\":1717999990000,\"values\":{}}",
     "missing_field", "values: empty", 1},
    {"unknown poll key",
     "{\"seq\":2,\"meter\":\"main\",\"t\":1717999990000,\"values\":{\"power_kw\":1.0},\"x\":1}",
     "unknown_field", "polls[1].x: unknown key", 1},
    {"meter of another site (forged topic)",
     "{\"seq\":2,\"meter\":\"ldn-main\",\"t\":1717999990000,\"values\":{\"power_kw\":1.0}}",
     "meter_other_site", "belongs to site london", 1},
    {"poll not an object", "17", "bad_type", "polls[1]: wrong type", 0},
};

static void test_poll_faults(void **state)
{
    om_ingest_rules r = rules();
    om_topic t = topic("sim-office", "gw1");
    for (size_t i = 0; i < ARRAY_LEN(poll_cases); i++) {
        char polls[2048];
        snprintf(polls, sizeof polls, "%s,%s", GOOD_POLL, poll_cases[i].poll);
        const char *text = message(polls);
        om_readings_msg m;
        assert_int_equal(om_ingest_readings(&r, &t, text, strlen(text), &m), 0);
        assert_int_equal(m.verdict.fate, OM_FATE_STORE);
        assert_int_equal(m.npolls, 2);
        assert_int_equal(m.nstore, 1);
        assert_int_equal(m.polls[0].verdict.fate, OM_FATE_STORE);
        const om_ingest_poll *bad = &m.polls[1];
        if (bad->verdict.fate != OM_FATE_REJECT || strcmp(bad->verdict.code, poll_cases[i].code) != 0 ||
            !strstr(bad->verdict.reason, poll_cases[i].in_reason))
            fail_msg("%s: got fate %d code %s reason \"%s\"", poll_cases[i].name,
                     bad->verdict.fate, bad->verdict.code ? bad->verdict.code : "-",
                     bad->verdict.reason);
        assert_int_equal(bad->has_seq, poll_cases[i].has_seq);
        assert_non_null(bad->json); /* kept for the record */
        om_readings_msg_free(&m);
    }
}

static void test_quarantine(void **state)
{
    om_ingest_rules r = rules();
    static const struct {
        const char *site, *gw, *meter, *code;
    } cases[] = {
        {"sim-office", "gw1", "new-meter", "unknown_meter"},
        {"sim-office", "gw2", "main", "meter_other_gateway"},
        {"sim-office", "gw2", "new-meter", "unknown_gateway"},
        {"new-site", "gw1", "main", "unknown_site"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        om_topic t = topic(cases[i].site, cases[i].gw);
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"v\":1,\"site\":\"%s\",\"gateway\":\"%s\",\"epoch\":\"" EPOCH "\",\"polls\":"
                 "[{\"seq\":3,\"meter\":\"%s\",\"t\":1717999990000,\"values\":{\"water_m3\":5.0}}]}",
                 cases[i].site, cases[i].gw, cases[i].meter);
        om_readings_msg m;
        assert_int_equal(om_ingest_readings(&r, &t, text, strlen(text), &m), 0);
        assert_int_equal(m.verdict.fate, OM_FATE_STORE);
        assert_int_equal(m.polls[0].verdict.fate, OM_FATE_QUARANTINE);
        assert_string_equal(m.polls[0].verdict.code, cases[i].code);
        assert_true(m.polls[0].has_seq);
        assert_int_equal(m.nstore, 0);
        /* The record can be judged again later (requeue). */
        om_ingest_poll again;
        assert_int_equal(om_ingest_poll_text(&r, &t, 3, m.polls[0].json, &again), 0);
        assert_int_equal(again.verdict.fate, OM_FATE_QUARANTINE);
        assert_int_equal(again.poll.nvalues, 1);
        om_ingest_poll_free(&again);
        om_readings_msg_free(&m);
    }
}

/* What the agent's encoder writes is what the aggregator accepts, doubles
 * bit for bit and skipped ranges included. */
static void test_agent_encoder_roundtrip(void **state)
{
    om_batch b;
    om_batch_init(&b);
    memcpy(b.epoch, EPOCH, sizeof b.epoch);
    double values[] = {0.1, 123456789.12345679, 42.0, 1e-7};
    for (int i = 0; i < 4; i++) {
        om_poll p = {.seq = 20 + i, .meter = "water", .t_ms = NOW - 60000 + i * 1000, .nvalues = 2};
        p.values[0] = (om_poll_value){.quantity = OM_Q_WATER_M3, .value = values[i]};
        p.values[1] = (om_poll_value){.quantity = OM_Q_FLOW_M3H, .value = -values[i]};
        assert_int_equal(om_batch_add_poll(&b, &p), 0);
    }
    assert_int_equal(om_batch_add_skipped(&b, 1, 19), 0);
    char buf[4097], err[256];
    size_t len, n;
    assert_int_equal(om_payload_encode_readings("sim-office", "gw1", &b, buf, 4096, &len, &n, err,
                                                sizeof err), 0);
    om_ingest_rules r = rules();
    om_topic t = topic("sim-office", "gw1");
    om_readings_msg m;
    assert_int_equal(om_ingest_readings(&r, &t, buf, len, &m), 0);
    assert_int_equal(m.verdict.fate, OM_FATE_STORE);
    assert_int_equal(m.nstore, 4);
    assert_int_equal(m.nskipped, 1);
    assert_int_equal(m.skipped[0].from, 1);
    assert_int_equal(m.skipped[0].to, 19);
    for (int i = 0; i < 4; i++) {
        const om_poll *p = &m.polls[i].poll;
        assert_int_equal(p->seq, 20 + i);
        for (size_t k = 0; k < p->nvalues; k++) {
            double want = p->values[k].quantity == OM_Q_WATER_M3 ? values[i] : -values[i];
            assert_memory_equal(&p->values[k].value, &want, sizeof want);
        }
    }
    om_readings_msg_free(&m);
    om_batch_free(&b);
}

static void test_depth_scan(void **state)
{
    const char *t = "{\"a\":\"[[[[[[[[[[\",\"b\":[1,{\"c\":[]}]}";
    assert_int_equal(om_json_depth(t, strlen(t), 8), 4);
    const char *esc = "{\"a\":\"\\\"[[[[\"}";
    assert_int_equal(om_json_depth(esc, strlen(esc), 8), 1);
    assert_int_equal(om_json_depth("[[[[", 4, 3), SIZE_MAX);
}

/* The highest seq of the contract is a seq like any other; a skipped range
 * may reach right up to it. */
static void test_seq_range_edges(void **state)
{
    om_ingest_rules r = rules();
    om_topic t = topic("sim-office", "gw1");
    char text[1024];
    snprintf(text, sizeof text,
             "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
             "\",\"polls\":[{\"seq\":%lld,\"meter\":\"main\",\"t\":1717999990000,"
             "\"values\":{\"power_kw\":1.0}}],\"skipped\":[[1,%lld]]}",
             (long long)OM_SEQ_MAX, (long long)OM_SEQ_MAX - 1);
    om_readings_msg m;
    assert_int_equal(om_ingest_readings(&r, &t, text, strlen(text), &m), 0);
    assert_int_equal(m.verdict.fate, OM_FATE_STORE);
    assert_int_equal(m.nstore, 1);
    assert_int_equal(m.polls[0].poll.seq, OM_SEQ_MAX);
    assert_int_equal(m.skipped[0].to, OM_SEQ_MAX - 1);
    om_readings_msg_free(&m);
    /* The campaign's message: skipped up to INT64_MAX - 1 below a poll at
     * INT64_MAX. The poll is refused, so the range proves nothing. */
    snprintf(text, sizeof text,
             "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"" EPOCH
             "\",\"polls\":[{\"seq\":9223372036854775807,\"meter\":\"main\",\"t\":1717999990000,"
             "\"values\":{\"power_kw\":1.0}}],\"skipped\":[[1,9223372036854775806]]}");
    assert_int_equal(om_ingest_readings(&r, &t, text, strlen(text), &m), 0);
    assert_int_equal(m.verdict.fate, OM_FATE_REJECT);
    assert_string_equal(m.verdict.code, "bad_skipped");
    om_readings_msg_free(&m);
    /* Requeue judges a stored seq again: one out of range is refused. */
    om_ingest_poll again;
    assert_int_equal(om_ingest_poll_text(&r, &t, OM_SEQ_MAX + 1,
                                         "{\"seq\":1,\"meter\":\"main\",\"t\":1717999990000,"
                                         "\"values\":{\"power_kw\":1.0}}", &again), 0);
    assert_int_equal(again.verdict.fate, OM_FATE_REJECT);
    assert_string_equal(again.verdict.code, "bad_seq");
    assert_false(again.has_seq);
    om_ingest_poll_free(&again);
}

/* Regression (hostile inputs, defect 1): error counters from the network
 * are summed with saturation at INT64_MAX, never with a signed overflow. */
static void test_health_counters_saturate(void **state)
{
    om_verdict v;
    int64_t depth, errors;
    const char *two = "{\"v\":1,\"meters\":{\"a\":{\"timeouts\":4611686018427387904},"
                      "\"b\":{\"timeouts\":4611686018427387904}}}";
    assert_int_equal(om_health_parse(two, strlen(two), 4096, &depth, &errors, &v), 0);
    assert_true(errors == INT64_MAX);
    const char *one = "{\"v\":1,\"meters\":{\"a\":{\"timeouts\":9223372036854775807,"
                      "\"crc_errors\":1}}}";
    assert_int_equal(om_health_parse(one, strlen(one), 4096, &depth, &errors, &v), 0);
    assert_true(errors == INT64_MAX);
    assert_true(om_health_meter_errors(one, "a") == INT64_MAX);
    const char *list = "{\"v\":1,\"outbox\":{\"depth\":9223372036854775807},\"meters\":["
                       "{\"meter\":\"a\",\"errors\":9223372036854775807,\"exceptions\":5},"
                       "{\"meter\":\"b\",\"errors\":1}]}";
    assert_int_equal(om_health_parse(list, strlen(list), 4096, &depth, &errors, &v), 0);
    assert_true(errors == INT64_MAX);
    assert_true(depth == INT64_MAX);
    assert_true(om_health_meter_errors(list, "a") == INT64_MAX);
    assert_int_equal(om_health_meter_errors(list, "b"), 1);
}

static void test_status_and_health(void **state)
{
    char state_[16];
    om_verdict v;
    const char *online = "{\"v\":1,\"state\":\"online\",\"started\":1}";
    assert_int_equal(om_status_parse(online, strlen(online), 4096, state_, sizeof state_, &v), 0);
    assert_string_equal(state_, "online");
    assert_int_equal(om_status_parse("", 0, 4096, state_, sizeof state_, &v), 0);
    assert_string_equal(state_, "");
    const char *odd = "{\"v\":1,\"state\":\"sleepy\"}";
    assert_int_equal(om_status_parse(odd, strlen(odd), 4096, state_, sizeof state_, &v), -1);
    assert_string_equal(v.code, "bad_value");

    int64_t depth, errors;
    const char *h = "{\"v\":1,\"outbox\":{\"depth\":12},\"meters\":{\"main\":{\"requests\":10,"
                    "\"timeouts\":2,\"crc_errors\":1,\"exceptions\":0},\"hvac\":{\"timeouts\":3}}}";
    assert_int_equal(om_health_parse(h, strlen(h), 4096, &depth, &errors, &v), 0);
    assert_int_equal(depth, 12);
    assert_int_equal(errors, 6);
    const char *h2 = "{\"v\":1,\"outbox_depth\":0}";
    assert_int_equal(om_health_parse(h2, strlen(h2), 4096, &depth, &errors, &v), 0);
    assert_int_equal(depth, 0);
    assert_int_equal(errors, -1);
    assert_int_equal(om_health_meter_errors(h, "main"), 3);
    assert_int_equal(om_health_meter_errors(h, "hvac"), 3);
    assert_int_equal(om_health_meter_errors(h, "water"), -1);
    assert_int_equal(om_health_meter_errors(NULL, "main"), -1);
    assert_int_equal(om_health_parse("nope", 4, 4096, &depth, &errors, &v), -1);
    assert_string_equal(v.code, "bad_json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_message),
        cmocka_unit_test(test_envelope_faults),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_poll_faults),
        cmocka_unit_test(test_quarantine),
        cmocka_unit_test(test_agent_encoder_roundtrip),
        cmocka_unit_test(test_depth_scan),
        cmocka_unit_test(test_status_and_health),
        cmocka_unit_test(test_seq_range_edges),
        cmocka_unit_test(test_health_counters_saturate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
