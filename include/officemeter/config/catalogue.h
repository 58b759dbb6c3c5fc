/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalogue.h - meter models as data (firmware-config/meters/NAME.yaml).
 *
 * One file per model: which registers hold which canonical quantity, how
 * they are encoded, the model's request limits and serial defaults, its
 * known quirks, and the source of the register map. The agent plans its
 * requests from it, the simulator serves exactly what it says, and the probe
 * decodes with it, so all three agree by construction.
 */
#ifndef OFFICEMETER_CATALOGUE_H
#define OFFICEMETER_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/codec.h"
#include "officemeter/base/diag.h"
#include "officemeter/base/quantity.h"

/* Where a quantity's scale comes from. Pulse counters count pulses; the
 * volume per pulse is a property of the installed meter, not of the model. */
typedef enum {
    OM_SCALE_FIXED,            /* spec.scale as written */
    OM_SCALE_LITRES_PER_PULSE, /* spec.scale * the site's litres_per_pulse / 1000 (m³) */
} om_scale_source;

typedef struct {
    om_quantity quantity;
    uint8_t function;      /* 3 (holding) or 4 (input) */
    uint16_t address;      /* 0-based wire address (for channel 0) */
    uint16_t count;        /* registers (derived from the type) */
    uint16_t channel_stride; /* address step per channel (counter modules), 0 = none */
    om_regspec spec;
    om_scale_source scale_source;
    double rollover;       /* counters: raw value at which the counter wraps to 0; 0 = never */
    bool optional;         /* some firmware variants answer exception 2 for it */
    char *note;            /* quirk or verification note, may be NULL */
} om_quantity_def;

typedef struct {
    unsigned baud;
    char parity; /* 'N', 'E', 'O' */
    unsigned data_bits;
    unsigned stop_bits;
    unsigned unit_id;
} om_serial_defaults;

typedef struct {
    char *id;       /* file stem, e.g. "eastron-sdm630" */
    char *vendor;
    char *name;     /* "SDM630 v2" */
    char *source;   /* document the map comes from */
    char *numbering; /* how the manual numbers registers vs the wire */
    char *path;      /* file it was loaded from */
    bool tcp;        /* has a native Modbus TCP interface */
    bool rtu;        /* has a native RS-485 interface */
    unsigned channels; /* counter modules: channels available; 0 = not channelled */
    unsigned max_registers_per_request;
    unsigned min_gap_ms;  /* silence the model needs between requests */
    unsigned timeout_ms;  /* response timeout that suits the model */
    om_serial_defaults serial;
    char **quirks;   /* free-text notes on known field problems */
    size_t nquirks;
    om_quantity_def *quantities;
    size_t nquantities;
} om_model;

typedef struct {
    om_model *models;
    size_t nmodels;
} om_catalogue;

/* Load one model file; errors are added to diag; returns 0 or -1. */
int om_model_load(const char *path, om_model *out, om_diag *diag);
void om_model_free(om_model *model);

/* Load every *.yaml in dir (sorted by name). All files are checked and all
 * errors reported; returns -1 if any file had an error. */
int om_catalogue_load(const char *dir, om_catalogue *out, om_diag *diag);
void om_catalogue_free(om_catalogue *cat);
const om_model *om_catalogue_find(const om_catalogue *cat, const char *id);
const om_quantity_def *om_model_find_quantity(const om_model *model, om_quantity q);

/* The wire address of a quantity for a meter on `channel`. */
uint16_t om_quantity_address(const om_quantity_def *def, unsigned channel);
/* The effective codec spec for a meter: fixed scale or derived from
 * litres_per_pulse. */
om_regspec om_quantity_spec(const om_quantity_def *def, double litres_per_pulse);

#endif
