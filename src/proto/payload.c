/* SPDX-License-Identifier: Apache-2.0 */
/*
 * payload.c - batches of polls and their readings message (JSON).
 *
 * The text is written by hand rather than through jansson because a message
 * must fit a size cap decided before it is written: the outbox chooses how
 * many polls go into a batch from om_payload_size_*, and the encoder writes
 * with the very same functions (a "sink" that either writes or only counts),
 * so the predicted size and the written size cannot disagree. Parsing on the
 * aggregator side is jansson's job; the unit tests parse every message with
 * it and compare the doubles bit for bit.
 *
 * Layout of a message, in the order bytes are produced:
 *   envelope head   {"v":1,"site":S,"gateway":G,"epoch":E,"polls":[
 *   polls           poll(,poll)*
 *   envelope tail   ]  (,"skipped":[ [a,b](,[a,b])* ])?  }
 * The skipped part comes last so that polls can be written one after the
 * other and the last one taken back if it does not fit; its size is known
 * from integers alone and is reserved as the polls are added.
 */
#include "officemeter/proto/payload.h"
#include "officemeter/base/array.h"

#include "officemeter/base/numfmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIPPED_OPEN ",\"skipped\":["
#define POLLS_OPEN ",\"polls\":["

/* ---- batches ---------------------------------------------------------- */

void om_batch_init(om_batch *batch)
{
    memset(batch, 0, sizeof *batch);
}

void om_batch_clear(om_batch *batch)
{
    for (size_t i = 0; i < batch->npolls; i++)
        free(batch->polls[i].meter);
    batch->npolls = 0;
    batch->nskipped = 0;
}

void om_batch_free(om_batch *batch)
{
    if (batch == NULL)
        return;
    om_batch_clear(batch);
    free(batch->polls);
    free(batch->skipped);
    memset(batch, 0, sizeof *batch);
}

int om_batch_add_poll(om_batch *batch, const om_poll *poll)
{
    om_poll *polls = om_grow(batch->polls, &batch->polls_cap, batch->npolls, sizeof *polls);
    if (polls == NULL)
        return -1;
    batch->polls = polls;
    char *meter = strdup(poll->meter ? poll->meter : "");
    if (meter == NULL)
        return -1;
    om_poll *slot = &batch->polls[batch->npolls++];
    *slot = *poll;
    slot->meter = meter;
    return 0;
}

int om_batch_add_skipped(om_batch *batch, int64_t from, int64_t to)
{
    om_seq_range *skipped = om_grow(batch->skipped, &batch->skipped_cap, batch->nskipped,
                                    sizeof *skipped);
    if (skipped == NULL)
        return -1;
    batch->skipped = skipped;
    batch->skipped[batch->nskipped++] = (om_seq_range){from, to};
    return 0;
}

/* ---- writing: a sink writes what fits and counts everything ------------- */

typedef struct {
    char *buf; /* NULL: count only */
    size_t cap;
    size_t len;
} sink;

static void put(sink *s, const char *text, size_t n)
{
    if (s->buf != NULL && s->len + n <= s->cap)
        memcpy(s->buf + s->len, text, n);
    s->len += n;
}

static void puts_(sink *s, const char *text)
{
    put(s, text, strlen(text));
}

static void put_int(sink *s, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    put(s, tmp, (size_t)n);
}

/* A JSON string. Ids are plain ASCII in practice (the site loader says so);
 * quotes, backslashes and control characters are escaped all the same. */
static void put_string(sink *s, const char *text)
{
    put(s, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            put(s, esc, 2);
        } else if (*p < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(s, esc, 6);
        } else {
            put(s, (const char *)p, 1);
        }
    }
    put(s, "\"", 1);
}

static void put_poll(sink *s, const om_poll *p)
{
    puts_(s, "{\"seq\":");
    put_int(s, p->seq);
    puts_(s, ",\"meter\":");
    put_string(s, p->meter ? p->meter : "");
    puts_(s, ",\"t\":");
    put_int(s, p->t_ms);
    puts_(s, ",\"values\":{");
    for (size_t i = 0; i < p->nvalues; i++) {
        const om_quantity_info *q = om_quantity_get(p->values[i].quantity);
        char num[32];
        size_t n = om_format_double(p->values[i].value, num, sizeof num);
        if (i > 0)
            put(s, ",", 1);
        put_string(s, q ? q->name : "");
        put(s, ":", 1);
        put(s, num, n);
    }
    puts_(s, "}}");
}

static void put_range(sink *s, const om_seq_range *r)
{
    put(s, "[", 1);
    put_int(s, r->from);
    put(s, ",", 1);
    put_int(s, r->to);
    put(s, "]", 1);
}

static void put_head(sink *s, const char *site, const char *gateway, const char *epoch)
{
    puts_(s, "{\"v\":");
    put_int(s, OM_PAYLOAD_VERSION);
    puts_(s, ",\"site\":");
    put_string(s, site ? site : "");
    puts_(s, ",\"gateway\":");
    put_string(s, gateway ? gateway : "");
    puts_(s, ",\"epoch\":");
    put_string(s, epoch ? epoch : "");
    puts_(s, POLLS_OPEN);
}

/* ---- sizes -------------------------------------------------------------- */

static size_t poll_text_size(const om_poll *p)
{
    sink counter = {NULL, 0, 0};
    put_poll(&counter, p);
    return counter.len;
}

/* Bytes that ranges[0..n) add to a message already holding `before` ranges:
 * the first range of a message also opens and closes the "skipped" list. */
static size_t ranges_size(const om_seq_range *ranges, size_t n, size_t before)
{
    sink counter = {NULL, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (before + i == 0)
            put(&counter, SKIPPED_OPEN "]", sizeof SKIPPED_OPEN);
        else
            put(&counter, ",", 1);
        put_range(&counter, &ranges[i]);
    }
    return counter.len;
}

void om_payload_size_init(om_payload_size *size, size_t start_bytes)
{
    size->bytes = start_bytes;
    size->npolls = 0;
    size->nskipped = 0;
}

size_t om_payload_size_peek(const om_payload_size *size, const om_poll *poll,
                            const om_seq_range *ranges, size_t nranges)
{
    return size->bytes + (size->npolls > 0 ? 1 : 0) + poll_text_size(poll) +
           ranges_size(ranges, nranges, size->nskipped);
}

void om_payload_size_add(om_payload_size *size, const om_poll *poll, const om_seq_range *ranges,
                         size_t nranges)
{
    size->bytes = om_payload_size_peek(size, poll, ranges, nranges);
    size->npolls++;
    size->nskipped += nranges;
}

size_t om_payload_envelope_size(const char *site, const char *gateway, const char *epoch)
{
    sink counter = {NULL, 0, 0};
    put_head(&counter, site, gateway, epoch);
    return counter.len + 2; /* "]}" */
}

size_t om_payload_budget(size_t cap, const char *site, const char *gateway, const char *epoch)
{
    size_t envelope = om_payload_envelope_size(site, gateway, epoch);
    return cap > envelope ? cap - envelope : 0;
}

/* ---- encoding ----------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Polls strictly increasing, values known and finite, ranges ordered and
 * below the highest poll: what om_outbox_next_batch produces. */
static int check_batch(const om_batch *b, char *err, size_t errlen)
{
    for (size_t i = 0; i < b->npolls; i++) {
        const om_poll *p = &b->polls[i];
        if (i > 0 && p->seq <= b->polls[i - 1].seq) {
            set_err(err, errlen, "readings batch: poll seq %" PRId64 " follows seq %" PRId64,
                    p->seq, b->polls[i - 1].seq);
            return -1;
        }
        if (p->nvalues > OM_Q__COUNT) {
            set_err(err, errlen, "readings batch: poll seq %" PRId64 " has %zu values", p->seq,
                    p->nvalues);
            return -1;
        }
        for (size_t v = 0; v < p->nvalues; v++) {
            const om_quantity_info *q = om_quantity_get(p->values[v].quantity);
            if (q == NULL || !isfinite(p->values[v].value)) {
                set_err(err, errlen,
                        "readings batch: poll seq %" PRId64 " (meter %s): value %zu is %s", p->seq,
                        p->meter ? p->meter : "?", v,
                        q == NULL ? "an unknown quantity" : "not finite");
                return -1;
            }
        }
    }
    for (size_t i = 0; i < b->nskipped; i++) {
        const om_seq_range *r = &b->skipped[i];
        if (r->from > r->to || (i > 0 && r->from <= b->skipped[i - 1].to) || b->npolls == 0 ||
            r->to >= b->polls[b->npolls - 1].seq) {
            set_err(err, errlen,
                    "readings batch: skipped range %" PRId64 "..%" PRId64
                    " is not an ordered range below a poll",
                    r->from, r->to);
            return -1;
        }
    }
    return 0;
}

/* Writes polls while they fit under `cap`, each with the skipped ranges below
 * it; the bytes of those ranges are reserved, not yet written. Returns the
 * number of polls written and leaves *ranges_used at the ranges they carry. */
static size_t put_polls(sink *s, const om_batch *b, size_t cap, om_payload_size *size,
                        size_t *ranges_used)
{
    size_t r = 0, i;
    for (i = 0; i < b->npolls; i++) {
        const om_poll *p = &b->polls[i];
        size_t r_end = r;
        while (r_end < b->nskipped && b->skipped[r_end].to < p->seq)
            r_end++;
        size_t mark = s->len;
        if (i > 0)
            put(s, ",", 1);
        put_poll(s, p);
        size_t total =
            size->bytes + (s->len - mark) + ranges_size(&b->skipped[r], r_end - r, size->nskipped);
        if (total > cap) {
            s->len = mark;
            break;
        }
        size->bytes = total;
        size->npolls++;
        size->nskipped += r_end - r;
        r = r_end;
    }
    *ranges_used = r;
    return i;
}

int om_payload_encode_readings(const char *site, const char *gateway, const om_batch *batch,
                               char *buf, size_t cap, size_t *len, size_t *npolls, char *err,
                               size_t errlen)
{
    if (check_batch(batch, err, errlen) < 0)
        return -1;
    size_t envelope = om_payload_envelope_size(site, gateway, batch->epoch);
    if (envelope > cap) {
        set_err(err, errlen, "readings message: the envelope alone needs %zu bytes, cap is %zu",
                envelope, cap);
        return -1;
    }
    sink s = {buf, cap, 0};
    om_payload_size size;
    om_payload_size_init(&size, envelope);
    put_head(&s, site, gateway, batch->epoch);

    size_t nranges = 0;
    size_t n = put_polls(&s, batch, cap, &size, &nranges);
    if (n == 0 && batch->npolls > 0) {
        const om_poll *p = &batch->polls[0];
        size_t below = 0;
        while (below < batch->nskipped && batch->skipped[below].to < p->seq)
            below++;
        set_err(err, errlen,
                "readings message: poll seq %" PRId64 " (meter %s) needs %zu bytes, "
                "more than the cap of %zu",
                p->seq, p->meter ? p->meter : "?",
                om_payload_size_peek(&size, p, batch->skipped, below), cap);
        return -1;
    }
    put(&s, "]", 1);
    for (size_t i = 0; i < nranges; i++) {
        puts_(&s, i == 0 ? SKIPPED_OPEN : ",");
        put_range(&s, &batch->skipped[i]);
    }
    if (nranges > 0)
        put(&s, "]", 1);
    put(&s, "}", 1);
    /* Every byte was accounted for before it was written. */
    if (s.len != size.bytes || s.len > cap) {
        set_err(err, errlen, "readings message: size accounting error (%zu written, %zu counted)",
                s.len, size.bytes);
        return -1;
    }
    buf[s.len] = '\0';
    *len = s.len;
    *npolls = n;
    return 0;
}
