/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_fast.c - the readings message every healthy gateway sends, judged
 * without building a JSON tree.
 *
 * Building jansson's tree (an allocation per value, a hash table per
 * object) is most of what judging a message costs: more than storing its
 * readings (docs/aggregator.md, "Tests and benchmark"). Almost every
 * message is the same simple, valid shape, so this reader walks the text
 * once, guided by the payload's schema, and fills the verdicts directly.
 *
 * It accepts only what it can judge with certainty: every key known and
 * once, strings of printable ASCII without escapes, integers where the
 * contract wants integers, every poll to be stored (no quarantine, no
 * reject: those keep their poll's JSON text, which the full judge writes)
 * and no "skipped". For anything else it declines, and the full judge
 * (ingest.c), which explains every fault, reads the message instead. Where
 * it accepts, its verdicts are those of the full judge, field for field:
 * test_ingest_fast and the fuzz targets hold it to that.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_private.h"
#include "officemeter/base/id.h"

typedef struct {
    const char *p, *end;
} cursor;

typedef struct {
    const char *s;
    size_t n;
} span;

/* A number token: an integer (no fraction, no exponent) or a real. */
typedef struct {
    bool integer;
    int64_t i;
    double d;
} number;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool take(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A string without escapes, of printable ASCII (a subset of what JSON and
 * jansson accept, so whatever is read here reads the same there). */
static bool read_string(cursor *c, span *out)
{
    if (!take(c, '"'))
        return false;
    const char *s = c->p;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20 || ch > 0x7e || ch == '\\')
            return false;
        c->p++;
    }
    if (c->p == c->end)
        return false;
    out->s = s;
    out->n = (size_t)(c->p - s);
    c->p++;
    return true;
}

static bool span_is(span s, const char *text)
{
    return strlen(text) == s.n && memcmp(s.s, text, s.n) == 0;
}

/* JSON's number grammar, strictly (no leading zeros, digits after a point
 * and in an exponent). Integers of up to 18 digits fit an int64 whatever
 * they are; longer ones, and reals out of a double's range, are left to
 * the full judge, which names them. */
static bool read_number(cursor *c, number *out)
{
    skip_ws(c);
    const char *s = c->p, *q = s;
    if (q < c->end && *q == '-')
        q++;
    const char *digits = q;
    if (q < c->end && *q == '0')
        q++;
    else
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    size_t ndigits = (size_t)(q - digits);
    if (ndigits == 0)
        return false;
    out->integer = true;
    if (q < c->end && *q == '.') {
        const char *f = ++q;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
        if (q == f)
            return false;
        out->integer = false;
    }
    if (q < c->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < c->end && (*q == '+' || *q == '-'))
            q++;
        const char *e = q;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
        if (q == e)
            return false;
        out->integer = false;
    }
    char text[64];
    size_t n = (size_t)(q - s);
    if (n >= sizeof text || (out->integer && ndigits > 18))
        return false;
    memcpy(text, s, n);
    text[n] = '\0';
    errno = 0;
    if (out->integer) {
        out->i = strtoll(text, NULL, 10);
        out->d = (double)out->i;
    } else {
        out->d = strtod(text, NULL);
        /* As jansson: an overflow is an error, an underflow a tiny number. */
        if (errno == ERANGE && (out->d == HUGE_VAL || out->d == -HUGE_VAL))
            return false;
    }
    c->p = q;
    return true;
}

/* Each key of an object once, and only those the schema knows. */
static bool mark(unsigned *seen, int bit)
{
    if (bit < 0 || (*seen & (1u << bit)))
        return false;
    *seen |= 1u << bit;
    return true;
}

static int key_index(span key, const char *const *keys, int n)
{
    for (int i = 0; i < n; i++)
        if (span_is(key, keys[i]))
            return i;
    return -1;
}

static bool read_values(cursor *c, om_poll *poll)
{
    if (!take(c, '{'))
        return false;
    unsigned seen = 0;
    do {
        span key;
        number num;
        char name[32];
        om_quantity q;
        if (!read_string(c, &key) || key.n >= sizeof name || !take(c, ':') ||
            !read_number(c, &num))
            return false;
        memcpy(name, key.s, key.n);
        name[key.n] = '\0';
        if (om_quantity_from_name(name, &q) < 0 || !mark(&seen, (int)q))
            return false;
        if (!isfinite(num.d) || fabs(num.d) > OM_INGEST_VALUE_MAX ||
            (om_quantity_get(q)->kind == OM_KIND_COUNTER && num.d < 0))
            return false;
        poll->values[poll->nvalues++] = (om_poll_value){.quantity = q, .value = num.d};
    } while (take(c, ','));
    return take(c, '}');
}

enum { P_SEQ, P_METER, P_T, P_VALUES, P_KEYS };
static const char *const poll_keys[P_KEYS] = {"seq", "meter", "t", "values"};

static bool read_poll(cursor *c, const om_ingest_rules *r, const om_topic *topic,
                      om_ingest_poll *out)
{
    if (!take(c, '{'))
        return false;
    unsigned seen = 0;
    do {
        span key, meter;
        number num;
        if (!read_string(c, &key) || !take(c, ':'))
            return false;
        int k = key_index(key, poll_keys, P_KEYS);
        if (!mark(&seen, k))
            return false;
        switch (k) {
        case P_SEQ:
            if (!read_number(c, &num) || !num.integer || num.i < 1 || num.i > OM_SEQ_MAX)
                return false;
            out->poll.seq = num.i;
            out->has_seq = true;
            break;
        case P_METER:
            if (!read_string(c, &meter) || meter.n > OM_ID_LEN ||
                !(out->poll.meter = strndup(meter.s, meter.n)) || !om_id_valid(out->poll.meter))
                return false;
            break;
        case P_T:
            if (!read_number(c, &num) || !num.integer || !om_ingest_time_ok(r, num.i))
                return false;
            out->poll.t_ms = num.i;
            break;
        default:
            if (!read_values(c, &out->poll) || out->poll.nvalues == 0)
                return false;
            break;
        }
    } while (take(c, ','));
    if (!take(c, '}') || seen != (1u << P_KEYS) - 1)
        return false;
    om_ingest_judge_meter(r, topic, out->poll.meter, &out->verdict);
    return out->verdict.fate == OM_FATE_STORE;
}

static bool read_polls(cursor *c, const om_ingest_rules *r, const om_topic *topic,
                       om_readings_msg *out)
{
    if (!take(c, '['))
        return false;
    size_t cap = 0;
    do {
        if (out->npolls == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            om_ingest_poll *grown = realloc(out->polls, ncap * sizeof *grown);
            if (!grown)
                return false;
            out->polls = grown;
            cap = ncap;
        }
        om_ingest_poll *ip = &out->polls[out->npolls++];
        memset(ip, 0, sizeof *ip);
        if (!read_poll(c, r, topic, ip))
            return false;
        out->nstore++;
        out->nreadings += ip->poll.nvalues;
    } while (take(c, ','));
    return take(c, ']');
}

enum { E_V, E_SITE, E_GATEWAY, E_EPOCH, E_POLLS, E_KEYS };
static const char *const envelope_keys[E_KEYS] = {"v", "site", "gateway", "epoch", "polls"};

static bool read_epoch(cursor *c, char *epoch)
{
    span s;
    if (!read_string(c, &s) || s.n != OM_EPOCH_LEN)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!((s.s[i] >= '0' && s.s[i] <= '9') || (s.s[i] >= 'a' && s.s[i] <= 'f')))
            return false;
    memcpy(epoch, s.s, OM_EPOCH_LEN);
    epoch[OM_EPOCH_LEN] = '\0';
    return true;
}

static bool read_message(cursor *c, const om_ingest_rules *r, const om_topic *topic,
                         om_readings_msg *out)
{
    if (!take(c, '{'))
        return false;
    unsigned seen = 0;
    do {
        span key, id;
        number num;
        if (!read_string(c, &key) || !take(c, ':'))
            return false;
        int k = key_index(key, envelope_keys, E_KEYS);
        if (!mark(&seen, k))
            return false;
        switch (k) {
        case E_V:
            if (!read_number(c, &num) || !num.integer || num.i != OM_PAYLOAD_VERSION)
                return false;
            break;
        case E_SITE:
        case E_GATEWAY:
            if (!read_string(c, &id) || !span_is(id, k == E_SITE ? topic->site : topic->gateway))
                return false;
            break;
        case E_EPOCH:
            if (!read_epoch(c, out->epoch))
                return false;
            break;
        default:
            if (!read_polls(c, r, topic, out))
                return false;
            break;
        }
    } while (take(c, ','));
    if (!take(c, '}') || seen != (1u << E_KEYS) - 1)
        return false;
    skip_ws(c);
    return c->p == c->end;
}

int om_ingest_readings_fast(const om_ingest_rules *rules, const om_topic *topic,
                            const void *payload, size_t len, om_readings_msg *out)
{
    memset(out, 0, sizeof *out);
    out->topic = *topic;
    if (len == 0 || (rules->max_bytes && len > rules->max_bytes))
        return 0;
    cursor c = {payload, (const char *)payload + len};
    if (read_message(&c, rules, topic, out))
        return 1;
    om_readings_msg_free(out);
    return 0;
}
