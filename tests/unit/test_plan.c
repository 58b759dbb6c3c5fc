/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_plan.c - the request planner: merging rules, exception-2 re-plans,
 * wire arithmetic, bus totals on the real catalogue, and the --plan text.
 *
 * Synthetic models pin each rule at its boundary (a gap equal to the limit
 * merges, one more register does not; a span equal to the maximum fits, one
 * more does not). Every byte count and wire time below is worked out by hand
 * in the comment beside it from the frame sizes and the character time, not
 * taken from the code's output. A randomised check compares the request
 * count with an exhaustive minimum, so "fewest requests" is tested, not
 * assumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/config/catalogue.h"
#include "officemeter/modbus/plan.h"
#include "officemeter/config/site.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define V1 OM_Q_VOLTAGE_L1_V
#define V2 OM_Q_VOLTAGE_L2_V
#define V3 OM_Q_VOLTAGE_L3_V
#define PW OM_Q_POWER_KW
#define IMP OM_Q_ENERGY_IMPORT_KWH
#define EXP OM_Q_ENERGY_EXPORT_KWH

/* ---- synthetic models ----------------------------------------------------- */

typedef struct {
    om_quantity q;
    uint8_t function;
    uint16_t address;
    uint16_t count;
} qdef;

typedef struct {
    om_model model;
    om_quantity_def defs[OM_Q__COUNT];
} test_model;

static void model_init(test_model *tm, unsigned max_regs, const qdef *qs, size_t n)
{
    memset(tm, 0, sizeof *tm);
    assert_true(n <= OM_Q__COUNT);
    tm->model.id = "synthetic";
    tm->model.max_registers_per_request = max_regs;
    tm->model.quantities = tm->defs;
    tm->model.nquantities = n;
    for (size_t i = 0; i < n; i++) {
        tm->defs[i].quantity = qs[i].q;
        tm->defs[i].function = qs[i].function;
        tm->defs[i].address = qs[i].address;
        tm->defs[i].count = qs[i].count;
    }
}

static om_plan_options options(om_quantity_set wanted, unsigned max_gap)
{
    om_plan_options o;
    om_plan_options_init(&o);
    o.wanted = wanted;
    o.max_gap_registers = max_gap;
    return o;
}

static void plan_ok(const om_model *model, unsigned channel, const om_plan_options *opts,
                    om_meter_plan *out)
{
    char err[256] = "";
    if (om_plan_model(model, channel, opts, NULL, out, err, sizeof err) != 0)
        fail_msg("planning %s failed: %s", model->id, err);
}

/* A request as text, so a failure shows the whole request. */
static const char *req_text(const om_plan_request *req)
{
    static char buf[512];
    char *p = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&p, &len);
    assert_non_null(f);
    om_plan_print_request(f, req);
    fclose(f);
    snprintf(buf, sizeof buf, "%s", p);
    free(p);
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static void assert_request(const om_meter_plan *plan, size_t index, const char *want)
{
    if (index >= plan->nrequests)
        fail_msg("no request %zu (plan has %zu), want %s", index, plan->nrequests, want);
    assert_string_equal(req_text(&plan->requests[index]), want);
}

/* ---- merging ------------------------------------------------------------- */

/* Quantity A at 0 (2 registers) and B somewhere after it, same function. */
typedef struct {
    const char *name;
    uint16_t b_address;
    uint16_t b_count;
    unsigned max_gap;
    unsigned max_regs;
    size_t want_requests;
    uint16_t want_count; /* of the first request */
} merge_case;

static const merge_case merge_cases[] = {
    {"adjacent", 2, 2, 16, 80, 1, 4},
    {"gap equal to the limit", 18, 2, 16, 80, 1, 20},
    {"gap one over the limit", 19, 2, 16, 80, 2, 2},
    {"gap limit 0, adjacent", 2, 2, 0, 80, 1, 4},
    {"gap limit 0, one register apart", 3, 2, 0, 80, 2, 2},
    {"span equal to the maximum", 16, 4, 16, 20, 1, 20},
    {"span one over the maximum", 16, 4, 16, 19, 2, 2},
    {"large gap allowed by the limit", 100, 2, 100, 125, 1, 102},
};

static void test_merge_gap_and_span_limits(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(merge_cases); i++) {
        const merge_case *c = &merge_cases[i];
        qdef qs[] = {{IMP, 4, 0, 2}, {EXP, 4, c->b_address, c->b_count}};
        test_model tm;
        model_init(&tm, c->max_regs, qs, N(qs));
        om_plan_options o = options(OM_QSET_ALL, c->max_gap);
        om_meter_plan plan;
        plan_ok(&tm.model, 0, &o, &plan);
        if (plan.nrequests != c->want_requests || plan.requests[0].count != c->want_count)
            fail_msg("%s: %zu requests, first %s; want %zu requests, first of %u registers",
                     c->name, plan.nrequests, req_text(&plan.requests[0]), c->want_requests,
                     c->want_count);
        if (plan.nrequests == 1) {
            /* B's values start at its distance from A in the response. */
            assert_int_equal(plan.requests[0].nitems, 2);
            assert_int_equal(plan.requests[0].items[1].offset, c->b_address);
        } else {
            assert_int_equal(plan.requests[1].address, c->b_address);
            assert_int_equal(plan.requests[1].items[0].offset, 0);
        }
    }
}

/* The gap is measured between neighbours, not from the start of the block:
 * three quantities 8 registers apart merge under a limit of 8. */
static void test_merge_chain_of_neighbours(void **state)
{
    (void)state;
    qdef qs[] = {{PW, 4, 20, 2}, {V1, 4, 0, 2}, {V2, 4, 10, 2}};
    test_model tm;
    model_init(&tm, 125, qs, N(qs));
    om_plan_options o = options(OM_QSET_ALL, 8);
    om_meter_plan plan;
    plan_ok(&tm.model, 0, &o, &plan);
    assert_int_equal(plan.nrequests, 1);
    assert_request(&plan, 0, "FC04 0x0000+22 (voltage_l1_v, voltage_l2_v, power_kw)");
    assert_int_equal(plan.requests[0].items[0].offset, 0);
    assert_int_equal(plan.requests[0].items[1].offset, 10);
    assert_int_equal(plan.requests[0].items[2].offset, 20);
    assert_int_equal(om_meter_plan_registers(&plan), 22);
}

/* Six adjacent 2-register values: the per-request maximum decides how many
 * requests, and no request ever exceeds it. */
static void test_max_registers_forces_splits(void **state)
{
    (void)state;
    qdef qs[] = {{V1, 4, 0, 2}, {V2, 4, 2, 2}, {V3, 4, 4, 2},
                 {PW, 4, 6, 2}, {IMP, 4, 8, 2}, {EXP, 4, 10, 2}};
    static const struct {
        unsigned max_regs;
        size_t want_requests;
    } cases[] = {{2, 6}, {3, 6}, {4, 3}, {5, 3}, {6, 2}, {8, 2}, {11, 2}, {12, 1}, {125, 1}};
    for (size_t i = 0; i < N(cases); i++) {
        test_model tm;
        model_init(&tm, cases[i].max_regs, qs, N(qs));
        om_meter_plan plan;
        plan_ok(&tm.model, 0, NULL, &plan);
        if (plan.nrequests != cases[i].want_requests)
            fail_msg("max %u: %zu requests, want %zu", cases[i].max_regs, plan.nrequests,
                     cases[i].want_requests);
        for (size_t r = 0; r < plan.nrequests; r++)
            assert_true(plan.requests[r].count <= cases[i].max_regs);
        assert_int_equal(om_meter_plan_registers(&plan), 12);
    }
    test_model tm;
    model_init(&tm, 4, qs, N(qs));
    om_meter_plan plan;
    plan_ok(&tm.model, 0, NULL, &plan);
    assert_request(&plan, 0, "FC04 0x0000+4 (voltage_l1_v, voltage_l2_v)");
    assert_request(&plan, 1, "FC04 0x0004+4 (voltage_l3_v, power_kw)");
    assert_request(&plan, 2, "FC04 0x0008+4 (energy_import_kwh, energy_export_kwh)");
}

static void test_quantity_larger_than_limit_is_an_error(void **state)
{
    (void)state;
    qdef qs[] = {{V1, 3, 0, 2}, {IMP, 3, 10, 4}};
    test_model tm;
    model_init(&tm, 3, qs, N(qs));
    om_meter_plan plan;
    char err[256] = "";
    assert_int_equal(om_plan_model(&tm.model, 0, NULL, NULL, &plan, err, sizeof err), -1);
    assert_string_equal(err, "model synthetic: energy_import_kwh needs 4 registers, more than "
                             "max_registers_per_request (3)");
    assert_int_equal(plan.nrequests, 0);

    /* Not wanted, not an error: the planner only checks what it reads. */
    om_plan_options o = options(OM_QSET(V1), 16);
    assert_int_equal(om_plan_model(&tm.model, 0, &o, NULL, &plan, err, sizeof err), 0);
    assert_int_equal(plan.nrequests, 1);
}

static void test_never_merges_across_function_codes(void **state)
{
    (void)state;
    /* FC03 at 0 and 4, FC04 at 2: the FC03 pair merges around the FC04 value
     * (its register 2 is another table), the FC04 value stays alone. */
    qdef qs[] = {{V2, 4, 2, 2}, {V1, 3, 0, 2}, {V3, 3, 4, 2}};
    test_model tm;
    model_init(&tm, 125, qs, N(qs));
    om_meter_plan plan;
    plan_ok(&tm.model, 0, NULL, &plan);
    assert_int_equal(plan.nrequests, 2);
    assert_request(&plan, 0, "FC03 0x0000+6 (voltage_l1_v, voltage_l3_v)");
    assert_request(&plan, 1, "FC04 0x0002+2 (voltage_l2_v)");
    assert_int_equal(plan.requests[0].items[1].offset, 4);
}

static void test_model_errors(void **state)
{
    (void)state;
    om_meter_plan plan;
    char err[256] = "";
    qdef beyond[] = {{V1, 3, 65534, 4}};
    test_model tm;
    model_init(&tm, 125, beyond, N(beyond));
    assert_int_equal(om_plan_model(&tm.model, 0, NULL, NULL, &plan, err, sizeof err), -1);
    assert_string_equal(err, "model synthetic: voltage_l1_v on channel 0 ends beyond register "
                             "65535 (starts at 65534)");

    qdef one[] = {{V1, 3, 0, 2}};
    model_init(&tm, 0, one, N(one));
    assert_int_equal(om_plan_model(&tm.model, 0, NULL, NULL, &plan, err, sizeof err), -1);
    assert_string_equal(err, "model synthetic: max_registers_per_request out of range (got 0, "
                             "expected 1 to 125)");

    qdef twice[] = {{V1, 3, 0, 2}, {V1, 3, 8, 2}};
    model_init(&tm, 125, twice, N(twice));
    assert_int_equal(om_plan_model(&tm.model, 0, NULL, NULL, &plan, err, sizeof err), -1);
    assert_string_equal(err, "model synthetic: voltage_l1_v is defined twice");

    om_meter meter = {.id = "m1", .model_id = "eastron-sdm631"};
    assert_int_equal(om_plan_meter(&meter, NULL, NULL, &plan, err, sizeof err), -1);
    assert_string_equal(err, "meter m1: model eastron-sdm631 is not in the catalogue");
}

/* ---- randomised: the greedy plan is the fewest requests ---------------------- */

static uint32_t rng_state = 12345;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) % n;
}

static int by_function_address(const void *a, const void *b)
{
    const qdef *x = a, *y = b;
    if (x->function != y->function)
        return x->function - y->function;
    return (int)x->address - (int)y->address;
}

/* Minimum number of requests by exhaustive dynamic programming over the
 * sorted quantities: a request is any run of same-function neighbours whose
 * gaps and span are within the limits. */
static size_t minimum_requests(qdef *qs, size_t n, unsigned max_gap, unsigned max_regs)
{
    size_t best[OM_Q__COUNT + 1];
    qsort(qs, n, sizeof *qs, by_function_address);
    best[0] = 0;
    for (size_t i = 1; i <= n; i++) {
        best[i] = SIZE_MAX;
        for (size_t j = i; j-- > 0;) {
            if (qs[j].function != qs[i - 1].function)
                break;
            if (j + 1 < i &&
                (unsigned)(qs[j + 1].address - (qs[j].address + qs[j].count)) > max_gap)
                break;
            if ((unsigned)(qs[i - 1].address + qs[i - 1].count - qs[j].address) > max_regs)
                break;
            if (best[j] + 1 < best[i])
                best[i] = best[j] + 1;
        }
    }
    return best[n];
}

static void check_plan_shape(const om_meter_plan *plan, const qdef *qs, size_t n, unsigned max_gap,
                             unsigned max_regs)
{
    om_quantity_set seen = 0;
    for (size_t r = 0; r < plan->nrequests; r++) {
        const om_plan_request *req = &plan->requests[r];
        assert_true(req->count <= max_regs);
        assert_true(req->nitems >= 1);
        assert_int_equal(req->items[0].offset, 0);
        const om_plan_item *last = &req->items[req->nitems - 1];
        assert_int_equal(last->offset + last->count, req->count);
        for (size_t i = 0; i < req->nitems; i++) {
            const om_plan_item *it = &req->items[i];
            assert_false(seen & OM_QSET(it->quantity));
            seen |= OM_QSET(it->quantity);
            assert_int_equal(it->def->function, req->function);
            assert_int_equal(it->address, req->address + it->offset);
            if (i > 0) {
                const om_plan_item *prev = &req->items[i - 1];
                assert_true(it->offset >= prev->offset + prev->count);
                assert_true((unsigned)(it->offset - (prev->offset + prev->count)) <= max_gap);
            }
        }
    }
    om_quantity_set all = 0;
    for (size_t i = 0; i < n; i++)
        all |= OM_QSET(qs[i].q);
    assert_int_equal(seen, all);
    assert_int_equal(plan->planned, all);
}

static void test_random_models_fewest_requests(void **state)
{
    (void)state;
    static const uint16_t counts[] = {1, 2, 2, 4};
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + rnd(OM_Q__COUNT);
        unsigned next[5] = {0};
        qdef qs[OM_Q__COUNT];
        for (size_t i = 0; i < n; i++) {
            uint8_t fc = (uint8_t)(3 + rnd(2));
            qs[i] = (qdef){(om_quantity)i, fc, (uint16_t)(next[fc] + rnd(40)), counts[rnd(4)]};
            next[fc] = qs[i].address + qs[i].count;
        }
        for (size_t i = n; i > 1; i--) { /* the planner must not rely on file order */
            size_t j = rnd((unsigned)i);
            qdef t = qs[i - 1];
            qs[i - 1] = qs[j];
            qs[j] = t;
        }
        unsigned max_regs = 4 + rnd(60), max_gap = rnd(25);
        test_model tm;
        model_init(&tm, max_regs, qs, n);
        om_plan_options o = options(OM_QSET_ALL, max_gap);
        om_meter_plan plan;
        plan_ok(&tm.model, 0, &o, &plan);
        check_plan_shape(&plan, qs, n, max_gap, max_regs);
        size_t best = minimum_requests(qs, n, max_gap, max_regs);
        if (plan.nrequests != best)
            fail_msg("round %d: %zu requests, minimum is %zu", round, plan.nrequests, best);
    }
}

/* ---- the real catalogue -------------------------------------------------- */

typedef struct {
    om_catalogue cat;
    om_site site;
} fixture;

static int load_fixture(void **state)
{
    static fixture fx;
    om_diag diag;
    om_diag_init(&diag);
    if (chdir(OM_SOURCE_DIR) != 0)
        return -1;
    int rc = om_catalogue_load("firmware-config/meters", &fx.cat, &diag);
    if (rc == 0)
        rc = om_site_load("tests/data/sites/plan-bus.yaml", &fx.cat, &fx.site, &diag);
    om_diag_print(&diag, stderr);
    om_diag_free(&diag);
    *state = &fx;
    return rc;
}

static int free_fixture(void **state)
{
    fixture *fx = *state;
    om_site_free(&fx->site);
    om_catalogue_free(&fx->cat);
    return 0;
}

static const om_model *model(void **state, const char *id)
{
    const om_model *m = om_catalogue_find(&((fixture *)*state)->cat, id);
    if (!m)
        fail_msg("catalogue has no %s", id);
    return m;
}

/* SDM630: voltages 0x0000-0x0005, power 0x0034, energies 0x0048-0x004B.
 * Gaps of 46 and 18 registers are both above the default limit of 16. */
static void test_sdm630_default_plan(void **state)
{
    om_meter_plan plan;
    plan_ok(model(state, "eastron-sdm630"), 0, NULL, &plan);
    assert_int_equal(plan.nrequests, 3);
    assert_request(&plan, 0, "FC04 0x0000+6 (voltage_l1_v, voltage_l2_v, voltage_l3_v)");
    assert_request(&plan, 1, "FC04 0x0034+2 (power_kw)");
    assert_request(&plan, 2, "FC04 0x0048+4 (energy_import_kwh, energy_export_kwh)");
    assert_int_equal(plan.requests[2].items[1].offset, 2);
    assert_int_equal(plan.planned, OM_QSET(V1) | OM_QSET(V2) | OM_QSET(V3) | OM_QSET(PW) |
                                       OM_QSET(IMP) | OM_QSET(EXP));
}

static void test_wanted_subset(void **state)
{
    const om_model *sdm = model(state, "eastron-sdm630");
    om_meter_plan plan;

    om_plan_options o = options(om_qset_of_kind(OM_KIND_COUNTER), 16);
    plan_ok(sdm, 0, &o, &plan);
    assert_int_equal(plan.nrequests, 1);
    assert_request(&plan, 0, "FC04 0x0048+4 (energy_import_kwh, energy_export_kwh)");
    /* water_m3 is a counter too, but the SDM630 has none. */
    assert_int_equal(plan.wanted, OM_QSET(IMP) | OM_QSET(EXP));

    o = options(om_qset_of_kind(OM_KIND_INSTANT), 16);
    plan_ok(sdm, 0, &o, &plan);
    assert_int_equal(plan.nrequests, 2);
    assert_request(&plan, 0, "FC04 0x0000+6 (voltage_l1_v, voltage_l2_v, voltage_l3_v)");
    assert_request(&plan, 1, "FC04 0x0034+2 (power_kw)");

    /* Unwanted neighbours are not read: V3 and export alone. */
    o = options(OM_QSET(V3) | OM_QSET(EXP), 16);
    plan_ok(sdm, 0, &o, &plan);
    assert_int_equal(plan.nrequests, 2);
    assert_request(&plan, 0, "FC04 0x0004+2 (voltage_l3_v)");
    assert_request(&plan, 1, "FC04 0x004A+2 (energy_export_kwh)");

    o = options(0, 16);
    plan_ok(sdm, 0, &o, &plan);
    assert_int_equal(plan.nrequests, 0);
}

static void test_gap_override_per_model(void **state)
{
    static const om_plan_gap_override ov[] = {{"eastron-sdm630", 64}, {"moxa-e1212", 0}};
    om_plan_options o;
    om_plan_options_init(&o);
    o.gap_overrides = ov;
    o.ngap_overrides = N(ov);
    om_meter_plan plan;

    /* 64 spans both gaps: the whole map in one read of 76 registers. */
    plan_ok(model(state, "eastron-sdm630"), 0, &o, &plan);
    assert_int_equal(om_plan_max_gap(&o, model(state, "eastron-sdm630")), 64);
    assert_int_equal(plan.nrequests, 1);
    assert_request(&plan, 0, "FC04 0x0000+76 (voltage_l1_v, voltage_l2_v, voltage_l3_v, power_kw, "
                             "energy_import_kwh, energy_export_kwh)");
    assert_int_equal(plan.requests[0].items[3].offset, 0x34);
    assert_int_equal(plan.requests[0].items[4].offset, 0x48);

    /* Other models keep the default. */
    assert_int_equal(om_plan_max_gap(&o, model(state, "schneider-iem3x55")),
                     OM_PLAN_DEFAULT_MAX_GAP);
    plan_ok(model(state, "schneider-iem3x55"), 0, &o, &plan);
    assert_int_equal(plan.nrequests, 3);

    /* 18 bridges power to energies (gap 0x0036..0x0047) but not the 46 before. */
    o.max_gap_registers = 18;
    o.ngap_overrides = 0;
    plan_ok(model(state, "eastron-sdm630"), 0, &o, &plan);
    assert_int_equal(plan.nrequests, 2);
    assert_request(&plan, 1, "FC04 0x0034+24 (power_kw, energy_import_kwh, energy_export_kwh)");
}

/* Moxa ioLogik E1212: channel n's counter is at 0x0010 + 2n. */
static void test_channel_addresses(void **state)
{
    const om_model *moxa = model(state, "moxa-e1212");
    om_meter_plan plan;
    plan_ok(moxa, 3, NULL, &plan);
    assert_int_equal(plan.nrequests, 1);
    assert_request(&plan, 0, "FC04 0x0016+2 (water_m3)");
    assert_int_equal(plan.requests[0].items[0].address, 0x16);
    plan_ok(moxa, 0, NULL, &plan);
    assert_request(&plan, 0, "FC04 0x0010+2 (water_m3)");
    plan_ok(moxa, 7, NULL, &plan);
    assert_request(&plan, 0, "FC04 0x001E+2 (water_m3)");

    char err[256] = "";
    assert_int_equal(om_plan_model(moxa, 8, NULL, NULL, &plan, err, sizeof err), -1);
    assert_string_equal(err, "model moxa-e1212: no channel 8 (expected 0 to 7)");

    /* Advantech ADAM-6051: FC03, channel n at 2n. */
    plan_ok(model(state, "advantech-adam6051"), 13, NULL, &plan);
    assert_request(&plan, 0, "FC03 0x001A+2 (water_m3)");

    /* Through the site: the meter's own channel. */
    fixture *fx = *state;
    const om_meter *water = om_site_find_meter(&fx->site, "water");
    assert_non_null(water);
    assert_int_equal(om_plan_meter(water, NULL, NULL, &plan, err, sizeof err), 0);
    assert_ptr_equal(plan.meter, water);
    assert_request(&plan, 0, "FC04 0x0016+2 (water_m3)");
}

/* ---- exception 2 ----------------------------------------------------------- */

static void test_exception2_splits_then_marks_unsupported(void **state)
{
    om_meter_plan plan;
    plan_ok(model(state, "eastron-sdm630"), 0, NULL, &plan);
    om_plan_request merged = plan.requests[0]; /* the voltage block */

    /* The merged block is refused: its three quantities are read alone. */
    assert_int_equal(om_plan_exception2(&plan, 0), OM_PLAN_EXC2_SPLIT);
    assert_int_equal(plan.hints.isolated, OM_QSET(V1) | OM_QSET(V2) | OM_QSET(V3));
    assert_int_equal(plan.hints.unsupported, 0);
    assert_int_equal(plan.nrequests, 5);
    assert_request(&plan, 0, "FC04 0x0000+2 (voltage_l1_v)");
    assert_request(&plan, 1, "FC04 0x0002+2 (voltage_l2_v)");
    assert_request(&plan, 2, "FC04 0x0004+2 (voltage_l3_v)");
    assert_request(&plan, 3, "FC04 0x0034+2 (power_kw)");
    assert_request(&plan, 4, "FC04 0x0048+4 (energy_import_kwh, energy_export_kwh)");

    /* The same refusal reported again (a response to the old plan that was
     * still in flight) changes nothing, so it is logged once. */
    assert_int_equal(om_plan_hints_exception2(&plan.hints, &merged), OM_PLAN_EXC2_NONE);
    assert_int_equal(plan.nrequests, 5);

    /* L3 alone is still refused: this variant has no L3. */
    assert_int_equal(om_plan_exception2(&plan, 2), OM_PLAN_EXC2_UNSUPPORTED);
    assert_int_equal(plan.hints.unsupported, OM_QSET(V3));
    assert_int_equal(plan.nrequests, 4);
    assert_false(plan.planned & OM_QSET(V3));
    assert_true(plan.wanted & OM_QSET(V3));
    assert_request(&plan, 2, "FC04 0x0034+2 (power_kw)");

    om_plan_request v3 = merged;
    v3.nitems = 1;
    v3.items[0] = merged.items[2];
    assert_int_equal(om_plan_hints_exception2(&plan.hints, &v3), OM_PLAN_EXC2_NONE);
    assert_int_equal(om_plan_exception2(&plan, 99), OM_PLAN_EXC2_NONE);

    /* What was learnt carries over to another plan of the same meter. */
    om_plan_hints learnt = plan.hints;
    om_meter_plan instant;
    om_plan_options o = options(om_qset_of_kind(OM_KIND_INSTANT), 16);
    assert_int_equal(om_plan_model(model(state, "eastron-sdm630"), 0, &o, &learnt, &instant, NULL,
                                   0),
                     0);
    assert_int_equal(instant.nrequests, 3);
    assert_request(&instant, 0, "FC04 0x0000+2 (voltage_l1_v)");
    assert_request(&instant, 1, "FC04 0x0002+2 (voltage_l2_v)");
    assert_request(&instant, 2, "FC04 0x0034+2 (power_kw)");
}

/* An isolated quantity between two others keeps them apart: a block across
 * it would read its registers again. */
static void test_isolated_quantity_is_never_bridged(void **state)
{
    (void)state;
    qdef qs[] = {{V1, 3, 0, 2}, {V2, 3, 2, 2}, {V3, 3, 4, 2}};
    test_model tm;
    model_init(&tm, 125, qs, N(qs));
    om_plan_hints hints = {.isolated = OM_QSET(V2), .unsupported = 0};
    om_meter_plan plan;
    assert_int_equal(om_plan_model(&tm.model, 0, NULL, &hints, &plan, NULL, 0), 0);
    assert_int_equal(plan.nrequests, 3);
    assert_request(&plan, 0, "FC03 0x0000+2 (voltage_l1_v)");
    assert_request(&plan, 1, "FC03 0x0002+2 (voltage_l2_v)");
    assert_request(&plan, 2, "FC03 0x0004+2 (voltage_l3_v)");

    /* A split of a two-quantity block, then a refusal of one of the halves. */
    qdef pair[] = {{IMP, 3, 0, 4}, {EXP, 3, 4, 4}, {PW, 3, 20, 2}};
    model_init(&tm, 125, pair, N(pair));
    assert_int_equal(om_plan_model(&tm.model, 0, NULL, NULL, &plan, NULL, 0), 0);
    assert_int_equal(plan.nrequests, 1);
    assert_int_equal(om_plan_exception2(&plan, 0), OM_PLAN_EXC2_SPLIT);
    assert_int_equal(plan.nrequests, 3);
    assert_request(&plan, 2, "FC03 0x0014+2 (power_kw)");
    assert_int_equal(om_plan_exception2(&plan, 1), OM_PLAN_EXC2_UNSUPPORTED);
    assert_int_equal(plan.nrequests, 2);
    assert_request(&plan, 0, "FC03 0x0000+4 (energy_import_kwh)");
    assert_request(&plan, 1, "FC03 0x0014+2 (power_kw)");
}

/* ---- wire arithmetic -------------------------------------------------------- */

static void test_frame_bytes(void **state)
{
    (void)state;
    assert_int_equal(om_plan_request_bytes(OM_BUS_RTU), 8);
    assert_int_equal(om_plan_request_bytes(OM_BUS_TCP), 12);
    assert_int_equal(om_plan_response_bytes(OM_BUS_RTU, 0), 5);
    assert_int_equal(om_plan_response_bytes(OM_BUS_RTU, 80), 165);
    assert_int_equal(om_plan_response_bytes(OM_BUS_TCP, 2), 13);
    assert_int_equal(om_plan_response_bytes(OM_BUS_TCP, 125), 259);
}

static void test_char_bits(void **state)
{
    (void)state;
    assert_int_equal(om_rtu_char_bits(8, 'N', 1), 10);
    assert_int_equal(om_rtu_char_bits(8, 'E', 1), 11);
    assert_int_equal(om_rtu_char_bits(8, 'O', 1), 11);
    assert_int_equal(om_rtu_char_bits(8, 'N', 2), 11);
    assert_int_equal(om_rtu_char_bits(7, 'E', 1), 10);
    assert_int_equal(om_rtu_char_bits(8, 'E', 2), 12);
}

static void test_rtu_silence(void **state)
{
    (void)state;
    static const struct {
        unsigned baud, data_bits;
        char parity;
        unsigned stop_bits;
        uint32_t want_us;
    } cases[] = {
        {9600, 8, 'N', 1, 3646},   /* 3.5 x 10 / 9600 s = 3645.83 us */
        {19200, 8, 'E', 1, 2006},  /* 3.5 x 11 / 19200 s = 2005.21 us */
        {19200, 8, 'N', 1, 1823},  /* 3.5 x 10 / 19200 s = 1822.92 us: 19200 is not "above" */
        {1200, 8, 'N', 2, 32084},  /* 3.5 x 11 / 1200 s = 32083.33 us */
        {2400, 8, 'N', 1, 14584},  /* 3.5 x 10 / 2400 s = 14583.33 us */
        {4800, 8, 'N', 1, 7292},   /* 3.5 x 10 / 4800 s = 7291.67 us */
        {38400, 8, 'N', 1, 1750},  /* fixed above 19200 baud */
        {38400, 8, 'E', 2, 1750},
        {115200, 8, 'N', 2, 1750},
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint32_t got = om_rtu_silence_us(cases[i].baud, cases[i].data_bits, cases[i].parity,
                                         cases[i].stop_bits);
        if (got != cases[i].want_us)
            fail_msg("%u %u%c%u: silence %u us, want %u", cases[i].baud, cases[i].data_bits,
                     cases[i].parity, cases[i].stop_bits, got, cases[i].want_us);
    }
}

/* The silence the agent and the probe keep before a request on a bus. */
static void test_bus_silence(void **state)
{
    (void)state;
    om_bus rtu = {.kind = OM_BUS_RTU,
                  .rtu = {.device = "x", .baud = 19200, .parity = 'E', .data_bits = 8,
                          .stop_bits = 1}};
    om_bus unset = {.kind = OM_BUS_RTU, .rtu = {.device = "x"}};
    om_bus tcp = {.kind = OM_BUS_TCP, .tcp = {.host = "10.0.0.20", .port = 502}};
    assert_int_equal(om_bus_silence_us(&rtu), 2006);
    assert_int_equal(om_bus_silence_us(&unset), 3646); /* 9600 8N1 */
    assert_int_equal(om_bus_silence_us(&tcp), 0);
}

static void test_rtu_read_time(void **state)
{
    (void)state;
    om_rtu_params n81 = {.device = "x", .baud = 9600, .parity = 'N', .data_bits = 8,
                         .stop_bits = 1};
    om_rtu_params e81 = {.device = "x", .baud = 19200, .parity = 'E', .data_bits = 8,
                         .stop_bits = 1};
    /* 9600 8N1, 10 bits a character: 25 characters = 26041.67 us -> 26042. */
    assert_int_equal(om_rtu_chars_us(25, 9600, 8, 'N', 1), 26042);
    /* 21 characters = 21875 us exactly. */
    assert_int_equal(om_rtu_chars_us(21, 9600, 8, 'N', 1), 21875);
    /* Read of 6 registers: 8 + 17 = 25 characters (26042) + 2 x 3646 silence
     * + 5000 turnaround + 20 ms gap = 58334 us. */
    assert_int_equal(om_rtu_read_us(&n81, 6, 20, 5000), 58334);
    /* Read of 2 registers: 8 + 9 = 17 characters = 17708.33 -> 17709,
     * + 7292 + 5000 + 20000 = 50001 us. */
    assert_int_equal(om_rtu_read_us(&n81, 2, 20, 5000), 50001);
    /* No gap, no turnaround: frames and silences only. */
    assert_int_equal(om_rtu_read_us(&n81, 2, 0, 0), 25001);

    /* 19200 8E1, 11 bits a character: 29 characters (read of 8 registers)
     * = 16614.58 -> 16615 us, + 2 x 2006 + 5000 + 10000 = 35627 us. */
    assert_int_equal(om_rtu_chars_us(29, 19200, 8, 'E', 1), 16615);
    assert_int_equal(om_rtu_read_us(&e81, 8, 10, 5000), 35627);
    /* 25 characters = 14322.92 -> 14323, + 4012 + 5000 + 10000 = 33335 us. */
    assert_int_equal(om_rtu_read_us(&e81, 6, 10, 5000), 33335);
    /* Above 19200 the silence is 1750 us: 38400 8N1, 17 characters
     * = 4427.08 -> 4428, + 3500 = 7928 us. */
    om_rtu_params fast = {.device = "x", .baud = 38400, .parity = 'N', .data_bits = 8,
                          .stop_bits = 1};
    assert_int_equal(om_rtu_read_us(&fast, 2, 0, 0), 7928);
}

/* ---- bus plans on the real catalogue ---------------------------------------- */

static void bus_ok(void **state, const char *gw, const char *bus, const om_plan_options *opts,
                   om_bus_plan *out)
{
    fixture *fx = *state;
    char err[256] = "";
    if (om_plan_bus(&fx->site, gw, bus, opts, out, err, sizeof err) != 0)
        fail_msg("planning %s/%s failed: %s", gw, bus, err);
}

/* 8 SDM630 (3 requests of 6, 2 and 4 registers each) and 4 iEM3155 (3
 * requests of 6, 2 and 8: voltages 3027-3032, power 3059-3060, energies
 * 3203-3210 as INT64) at 9600 8N1. */
static void test_bus_sdm630_iem3155(void **state)
{
    om_bus_plan bp;
    bus_ok(state, "gw1", "rs485", NULL, &bp);
    const om_plan_totals *t = &bp.totals;
    assert_int_equal(bp.nmeters, 12);
    assert_int_equal(t->meters, 12);
    assert_string_equal(bp.meters[0].meter->id, "sdm-1");
    assert_string_equal(bp.meters[11].meter->id, "iem-4");
    assert_string_equal(bp.meters[8].model->id, "schneider-iem3x55");

    /* 8 x 3 + 4 x 3 */
    assert_int_equal(t->requests, 36);
    /* 8 x (6 + 2 + 4) + 4 x (6 + 2 + 8) = 96 + 64 */
    assert_int_equal(t->registers, 160);
    /* 36 x 8 */
    assert_int_equal(t->bytes_sent, 288);
    /* 36 x 5 + 2 x 160 */
    assert_int_equal(t->bytes_received, 500);
    /* SDM630 (min gap 20 ms): 58334 + 50001 + 54167 (21 chars = 21875,
     * + 7292 + 5000 + 20000) = 162502 us; x 8 = 1300016.
     * iEM3155 (min gap 10 ms): 48334 + 40001 + 52501 (29 chars = 30208.33
     * -> 30209, + 7292 + 5000 + 10000) = 140836 us; x 4 = 563344.
     * Total 1863360 us. */
    assert_int_equal(t->wire_us, 1863360);

    /* One request per quantity: 12 meters x 6 quantities. */
    assert_int_equal(t->naive_requests, 72);
    assert_true(t->requests < t->naive_requests);
    /* 72 x 13 + 2 x 160 */
    assert_int_equal(t->naive_bytes, 1256);
    /* SDM630: 6 reads of 2 = 6 x 50001 = 300006, x 8 = 2400048.
     * iEM3155: 2 reads of 4 (21 chars = 21875, + 22292 = 44167) and 4 of 2
     * (17709 + 22292 = 40001) = 248338, x 4 = 993352. Total 3393400 us. */
    assert_int_equal(t->naive_wire_us, 3393400);
    om_bus_plan_free(&bp);
}

static void test_bus_counters_only(void **state)
{
    om_plan_options o = options(om_qset_of_kind(OM_KIND_COUNTER), 16);
    om_bus_plan bp;
    bus_ok(state, "gw1", "rs485", &o, &bp);
    /* one energy block per meter: 8 x 4 + 4 x 8 registers */
    assert_int_equal(bp.totals.requests, 12);
    assert_int_equal(bp.totals.registers, 64);
    assert_int_equal(bp.totals.naive_requests, 24);
    om_bus_plan_free(&bp);
}

static void test_bus_other_gateway_and_tcp(void **state)
{
    om_bus_plan bp;
    /* gw2 has a bus with the same id; only its own meter is on it. */
    bus_ok(state, "gw2", "rs485", NULL, &bp);
    assert_int_equal(bp.nmeters, 1);
    assert_string_equal(bp.meters[0].meter->id, "other-gw");
    assert_int_equal(bp.totals.requests, 3);
    /* 19200 8E1: 33335 + 28752 (17 chars = 9740, + 4012 + 5000 + 10000)
     * + 35627 = 97714 us */
    assert_int_equal(bp.totals.wire_us, 97714);
    om_bus_plan_free(&bp);

    /* Modbus TCP: 12 bytes out, 9 + 2 x 2 back, no wire-time estimate. */
    bus_ok(state, "gw1", "lan", NULL, &bp);
    assert_int_equal(bp.nmeters, 1);
    assert_int_equal(bp.totals.requests, 1);
    assert_int_equal(bp.totals.bytes_sent, 12);
    assert_int_equal(bp.totals.bytes_received, 13);
    assert_int_equal(bp.totals.naive_bytes, 25);
    assert_int_equal(bp.totals.wire_us, 0);
    om_bus_plan_free(&bp);

    fixture *fx = *state;
    char err[256] = "";
    assert_int_equal(om_plan_bus(&fx->site, "gw1", "rs232", NULL, &bp, err, sizeof err), -1);
    assert_string_equal(err, "tests/data/sites/plan-bus.yaml: gateway gw1 has no bus rs232");
    assert_int_equal(om_plan_bus(&fx->site, "gw9", "rs485", NULL, &bp, err, sizeof err), -1);
    assert_string_equal(err, "tests/data/sites/plan-bus.yaml: no gateway gw9");

    om_gateway_plan gp;
    assert_int_equal(om_plan_gateway(&fx->site, "gw1", NULL, &gp, err, sizeof err), 0);
    assert_int_equal(gp.nbuses, 2);
    assert_string_equal(gp.buses[0].bus->id, "rs485");
    assert_int_equal(gp.buses[0].nmeters, 12);
    assert_string_equal(gp.buses[1].bus->id, "lan");
    om_gateway_plan_free(&gp);
    om_gateway_plan_free(&gp); /* freeing twice is harmless */
}

static void test_bus_totals_after_exception2(void **state)
{
    om_bus_plan bp;
    bus_ok(state, "gw1", "rs485", NULL, &bp);
    assert_int_equal(om_plan_exception2(&bp.meters[0], 0), OM_PLAN_EXC2_SPLIT);
    om_bus_plan_totals(&bp);
    /* one 6-register block became three 2-register reads */
    assert_int_equal(bp.totals.requests, 38);
    assert_int_equal(bp.totals.registers, 160);
    assert_int_equal(bp.totals.naive_requests, 72);
    /* wire time: - 58334 + 3 x 50001 */
    assert_int_equal(bp.totals.wire_us, 1863360 - 58334 + 3 * 50001);
    assert_int_equal(om_plan_exception2(&bp.meters[0], 2), OM_PLAN_EXC2_UNSUPPORTED);
    om_bus_plan_totals(&bp);
    assert_int_equal(bp.totals.requests, 37);
    assert_int_equal(bp.totals.registers, 158);
    assert_int_equal(bp.totals.naive_requests, 71);
    om_bus_plan_free(&bp);
}

/* ---- printing ------------------------------------------------------------- */

static char *capture_gateway(void **state, const char *gw)
{
    fixture *fx = *state;
    om_gateway_plan gp;
    char err[256] = "";
    if (om_plan_gateway(&fx->site, gw, NULL, &gp, err, sizeof err) != 0)
        fail_msg("%s", err);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    om_plan_print(f, &gp);
    fclose(f);
    om_gateway_plan_free(&gp);
    return text;
}

static void assert_contains(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("output lacks \"%s\"; output was:\n%s", want, text);
}

static void test_print_gateway(void **state)
{
    char *text = capture_gateway(state, "gw1");
    static const char *const want[] = {
        "gateway gw1: 2 buses\n\nbus rs485 (RTU /dev/ttyUSB0 9600 8N1), gateway gw1: 12 meters\n",
        "  meter sdm-1 (eastron-sdm630, unit 1): 3 requests, 12 registers\n"
        "    FC04 0x0000+6 (voltage_l1_v, voltage_l2_v, voltage_l3_v)\n"
        "    FC04 0x0034+2 (power_kw)\n"
        "    FC04 0x0048+4 (energy_import_kwh, energy_export_kwh)\n"
        "  meter sdm-2 (eastron-sdm630, unit 2)",
        /* 3027 = 0x0BD3, 3059 = 0x0BF3, 3203 = 0x0C83 */
        "  meter iem-4 (schneider-iem3x55, unit 14): 3 requests, 16 registers\n"
        "    FC03 0x0BD3+6 (voltage_l1_v, voltage_l2_v, voltage_l3_v)\n"
        "    FC03 0x0BF3+2 (power_kw)\n"
        "    FC03 0x0C83+8 (energy_import_kwh, energy_export_kwh)\n"
        "  per cycle: 36 requests, 160 registers, 788 bytes (288 sent, 500 received), "
        "estimated wire time 1863.4 ms\n"
        "  one request per quantity: 72 requests, 1256 bytes, estimated wire time 3393.4 ms; "
        "the plan saves 36 requests (50%)\n"
        "  (estimate: 10 bits per character, 3.646 ms silence before each frame, 5.0 ms meter "
        "turnaround and the model's min_gap_ms per request)\n\n",
        "bus lan (TCP 192.0.2.10:502), gateway gw1: 1 meter\n"
        "  meter water (moxa-e1212, channel 3, unit 1): 1 request, 2 registers\n"
        "    FC04 0x0016+2 (water_m3)\n"
        "  per cycle: 1 request, 2 registers, 25 bytes (12 sent, 13 received)\n"
        "  one request per quantity: 1 request, 25 bytes; the plan saves 0 requests (0%)\n",
    };
    for (size_t i = 0; i < N(want); i++)
        assert_contains(text, want[i]);
    /* header, blank, bus line, 12 x 4 meter lines, 3 totals, blank, bus line,
     * 2 meter lines, 2 totals */
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1 + 1 + 1 + 48 + 3 + 1 + 1 + 2 + 2);
    free(text);
}

static void test_print_unsupported(void **state)
{
    om_meter_plan plan;
    fixture *fx = *state;
    const om_meter *m = om_site_find_meter(&fx->site, "sdm-3");
    assert_non_null(m);
    assert_int_equal(om_plan_meter(m, NULL, NULL, &plan, NULL, 0), 0);
    assert_int_equal(om_plan_exception2(&plan, 2), OM_PLAN_EXC2_SPLIT);
    assert_int_equal(om_plan_exception2(&plan, 3), OM_PLAN_EXC2_UNSUPPORTED);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    om_plan_print_meter(f, &plan);
    fclose(f);
    assert_string_equal(text,
                        "  meter sdm-3 (eastron-sdm630, unit 3): 3 requests, 10 registers\n"
                        "    FC04 0x0000+6 (voltage_l1_v, voltage_l2_v, voltage_l3_v)\n"
                        "    FC04 0x0034+2 (power_kw)\n"
                        "    FC04 0x0048+2 (energy_import_kwh)\n"
                        "    not read, the meter answers exception 2 (illegal data address): "
                        "energy_export_kwh\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_merge_gap_and_span_limits),
        cmocka_unit_test(test_merge_chain_of_neighbours),
        cmocka_unit_test(test_max_registers_forces_splits),
        cmocka_unit_test(test_quantity_larger_than_limit_is_an_error),
        cmocka_unit_test(test_never_merges_across_function_codes),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_random_models_fewest_requests),
        cmocka_unit_test(test_isolated_quantity_is_never_bridged),
        cmocka_unit_test(test_frame_bytes),
        cmocka_unit_test(test_char_bits),
        cmocka_unit_test(test_rtu_silence),
        cmocka_unit_test(test_bus_silence),
        cmocka_unit_test(test_rtu_read_time),
    };
    const struct CMUnitTest catalogue[] = {
        cmocka_unit_test(test_sdm630_default_plan),
        cmocka_unit_test(test_wanted_subset),
        cmocka_unit_test(test_gap_override_per_model),
        cmocka_unit_test(test_channel_addresses),
        cmocka_unit_test(test_exception2_splits_then_marks_unsupported),
        cmocka_unit_test(test_bus_sdm630_iem3155),
        cmocka_unit_test(test_bus_counters_only),
        cmocka_unit_test(test_bus_other_gateway_and_tcp),
        cmocka_unit_test(test_bus_totals_after_exception2),
        cmocka_unit_test(test_print_gateway),
        cmocka_unit_test(test_print_unsupported),
    };
    int failed = cmocka_run_group_tests_name("plan", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("plan on the catalogue", catalogue, load_fixture,
                                          free_fixture);
    return failed ? 1 : 0;
}
