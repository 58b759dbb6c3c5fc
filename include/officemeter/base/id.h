/* SPDX-License-Identifier: Apache-2.0 */
/*
 * id.h - the ids people give sites, gateways, buses and meters.
 *
 * One rule everywhere an id appears (site files, MQTT topics, payloads,
 * the database): [a-z0-9][a-z0-9._-]*, at most OM_ID_LEN characters, so an
 * id is safe in a topic level, a file name and a log line as written.
 */
#ifndef OFFICEMETER_BASE_ID_H
#define OFFICEMETER_BASE_ID_H

#include <stdbool.h>

/* The longest id, and the size of a buffer that holds any id. */
#define OM_ID_LEN 64
#define OM_ID_MAX (OM_ID_LEN + 1)

/* True for [a-z0-9][a-z0-9._-]* of 1 to OM_ID_LEN characters. */
bool om_id_valid(const char *id);

#endif
