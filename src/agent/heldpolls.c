/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heldpolls.c - the newest poll of each meter, and its newest counter
 * reading, while the outbox cannot store (heldpolls.h).
 */
#include "heldpolls.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/quantity.h"

void om_held_polls_init(om_held_polls *h)
{
    h->items = NULL;
    h->n = h->cap = 0;
}

void om_held_polls_free(om_held_polls *h)
{
    free(h->items);
    om_held_polls_init(h);
}

static bool has_counter(const om_poll_value *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (om_quantity_get(values[i].quantity)->kind == OM_KIND_COUNTER)
            return true;
    return false;
}

static void drop(om_held_polls *h, size_t i)
{
    h->items[i] = h->items[--h->n];
}

size_t om_held_polls_add(om_held_polls *h, const om_poll_result *r)
{
    om_held_poll *grown = om_grow(h->items, &h->cap, h->n, sizeof *grown);
    if (!grown)
        return 1;
    h->items = grown;
    /* A counter reading makes every older poll of its meter useless; an
     * instantaneous one all but the meter's newest counter reading. */
    const char *id = r->meter->id;
    size_t keep = h->n;
    if (!has_counter(r->values, r->nvalues))
        for (size_t i = 0; i < h->n; i++)
            if (strcmp(h->items[i].meter, id) == 0 &&
                has_counter(h->items[i].values, h->items[i].nvalues) &&
                (keep == h->n || h->items[i].t_ms > h->items[keep].t_ms))
                keep = i;
    size_t lost = 0;
    for (size_t i = h->n; i-- > 0;) {
        if (strcmp(h->items[i].meter, id) != 0 || i == keep)
            continue;
        drop(h, i); /* the item moved into i has been looked at already */
        lost++;
    }
    om_held_poll *p = &h->items[h->n++];
    snprintf(p->meter, sizeof p->meter, "%s", id);
    p->t_ms = r->t_ms;
    p->nvalues = r->nvalues;
    memcpy(p->values, r->values, r->nvalues * sizeof *r->values);
    return lost;
}

size_t om_held_polls_sorted(om_held_polls *h, const om_held_poll **out)
{
    for (size_t i = 1; i < h->n; i++) {
        om_held_poll p = h->items[i];
        size_t j = i;
        while (j > 0 && h->items[j - 1].t_ms > p.t_ms) {
            h->items[j] = h->items[j - 1];
            j--;
        }
        h->items[j] = p;
    }
    *out = h->items;
    return h->n;
}

void om_held_polls_clear(om_held_polls *h)
{
    h->n = 0;
}
