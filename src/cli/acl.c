/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acl.c - `officemeter acl`: the broker's access control, from the site files.
 *
 * The site files say which gateways exist and which site each belongs to;
 * this turns that into a mosquitto ACL in which a gateway may publish only
 * under its own officemeter/v1/{site}/{gateway}/ and read only its own ack
 * topic, and the aggregator reads every gateway's readings, status and
 * health and writes their acks (and, as the alert evaluator, each site's
 * alert topics: docs/alerts.md). A stolen gateway credential can then not
 * speak for another site. The broker user of a gateway is its id, so gateway
 * ids must be unique across the portfolio (they are MQTT client ids too).
 *
 * --passwords FILE writes one "user:password" line per user with a fresh
 * random password: each line is also the agent's credentials file format,
 * and `mosquitto_passwd -U FILE` hashes the file in place for the broker.
 *
 * The sites are read with the aggregator's own loader (om_agg_sites_load),
 * so the ACL covers exactly the sites the aggregator accepts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/proto/topic.h"

#define PROG "officemeter acl"
#define DEFAULT_AGGREGATOR_USER "officemeter-aggregator"
#define PASSWORD_LEN 24

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter acl (--sites DIR [--catalogue DIR] | --config AGGREGATOR.yaml)\n"
            "                       [--aggregator-user NAME] [-o FILE] [--passwords FILE]\n"
            "\n"
            "Write a mosquitto ACL from the site files: each gateway (broker user = its\n"
            "gateway id) may publish only under " OM_TOPIC_ROOT "{site}/{gateway}/ (readings,\n"
            "status, health) and read only its own ack topic; the aggregator reads every\n"
            "gateway's readings, status and health and writes their acks. Reference:\n"
            "docs/deployment.md.\n"
            "\n"
            "  --sites DIR            the site files (*.yaml with a root key `site`)\n"
            "  --catalogue DIR        meter models the sites are checked against (default\n"
            "                         " OM_AGG_DEFAULT_CATALOGUE ", else firmware-config/meters)\n"
            "  --config FILE          take sites_dir and catalogue from an aggregator config\n"
            "  --aggregator-user NAME the aggregator's broker user (default " DEFAULT_AGGREGATOR_USER
            ")\n"
            "  -o, --output FILE      write the ACL to FILE (atomically) instead of stdout\n"
            "  --passwords FILE       also write \"user:password\" lines with random passwords\n"
            "                         (mode 0600; refused if FILE exists); hash it for the\n"
            "                         broker with `mosquitto_passwd -U FILE`\n");
}

/* A name usable as an MQTT topic level, a mosquitto user and the user part
 * of a "user:password" line: not empty, no '/', '+', '#', ':', spaces or
 * control characters. */
static int valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || strchr("/+#:", *p))
            return 0;
    return 1;
}

/* Refuses names that cannot be used and gateway ids used twice (one broker
 * user cannot belong to two sites). Prints every problem; returns the count. */
static int check_names(const om_agg_sites *s, const char *agg_user)
{
    int problems = 0;
    if (!valid_name(agg_user)) {
        fprintf(stderr, PROG ": --aggregator-user \"%s\": not a usable broker user name\n",
                agg_user);
        problems++;
    }
    for (size_t i = 0; i < s->nsites; i++) {
        const om_site *site = &s->sites[i];
        if (!valid_name(site->site)) {
            fprintf(stderr, "%s: site id \"%s\" cannot be an MQTT topic level\n", site->path,
                    site->site ? site->site : "");
            problems++;
        }
        for (size_t g = 0; g < site->ngateways; g++) {
            const char *id = site->gateways[g].id;
            if (!valid_name(id)) {
                fprintf(stderr, "%s: gateway id \"%s\" cannot be a broker user and topic level\n",
                        site->path, id ? id : "");
                problems++;
                continue;
            }
            if (strcmp(id, agg_user) == 0) {
                fprintf(stderr, "%s: gateway id \"%s\" is the aggregator's broker user\n",
                        site->path, id);
                problems++;
            }
            for (size_t j = 0; j <= i; j++) {
                const om_site *other = &s->sites[j];
                size_t upto = j == i ? g : other->ngateways;
                for (size_t k = 0; k < upto; k++)
                    if (other->gateways[k].id && strcmp(other->gateways[k].id, id) == 0) {
                        fprintf(stderr,
                                "%s: gateway id \"%s\" is also declared in %s; gateway ids are "
                                "broker users and must be unique across all sites\n",
                                site->path, id, other->path);
                        problems++;
                    }
            }
        }
    }
    return problems;
}

static size_t count_gateways(const om_agg_sites *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nsites; i++)
        n += s->sites[i].ngateways;
    return n;
}

static void write_acl(FILE *out, const om_agg_sites *s, const char *sites_dir,
                      const char *agg_user)
{
    fprintf(out,
            "# mosquitto ACL for officemeter, written by `officemeter acl` from %s\n"
            "# (%zu sites, %zu gateways). Regenerate it whenever a site file changes and\n"
            "# reload mosquitto. A user may use only the topics listed under it; a client\n"
            "# without a user (anonymous) may use none.\n"
            "\n"
            "# The aggregator reads what every gateway publishes and acknowledges it;\n"
            "# the alert evaluator, with the same user, publishes each site's alerts.\n"
            "user %s\n"
            "topic read " OM_TOPIC_ROOT "+/+/readings\n"
            "topic read " OM_TOPIC_ROOT "+/+/status\n"
            "topic read " OM_TOPIC_ROOT "+/+/health\n"
            "topic write " OM_TOPIC_ROOT "+/+/ack\n"
            "topic write " OM_TOPIC_ROOT "+/alerts\n"
            "topic write " OM_TOPIC_ROOT "+/alerts/events\n",
            sites_dir, s->nsites, count_gateways(s), agg_user);
    for (size_t i = 0; i < s->nsites; i++) {
        const om_site *site = &s->sites[i];
        for (size_t g = 0; g < site->ngateways; g++) {
            const char *gw = site->gateways[g].id;
            fprintf(out,
                    "\n# Gateway %s of site %s (%s): its own topics only.\n"
                    "user %s\n"
                    "topic write " OM_TOPIC_ROOT "%s/%s/readings\n"
                    "topic write " OM_TOPIC_ROOT "%s/%s/status\n"
                    "topic write " OM_TOPIC_ROOT "%s/%s/health\n"
                    "topic read " OM_TOPIC_ROOT "%s/%s/ack\n",
                    gw, site->site, site->path, gw, site->site, gw, site->site, gw, site->site,
                    gw, site->site, gw);
        }
    }
}

/* Writes text to path through a temporary file in the same folder, so that
 * a broker reloading meanwhile never reads half a file. */
static int write_atomically(const char *path, const char *text, size_t len, mode_t mode)
{
    size_t n = strlen(path) + sizeof ".XXXXXX";
    char *tmp = malloc(n);
    if (!tmp) {
        fprintf(stderr, PROG ": %s: out of memory\n", path);
        return -1;
    }
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int rc = 0;
    if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
        rc = -1;
    if (close(fd) < 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* A random password of PASSWORD_LEN letters and digits (unbiased: bytes
 * that would favour some characters are drawn again). */
static int random_password(char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const unsigned n = sizeof alphabet - 1, limit = 256 - 256 % n;
    size_t have = 0;
    while (have < PASSWORD_LEN) {
        unsigned char buf[64];
        ssize_t got = getrandom(buf, sizeof buf, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (ssize_t i = 0; i < got && have < PASSWORD_LEN; i++)
            if (buf[i] < limit)
                out[have++] = alphabet[buf[i] % n];
    }
    out[PASSWORD_LEN] = '\0';
    return 0;
}

/* One "user:password" line per user, in a new file of mode 0600: never
 * over an existing one, which may hold the passwords in use. */
static int write_passwords(const char *path, const om_agg_sites *s, const char *agg_user)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, PROG ": %s exists; it may hold the passwords in use, so it is "
                            "not overwritten (remove it or choose another file)\n", path);
        else
            fprintf(stderr, PROG ": cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    char pw[PASSWORD_LEN + 1];
    int rc = random_password(pw);
    if (rc == 0)
        fprintf(f, "%s:%s\n", agg_user, pw);
    for (size_t i = 0; rc == 0 && i < s->nsites; i++)
        for (size_t g = 0; rc == 0 && g < s->sites[i].ngateways; g++) {
            rc = random_password(pw);
            if (rc == 0)
                fprintf(f, "%s:%s\n", s->sites[i].gateways[g].id, pw);
        }
    if (rc < 0)
        fprintf(stderr, PROG ": cannot draw random passwords: %s\n", strerror(errno));
    if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
        if (rc == 0)
            fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (fclose(f) != 0 && rc == 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    memset(pw, 0, sizeof pw);
    if (rc < 0)
        unlink(path);
    return rc;
}

static const char *default_catalogue(void)
{
    struct stat st;
    if (stat(OM_AGG_DEFAULT_CATALOGUE, &st) == 0 && S_ISDIR(st.st_mode))
        return OM_AGG_DEFAULT_CATALOGUE;
    return "firmware-config/meters";
}

typedef struct {
    const char *sites;
    const char *catalogue;
    const char *config;
    const char *agg_user;
    const char *output;
    const char *passwords;
} acl_args;

/* Returns 0, 1 (--help printed) or 2 (bad usage, reported). */
static int parse_args(int argc, char **argv, acl_args *a)
{
    static const struct option opts[] = {{"sites", required_argument, NULL, 's'},
                                         {"catalogue", required_argument, NULL, 'c'},
                                         {"config", required_argument, NULL, 'C'},
                                         {"aggregator-user", required_argument, NULL, 'u'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"passwords", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->agg_user = DEFAULT_AGGREGATOR_USER;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': a->sites = optarg; break;
        case 'c': a->catalogue = optarg; break;
        case 'C': a->config = optarg; break;
        case 'u': a->agg_user = optarg; break;
        case 'o': a->output = optarg; break;
        case 'p': a->passwords = optarg; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    if (!a->sites == !a->config) {
        fprintf(stderr, PROG ": give either --sites DIR or --config AGGREGATOR.yaml (try --help)\n");
        return 2;
    }
    if (a->config && a->catalogue) {
        fprintf(stderr, PROG ": --catalogue comes from --config's file; give one or the other\n");
        return 2;
    }
    return 0;
}

/* Loads the sites named by the arguments into *sites (to be freed by the
 * caller in any case); *sites_dir is the folder read. Returns 0 or -1. */
static int load_sites(const acl_args *a, om_agg_sites *sites, char **sites_dir)
{
    om_diag diag;
    om_diag_init(&diag);
    om_agg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memset(sites, 0, sizeof *sites);
    int rc = -1;
    if (a->config) {
        if (om_agg_config_load(a->config, &cfg, &diag) < 0)
            goto done;
    } else {
        cfg.sites_dir = strdup(a->sites);
        cfg.catalogue = strdup(a->catalogue ? a->catalogue : default_catalogue());
        if (!cfg.sites_dir || !cfg.catalogue) {
            om_diag_add(&diag, a->sites, 0, 0, NULL, "out of memory");
            goto done;
        }
    }
    if (om_agg_sites_load(&cfg, sites, &diag) < 0)
        goto done;
    if (sites->nsites == 0) {
        om_diag_add(&diag, cfg.sites_dir, 0, 0, NULL,
                    "no site files (*.yaml with a root key `site`) in this folder");
        goto done;
    }
    *sites_dir = cfg.sites_dir;
    cfg.sites_dir = NULL;
    rc = 0;
done:
    om_diag_print(&diag, stderr);
    om_diag_free(&diag);
    if (a->config) {
        om_agg_config_free(&cfg);
    } else {
        free(cfg.sites_dir);
        free(cfg.catalogue);
    }
    return rc;
}

int om_cmd_acl(int argc, char **argv)
{
    acl_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : 2;

    om_agg_sites sites;
    char *sites_dir = NULL, *text = NULL;
    size_t len = 0;
    rc = 1;
    if (load_sites(&a, &sites, &sites_dir) < 0) {
        fprintf(stderr, PROG ": the site files have errors (listed above); no ACL written\n");
        goto done;
    }
    if (check_names(&sites, a.agg_user) > 0) {
        fprintf(stderr, PROG ": no ACL written\n");
        goto done;
    }
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    write_acl(mem, &sites, sites_dir, a.agg_user);
    if (fclose(mem) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    if (a.passwords && write_passwords(a.passwords, &sites, a.agg_user) < 0)
        goto done;
    if (a.output) {
        if (write_atomically(a.output, text, len, 0644) < 0)
            goto done;
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        fprintf(stderr, PROG ": cannot write the ACL: %s\n", strerror(errno));
        goto done;
    }
    fprintf(stderr, PROG ": %zu gateways of %zu sites, aggregator user %s%s%s%s%s\n",
            count_gateways(&sites), sites.nsites, a.agg_user, a.output ? "; ACL in " : "",
            a.output ? a.output : "", a.passwords ? "; passwords in " : "",
            a.passwords ? a.passwords : "");
    rc = 0;
done:
    free(text);
    free(sites_dir);
    om_agg_sites_free(&sites);
    return rc;
}
