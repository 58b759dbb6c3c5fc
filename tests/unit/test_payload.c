/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_payload.c - the readings message: shape, exact doubles, size cap.
 *
 * Every message is parsed back with jansson, the parser the aggregator uses,
 * and doubles are compared bit for bit: the payload must carry exactly what
 * the meter said. The size tests check that the size predicted by
 * om_payload_size_* is the size written, and that the cap is honoured to the
 * byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "officemeter/base/numfmt.h"
#include "officemeter/proto/payload.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EPOCH "5f0c9a1e2b7d4c88"

static om_poll make_poll(int64_t seq, const char *meter, int64_t t, const om_poll_value *v,
                         size_t n)
{
    om_poll p;
    memset(&p, 0, sizeof p);
    p.seq = seq;
    p.meter = (char *)meter;
    p.t_ms = t;
    p.attempts = 1;
    p.nvalues = n;
    memcpy(p.values, v, n * sizeof *v);
    return p;
}

static void batch_with(om_batch *b, size_t npolls)
{
    om_batch_init(b);
    memcpy(b->epoch, EPOCH, sizeof b->epoch);
    for (size_t i = 0; i < npolls; i++) {
        om_poll_value v[] = {{OM_Q_ENERGY_IMPORT_KWH, 1000.0 + (double)i * 0.25},
                             {OM_Q_POWER_KW, 12.5}};
        om_poll p = make_poll((int64_t)(i + 1), "sh-main", 1718000000000 + (int64_t)i * 60000, v,
                              ARRAY_LEN(v));
        assert_int_equal(om_batch_add_poll(b, &p), 0);
    }
}

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    if (root == NULL)
        fail_msg("payload does not parse: %s: %s", error.text, text);
    return root;
}

static int encode(const om_batch *b, size_t cap, char **buf, size_t *len, size_t *n, char *err,
                  size_t errlen)
{
    *buf = malloc(cap + 1);
    assert_non_null(*buf);
    return om_payload_encode_readings("shanghai", "sh-gw1", b, *buf, cap, len, n, err, errlen);
}

/* ---- tests -------------------------------------------------------------- */

/* The example of docs/architecture.md, byte for byte. */
static void test_contract_example(void **state)
{
    (void)state;
    om_batch b;
    om_batch_init(&b);
    memcpy(b.epoch, EPOCH, sizeof b.epoch);
    om_poll_value v[] = {{OM_Q_ENERGY_IMPORT_KWH, 123456.78}, {OM_Q_POWER_KW, 12.3}};
    om_poll p = make_poll(1024, "sh-main", 1718000000000, v, 2);
    assert_int_equal(om_batch_add_poll(&b, &p), 0);
    char *buf, err[256] = "";
    size_t len, n;
    assert_int_equal(encode(&b, 4096, &buf, &len, &n, err, sizeof err), 0);
    assert_string_equal(buf, "{\"v\":1,\"site\":\"shanghai\",\"gateway\":\"sh-gw1\","
                             "\"epoch\":\"5f0c9a1e2b7d4c88\",\"polls\":[{\"seq\":1024,"
                             "\"meter\":\"sh-main\",\"t\":1718000000000,\"values\":"
                             "{\"energy_import_kwh\":123456.78,\"power_kw\":12.3}}]}");
    assert_int_equal(len, strlen(buf));
    assert_int_equal(n, 1);
    free(buf);
    om_batch_free(&b);
}

/* Values that need 17 digits, the smallest and largest doubles, integers
 * (which must stay JSON reals) and negative zero all come back bit for bit. */
static void test_doubles_exact(void **state)
{
    (void)state;
    static const double values[] = {
        123456789.123456789,
        0.1,
        0.30000000000000004,
        1.0 / 3.0,
        42.0,
        -0.0,
        0.0,
        DBL_MIN,
        5e-324,
        DBL_MAX,
        -DBL_MAX,
        1e21,
        1e-7,
        230.10000610351562,
        9007199254740993.0,
        -273.15,
        2.5e15,
    };
    for (size_t i = 0; i < ARRAY_LEN(values); i++) {
        om_batch b;
        om_batch_init(&b);
        memcpy(b.epoch, EPOCH, sizeof b.epoch);
        om_poll_value v[] = {{OM_Q_WATER_M3, values[i]}};
        om_poll p = make_poll(7, "w", 1, v, 1);
        assert_int_equal(om_batch_add_poll(&b, &p), 0);
        char *buf, err[256];
        size_t len, n;
        assert_int_equal(encode(&b, 1024, &buf, &len, &n, err, sizeof err), 0);
        json_t *root = parse(buf);
        json_t *got = json_object_get(
            json_object_get(json_array_get(json_object_get(root, "polls"), 0), "values"),
            "water_m3");
        assert_true(json_is_real(got));
        double back = json_real_value(got);
        if (memcmp(&back, &values[i], sizeof back) != 0)
            fail_msg("%.17g came back as %.17g (%s)", values[i], back, buf);
        json_decref(root);
        free(buf);
        om_batch_free(&b);
    }
}

static void test_format_double(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {42.0, "42.0"},
        {-0.0, "-0.0"},
        {1e300, "1e+300"},
        {123456.78, "123456.78"},
        {0.30000000000000004, "0.30000000000000004"},
        {123456789.123456789, "123456789.12345679"},
    };
    char buf[32];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(om_format_double(cases[i].v, buf, sizeof buf),
                         strlen(cases[i].text));
        assert_string_equal(buf, cases[i].text);
    }
    assert_int_equal(om_format_double(NAN, buf, sizeof buf), 0);
    assert_int_equal(om_format_double(INFINITY, buf, sizeof buf), 0);
}

/* The definition om_format_double must meet: the fewest of 15, 16
 * and 17 significant digits that read back as the same double (printf and
 * strtod), trailing zeros stripped, ".0" added to an integer. The encoder
 * takes a faster road for most values; it must write the same bytes. */
static void reference_double(double v, char *buf, size_t len)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (strpbrk(buf, ".e") == NULL)
        strcat(buf, ".0");
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void assert_formats_like_reference(double v)
{
    char got[40], want[40];
    size_t n = om_format_double(v, got, sizeof got);
    reference_double(v, want, sizeof want);
    if (n != strlen(want) || strcmp(got, want) != 0)
        fail_msg("%.17g: formatted as \"%s\", expected \"%s\"", v, got, want);
}

static void test_format_double_matches_printf(void **state)
{
    (void)state;
    uint64_t s = 88172645463325252ull;
    /* Meter-like values: float32 readings, scaled integer counters, and
     * doubles of every magnitude and bit pattern. */
    for (int i = 0; i < 60000; i++) {
        uint64_t r = xorshift(&s);
        double v;
        switch (i % 5) {
        case 0:
            v = (double)(float)((double)(r % 100000000) / 1000.0);
            break;
        case 1:
            v = (double)(int64_t)(r % 100000000000000ull) * 0.001;
            break;
        case 2: {
            float f;
            uint32_t bits = (uint32_t)r;
            memcpy(&f, &bits, sizeof f);
            v = f;
            break;
        }
        case 3:
            v = ldexp((double)(r >> 11), (int)(xorshift(&s) % 130) - 110);
            break;
        default:
            memcpy(&v, &r, sizeof v);
            break;
        }
        if (isfinite(v))
            assert_formats_like_reference((r & 1) ? v : -v);
    }
    /* Around every power of ten and of two in range and at its edges. */
    for (int j = -6; j <= 17; j++) {
        double v = pow(10.0, j);
        for (int k = 0; k < 200; k++)
            v = nextafter(v, 0);
        for (int k = 0; k < 400; k++) {
            v = nextafter(v, INFINITY);
            assert_formats_like_reference(v);
        }
    }
    for (int e = -20; e <= 55; e++) {
        double v = ldexp(1.0, e);
        assert_formats_like_reference(v);
        assert_formats_like_reference(nextafter(v, 0));
        assert_formats_like_reference(nextafter(v, INFINITY));
    }
    assert_formats_like_reference(0.0);
    assert_formats_like_reference(-0.0);
    assert_formats_like_reference(DBL_MAX);
    assert_formats_like_reference(DBL_MIN);
}

/* Shape: every key of the contract with the right JSON type, values named
 * by their quantity, polls in order. */
static void test_shape(void **state)
{
    (void)state;
    om_batch b;
    batch_with(&b, 3);
    char *buf, err[256];
    size_t len, n;
    assert_int_equal(encode(&b, 8192, &buf, &len, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    json_t *root = parse(buf);
    assert_int_equal(json_integer_value(json_object_get(root, "v")), 1);
    assert_string_equal(json_string_value(json_object_get(root, "site")), "shanghai");
    assert_string_equal(json_string_value(json_object_get(root, "gateway")), "sh-gw1");
    assert_string_equal(json_string_value(json_object_get(root, "epoch")), EPOCH);
    assert_null(json_object_get(root, "skipped"));
    json_t *polls = json_object_get(root, "polls");
    assert_int_equal(json_array_size(polls), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_array_get(polls, i);
        assert_int_equal(json_integer_value(json_object_get(p, "seq")), (json_int_t)(i + 1));
        assert_string_equal(json_string_value(json_object_get(p, "meter")), "sh-main");
        assert_int_equal(json_integer_value(json_object_get(p, "t")),
                         1718000000000 + (json_int_t)i * 60000);
        json_t *values = json_object_get(p, "values");
        assert_int_equal(json_object_size(values), 2);
        assert_true(json_real_value(json_object_get(values, "energy_import_kwh")) ==
                    1000.0 + (double)i * 0.25);
        assert_true(json_real_value(json_object_get(values, "power_kw")) == 12.5);
    }
    json_decref(root);
    free(buf);
    om_batch_free(&b);
}

/* The predicted size is the written size, and the cap stops before the
 * poll that would cross it: for every cap from the envelope up. */
static void test_size_cap(void **state)
{
    (void)state;
    om_batch b;
    batch_with(&b, 20);
    size_t envelope = om_payload_envelope_size("shanghai", "sh-gw1", EPOCH);
    om_payload_size size;
    om_payload_size_init(&size, envelope);
    size_t predicted[21];
    predicted[0] = envelope;
    for (size_t i = 0; i < b.npolls; i++) {
        om_payload_size_add(&size, &b.polls[i], NULL, 0);
        predicted[i + 1] = size.bytes;
    }
    char err[256];
    for (size_t cap = predicted[1]; cap <= predicted[20] + 3; cap++) {
        char *buf;
        size_t len, n;
        assert_int_equal(encode(&b, cap, &buf, &len, &n, err, sizeof err), 0);
        assert_true(len <= cap);
        assert_int_equal(len, strlen(buf));
        assert_int_equal(len, predicted[n]);
        /* the next poll would not have fitted */
        if (n < b.npolls)
            assert_true(predicted[n + 1] > cap);
        json_t *root = parse(buf);
        assert_int_equal(json_array_size(json_object_get(root, "polls")), n);
        json_decref(root);
        free(buf);
    }
    assert_int_equal(om_payload_budget(predicted[20], "shanghai", "sh-gw1", EPOCH),
                     predicted[20] - envelope);
    assert_int_equal(om_payload_budget(envelope - 1, "shanghai", "sh-gw1", EPOCH), 0);
    om_batch_free(&b);
}

/* A poll that does not fit even alone is an error naming it, not an empty
 * message that would stall the outbox in silence. */
static void test_single_poll_too_big(void **state)
{
    (void)state;
    om_batch b;
    batch_with(&b, 2);
    size_t envelope = om_payload_envelope_size("shanghai", "sh-gw1", EPOCH);
    char *buf, err[256] = "";
    size_t len, n;
    assert_int_equal(encode(&b, envelope + 10, &buf, &len, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "poll seq 1 (meter sh-main) needs"));
    assert_non_null(strstr(err, "cap of"));
    free(buf);
    om_batch_free(&b);
}

/* Skipped ranges go with the polls above them; a cap that cuts the batch
 * also drops the ranges of the polls left out. */
static void test_skipped_ranges(void **state)
{
    (void)state;
    om_batch b;
    om_batch_init(&b);
    memcpy(b.epoch, EPOCH, sizeof b.epoch);
    om_poll_value v[] = {{OM_Q_ENERGY_IMPORT_KWH, 5.5}};
    om_poll p1 = make_poll(5, "m", 1000, v, 1);
    om_poll p2 = make_poll(20, "m", 2000, v, 1);
    assert_int_equal(om_batch_add_skipped(&b, 1, 4), 0);
    assert_int_equal(om_batch_add_poll(&b, &p1), 0);
    assert_int_equal(om_batch_add_skipped(&b, 6, 19), 0);
    assert_int_equal(om_batch_add_poll(&b, &p2), 0);

    char *buf, err[256];
    size_t len, n;
    assert_int_equal(encode(&b, 4096, &buf, &len, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_non_null(strstr(buf, "5.5}}],\"skipped\":[[1,4],[6,19]]}"));
    json_t *root = parse(buf);
    json_t *sk = json_object_get(root, "skipped");
    assert_int_equal(json_array_size(sk), 2);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(sk, 1), 1)), 19);
    json_decref(root);

    om_payload_size size;
    om_payload_size_init(&size, om_payload_envelope_size("shanghai", "sh-gw1", EPOCH));
    om_payload_size_add(&size, &p1, &b.skipped[0], 1);
    assert_int_equal(size.nskipped, 1);
    free(buf);
    assert_int_equal(encode(&b, size.bytes, &buf, &len, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(len, size.bytes);
    assert_non_null(strstr(buf, "\"skipped\":[[1,4]]}"));
    assert_null(strstr(buf, "[6,19]"));
    free(buf);

    /* a range above every poll is malformed */
    b.npolls = 1;
    free(b.polls[1].meter);
    assert_int_equal(encode(&b, 4096, &buf, &len, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "skipped range 6..19"));
    free(buf);
    om_batch_free(&b);
}

static void test_malformed_batches(void **state)
{
    (void)state;
    om_batch b;
    batch_with(&b, 2);
    char *buf, err[256];
    size_t len, n;
    b.polls[1].seq = 1; /* not increasing */
    assert_int_equal(encode(&b, 4096, &buf, &len, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "follows seq 1"));
    free(buf);
    b.polls[1].seq = 2;
    b.polls[1].values[0].value = NAN;
    assert_int_equal(encode(&b, 4096, &buf, &len, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "not finite"));
    free(buf);
    om_batch_free(&b);
}

/* Ids are escaped as JSON strings, whatever they hold. */
static void test_string_escaping(void **state)
{
    (void)state;
    om_batch b;
    om_batch_init(&b);
    memcpy(b.epoch, EPOCH, sizeof b.epoch);
    om_poll_value v[] = {{OM_Q_FLOW_M3H, 1.5}};
    om_poll p = make_poll(1, "a\"b\\c\nd", 1, v, 1);
    assert_int_equal(om_batch_add_poll(&b, &p), 0);
    char *buf, err[256];
    size_t len, n;
    assert_int_equal(encode(&b, 4096, &buf, &len, &n, err, sizeof err), 0);
    json_t *root = parse(buf);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(root, "polls"), 0), "meter")),
                        "a\"b\\c\nd");
    json_decref(root);
    free(buf);
    om_batch_free(&b);
    om_batch_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_example), cmocka_unit_test(test_doubles_exact),
        cmocka_unit_test(test_format_double),    cmocka_unit_test(test_format_double_matches_printf),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_size_cap),         cmocka_unit_test(test_single_poll_too_big),
        cmocka_unit_test(test_skipped_ranges),   cmocka_unit_test(test_malformed_batches),
        cmocka_unit_test(test_string_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
