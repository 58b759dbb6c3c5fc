/* SPDX-License-Identifier: Apache-2.0 */
/*
 * isotime.c - strict ISO 8601 parsing and formatting, no time zone database.
 *
 * Civil-date arithmetic uses the days-from-civil algorithm (era of 400
 * years), which is exact for the whole int32 day range and does not depend
 * on the process's TZ or on timegm().
 */
#include "officemeter/base/isotime.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int32_t om_days_from_civil(int year, unsigned month, unsigned day)
{
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void om_civil_from_days(int32_t days, int *year, unsigned *month, unsigned *day)
{
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = m;
    *day = d;
}

static unsigned days_in_month(int year, unsigned month)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : dim[month - 1];
}

/* Reads exactly n digits; returns -1 if any is not a digit. */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int parse_date_part(const char **p, int *y, unsigned *mo, unsigned *d)
{
    int year, month, day;
    if (read_digits(p, 4, &year) < 0 || **p != '-')
        return -1;
    (*p)++;
    if (read_digits(p, 2, &month) < 0 || **p != '-')
        return -1;
    (*p)++;
    if (read_digits(p, 2, &day) < 0)
        return -1;
    if (month < 1 || month > 12 || day < 1 || (unsigned)day > days_in_month(year, (unsigned)month))
        return -1;
    *y = year;
    *mo = (unsigned)month;
    *d = (unsigned)day;
    return 0;
}

int om_parse_date(const char *text, int32_t *days)
{
    const char *p = text;
    int y;
    unsigned m, d;
    if (parse_date_part(&p, &y, &m, &d) < 0 || *p != '\0')
        return -1;
    *days = om_days_from_civil(y, m, d);
    return 0;
}

/* Parses "Z" or "±HH:MM" into an offset in minutes east of UTC. */
static int parse_offset(const char **p, int *minutes)
{
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *minutes = 0;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    int hh, mm;
    if (read_digits(p, 2, &hh) < 0)
        return -1;
    if (**p == ':')
        (*p)++;
    if (read_digits(p, 2, &mm) < 0 || hh > 23 || mm > 59)
        return -1;
    *minutes = sign * (hh * 60 + mm);
    return 0;
}

int om_parse_iso8601(const char *text, int64_t *ms)
{
    const char *p = text;
    int y;
    unsigned mo, d;
    if (parse_date_part(&p, &y, &mo, &d) < 0)
        return -1;
    int64_t result = (int64_t)om_days_from_civil(y, mo, d) * 86400000;
    if (*p == '\0') {
        *ms = result;
        return 0;
    }
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    int hh, mi, ss = 0, frac = 0;
    if (read_digits(&p, 2, &hh) < 0 || *p++ != ':' || read_digits(&p, 2, &mi) < 0)
        return -1;
    if (*p == ':') {
        p++;
        if (read_digits(&p, 2, &ss) < 0)
            return -1;
        if (*p == '.') {
            p++;
            int ndig = 0;
            while (isdigit((unsigned char)*p)) {
                if (ndig < 3)
                    frac = frac * 10 + (*p - '0');
                ndig++;
                p++;
            }
            if (ndig == 0)
                return -1;
            for (; ndig < 3; ndig++)
                frac *= 10;
        }
    }
    if (hh > 23 || mi > 59 || ss > 60)
        return -1;
    int offset = 0;
    if (parse_offset(&p, &offset) < 0 || *p != '\0')
        return -1;
    result += ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac;
    result -= (int64_t)offset * 60000;
    *ms = result;
    return 0;
}

int om_iso8601_has_offset(const char *text)
{
    size_t n = strlen(text);
    if (n == 0)
        return 0;
    if (text[n - 1] == 'Z' || text[n - 1] == 'z')
        return 1;
    /* ±HH:MM or ±HHMM at the end, after a time part */
    const char *t = strchr(text, 'T');
    if (!t)
        return 0;
    return strchr(t, '+') != NULL || strchr(t, '-') != NULL;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

char *om_format_iso8601(int64_t ms, char *buf, size_t len)
{
    int64_t days = floor_div(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    int y;
    unsigned mo, d;
    om_civil_from_days((int32_t)days, &y, &mo, &d);
    int h = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60), s = (int)(rem / 1000 % 60);
    snprintf(buf, len, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, (int)(rem % 1000));
    return buf;
}

char *om_format_date(int32_t days, char *buf, size_t len)
{
    int y;
    unsigned mo, d;
    om_civil_from_days(days, &y, &mo, &d);
    snprintf(buf, len, "%04d-%02u-%02u", y, mo, d);
    return buf;
}
