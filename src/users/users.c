/* SPDX-License-Identifier: Apache-2.0 */
/*
 * users.c - the users file (users.h): parse, look up, check passwords with
 * crypt(3) (libxcrypt), add or replace a user.
 */
#include "officemeter/users/users.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "officemeter/base/id.h"

static void free_user(om_user *u)
{
    free(u->name);
    free(u->hash);
    for (size_t i = 0; i < u->nsites; i++)
        free(u->sites[i]);
    free(u->sites);
}

void om_users_free(om_users *users)
{
    if (!users)
        return;
    for (size_t i = 0; i < users->n; i++)
        free_user(&users->users[i]);
    free(users->users);
    memset(users, 0, sizeof *users);
}

int om_users_check_sites(const char *sites, char *err, size_t errlen)
{
    if (strcmp(sites, "all") == 0)
        return 0;
    if (!*sites) {
        snprintf(err, errlen, "no sites (expected \"all\" or site ids separated by commas)");
        return -1;
    }
    const char *p = sites;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char id[80];
        snprintf(id, sizeof id, "%.*s", (int)(len < sizeof id - 1 ? len : sizeof id - 1), p);
        if (len == 0 || len >= sizeof id || !om_id_valid(id) || strcmp(id, "all") == 0) {
            snprintf(err, errlen, "\"%.*s\" is not a site id (expected \"all\" or ids "
                     "[a-z0-9][a-z0-9._-]* separated by commas)", (int)len, p);
            return -1;
        }
        p += len + (comma != NULL);
        if (comma && !*p) {
            snprintf(err, errlen, "a comma ends the list of sites");
            return -1;
        }
    }
    return 0;
}

static int split_sites(om_user *u, const char *sites)
{
    if (strcmp(sites, "all") == 0) {
        u->all = true;
        return 0;
    }
    const char *p = sites;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char **grown = realloc(u->sites, (u->nsites + 1) * sizeof *grown);
        if (!grown)
            return -1;
        u->sites = grown;
        if (!(u->sites[u->nsites] = strndup(p, len)))
            return -1;
        u->nsites++;
        p += len + (comma != NULL);
    }
    return 0;
}

/* A hash crypt(3) can check: "$y$", "$2b$", "$2y$", "$6$" ... */
static bool hash_usable(const char *hash)
{
    return hash[0] == '$' && strchr(hash + 1, '$') != NULL && strlen(hash) > 10;
}

static void parse_line(const char *path, size_t lineno, char *line, om_users *out, om_diag *diag)
{
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) {
        om_diag_add(diag, path, lineno, 1, "user", "expected NAME:HASH:SITES (got \"%.40s\")",
                    line);
        return;
    }
    *c1 = *c2 = '\0';
    const char *name = line, *hash = c1 + 1, *sites = c2 + 1;
    char why[256];
    if (!om_id_valid(name)) {
        om_diag_add(diag, path, lineno, 1, "name", "not a user name (got \"%s\", expected "
                    "[a-z0-9][a-z0-9._-]*)", name);
        return;
    }
    if (!hash_usable(hash)) {
        om_diag_add(diag, path, lineno, (size_t)(hash - line) + 1, "hash",
                    "not a crypt(3) hash (expected $y$... as `officemeter web-user add` "
                    "writes; never a plain password)");
        return;
    }
    if (om_users_check_sites(sites, why, sizeof why) < 0) {
        om_diag_add(diag, path, lineno, (size_t)(sites - line) + 1, "sites", "%s", why);
        return;
    }
    if (om_users_find(out, name)) {
        om_diag_add(diag, path, lineno, 1, "name", "user \"%s\" appears twice", name);
        return;
    }
    om_user *grown = realloc(out->users, (out->n + 1) * sizeof *grown);
    if (!grown)
        return;
    out->users = grown;
    om_user *u = &out->users[out->n];
    memset(u, 0, sizeof *u);
    u->line = lineno;
    if (!(u->name = strdup(name)) || !(u->hash = strdup(hash)) || split_sites(u, sites) < 0) {
        free_user(u);
        om_diag_add(diag, path, lineno, 1, "user", "out of memory");
        return;
    }
    out->n++;
}

int om_users_load(const char *path, om_users *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    size_t before = om_diag_count(diag);
    FILE *f = fopen(path, "r");
    if (!f) {
        om_diag_add(diag, path, 0, 0, "users_file", "cannot read (%s)", strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        parse_line(path, lineno, line, out, diag);
    }
    free(line);
    fclose(f);
    return om_diag_count(diag) == before ? 0 : -1;
}

const om_user *om_users_find(const om_users *users, const char *name)
{
    for (size_t i = 0; users && i < users->n; i++)
        if (strcmp(users->users[i].name, name) == 0)
            return &users->users[i];
    return NULL;
}

bool om_user_may_see(const om_user *user, const char *site)
{
    if (!user)
        return false;
    if (user->all)
        return true;
    for (size_t i = 0; i < user->nsites; i++)
        if (strcmp(user->sites[i], site) == 0)
            return true;
    return false;
}

int om_user_check_password(const om_user *user, const char *password)
{
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data)
        return 0;
    const char *got = crypt_r(password, user->hash, data);
    int ok = 0;
    size_t n = strlen(user->hash);
    if (got && got[0] != '*' && strlen(got) == n) {
        /* Compared in constant time: how long it takes says nothing. */
        unsigned char diff = 0;
        for (size_t i = 0; i < n; i++)
            diff |= (unsigned char)(got[i] ^ user->hash[i]);
        ok = diff == 0;
    }
    explicit_bzero(data, sizeof *data);
    free(data);
    return ok;
}

int om_users_hash(const char *password, char *out, size_t len, char *err, size_t errlen)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof salt)) {
        snprintf(err, errlen, "cannot make a salt: %s", strerror(errno));
        return -1;
    }
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *hash = crypt_r(password, salt, data);
    int rc = 0;
    if (!hash || hash[0] == '*' || strlen(hash) >= len) {
        snprintf(err, errlen, "crypt(3) failed: %s", strerror(errno));
        rc = -1;
    } else {
        snprintf(out, len, "%s", hash);
    }
    explicit_bzero(data, sizeof *data);
    free(data);
    return rc;
}

/* Copies every line of `in` but the user's to `out`. */
static int copy_others(FILE *in, FILE *out, const char *name)
{
    char *line = NULL;
    size_t cap = 0, nlen = strlen(name);
    ssize_t len;
    while ((len = getline(&line, &cap, in)) >= 0) {
        if (strncmp(line, name, nlen) == 0 && line[nlen] == ':')
            continue;
        fputs(line, out);
        if (len > 0 && line[len - 1] != '\n')
            fputc('\n', out);
    }
    free(line);
    return ferror(in) ? -1 : 0;
}

int om_users_put(const char *path, const char *name, const char *hash, const char *sites,
                 char *err, size_t errlen)
{
    if (!om_id_valid(name)) {
        snprintf(err, errlen, "not a user name (got \"%s\", expected [a-z0-9][a-z0-9._-]*)",
                 name);
        return -1;
    }
    if (om_users_check_sites(sites, err, errlen) < 0)
        return -1;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    mode_t old = umask(0027);
    FILE *out = fopen(tmp, "w");
    umask(old);
    if (!out) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    FILE *in = fopen(path, "r");
    int rc = 0;
    if (in) {
        rc = copy_others(in, out, name);
        fclose(in);
    } else if (errno != ENOENT) {
        rc = -1;
    } else {
        fputs("# officemeter-web users: NAME:HASH:SITES (docs/web.md); written by "
              "`officemeter web-user add`\n", out);
    }
    if (rc == 0 && fprintf(out, "%s:%s:%s\n", name, hash, sites) < 0)
        rc = -1;
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        rc = -1;
    if (fclose(out) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}
