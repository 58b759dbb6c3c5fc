/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consumption.h - consumption from a cumulative counter over any period.
 *
 * A meter's counter readings (time, value) are first turned into one clean,
 * non-decreasing cumulative curve: rollovers unwrapped, glitches dropped,
 * resets and replacements joined as new segments. Consumption over [a, b)
 * is then the curve at b minus the curve at a, each interpolated linearly
 * between the nearest points on either side (a point exactly at a boundary
 * is used as is). Because every period is a difference of one curve,
 * [a, c) = [a, b) + [b, c) for any b, and a month's figures add up to the
 * year's. Every decision that changes the figures is recorded as an event,
 * so an auditor can follow it. Methodology: docs/methodology.md.
 *
 * Pure: no I/O, no clock, no time zones.
 */
#ifndef OFFICEMETER_CONSUMPTION_H
#define OFFICEMETER_CONSUMPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One reading: t in ms UTC, value in canonical units (kWh, m³). */
typedef struct {
    int64_t t;
    double v;
} om_sample;

/* A meter replacement: the old hardware's final value and the new
 * hardware's initial value at `at`. Readings at or after `at` are the new
 * hardware's. NAN for a value the site file does not give: nothing is
 * counted after the old hardware's last reading, and the new hardware
 * counts from its first reading. */
typedef struct {
    int64_t at;
    double old_final;
    double new_initial;
} om_counter_break;

typedef struct {
    double width;           /* counter wraps to 0 at this value (canonical units); 0 = never */
    double max_rate_per_h;  /* the most the meter can plausibly count per hour; 0 = no bound */
    int64_t interval_ms;    /* nominal interval between readings */
    unsigned gap_intervals; /* an interval longer than this many is a gap; 0 = none */
    double reset_level;     /* a reading at or below this is "near zero" */
    unsigned lookahead;     /* readings after a suspicious one that may contradict it */
    int64_t active_from;    /* service life (ms UTC); OM_COUNTER_OPEN when open */
    int64_t active_until;
    const om_counter_break *breaks; /* in time order */
    size_t nbreaks;
} om_counter_opts;

#define OM_COUNTER_OPEN INT64_MIN

typedef enum {
    OM_CEV_GLITCH,      /* reading contradicted by the following ones: ignored */
    OM_CEV_WRAP,        /* rollover at the counter width: counted across */
    OM_CEV_RESET,       /* drop to near zero that persists: new segment, counted from 0 */
    OM_CEV_BACKSTEP,    /* backwards step that persists, not near zero: nothing counted */
    OM_CEV_JUMP,        /* forward step above the plausible rate that persists: not counted */
    OM_CEV_REPLACEMENT, /* meter replaced (site file): counted up to old_final, on from new_initial */
    OM_CEV_GAP,         /* readings further apart than gap_intervals: interpolated, estimated */
    OM_CEV_CONFLICT,    /* same time, different value: the first reading kept */
    OM_CEV_UNCONFIRMED, /* drop in the last readings with nothing after it yet: ignored for now */
    OM_CEV__COUNT
} om_counter_event_kind;

typedef struct {
    om_counter_event_kind kind;
    int64_t t;      /* the reading concerned; a gap's start */
    int64_t t_end;  /* a gap's end; otherwise t */
    double before;  /* counter value before (the previous reading, or old_final) */
    double after;   /* counter value after (the reading, or new_initial) */
    double counted; /* consumption counted for the step (a gap: interpolated across it) */
} om_counter_event;

/* Consumption over one period and how much of it rests on actual data. */
typedef struct {
    double value;        /* consumption in the known part of the period */
    double estimated;    /* part of value interpolated across gaps */
    int64_t expected_ms; /* part of the period inside the active period */
    int64_t known_ms;    /* ... also between the first and the last point of the curve */
    int64_t actual_ms;   /* ... also outside gaps: time with actual data */
    bool start_known;    /* the curve reaches back to the period's start */
    bool end_known;      /* the curve reaches the period's end */
    bool start_in_gap;   /* the start was interpolated across a gap */
    bool end_in_gap;
} om_consumption;

typedef struct om_counter om_counter;

/* Sensible defaults: no width, no rate bound, 60 s interval, gaps after 10
 * intervals, reset level 0, lookahead 3, always active, no breaks. */
void om_counter_opts_default(om_counter_opts *opts);

/* Builds the clean curve from readings in non-decreasing time order
 * (duplicates allowed). Returns NULL on a bad argument (readings out of
 * order, a non-finite value) with errno EINVAL, or on ENOMEM. */
om_counter *om_counter_new(const om_sample *samples, size_t n, const om_counter_opts *opts);
void om_counter_free(om_counter *c);

/* Consumption over [a, b), clipped to the active period. Returns 0, or -1
 * when b < a. */
int om_counter_consumption(const om_counter *c, int64_t a, int64_t b, om_consumption *out);

/* The clean curve's value at t (for traces and tests); -1 outside it. */
int om_counter_value_at(const om_counter *c, int64_t t, double *value);
/* A point of the clean curve: its time and cumulative value. */
typedef struct {
    int64_t t;
    double u;
} om_curve_point;

/* The curve points on either side of t (both the same point when one is
 * at t), from which the value at t is interpolated; -1 outside the curve. */
int om_counter_bracket(const om_counter *c, int64_t t, om_curve_point *before,
                       om_curve_point *after);
/* Time span of the curve; -1 when it is empty. */
int om_counter_span(const om_counter *c, int64_t *first, int64_t *last);

/* Every event, in time order. */
const om_counter_event *om_counter_events(const om_counter *c, size_t *n);
/* True when the event concerns [a, b): its time is inside, or a gap overlaps. */
bool om_counter_event_in(const om_counter_event *ev, int64_t a, int64_t b);
const char *om_counter_event_name(om_counter_event_kind kind);
int om_counter_event_from_name(const char *name, om_counter_event_kind *out);

/* Number of readings with t in [a, b); samples in time order. */
size_t om_samples_count(const om_sample *samples, size_t n, int64_t a, int64_t b);

#endif
