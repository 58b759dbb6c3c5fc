/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_map.c - a small string-keyed hash map (open addressing, FNV-1a)
 * for the store's caches of meter, gateway and epoch rows. Entries are only
 * added or all cleared at once, which keeps it short: no deletion.
 */
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

static uint64_t hash(const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

static om_map_slot *find(const om_map *m, const char *key)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
        om_map_slot *s = &m->slots[i];
        if (!s->key || strcmp(s->key, key) == 0)
            return s;
    }
}

void *om_map_get(const om_map *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    om_map_slot *s = find(m, key);
    return s->key ? s->val : NULL;
}

static int grow(om_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    om_map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    om_map old = *m;
    m->slots = slots;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            *find(m, old.slots[i].key) = old.slots[i];
    free(old.slots);
    return 0;
}

int om_map_put(om_map *m, const char *key, void *val)
{
    /* Load factor at most 1/2: probes stay short. */
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    char *copy = strdup(key);
    if (!copy)
        return -1;
    om_map_slot *s = find(m, key);
    s->key = copy;
    s->val = val;
    m->n++;
    return 0;
}

void om_map_clear(om_map *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key) {
            free(m->slots[i].key);
            if (free_val)
                free_val(m->slots[i].val);
        }
    }
    free(m->slots);
    memset(m, 0, sizeof *m);
}
