/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schedule.c - wall-clock aligned ticks and dead-meter backoff.
 */
#include "schedule.h"

static int64_t next_multiple(int64_t t, int64_t step)
{
    /* floor division that is correct for negative t too */
    int64_t q = t / step;
    if (t < 0 && t % step != 0)
        q--;
    return (q + 1) * step;
}

int64_t om_schedule_next(const om_schedule *s, int64_t t_ms)
{
    int64_t a = next_multiple(t_ms, s->counters_ms);
    int64_t b = next_multiple(t_ms, s->instant_ms);
    return a < b ? a : b;
}

bool om_schedule_counters_due(const om_schedule *s, int64_t tick_ms)
{
    return tick_ms % s->counters_ms == 0;
}

bool om_schedule_instant_due(const om_schedule *s, int64_t tick_ms)
{
    return tick_ms % s->instant_ms == 0;
}

int64_t om_schedule_first(const om_schedule *s, int64_t resume_ms, int64_t now_ms)
{
    int64_t next = om_schedule_next(s, now_ms);
    if (resume_ms <= 0)
        return next;
    int64_t missed = om_schedule_next(s, resume_ms);
    return missed <= now_ms && om_schedule_next(s, missed) == next ? missed : next;
}

uint64_t om_schedule_missed(const om_schedule *s, int64_t from_ms, int64_t to_ms)
{
    uint64_t n = 0;
    for (int64_t t = om_schedule_next(s, from_ms); t <= to_ms && n < 1000000;
         t = om_schedule_next(s, t))
        n++;
    return n;
}

int64_t om_backoff_ms(int64_t base_ms, int64_t max_ms, unsigned failures)
{
    int64_t d = base_ms;
    for (unsigned i = 1; i < failures && d < max_ms; i++)
        d *= 2;
    return d < max_ms ? d : max_ms;
}
