/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bills.c - read utility bills (sites/bills/SITE.csv): a small RFC 4180
 * reader over a buffer, then one check per field.
 *
 * The file comes from outside (a landlord's export, an accounts team's
 * spreadsheet), so the reader trusts nothing: any byte may appear, lines
 * may be of any length, quotes may not close. Every problem is an error
 * naming file, line, byte column and field; a bad row is never skipped
 * silently, and after OM_BILLS_MAX_ERRORS errors the rest of a file's are
 * counted in one last message, so a hostile file cannot flood memory.
 *
 * Accepted on top of RFC 4180, because spreadsheets write them: a UTF-8
 * byte order mark, spaces around fields, blank lines and lines starting
 * with '#' (comments). Not accepted: a line break inside quotes (no field
 * of a bill needs one).
 */
#include "officemeter/config/bills.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/path.h"
#include "officemeter/base/isotime.h"

enum {
    COL_UTILITY,
    COL_ACCOUNT,
    COL_START,
    COL_END,
    COL_QUANTITY,
    COL_UNIT,
    COL_SOURCE,
    COL_DOCUMENT,
    NCOLS
};

static const char *const col_names[NCOLS] = {"utility",  "account", "period_start",
                                             "period_end", "quantity", "unit",
                                             "source",   "document"};
static const char *const source_names[OM_BILL__COUNT] = {"invoice", "landlord", "estimated"};

/* The longest field text kept; a longer one is an error. */
#define FIELD_MAX 256
/* Fields read per row before "too many fields". */
#define FIELDS_MAX (NCOLS + 4)

typedef struct {
    char text[FIELD_MAX + 1];
    size_t col;    /* byte column of the field's first character, 1-based */
    bool too_long;
} field;

typedef struct {
    const char *file;
    const char *site;
    const char *p, *end;
    size_t line;       /* of the current record */
    const char *bol;   /* its first byte */
    om_diag *diag;
    size_t errors;     /* all of this file's, reported or not */
    om_bill_set *set;
    const char *file_copy; /* the set's copy of `file` */
} reader;

static void error_at(reader *r, size_t col, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_at(reader *r, size_t col, const char *key, const char *fmt, ...)
{
    r->errors++;
    if (r->errors > OM_BILLS_MAX_ERRORS)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    om_diag_add(r->diag, r->file, r->line, col ? col : 1, key, "%s", msg);
}

/* A field's text for a message: quoted, cut, control bytes shown as '?'. */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t n = 0;
    buf[n++] = '"';
    for (; *s && n + 5 < len; s++)
        buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    if (*s) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

/* ---- the CSV reader ------------------------------------------------------- */

static bool at_eol(const reader *r)
{
    return r->p >= r->end || *r->p == '\n' ||
           (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n');
}

static void skip_eol(reader *r)
{
    if (r->p < r->end && *r->p == '\r')
        r->p++;
    if (r->p < r->end && *r->p == '\n')
        r->p++;
}

/* Moves past the rest of the current line (after an error in it). */
static void skip_line(reader *r)
{
    while (r->p < r->end && *r->p != '\n')
        r->p++;
    if (r->p < r->end)
        r->p++;
}

static size_t col_of(const reader *r, const char *at)
{
    return (size_t)(at - r->bol) + 1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void put(field *f, size_t *n, char c)
{
    if (*n < FIELD_MAX)
        f->text[(*n)++] = c;
    else
        f->too_long = true;
}

/* A control byte other than tab inside a field: refused (it is no text a
 * bill has, and it would corrupt every message that shows the field). */
static bool bad_byte(reader *r, const char *at, int idx)
{
    unsigned char c = (unsigned char)*at;
    if (c >= 0x20 && c != 0x7f)
        return false;
    if (c == '\t')
        return false;
    error_at(r, col_of(r, at), idx < NCOLS ? col_names[idx] : NULL,
             "control byte 0x%02x in the field (expected text)", c);
    return true;
}

/* Reads a quoted field's body; r->p is just after the opening quote.
 * Returns 0, or -1 after reporting an error (the line is then skipped). */
static int read_quoted(reader *r, field *f, size_t *n, int idx)
{
    const char *open = r->p - 1;
    for (;;) {
        if (r->p >= r->end || *r->p == '\n' || *r->p == '\r') {
            error_at(r, col_of(r, open), idx < NCOLS ? col_names[idx] : NULL,
                     "quote not closed on this line (expected \"...\")");
            return -1;
        }
        if (*r->p == '"') {
            if (r->p + 1 < r->end && r->p[1] == '"') {
                put(f, n, '"');
                r->p += 2;
                continue;
            }
            r->p++;
            break;
        }
        if (bad_byte(r, r->p, idx))
            return -1;
        put(f, n, *r->p++);
    }
    while (r->p < r->end && is_blank(*r->p))
        r->p++;
    if (!at_eol(r) && *r->p != ',') {
        error_at(r, col_of(r, r->p), idx < NCOLS ? col_names[idx] : NULL,
                 "text after the closing quote (expected a comma or the end of the line)");
        return -1;
    }
    return 0;
}

/* Reads one field; leaves r->p on the comma or the end of the line. */
static int read_field(reader *r, field *f, int idx)
{
    size_t n = 0;
    f->too_long = false;
    while (r->p < r->end && is_blank(*r->p))
        r->p++;
    f->col = col_of(r, r->p);
    if (r->p < r->end && *r->p == '"') {
        r->p++;
        if (read_quoted(r, f, &n, idx) < 0)
            return -1;
    } else {
        while (!at_eol(r) && *r->p != ',') {
            if (*r->p == '"') {
                error_at(r, col_of(r, r->p), idx < NCOLS ? col_names[idx] : NULL,
                         "quote inside an unquoted field (expected the whole field in quotes, "
                         "with \"\" for a quote)");
                return -1;
            }
            if (bad_byte(r, r->p, idx))
                return -1;
            put(f, &n, *r->p++);
        }
        while (n > 0 && is_blank(f->text[n - 1]))
            n--;
    }
    f->text[n] = '\0';
    return 0;
}

/* Reads one record into fields; returns the number of fields, 0 for a line
 * to ignore (blank or comment), -1 after an error (line skipped). */
static int read_record(reader *r, field *fields)
{
    r->bol = r->p;
    const char *q = r->p;
    while (q < r->end && is_blank(*q))
        q++;
    if (q >= r->end || *q == '\n' || (*q == '\r' && q + 1 < r->end && q[1] == '\n') ||
        *q == '#') {
        skip_line(r);
        return 0;
    }
    int n = 0;
    for (;;) {
        if (n == FIELDS_MAX) {
            error_at(r, col_of(r, r->p), NULL, "too many fields (expected %d)", NCOLS);
            skip_line(r);
            return -1;
        }
        if (read_field(r, &fields[n], n) < 0) {
            skip_line(r);
            return -1;
        }
        n++;
        if (at_eol(r))
            break;
        r->p++; /* the comma */
    }
    skip_eol(r);
    return n;
}

/* ---- one row ------------------------------------------------------------------ */

static int parse_enum(reader *r, const field *f, int idx, const char *const *names, int count,
                      int *out)
{
    for (int i = 0; i < count; i++)
        if (strcmp(f->text, names[i]) == 0) {
            *out = i;
            return 0;
        }
    char got[80], expect[160] = "";
    for (int i = 0; i < count; i++)
        snprintf(expect + strlen(expect), sizeof expect - strlen(expect), "%s%s",
                 i == 0 ? "" : i + 1 == count ? " or " : ", ", names[i]);
    error_at(r, f->col, col_names[idx], "unknown value (got %s, expected %s)",
             shown(f->text, got, sizeof got), expect);
    return -1;
}

static int parse_text(reader *r, const field *f, int idx, char *dst, size_t len)
{
    char got[80];
    if (!f->text[0]) {
        error_at(r, f->col, col_names[idx], "empty (expected the %s as on the bill)",
                 idx == COL_ACCOUNT ? "account number" : "invoice number or file name");
        return -1;
    }
    if (strlen(f->text) >= len) {
        error_at(r, f->col, col_names[idx], "too long (got %s, expected at most %zu characters)",
                 shown(f->text, got, sizeof got), len - 1);
        return -1;
    }
    snprintf(dst, len, "%s", f->text);
    return 0;
}

static int parse_day(reader *r, const field *f, int idx, om_date *out)
{
    char got[80];
    int32_t d;
    if (strlen(f->text) != 10 || om_parse_date(f->text, &d) < 0) {
        error_at(r, f->col, col_names[idx], "invalid date (got %s, expected YYYY-MM-DD)",
                 shown(f->text, got, sizeof got));
        return -1;
    }
    *out = d;
    return 0;
}

/* A plain decimal number: digits, an optional fraction, an optional
 * exponent. No sign, no thousands separator, no hex, no inf or nan. */
static bool plain_decimal(const char *s)
{
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

static int parse_quantity(reader *r, const field *f, double *out)
{
    char got[80];
    errno = 0;
    double v = plain_decimal(f->text) ? strtod(f->text, NULL) : NAN;
    if (!isfinite(v) || errno == ERANGE || v > 1e12) {
        error_at(r, f->col, col_names[COL_QUANTITY],
                 "invalid quantity (got %s, expected a number from 0 to 1e12, such as 1234.5, "
                 "without sign or thousands separator)",
                 shown(f->text, got, sizeof got));
        return -1;
    }
    *out = v;
    return 0;
}

/* The unit's factor to canonical units (kWh, m³), or 0 when it does not
 * suit the utility. */
static double unit_factor(om_utility u, const char *unit)
{
    if (u == OM_UTILITY_ELECTRICITY)
        return strcmp(unit, "kWh") == 0 ? 1 : strcmp(unit, "MWh") == 0 ? 1000 : 0;
    return strcmp(unit, "m3") == 0 || strcmp(unit, "m\xc2\xb3") == 0 ? 1 : 0;
}

static int parse_row(reader *r, const field *fields, int n, om_bill *b)
{
    char got[80];
    memset(b, 0, sizeof *b);
    if (n != NCOLS) {
        error_at(r, n > NCOLS ? fields[NCOLS].col : col_of(r, r->p), NULL,
                 "%d fields (expected %d: %s,%s,%s,%s,%s,%s,%s,%s)", n, NCOLS, col_names[0],
                 col_names[1], col_names[2], col_names[3], col_names[4], col_names[5],
                 col_names[6], col_names[7]);
        return -1;
    }
    int bad = 0;
    for (int i = 0; i < NCOLS; i++)
        if (fields[i].too_long) {
            error_at(r, fields[i].col, col_names[i], "longer than %d characters", FIELD_MAX);
            bad = -1;
        }
    if (bad)
        return -1;
    int utility = 0, source = 0;
    int utility_ok = parse_enum(r, &fields[COL_UTILITY], COL_UTILITY,
                                (const char *const[]){"electricity", "water"}, 2, &utility);
    bad |= utility_ok;
    b->utility = (om_utility)utility;
    bad |= parse_text(r, &fields[COL_ACCOUNT], COL_ACCOUNT, b->account, sizeof b->account);
    int start_ok = parse_day(r, &fields[COL_START], COL_START, &b->start);
    int end_ok = parse_day(r, &fields[COL_END], COL_END, &b->end);
    bad |= start_ok | end_ok;
    if (start_ok == 0 && end_ok == 0 && b->end < b->start) {
        error_at(r, fields[COL_END].col, col_names[COL_END],
                 "before period_start (got %s, expected %s or later; both days are included)",
                 fields[COL_END].text, fields[COL_START].text);
        bad = -1;
    } else if (start_ok == 0 && end_ok == 0 && b->end - b->start + 1 > OM_BILL_MAX_DAYS) {
        error_at(r, fields[COL_END].col, col_names[COL_END],
                 "period of %d days (expected at most %d)", (int)(b->end - b->start + 1),
                 OM_BILL_MAX_DAYS);
        bad = -1;
    }
    bad |= parse_quantity(r, &fields[COL_QUANTITY], &b->written);
    snprintf(b->unit, sizeof b->unit, "%.7s", fields[COL_UNIT].text);
    double factor = utility_ok == 0 ? unit_factor(b->utility, fields[COL_UNIT].text) : 1;
    if (factor == 0) {
        error_at(r, fields[COL_UNIT].col, col_names[COL_UNIT],
                 "unit does not suit %s (got %s, expected %s)", fields[COL_UTILITY].text,
                 shown(fields[COL_UNIT].text, got, sizeof got),
                 b->utility == OM_UTILITY_ELECTRICITY ? "kWh or MWh" : "m3");
        bad = -1;
    }
    b->quantity = b->written * factor;
    bad |= parse_enum(r, &fields[COL_SOURCE], COL_SOURCE, source_names, OM_BILL__COUNT, &source);
    b->source = (om_bill_source)source;
    bad |= parse_text(r, &fields[COL_DOCUMENT], COL_DOCUMENT, b->document, sizeof b->document);
    snprintf(b->site, sizeof b->site, "%s", r->site);
    b->file = r->file_copy;
    b->line = r->line;
    return bad ? -1 : 0;
}

static int check_header(reader *r, const field *fields, int n)
{
    char got[80];
    for (int i = 0; i < NCOLS; i++) {
        if (i >= n) {
            error_at(r, col_of(r, r->p), NULL,
                     "header has %d columns (expected %s,%s,%s,%s,%s,%s,%s,%s)", n,
                     col_names[0], col_names[1], col_names[2], col_names[3], col_names[4],
                     col_names[5], col_names[6], col_names[7]);
            return -1;
        }
        if (strcmp(fields[i].text, col_names[i]) != 0) {
            error_at(r, fields[i].col, NULL, "header column %d is %s (expected %s)", i + 1,
                     shown(fields[i].text, got, sizeof got), col_names[i]);
            return -1;
        }
    }
    if (n > NCOLS) {
        error_at(r, fields[NCOLS].col, NULL, "header has %d columns (expected %d)", n, NCOLS);
        return -1;
    }
    return 0;
}

static int append_bill(om_bill_set *set, const om_bill *b)
{
    om_bill *grown = om_grow(set->bills, &set->cap, set->nbills, sizeof *grown);
    if (!grown)
        return -1;
    set->bills = grown;
    set->bills[set->nbills++] = *b;
    return 0;
}

static const char *keep_file(om_bill_set *set, const char *file)
{
    char **grown = realloc(set->files, (set->nfiles + 1) * sizeof *grown);
    char *copy = strdup(file);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            set->files = grown;
        return NULL;
    }
    set->files = grown;
    set->files[set->nfiles++] = copy;
    return copy;
}

int om_bills_parse(const char *file, const char *site, const char *buf, size_t len,
                   om_bill_set *set, om_diag *diag)
{
    reader r = {.file = file, .site = site, .p = buf, .end = buf + len, .diag = diag, .set = set};
    r.file_copy = keep_file(set, file);
    if (!r.file_copy) {
        om_diag_add(diag, file, 0, 0, NULL, "out of memory");
        return -1;
    }
    if (!om_id_valid(site)) {
        om_diag_add(diag, file, 0, 0, NULL,
                    "the file name is not a site id (got \"%s\", expected SITE.csv)", site);
        return -1;
    }
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        r.p += 3; /* the byte order mark spreadsheets write */
    field *fields = malloc(FIELDS_MAX * sizeof *fields);
    if (!fields) {
        om_diag_add(diag, file, 0, 0, NULL, "out of memory");
        return -1;
    }
    bool header = false;
    int rc = 0;
    for (r.line = 1; r.p < r.end; r.line++) {
        int n = read_record(&r, fields);
        if (n <= 0)
            continue;
        if (!header) {
            if (check_header(&r, fields, n) < 0)
                break; /* rows cannot be read without their columns */
            header = true;
            continue;
        }
        om_bill b;
        if (parse_row(&r, fields, n, &b) == 0 && append_bill(set, &b) < 0) {
            om_diag_add(diag, file, r.line, 1, NULL, "out of memory");
            rc = -1;
            break;
        }
    }
    free(fields);
    if (!header && r.errors == 0)
        error_at(&r, 1, NULL, "no header (expected %s,%s,%s,%s,%s,%s,%s,%s)", col_names[0],
                 col_names[1], col_names[2], col_names[3], col_names[4], col_names[5],
                 col_names[6], col_names[7]);
    if (r.errors > OM_BILLS_MAX_ERRORS)
        om_diag_add(diag, file, 0, 0, NULL, "%zu more errors not shown",
                    r.errors - OM_BILLS_MAX_ERRORS);
    return rc < 0 || r.errors ? -1 : 0;
}

/* ---- files and folders ------------------------------------------------------ */

static char *read_file(const char *path, size_t *len, om_diag *diag)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        om_diag_add(diag, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 65536;
            char *grown = grown_cap > cap ? realloc(buf, grown_cap) : NULL;
            if (!grown) {
                om_diag_add(diag, path, 0, 0, NULL, "out of memory");
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
            cap = grown_cap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        om_diag_add(diag, path, 0, 0, NULL, "cannot read");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int om_bills_load(const char *path, om_bill_set *set, om_diag *diag)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t stem = strlen(base);
    if (stem > 4 && strcmp(base + stem - 4, ".csv") == 0)
        stem -= 4;
    char site[OM_ID_MAX + 8];
    snprintf(site, sizeof site, "%.*s", (int)(stem < OM_ID_MAX + 4 ? stem : OM_ID_MAX + 4), base);
    size_t len;
    char *buf = read_file(path, &len, diag);
    if (!buf)
        return -1;
    int rc = om_bills_parse(path, site, buf, len, set, diag);
    free(buf);
    return rc;
}

static bool is_csv(const char *name)
{
    return om_path_has_suffix(name, ".csv");
}

int om_bills_load_dir(const char *dir, om_bill_set *set, om_diag *diag)
{
    char **names;
    size_t n;
    if (om_dir_list(dir, is_csv, &names, &n) < 0) {
        if (errno == ENOENT)
            return 0;
        om_diag_add(diag, dir, 0, 0, NULL, "cannot read folder: %s", strerror(errno));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = om_path_join(dir, names[i]);
        if (!path || om_bills_load(path, set, diag) < 0)
            rc = -1;
        free(path);
    }
    om_dir_list_free(names, n);
    return rc;
}

void om_bills_free(om_bill_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->nfiles; i++)
        free(set->files[i]);
    free(set->files);
    free(set->bills);
    memset(set, 0, sizeof *set);
}

/* ---- double counting ------------------------------------------------------------ */

size_t om_bills_overlap_of(const om_bill_set *set, size_t i)
{
    const om_bill *a = &set->bills[i];
    for (size_t j = 0; j < i; j++) {
        const om_bill *b = &set->bills[j];
        if (strcmp(a->site, b->site) != 0)
            continue;
        bool same_account = a->utility == b->utility && strcmp(a->account, b->account) == 0;
        if ((same_account && a->start <= b->end && b->start <= a->end) ||
            strcmp(a->document, b->document) == 0)
            return j;
    }
    return SIZE_MAX;
}

size_t om_bills_check_overlaps(const om_bill_set *set, om_diag *diag)
{
    size_t found = 0;
    char a0[16], a1[16];
    for (size_t i = 0; i < set->nbills; i++) {
        size_t j = om_bills_overlap_of(set, i);
        if (j == SIZE_MAX)
            continue;
        const om_bill *a = &set->bills[i], *b = &set->bills[j];
        found++;
        if (strcmp(a->document, b->document) == 0)
            om_diag_add(diag, a->file, a->line, 1, "document",
                        "document %s is already on line %zu: the same bill twice "
                        "(officemeter reconcile shows what it would double)",
                        a->document, b->line);
        else
            om_diag_add(diag, a->file, a->line, 1, "period_start",
                        "%s account %s: %s..%s overlaps line %zu (%s, %s..%s): the same "
                        "days billed twice (officemeter reconcile shows what it would double)",
                        a->utility == OM_UTILITY_WATER ? "water" : "electricity", a->account,
                        om_format_date(a->start, a0, sizeof a0),
                        om_format_date(a->end, a1, sizeof a1), b->line, b->document,
                        om_format_date(b->start, (char[16]){0}, 16),
                        om_format_date(b->end, (char[16]){0}, 16));
    }
    return found;
}

const char *om_bill_source_name(om_bill_source source)
{
    return (unsigned)source < OM_BILL__COUNT ? source_names[source] : "?";
}

unsigned om_bill_days(const om_bill *bill)
{
    return (unsigned)(bill->end - bill->start + 1);
}

size_t om_bills_check_sites(const om_bill_set *set, const om_site *sites, size_t n,
                            om_diag *diag)
{
    size_t unknown = 0;
    for (size_t i = 0; i < set->nbills; i++) {
        const om_bill *b = &set->bills[i];
        if (i > 0 && strcmp(set->bills[i - 1].site, b->site) == 0)
            continue; /* one error per file */
        bool known = false;
        for (size_t s = 0; s < n && !known; s++)
            known = sites[s].site && strcmp(sites[s].site, b->site) == 0;
        if (!known) {
            om_diag_add(diag, b->file, 0, 0, NULL,
                        "bills of an unknown site (got \"%s\", expected SITE.csv of a site file)",
                        b->site);
            unknown++;
        }
    }
    return unknown;
}
