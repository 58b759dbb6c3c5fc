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
#include "officemeter/payload.h"

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

/* Grows *items (of `size` bytes each) so that one more fits. */
static int grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *grown = realloc(*items, ncap * size);
    if (grown == NULL)
        return -1;
    *items = grown;
    *cap = ncap;
    return 0;
}

int om_batch_add_poll(om_batch *batch, const om_poll *poll)
{
    if (grow((void **)&batch->polls, &batch->polls_cap, batch->npolls, sizeof *batch->polls) < 0)
        return -1;
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
    if (grow((void **)&batch->skipped, &batch->skipped_cap, batch->nskipped,
             sizeof *batch->skipped) < 0)
        return -1;
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

/* The fewest significant digits (15, 16 or 17) that read back as the same
 * double, with printf and strtod: the reference, and the path for values
 * outside the fast path's range below. */
static void format_double_printf(double value, char *buf, size_t len)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, value);
        if (strtod(buf, NULL) == value)
            break;
    }
    /* printf follows LC_NUMERIC; JSON always uses a point. */
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
}

__extension__ typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
    10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull};

static u128 pow10_u128(int p)
{
    return p < 20 ? pow10_u64[p] : (u128)pow10_u64[19] * pow10_u64[p - 19];
}

/* Digits before the point of mag (1e-4 <= mag < 1e15): d with 10^(d-1) <=
 * mag < 10^d, so 0 for 0.1 <= mag < 1 and -3 for 1e-4 <= mag < 1e-3. Exact:
 * the doubles 1e0..1e15 are exact and 1e-1..1e-4 are rounded up, so a
 * comparison with them is a comparison with the power of ten itself. */
static int int_digits(double mag)
{
    static const double below_one[] = {1e-1, 1e-2, 1e-3};
    int d = 0;
    if (mag >= 1.0) {
        while (d < 15 && mag >= (double)pow10_u64[d + 1])
            d++;
        return d + 1;
    }
    while (d < 3 && mag < below_one[d])
        d++;
    return -d;
}

/* The fast path: 1e-4 <= |value| < 1e15, where "%.Ng" writes plain decimals
 * (no exponent). The value is m * 2^-k exactly (m < 2^53, 3 <= k <= 66).
 * With p fractional digits, n = m * 10^p / 2^k rounded to the nearest
 * integer (ties to even, as printf) is the p-digit decimal nearest to the
 * value, and it reads back as the value when it lies within half a unit in
 * the last place (ties to an even m, as strtod; a quarter below a power of
 * two, whose lower neighbour is closer). All in exact 128-bit integers:
 * m * 10^p < 2^53 * 10^21 < 2^123. p starts at 15 significant digits and
 * grows to 17, as the printf loop does, and the zeros printf's %g strips
 * are stripped. Formatting a double this way costs a few dozen integer
 * operations instead of printf's and strtod's multi-precision arithmetic,
 * which was most of the agent's CPU per poll. Returns the length written,
 * or 0 to fall back to printf. */
static size_t format_double_fast(double value, char *buf)
{
    double mag = fabs(value);
    if (!(mag >= 1e-4 && mag < 1e15))
        return 0;
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7ff);
    uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
    int k = 1075 - biased; /* value = m * 2^-k; the range keeps k in 3..66 */
    bool pow2 = m == (UINT64_C(1) << 52);
    int p = 15 - int_digits(mag);
    if (p < 0)
        p = 0;
    u128 n = 0;
    for (;; p++) {
        if (p > 21)
            return 0;
        u128 ten = pow10_u128(p);
        u128 scaled = (u128)m * ten;  /* value * 10^p * 2^k */
        n = scaled >> k;              /* floor(value * 10^p) */
        u128 rem = scaled - (n << k); /* in units of 2^-k */
        u128 half = (u128)1 << (k - 1);
        if (rem > half || (rem == half && (n & 1)))
            n++;
        if (n >= (u128)pow10_u64[17]) /* more than 17 significant digits */
            return 0;
        /* |n * 2^k - m * 10^p| against half an ulp, 10^p / 2 in these units */
        u128 nk = n << k;
        bool above = nk >= scaled;
        u128 diff = above ? nk - scaled : scaled - nk;
        bool reads_back;
        if (!above && pow2)
            reads_back = 4 * diff <= ten; /* the gap below a power of two is half */
        else
            reads_back = 2 * diff < ten || (2 * diff == ten && !(m & 1));
        if (reads_back)
            break;
    }
    uint64_t v = (uint64_t)n;
    while (p > 0 && v % 10 == 0) {
        v /= 10;
        p--;
    }
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t len = 0;
    if (value < 0)
        buf[len++] = '-';
    if (nd <= p) { /* below 1: "0." and leading zeros */
        buf[len++] = '0';
        buf[len++] = '.';
        for (int z = 0; z < p - nd; z++)
            buf[len++] = '0';
        while (nd > 0)
            buf[len++] = digits[--nd];
    } else {
        while (nd > p)
            buf[len++] = digits[--nd];
        if (p > 0) {
            buf[len++] = '.';
            while (nd > 0)
                buf[len++] = digits[--nd];
        }
    }
    buf[len] = '\0';
    return len;
}

size_t om_payload_format_double(double value, char *buf, size_t len)
{
    if (!isfinite(value) || len < 32)
        return 0;
    size_t n = format_double_fast(value, buf);
    if (n == 0) {
        format_double_printf(value, buf, len);
        n = strlen(buf);
    }
    /* Without a point or exponent, JSON parsers read an integer. */
    if (memchr(buf, '.', n) == NULL && memchr(buf, 'e', n) == NULL) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return n;
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
        size_t n = om_payload_format_double(p->values[i].value, num, sizeof num);
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
