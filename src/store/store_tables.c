/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_tables.c - the tables of the aggregator's database as both backends
 * hold them (store_tables.h), and batches of their rows.
 *
 * A table's columns are listed key first; the schemas themselves are in
 * store.c (SQLite), store_pg.c (PostgreSQL) and the two rollup files, and
 * test_migrate checks that every column listed here exists in both.
 */
#include "store_tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS(a) a, sizeof a / sizeof a[0]

static const store_col quantities[] = {
    {"id", COL_INT}, {"name", COL_TEXT}, {"kind", COL_TEXT}, {"unit", COL_TEXT}};
static const store_col meters[] = {{"id", COL_INT},      {"site", COL_TEXT},
                                   {"meter", COL_TEXT},  {"first_t", COL_INT},
                                   {"last_t", COL_INT},  {"last_received", COL_INT}};
static const store_col gateways[] = {
    {"id", COL_INT},        {"site", COL_TEXT},      {"gateway", COL_TEXT},
    {"state", COL_TEXT},    {"state_t", COL_INT},    {"last_seen", COL_INT},
    {"health_t", COL_INT},  {"outbox_depth", COL_INT}, {"errors", COL_INT},
    {"health", COL_TEXT}};
static const store_col readings[] = {
    {"meter", COL_INT}, {"quantity", COL_INT}, {"t", COL_INT}, {"value", COL_REAL}};
static const store_col meter_hours[] = {
    {"meter", COL_INT},   {"quantity", COL_INT}, {"hour", COL_INT},    {"n", COL_INT},
    {"sum", COL_REAL},    {"min", COL_REAL},     {"max", COL_REAL},    {"first_t", COL_INT},
    {"first_v", COL_REAL}, {"last_t", COL_INT},  {"last_v", COL_REAL}};
static const store_col meter_counts[] = {{"meter", COL_INT}, {"quantity", COL_INT}, {"n", COL_INT}};
static const store_col conflicts[] = {
    {"meter", COL_INT},         {"quantity", COL_INT},      {"t", COL_INT},
    {"offered", COL_REAL},      {"stored", COL_REAL},       {"gateway", COL_TEXT},
    {"epoch", COL_TEXT},        {"seq", COL_INT},           {"first_received", COL_INT},
    {"last_received", COL_INT}, {"times", COL_INT}};
static const store_col epochs[] = {{"gateway", COL_INT},   {"epoch", COL_TEXT},
                                   {"upto", COL_INT},      {"first_seen", COL_INT},
                                   {"last_seen", COL_INT}};
static const store_col epoch_ranges[] = {
    {"gateway", COL_INT}, {"epoch", COL_TEXT}, {"first", COL_INT}, {"last", COL_INT}};
static const store_col rejects[] = {
    {"id", COL_INT},      {"received", COL_INT}, {"topic", COL_TEXT},  {"site", COL_TEXT},
    {"gateway", COL_TEXT}, {"code", COL_TEXT},   {"reason", COL_TEXT}, {"seq", COL_INT},
    {"meter", COL_TEXT},  {"payload", COL_BLOB}, {"payload_bytes", COL_INT}};
static const store_col reject_counts[] = {{"site", COL_TEXT},  {"gateway", COL_TEXT},
                                          {"code", COL_TEXT},  {"count", COL_INT},
                                          {"last_received", COL_INT}};
static const store_col quarantine[] = {
    {"id", COL_INT},     {"received", COL_INT}, {"site", COL_TEXT}, {"gateway", COL_TEXT},
    {"epoch", COL_TEXT}, {"seq", COL_INT},      {"meter", COL_TEXT}, {"t", COL_INT},
    {"code", COL_TEXT},  {"reason", COL_TEXT},  {"poll", COL_TEXT}};
static const store_col thinned[] = {{"gateway", COL_INT}, {"epoch", COL_TEXT},
                                    {"first", COL_INT},   {"last", COL_INT},
                                    {"received", COL_INT}};
static const store_col lost_seqs[] = {{"gateway", COL_INT}, {"epoch", COL_TEXT},
                                      {"first", COL_INT},   {"last", COL_INT},
                                      {"waited_s", COL_INT}, {"recorded", COL_INT}};
static const store_col retained_counts[] = {
    {"meter", COL_INT}, {"quantity", COL_INT}, {"bucket", COL_INT}, {"dropped", COL_INT}};
static const store_col retained_months[] = {
    {"site", COL_TEXT}, {"start", COL_INT}, {"\"end\"", COL_INT}, {"kept", COL_INT},
    {"dropped", COL_INT}, {"at", COL_INT}};
static const store_col rollup_meta[] = {{"key", COL_TEXT}, {"value", COL_INT}};
static const store_col rollup_months[] = {
    {"site", COL_TEXT},        {"year", COL_INT},      {"month", COL_INT},
    {"start", COL_INT},        {"\"end\"", COL_INT},   {"provisional", COL_INT},
    {"computed_at", COL_INT},  {"fingerprint", COL_TEXT}};
static const store_col rollup_meters[] = {
    {"site", COL_TEXT},         {"year", COL_INT},        {"month", COL_INT},
    {"meter", COL_TEXT},        {"quantity", COL_TEXT},   {"utility", COL_TEXT},
    {"role", COL_TEXT},         {"start", COL_INT},       {"\"end\"", COL_INT},
    {"consumption", COL_REAL},  {"estimated", COL_REAL},  {"expected_ms", COL_INT},
    {"known_ms", COL_INT},      {"actual_ms", COL_INT},   {"readings", COL_INT},
    {"rate_min", COL_REAL},     {"rate_max", COL_REAL},   {"night_avg", COL_REAL},
    {"night_min", COL_REAL},    {"nights", COL_INT},      {"events", COL_INT},
    {"start_known", COL_INT},   {"end_known", COL_INT},   {"provisional", COL_INT},
    {"computed_at", COL_INT},   {"readings_sha256", COL_TEXT}};
static const store_col approval_meta[] = {{"key", COL_TEXT}, {"value", COL_INT}};
static const store_col report_approvals[] = {
    {"id", COL_INT},           {"year", COL_INT},         {"approved_at", COL_INT},
    {"approved_by", COL_TEXT}, {"sha256", COL_TEXT},      {"report_json", COL_TEXT},
    {"inputs_json", COL_TEXT}, {"reason", COL_TEXT}};
static const store_col rollup_events[] = {
    {"site", COL_TEXT},  {"year", COL_INT},     {"month", COL_INT}, {"meter", COL_TEXT},
    {"quantity", COL_TEXT}, {"kind", COL_TEXT}, {"t", COL_INT},     {"t_end", COL_INT},
    {"before", COL_REAL}, {"after", COL_REAL},  {"counted", COL_REAL}};

/* The alert tables (alertdb.h, store_alerts.c, store_pg_alerts.c). */
static const store_col alert_meta[] = {{"key", COL_TEXT}, {"value", COL_TEXT}};
static const store_col alerts[] = {
    {"id", COL_INT},          {"site", COL_TEXT},        {"rule", COL_TEXT},
    {"subject", COL_TEXT},    {"gateway", COL_INT},      {"severity", COL_TEXT},
    {"state", COL_TEXT},      {"fired_at", COL_INT},     {"detected_at", COL_INT},
    {"resolved_at", COL_INT}, {"resolved_detected_at", COL_INT}, {"summary", COL_TEXT},
    {"evidence", COL_TEXT},   {"changes", COL_INT},      {"acked_by", COL_TEXT},
    {"acked_at", COL_INT},    {"ack_note", COL_TEXT}};
static const store_col alert_history[] = {
    {"id", COL_INT},       {"alert", COL_INT},    {"seq", COL_INT},     {"change", COL_TEXT},
    {"t", COL_INT},        {"recorded", COL_INT}, {"who", COL_TEXT},    {"note", COL_TEXT},
    {"summary", COL_TEXT}, {"evidence", COL_TEXT}, {"notify", COL_INT}, {"body", COL_TEXT}};
static const store_col alert_silences[] = {
    {"id", COL_INT},   {"site", COL_TEXT}, {"subject", COL_TEXT}, {"rule", COL_TEXT},
    {"until", COL_INT}, {"who", COL_TEXT}, {"note", COL_TEXT},    {"created", COL_INT},
    {"ended", COL_INT}};
static const store_col alert_rule_state[] = {{"site", COL_TEXT},  {"rule", COL_TEXT},
                                             {"subject", COL_TEXT}, {"state", COL_TEXT},
                                             {"updated", COL_INT}};
static const store_col alert_targets[] = {
    {"target", COL_TEXT},   {"upto", COL_INT},         {"failures", COL_INT},
    {"next_try", COL_INT},  {"last_error", COL_TEXT},  {"last_attempt", COL_INT},
    {"last_success", COL_INT}};
static const store_col alert_published[] = {
    {"site", COL_TEXT}, {"digest", COL_TEXT}, {"t", COL_INT}};

/* In the order they are copied: rows another table names come first. */
const store_table store_tables[] = {
    {"quantities", COLS(quantities), 1, -1, false, false, false},
    {"meters", COLS(meters), 1, -1, true, false, false},
    {"gateways", COLS(gateways), 1, -1, true, false, false},
    {"readings", COLS(readings), 3, 1, false, false, false},
    {"meter_hours", COLS(meter_hours), 3, 1, false, true, true},
    {"meter_counts", COLS(meter_counts), 2, 1, false, true, true},
    {"conflicts", COLS(conflicts), 4, 1, false, false, false},
    {"epochs", COLS(epochs), 2, -1, false, false, false},
    {"epoch_ranges", COLS(epoch_ranges), 3, -1, false, false, false},
    {"rejects", COLS(rejects), 1, -1, true, false, false},
    {"reject_counts", COLS(reject_counts), 3, -1, false, false, false},
    {"quarantine", COLS(quarantine), 1, -1, true, false, false},
    {"thinned", COLS(thinned), 4, -1, false, false, false},
    {"lost_seqs", COLS(lost_seqs), 3, -1, false, false, false},
    {"rollup_meta", COLS(rollup_meta), 1, -1, false, true, false},
    {"rollup_months", COLS(rollup_months), 3, -1, false, true, false},
    {"rollup_meters", COLS(rollup_meters), 5, -1, false, true, false},
    {"rollup_events", COLS(rollup_events), 0, -1, false, true, false},
    {"retained_counts", COLS(retained_counts), 3, 1, false, true, false},
    {"retained_months", COLS(retained_months), 2, -1, false, true, false},
    {"approval_meta", COLS(approval_meta), 1, -1, false, true, false},
    {"report_approvals", COLS(report_approvals), 1, -1, true, true, false},
    /* alert_meta whole, so that the copy keeps the source's instance (the
     * first part of every idempotency key) over the one the target's
     * tables were created with. */
    {"alert_meta", COLS(alert_meta), 0, -1, false, true, false},
    {"alerts", COLS(alerts), 1, -1, true, true, false},
    {"alert_history", COLS(alert_history), 1, -1, true, true, false},
    {"alert_silences", COLS(alert_silences), 1, -1, true, true, false},
    {"alert_rule_state", COLS(alert_rule_state), 3, -1, false, true, false},
    {"alert_targets", COLS(alert_targets), 1, -1, false, true, false},
    {"alert_published", COLS(alert_published), 1, -1, false, true, false},
};
const size_t store_ntables = sizeof store_tables / sizeof store_tables[0];

/* ---- batches ---------------------------------------------------------------------- */

store_value *store_batch_row(store_batch *b)
{
    if ((b->nrows + 1) * b->ncols > b->cap_values) {
        size_t cap = b->cap_values ? b->cap_values * 2 : 256 * b->ncols;
        while (cap < (b->nrows + 1) * b->ncols)
            cap *= 2;
        store_value *grown = realloc(b->v, cap * sizeof *grown);
        if (!grown)
            return NULL;
        b->v = grown;
        b->cap_values = cap;
    }
    store_value *row = &b->v[b->nrows++ * b->ncols];
    for (size_t i = 0; i < b->ncols; i++)
        row[i] = (store_value){.null = true};
    return row;
}

int store_batch_bytes(store_batch *b, store_value *v, const void *data, size_t len)
{
    if (b->mem_len + len + 1 > b->mem_cap) {
        size_t cap = b->mem_cap ? b->mem_cap : 65536;
        while (cap < b->mem_len + len + 1)
            cap *= 2;
        char *grown = realloc(b->mem, cap);
        if (!grown)
            return -1;
        b->mem = grown;
        b->mem_cap = cap;
    }
    memcpy(b->mem + b->mem_len, data, len);
    b->mem[b->mem_len + len] = '\0';
    v->null = false;
    v->bytes = true;
    v->off = b->mem_len;
    v->len = len;
    b->mem_len += len + 1;
    return 0;
}

void store_batch_seal(store_batch *b)
{
    for (size_t i = 0; i < b->nrows * b->ncols; i++)
        if (b->v[i].bytes)
            b->v[i].s = b->mem + b->v[i].off;
}

void store_batch_clear(store_batch *b)
{
    b->nrows = 0;
    b->mem_len = 0;
}

void store_batch_free(store_batch *b)
{
    free(b->v);
    free(b->mem);
    memset(b, 0, sizeof *b);
}

/* ---- keys as text --------------------------------------------------------------------- */

/* Fields separated by \x1f; text kept as is (ids and epochs never hold it). */
int store_key_encode(const store_table *t, const store_value *row, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t k = 0; k < t->nkey; k++) {
        const store_value *v = &row[k];
        int n;
        if (v->null)
            n = snprintf(out + used, len - used, "%s\\N", k ? "\x1f" : "");
        else if (t->cols[k].type == COL_INT)
            n = snprintf(out + used, len - used, "%s%lld", k ? "\x1f" : "", (long long)v->i);
        else if (t->cols[k].type == COL_REAL)
            n = snprintf(out + used, len - used, "%s%.17g", k ? "\x1f" : "", v->d);
        else
            n = snprintf(out + used, len - used, "%s%.*s", k ? "\x1f" : "", (int)v->len, v->s);
        if (n < 0 || (size_t)n >= len - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}

int store_key_decode(const store_table *t, char *text, store_value *key)
{
    char *p = text;
    for (size_t k = 0; k < t->nkey; k++) {
        char *end = strchr(p, '\x1f');
        if (end)
            *end = '\0';
        else if (k + 1 < t->nkey)
            return -1;
        key[k] = (store_value){.null = strcmp(p, "\\N") == 0};
        if (!key[k].null) {
            if (t->cols[k].type == COL_INT)
                key[k].i = strtoll(p, NULL, 10);
            else if (t->cols[k].type == COL_REAL)
                key[k].d = strtod(p, NULL);
            key[k].s = p;
            key[k].len = strlen(p);
        }
        p = end ? end + 1 : p + strlen(p);
    }
    return 0;
}
