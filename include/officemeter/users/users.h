/* SPDX-License-Identifier: Apache-2.0 */
/*
 * users.h - the web view's users file: who may sign in and which sites each
 * may see (docs/web.md, "Users and access").
 *
 * One user a line, `NAME:HASH:SITES`, where HASH is a crypt(3) hash
 * (yescrypt by default, bcrypt accepted; never a plain password) and SITES
 * is `all` (the ESG and IT teams: every site, the portfolio report, the
 * metrics) or a comma-separated list of site ids. Blank lines and lines
 * starting with '#' are ignored. `officemeter web-user add` writes it.
 */
#ifndef OFFICEMETER_USERS_H
#define OFFICEMETER_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "officemeter/base/diag.h"

typedef struct {
    char *name;
    char *hash;
    bool all;      /* every site */
    char **sites;  /* otherwise these */
    size_t nsites;
    size_t line;
} om_user;

typedef struct {
    om_user *users;
    size_t n;
} om_users;

/* Loads a users file; every malformed line is an error in diag as
 * file:line:col: key: message. Returns 0, or -1 (out must still be freed). */
int om_users_load(const char *path, om_users *out, om_diag *diag);
void om_users_free(om_users *users);
const om_user *om_users_find(const om_users *users, const char *name);

/* True when the user may see the site. */
bool om_user_may_see(const om_user *user, const char *site);

/* 1 when password matches the user's hash, 0 when not (or the hash is
 * unusable). Thread-safe; costs what the hash's method costs (tens of ms). */
int om_user_check_password(const om_user *user, const char *password);

/* A fresh crypt(3) hash of password with the library's preferred method
 * (yescrypt on Debian 12) and a random salt. Returns 0, or -1 with err. */
int om_users_hash(const char *password, char *out, size_t len, char *err, size_t errlen);

/* Adds the user to the file, or replaces the line of a user of that name,
 * keeping every other line; written to a temporary file, flushed and
 * renamed (mode 0640). sites: "all" or "a,b". Returns 0, or -1 with err. */
int om_users_put(const char *path, const char *name, const char *hash, const char *sites,
                 char *err, size_t errlen);

/* Checks a SITES field ("all", or site ids separated by commas). Returns 0,
 * or -1 with what is wrong in err. */
int om_users_check_sites(const char *sites, char *err, size_t errlen);

#endif
