/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox_sql.c - every SQL statement of the outbox, in one table.
 *
 * The statements are written once, as templates, and prepared lazily per
 * handle (ob_stmt in outbox.c). {name} tokens stand for fragments built from
 * the quantity table, so that the columns a statement names (one REAL column
 * per quantity, named by its payload key) and the split into counters and
 * instantaneous values always agree with quantity.c: a quantity added there
 * needs no SQL edited here.
 */
#include "outbox_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SQL -------------------------------------------------------------- */

/* {name} tokens are replaced by fragments built from the quantity table
 * (see build_fragments), so every statement names the same columns. */
static const char *const sql_templates[OB__COUNT] = {
    [OB_BEGIN] = "BEGIN IMMEDIATE",
    [OB_COMMIT] = "COMMIT",
    [OB_ROLLBACK] = "ROLLBACK",
    [OB_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [OB_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [OB_META_ADD] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
    [OB_INSERT] = "INSERT INTO polls(seq, meter, t, {cols}) VALUES (?, ?, ?, {params})",
    [OB_DUE] = "SELECT seq, meter, t, attempts, {cols} FROM polls "
               "WHERE sent_ms IS NULL OR sent_ms <= ?1 OR sent_ms > ?2 ORDER BY seq",
    [OB_PREV_HELD] = "SELECT max(seq) FROM polls WHERE seq < ?1",
    [OB_RANGES_BETWEEN] = "SELECT first, last FROM thinned WHERE first > ?1 AND first < ?2 "
                          "ORDER BY first",
    /* A batch is the first due polls in seq order: the due ones between its
     * first and last seq, marked in one statement. */
    [OB_MARK_SENT_RANGE] = "UPDATE polls SET sent_ms = ?1, attempts = attempts + 1 "
                           "WHERE seq >= ?2 AND seq <= ?3 "
                           "AND (sent_ms IS NULL OR sent_ms <= ?4 OR sent_ms > ?1)",
    [OB_MIN_SENT] = "SELECT min(sent_ms) FROM polls",
    [OB_BEGIN_READ] = "BEGIN",
    [OB_COUNT_BETWEEN] = "SELECT count(*) FROM polls WHERE seq > ?1 AND seq <= ?2",
    [OB_ACK_DELETE] = "DELETE FROM polls WHERE seq <= ?1",
    [OB_RANGES_PRUNE] = "DELETE FROM thinned WHERE last <= ?1",
    [OB_RANGES_TRIM] = "UPDATE thinned SET first = ?1 + 1 WHERE first <= ?1",
    [OB_DEPTH] = "SELECT count(*), coalesce(sum(sent_ms IS NULL), 0), coalesce(min(t), 0) "
                 "FROM polls",
    [OB_UNSEND_ALL] = "UPDATE polls SET sent_ms = NULL WHERE sent_ms IS NOT NULL",
    [OB_PAGE_COUNT] = "PRAGMA page_count",
    [OB_FREELIST_COUNT] = "PRAGMA freelist_count",
    [OB_RANGE_ENDING_AT] = "SELECT first FROM thinned WHERE last = ?1",
    [OB_RANGE_STARTING_AT] = "SELECT last FROM thinned WHERE first = ?1",
    [OB_RANGE_DELETE] = "DELETE FROM thinned WHERE first = ?1",
    [OB_RANGE_INSERT] = "INSERT INTO thinned(first, last) VALUES (?1, ?2)",
    [OB_UNSEND_NEXT_HELD] = "UPDATE polls SET sent_ms = NULL "
                            "WHERE seq = (SELECT min(seq) FROM polls WHERE seq > ?1)",
    [OB_DELETE_SEQ] = "DELETE FROM polls WHERE seq = ?1",
    [OB_ANY_THINNED] = "SELECT EXISTS (SELECT 1 FROM thinned)",
    [OB_SYNC_FULL] = "PRAGMA synchronous=FULL",
    [OB_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
    [OB_Q1_NTH_INSTANT_ONLY] = "SELECT seq FROM polls WHERE seq > ?1 AND {instant_any} "
                               "AND NOT {counter_any} AND {not_newest} "
                               "ORDER BY seq LIMIT 1 OFFSET ?2",
    [OB_Q1_CHUNK_END] = "SELECT max(seq) FROM (SELECT seq FROM polls WHERE seq > ?1 "
                        "AND {instant_any} AND {not_newest} ORDER BY seq LIMIT ?2)",
    [OB_Q1_COUNT] = "SELECT coalesce(sum({instant_count}), 0) FROM polls "
                    "WHERE seq > ?1 AND seq <= ?2 AND {not_newest}",
    [OB_Q1_DROP] = "UPDATE polls SET {instant_null} "
                   "WHERE seq > ?1 AND seq <= ?2 AND {instant_any} AND {not_newest}",
    [OB_Q1_EMPTIED] = "SELECT seq FROM polls WHERE seq > ?1 AND seq <= ?2 AND {all_null} "
                      "ORDER BY seq",
    [OB_Q2_NTH] = "SELECT seq FROM polls WHERE seq > ?1 AND {not_newest} AND {not_first} "
                  "ORDER BY seq LIMIT 1 OFFSET ?2",
    [OB_Q2_CHUNK_END] = "SELECT max(seq) FROM (SELECT seq FROM polls WHERE seq > ?1 "
                        "AND {not_newest} AND {not_first} ORDER BY seq LIMIT ?2)",
    [OB_Q2_LIST] = "SELECT seq FROM polls WHERE seq > ?1 AND seq <= ?2 AND {not_newest} "
                   "AND {not_first} ORDER BY seq",
};

/* ---- a small growable string, for building SQL ---------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_add(strbuf *b, const char *text, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->s, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *text)
{
    sb_add(b, text, strlen(text));
}

/* Joins, for each quantity of `kind` (or every quantity when kind < 0),
 * before + "name" + after, separated by sep, inside open/close. */
static char *join_columns(int kind, const char *open, const char *before, const char *after,
                          const char *sep, const char *close)
{
    strbuf b = {0};
    sb_puts(&b, open);
    bool first = true;
    for (int q = 0; q < OM_Q__COUNT; q++) {
        const om_quantity_info *info = om_quantity_get((om_quantity)q);
        if (kind >= 0 && (int)info->kind != kind)
            continue;
        if (!first)
            sb_puts(&b, sep);
        sb_puts(&b, before);
        sb_puts(&b, "\"");
        sb_puts(&b, info->name);
        sb_puts(&b, "\"");
        sb_puts(&b, after);
        first = false;
    }
    sb_puts(&b, close);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

typedef struct {
    const char *name;
    char *text;
} fragment;

enum {
    F_COLS,
    F_PARAMS,
    F_INSTANT_ANY,
    F_COUNTER_ANY,
    F_INSTANT_COUNT,
    F_INSTANT_NULL,
    F_ALL_NULL,
    F_NOT_NEWEST,
    F_NOT_FIRST,
    F__COUNT
};

static int build_fragments(fragment *f)
{
    char params[8 * OM_Q__COUNT] = "";
    for (int q = 0; q < OM_Q__COUNT; q++)
        strcat(params, q ? ", ?" : "?");
    f[F_COLS] = (fragment){"cols", join_columns(-1, "", "", "", ", ", "")};
    f[F_PARAMS] = (fragment){"params", strdup(params)};
    f[F_INSTANT_ANY] = (fragment){
        "instant_any", join_columns(OM_KIND_INSTANT, "(", "", " IS NOT NULL", " OR ", ")")};
    f[F_COUNTER_ANY] = (fragment){
        "counter_any", join_columns(OM_KIND_COUNTER, "(", "", " IS NOT NULL", " OR ", ")")};
    f[F_INSTANT_COUNT] = (fragment){
        "instant_count", join_columns(OM_KIND_INSTANT, "(", "(", " IS NOT NULL)", " + ", ")")};
    f[F_INSTANT_NULL] =
        (fragment){"instant_null", join_columns(OM_KIND_INSTANT, "", "", " = NULL", ", ", "")};
    f[F_ALL_NULL] = (fragment){"all_null", join_columns(-1, "(", "", " IS NULL", " AND ", ")")};
    /* The newest poll of a meter: greatest t, then greatest seq. Both tests
     * are seeks on polls_meter_t (whose entries end with the rowid, seq). */
    f[F_NOT_NEWEST] = (fragment){
        "not_newest",
        strdup("(EXISTS (SELECT 1 FROM polls q WHERE q.meter = polls.meter AND q.t > polls.t) "
               "OR EXISTS (SELECT 1 FROM polls q WHERE q.meter = polls.meter "
               "AND q.t = polls.t AND q.seq > polls.seq))")};
    /* Not the first poll of its meter in its 15-minute bucket: an earlier
     * poll of the same meter exists at or after the bucket's start. */
    char not_first[512];
    snprintf(not_first, sizeof not_first,
             "EXISTS (SELECT 1 FROM polls q WHERE q.meter = polls.meter "
             "AND q.t >= polls.t - polls.t %% %d "
             "AND (q.t < polls.t OR (q.t = polls.t AND q.seq < polls.seq)))",
             OM_OUTBOX_THIN_BUCKET_MS);
    f[F_NOT_FIRST] = (fragment){"not_first", strdup(not_first)};
    for (int i = 0; i < F__COUNT; i++)
        if (f[i].text == NULL)
            return -1;
    return 0;
}

static char *expand(const char *tmpl, const fragment *f)
{
    strbuf b = {0};
    const char *p = tmpl;
    while (*p) {
        const char *open = strchr(p, '{');
        if (open == NULL) {
            sb_puts(&b, p);
            break;
        }
        sb_add(&b, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        size_t n = close ? (size_t)(close - open - 1) : 0;
        const char *text = NULL;
        for (int i = 0; i < F__COUNT && close; i++)
            if (strlen(f[i].name) == n && strncmp(f[i].name, open + 1, n) == 0)
                text = f[i].text;
        if (text == NULL) { /* a typo in a template: fail loudly at open */
            free(b.s);
            return NULL;
        }
        sb_puts(&b, text);
        p = close + 1;
    }
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int ob_build_sql(om_outbox *ob)
{
    fragment f[F__COUNT] = {{0}};
    int rc = build_fragments(f);
    for (int i = 0; rc == 0 && i < OB__COUNT; i++) {
        ob->sql[i] = sql_templates[i] ? expand(sql_templates[i], f) : NULL;
        if (ob->sql[i] == NULL)
            rc = -1;
    }
    for (int i = 0; i < F__COUNT; i++)
        free(f[i].text);
    return rc;
}
