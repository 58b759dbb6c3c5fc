/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest.c - judging a readings message: envelope first, then each poll.
 *
 * Envelope faults (not JSON, wrong version, site or gateway not those of
 * the topic, a malformed epoch, polls not a list) reject the whole message:
 * nothing in it can be trusted, and its seqs are not counted for the
 * acknowledgement (a forged message must not advance another gateway's
 * acknowledgement). Poll faults reject that poll only; a poll whose seq was
 * readable still counts as dealt with, so the gateway can drop it: it is
 * recorded in the rejects table, and holding it back would stall the
 * cumulative acknowledgement behind it forever.
 *
 * Where a poll's meter belongs decides between store, quarantine (not
 * declared for this gateway yet: onboarding in progress) and reject (the
 * meter is another site's: a forged or misrouted topic).
 */
#include "officemeter/proto/ingest.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "ingest_private.h"
#include "message_private.h"

/* ---- where a meter belongs ------------------------------------------- */

static const om_site *find_site(const om_ingest_rules *r, const char *id)
{
    for (size_t i = 0; i < r->nsites; i++)
        if (r->sites[i].site && strcmp(r->sites[i].site, id) == 0)
            return &r->sites[i];
    return NULL;
}

static const char *site_file(const om_site *s)
{
    return s->path ? s->path : "its site file";
}

void om_ingest_judge_meter(const om_ingest_rules *r, const om_topic *topic, const char *meter,
                           om_verdict *v)
{
    const om_site *site = find_site(r, topic->site);
    if (!site) {
        om_verdict_set(v, OM_FATE_QUARANTINE, "unknown_site",
                       "site \"%s\" has no site file in sites_dir; quarantined until one "
                       "declares it", topic->site);
        return;
    }
    const om_meter *m = om_site_find_meter(site, meter);
    if (m) {
        if (m->gateway_id && strcmp(m->gateway_id, topic->gateway) == 0)
            return;
        om_verdict_set(v, OM_FATE_QUARANTINE, "meter_other_gateway",
                       "meter \"%s\" is attached to gateway %s in %s, not %s; quarantined "
                       "until the site file attaches it", meter, m->gateway_id, site_file(site),
                       topic->gateway);
        return;
    }
    for (size_t i = 0; i < r->nsites; i++) {
        if (&r->sites[i] != site && om_site_find_meter(&r->sites[i], meter)) {
            om_verdict_set(v, OM_FATE_REJECT, "meter_other_site",
                           "meter \"%s\" belongs to site %s (%s), not %s: forged or misrouted "
                           "topic", meter, r->sites[i].site, site_file(&r->sites[i]),
                           topic->site);
            return;
        }
    }
    if (!om_site_find_gateway(site, topic->gateway)) {
        om_verdict_set(v, OM_FATE_QUARANTINE, "unknown_gateway",
                       "gateway \"%s\" is not declared in %s; quarantined until it is",
                       topic->gateway, site_file(site));
        return;
    }
    om_verdict_set(v, OM_FATE_QUARANTINE, "unknown_meter",
                   "meter \"%s\" is not declared in %s; quarantined until it is", meter,
                   site_file(site));
}

/* ---- one poll ------------------------------------------------------------ */

static const char *const poll_keys[] = {"seq", "meter", "t", "values"};

static int check_poll_keys(const json_t *p, const char *at, om_verdict *v)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)p, key, val) {
        bool known = false;
        for (size_t i = 0; i < sizeof poll_keys / sizeof poll_keys[0]; i++)
            known |= strcmp(key, poll_keys[i]) == 0;
        if (!known) {
            om_verdict_set(v, OM_FATE_REJECT, "unknown_field",
                           "%s.%s: unknown key (expected seq, meter, t, values)", at, key);
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof poll_keys / sizeof poll_keys[0]; i++) {
        if (!json_object_get(p, poll_keys[i])) {
            om_verdict_set(v, OM_FATE_REJECT, "missing_field", "%s.%s: missing", at,
                           poll_keys[i]);
            return -1;
        }
    }
    return 0;
}

/* A seq of the contract: 1 .. OM_SEQ_MAX (payload.h). A seq outside it is
 * refused and does not count for the acknowledgement. */
static int seq_in_range(int64_t seq, const char *at, om_ingest_poll *out)
{
    if (seq < 1 || seq > OM_SEQ_MAX) {
        om_verdict_set(&out->verdict, OM_FATE_REJECT, "bad_seq",
                       "%s.seq: out of range (got %" PRId64 ", expected 1 to %" PRId64 ")", at,
                       seq, OM_SEQ_MAX);
        return -1;
    }
    out->poll.seq = seq;
    out->has_seq = true;
    return 0;
}

static int check_seq(const json_t *seq, const char *at, om_ingest_poll *out)
{
    if (!json_is_integer(seq)) {
        om_verdict_set(&out->verdict, OM_FATE_REJECT, "bad_type",
                       "%s.seq: wrong type (got %s, expected an integer from 1)", at,
                       om_json_kind(seq));
        return -1;
    }
    return seq_in_range(json_integer_value(seq), at, out);
}

bool om_ingest_time_ok(const om_ingest_rules *r, int64_t ms)
{
    return ms >= OM_INGEST_MIN_T_MS && ms <= OM_INGEST_MAX_T_MS &&
           ms <= r->now_ms + r->future_tolerance_ms;
}

static int check_time(const om_ingest_rules *r, const json_t *t, const char *at, om_poll *poll,
                      om_verdict *v)
{
    if (!json_is_integer(t)) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_type",
                       "%s.t: wrong type (got %s, expected an integer, ms since 1970 UTC)", at,
                       om_json_kind(t));
        return -1;
    }
    int64_t ms = json_integer_value(t);
    char when[40] = "";
    if (ms < OM_INGEST_MIN_T_MS) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_time",
                       "%s.t: %" PRId64 " is before 2000-01-01T00:00:00Z", at, ms);
        return -1;
    }
    if (ms > OM_INGEST_MAX_T_MS) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_time", "%s.t: %" PRId64 " is after the year 9999",
                       at, ms);
        return -1;
    }
    if (ms > r->now_ms + r->future_tolerance_ms) {
        om_format_iso8601(ms, when, sizeof when);
        om_verdict_set(v, OM_FATE_REJECT, "bad_time",
                       "%s.t: %s is %" PRId64 " s ahead of the aggregator's clock "
                       "(tolerance %" PRId64 " s)", at, when, (ms - r->now_ms) / 1000,
                       r->future_tolerance_ms / 1000);
        return -1;
    }
    poll->t_ms = ms;
    return 0;
}

static int check_values(const json_t *values, const char *at, om_poll *poll, om_verdict *v)
{
    if (!json_is_object(values)) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_type",
                       "%s.values: wrong type (got %s, expected an object of quantities)", at,
                       om_json_kind(values));
        return -1;
    }
    if (json_object_size(values) == 0) {
        om_verdict_set(v, OM_FATE_REJECT, "missing_field", "%s.values: empty (expected at "
                       "least one quantity)", at);
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)values, key, val) {
        om_quantity q;
        if (om_quantity_from_name(key, &q) < 0) {
            om_verdict_set(v, OM_FATE_REJECT, "unknown_quantity",
                           "%s.values.%s: unknown quantity (expected one of %s)", at, key,
                           om_quantity_names());
            return -1;
        }
        if (!json_is_number(val)) {
            om_verdict_set(v, OM_FATE_REJECT, "bad_type",
                           "%s.values.%s: wrong type (got %s, expected a number)", at, key,
                           om_json_kind(val));
            return -1;
        }
        double d = json_number_value(val);
        if (!isfinite(d) || fabs(d) > OM_INGEST_VALUE_MAX) {
            om_verdict_set(v, OM_FATE_REJECT, "bad_value",
                           "%s.values.%s: %g is out of range (expected a magnitude up to %g)",
                           at, key, d, OM_INGEST_VALUE_MAX);
            return -1;
        }
        if (om_quantity_get(q)->kind == OM_KIND_COUNTER && d < 0) {
            om_verdict_set(v, OM_FATE_REJECT, "bad_value",
                           "%s.values.%s: a cumulative counter cannot be negative (got %g)", at,
                           key, d);
            return -1;
        }
        /* Quantities are unique here: duplicate keys were refused by the parser. */
        poll->values[poll->nvalues++] = (om_poll_value){.quantity = q, .value = d};
    }
    return 0;
}

/* Judges one poll object; out->verdict stays "store" when it is valid. */
static int judge_poll(const om_ingest_rules *r, const om_topic *topic, const json_t *p,
                      const char *at, bool seq_given, om_ingest_poll *out)
{
    if (!json_is_object(p)) {
        om_verdict_set(&out->verdict, OM_FATE_REJECT, "bad_type",
                       "%s: wrong type (got %s, expected an object)", at, om_json_kind(p));
        return 0;
    }
    if (!seq_given) {
        json_t *seq = json_object_get(p, "seq");
        if (seq && check_seq(seq, at, out) < 0)
            return 0;
    }
    if (check_poll_keys(p, at, &out->verdict) < 0)
        return 0;
    json_t *meter = json_object_get(p, "meter");
    if (!json_is_string(meter) || !om_id_valid(json_string_value(meter))) {
        om_verdict_set(&out->verdict, OM_FATE_REJECT, json_is_string(meter) ? "bad_value" : "bad_type",
                       "%s.meter: %s (got %s, expected a meter id)", at,
                       json_is_string(meter) ? "invalid id" : "wrong type", om_json_kind(meter));
        return 0;
    }
    out->poll.meter = strdup(json_string_value(meter));
    if (!out->poll.meter)
        return -1;
    if (check_time(r, json_object_get(p, "t"), at, &out->poll, &out->verdict) < 0 ||
        check_values(json_object_get(p, "values"), at, &out->poll, &out->verdict) < 0)
        return 0;
    om_ingest_judge_meter(r, topic, out->poll.meter, &out->verdict);
    return 0;
}

/* Polls that are not stored keep their JSON text for the record. */
static int keep_text(const json_t *p, om_ingest_poll *out)
{
    if (out->verdict.fate == OM_FATE_STORE)
        return 0;
    out->json = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    return out->json ? 0 : -1;
}

/* ---- the envelope ------------------------------------------------------- */

static const char *const envelope_keys[] = {"v", "site", "gateway", "epoch", "polls", "skipped"};

static int check_id_field(const json_t *root, const char *key, const char *want, om_verdict *v)
{
    json_t *j = json_object_get(root, key);
    if (!j) {
        om_verdict_set(v, OM_FATE_REJECT, "missing_field", "%s: missing", key);
        return -1;
    }
    if (!json_is_string(j)) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_type", "%s: wrong type (got %s, expected a string)",
                       key, om_json_kind(j));
        return -1;
    }
    if (strcmp(json_string_value(j), want) != 0) {
        om_verdict_set(v, OM_FATE_REJECT, strcmp(key, "site") == 0 ? "site_mismatch"
                                                                   : "gateway_mismatch",
                       "%s: \"%.64s\" in the payload, \"%s\" in the topic", key,
                       json_string_value(j), want);
        return -1;
    }
    return 0;
}

static int check_epoch(const json_t *root, char *epoch, om_verdict *v)
{
    json_t *j = json_object_get(root, "epoch");
    if (!j) {
        om_verdict_set(v, OM_FATE_REJECT, "missing_field", "epoch: missing");
        return -1;
    }
    const char *s = json_is_string(j) ? json_string_value(j) : NULL;
    bool ok = s && strlen(s) == OM_EPOCH_LEN;
    for (size_t i = 0; ok && i < OM_EPOCH_LEN; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (!ok) {
        om_verdict_set(v, OM_FATE_REJECT, s ? "bad_value" : "bad_type",
                       "epoch: invalid (got %s, expected %d lower-case hex digits)",
                       s ? "a string of another form" : om_json_kind(j), OM_EPOCH_LEN);
        return -1;
    }
    memcpy(epoch, s, OM_EPOCH_LEN + 1);
    return 0;
}

static int check_envelope(const json_t *root, const om_topic *topic, om_readings_msg *out)
{
    om_verdict *v = &out->verdict;
    if (om_ingest_check_version(root, v) < 0)
        return -1;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)root, key, val) {
        bool known = false;
        for (size_t i = 0; i < sizeof envelope_keys / sizeof envelope_keys[0]; i++)
            known |= strcmp(key, envelope_keys[i]) == 0;
        if (!known) {
            om_verdict_set(v, OM_FATE_REJECT, "unknown_field",
                           "%.64s: unknown key (expected v, site, gateway, epoch, polls, skipped)",
                           key);
            return -1;
        }
    }
    if (check_id_field(root, "site", topic->site, v) < 0 ||
        check_id_field(root, "gateway", topic->gateway, v) < 0 ||
        check_epoch(root, out->epoch, v) < 0)
        return -1;
    json_t *polls = json_object_get(root, "polls");
    if (!json_is_array(polls) || json_array_size(polls) == 0) {
        om_verdict_set(v, OM_FATE_REJECT, polls ? (json_is_array(polls) ? "no_polls" : "bad_type")
                                                : "missing_field",
                       "polls: %s", !polls ? "missing" : json_is_array(polls) ?
                       "empty (expected at least one poll)" : "wrong type (expected an array)");
        return -1;
    }
    return 0;
}

/* "skipped": [[from, to], ...], each range ordered and below the highest
 * readable seq of the message (the outbox's contract, payload.h), so a
 * message cannot acknowledge seqs that it does not prove exist. */
static int check_skipped(const json_t *root, om_readings_msg *out)
{
    json_t *sk = json_object_get(root, "skipped");
    if (!sk)
        return 0;
    om_verdict *v = &out->verdict;
    int64_t top = 0;
    for (size_t i = 0; i < out->npolls; i++)
        if (out->polls[i].has_seq && out->polls[i].poll.seq > top)
            top = out->polls[i].poll.seq;
    if (!json_is_array(sk)) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_type",
                       "skipped: wrong type (got %s, expected an array of [from, to])",
                       om_json_kind(sk));
        return -1;
    }
    out->skipped = calloc(json_array_size(sk) + 1, sizeof *out->skipped);
    if (!out->skipped)
        return -2;
    size_t i;
    json_t *r;
    json_array_foreach(sk, i, r) {
        json_t *a = json_array_get(r, 0), *b = json_array_get(r, 1);
        if (!json_is_array(r) || json_array_size(r) != 2 || !json_is_integer(a) ||
            !json_is_integer(b) || json_integer_value(a) < 1 ||
            json_integer_value(a) > json_integer_value(b) || json_integer_value(b) >= top) {
            om_verdict_set(v, OM_FATE_REJECT, "bad_skipped",
                           "skipped[%zu]: expected [from, to] with 1 <= from <= to < %" PRId64
                           " (the highest seq of the message)", i, top);
            return -1;
        }
        om_seq_range range = {json_integer_value(a), json_integer_value(b)};
        if (out->nskipped > 0 && range.from <= out->skipped[out->nskipped - 1].to) {
            om_verdict_set(v, OM_FATE_REJECT, "bad_skipped",
                           "skipped[%zu]: ranges must be sorted and disjoint (%" PRId64
                           " follows a range ending at %" PRId64 ")", i, range.from,
                           out->skipped[out->nskipped - 1].to);
            return -1;
        }
        for (size_t k = 0; k < out->npolls; k++) {
            const om_ingest_poll *p = &out->polls[k];
            if (p->has_seq && p->poll.seq >= range.from && p->poll.seq <= range.to) {
                om_verdict_set(v, OM_FATE_REJECT, "bad_skipped",
                               "skipped[%zu]: [%" PRId64 ", %" PRId64 "] contains seq %" PRId64
                               " of a poll of the same message", i, range.from, range.to,
                               p->poll.seq);
                return -1;
            }
        }
        out->skipped[out->nskipped++] = range;
    }
    return 0;
}

static int judge_polls(const om_ingest_rules *rules, const om_topic *topic, const json_t *polls,
                       om_readings_msg *out)
{
    size_t n = json_array_size(polls);
    out->polls = calloc(n, sizeof *out->polls);
    if (!out->polls)
        return -1;
    for (size_t i = 0; i < n; i++) {
        om_ingest_poll *ip = &out->polls[out->npolls++];
        json_t *p = json_array_get(polls, i);
        char at[32];
        snprintf(at, sizeof at, "polls[%zu]", i);
        if (judge_poll(rules, topic, p, at, false, ip) < 0 || keep_text(p, ip) < 0)
            return -1;
        if (ip->verdict.fate == OM_FATE_STORE) {
            out->nstore++;
            out->nreadings += ip->poll.nvalues;
        }
    }
    return 0;
}

int om_ingest_readings(const om_ingest_rules *rules, const om_topic *topic, const void *payload,
                       size_t len, om_readings_msg *out)
{
    if (om_ingest_readings_fast(rules, topic, payload, len, out) == 1)
        return 0;
    return om_ingest_readings_full(rules, topic, payload, len, out);
}

int om_ingest_readings_full(const om_ingest_rules *rules, const om_topic *topic,
                            const void *payload, size_t len, om_readings_msg *out)
{
    memset(out, 0, sizeof *out);
    out->topic = *topic;
    json_t *root = om_ingest_load(payload, len, rules->max_bytes, &out->verdict);
    if (!root)
        return 0;
    int rc = 0;
    if (check_envelope(root, topic, out) == 0) {
        if (judge_polls(rules, topic, json_object_get(root, "polls"), out) < 0) {
            rc = -1;
        } else {
            int sk = check_skipped(root, out);
            rc = sk == -2 ? -1 : 0;
        }
    }
    if (out->verdict.fate == OM_FATE_REJECT) {
        /* Nothing of a refused message is used. */
        out->nstore = 0;
        out->nreadings = 0;
    }
    json_decref(root);
    return rc;
}

void om_ingest_poll_free(om_ingest_poll *p)
{
    if (!p)
        return;
    free(p->poll.meter);
    free(p->json);
    memset(p, 0, sizeof *p);
}

void om_readings_msg_free(om_readings_msg *msg)
{
    if (!msg)
        return;
    for (size_t i = 0; i < msg->npolls; i++)
        om_ingest_poll_free(&msg->polls[i]);
    free(msg->polls);
    free(msg->skipped);
    memset(msg, 0, sizeof *msg);
}

int om_ingest_poll_text(const om_ingest_rules *rules, const om_topic *topic, int64_t seq,
                        const char *json, om_ingest_poll *out)
{
    memset(out, 0, sizeof *out);
    if (seq_in_range(seq, "poll", out) < 0) {
        out->json = strdup(json);
        return out->json ? 0 : -1;
    }
    json_t *p = om_ingest_load(json, strlen(json), 0, &out->verdict);
    if (!p)
        return 0;
    int rc = judge_poll(rules, topic, p, "poll", true, out);
    if (rc == 0)
        rc = keep_text(p, out);
    json_decref(p);
    return rc;
}
