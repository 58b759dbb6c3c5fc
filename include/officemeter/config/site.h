/* SPDX-License-Identifier: Apache-2.0 */
/*
 * site.h - one office: gateways, buses, meters, floor area, replacements.
 *
 * sites/NAME.yaml is the single source of truth for an office. The agent
 * reads the file of its own gateway, the aggregator all of them, the
 * simulator serves the meters it declares.
 */
#ifndef OFFICEMETER_SITE_H
#define OFFICEMETER_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/calendar.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/base/diag.h"
#include "officemeter/base/quantity.h"

/* Dates are om_date (days since 1970-01-01, a local calendar date);
 * timestamps are int64 milliseconds UTC. */
#define OM_TIME_NONE INT64_MIN

typedef enum { OM_BUS_RTU, OM_BUS_TCP } om_bus_kind;

typedef struct {
    char *device;
    unsigned baud;
    char parity;
    unsigned data_bits;
    unsigned stop_bits;
} om_rtu_params;

typedef struct {
    char *host;
    unsigned port;
} om_tcp_params;

typedef struct {
    char *id;
    om_bus_kind kind;
    /* What the site file declares. A --bus override may reach a bus over
     * another transport (an RS-485 line through a test's TCP port): `kind`
     * follows it, the request plan follows the declared line. */
    om_bus_kind declared_kind;
    om_rtu_params rtu;
    om_tcp_params tcp;
    size_t line; /* where it was declared, for messages */
} om_bus;

typedef struct {
    char *id;
    om_bus *buses;
    size_t nbuses;
} om_gateway;

typedef enum { OM_UTILITY_ELECTRICITY, OM_UTILITY_WATER } om_utility;
typedef enum { OM_ROLE_MAIN, OM_ROLE_SUB } om_role;

typedef struct {
    char *id;
    char *model_id;
    const om_model *model; /* resolved against the catalogue, or NULL */
    char *gateway_id;
    char *bus_id;
    unsigned unit_id;
    unsigned channel;        /* counter modules */
    double litres_per_pulse; /* pulse counters; 0 when not set */
    om_utility utility;
    om_role role;
    int64_t active_from;  /* ms UTC, OM_TIME_NONE when open */
    int64_t active_until; /* ms UTC, OM_TIME_NONE when open */
    size_t line;
} om_meter;

typedef struct {
    om_date from;
    double m2;
} om_area_period;

typedef struct {
    int year;
    unsigned count;
} om_headcount;

typedef struct {
    om_quantity quantity;
    double value;
} om_counter_value;

typedef struct {
    char *meter_id;
    int64_t at; /* ms UTC */
    om_counter_value *old_final;
    size_t nold_final;
    om_counter_value *new_initial;
    size_t nnew_initial;
} om_replacement;

/* Contractual instruments for market-based scope 2: MWh of green power per
 * year (certificates or contracts). */
typedef struct {
    int year;
    double mwh;
    char *kind; /* "certificate", "contract" */
} om_instrument;

typedef struct {
    char *site;     /* id: lower-case, used in MQTT topics */
    char *name;
    char *timezone; /* IANA zone */
    char *grid_region;
    bool net_export; /* electricity total is import minus export */
    om_area_period *floor_area;
    size_t nfloor_area;
    om_headcount *headcount;
    size_t nheadcount;
    om_gateway *gateways;
    size_t ngateways;
    om_meter *meters;
    size_t nmeters;
    om_replacement *replacements;
    size_t nreplacements;
    om_instrument *instruments;
    size_t ninstruments;
    char *path;
} om_site;

/* Load a site file. When cat is non-NULL, model references are resolved and
 * checked against it (and channel/litres_per_pulse against the model). */
int om_site_load(const char *path, const om_catalogue *cat, om_site *out, om_diag *diag);
void om_site_free(om_site *site);

const om_gateway *om_site_find_gateway(const om_site *site, const char *id);
const om_bus *om_gateway_find_bus(const om_gateway *gw, const char *id);
const om_meter *om_site_find_meter(const om_site *site, const char *id);
/* The bus a meter is attached to, or NULL. */
const om_bus *om_site_meter_bus(const om_site *site, const om_meter *meter);

/* ---- a site over a period (site_period.c) ---- */

/* Floor area on a local date: the row in force, 0 before the first. */
double om_area_on(const om_area_period *rows, size_t n, om_date day);
/* Sum of area x days over the year / days in the year (an office that
 * opens or moves in the year counts each area for the days it held). */
double om_area_time_weighted(const om_area_period *rows, size_t n, int year);
/* Area in force on the year's last day. */
double om_area_year_end(const om_area_period *rows, size_t n, int year);

/* Clips [*a, *b) to the meter's service life; returns the length left in
 * ms (0 when the meter is not in service in the period). */
int64_t om_meter_active_clip(const om_meter *m, int64_t *a, int64_t *b);

/* The headcount of a year; false when the site gives none. */
bool om_site_headcount(const om_site *site, int year, unsigned *count);

#endif
