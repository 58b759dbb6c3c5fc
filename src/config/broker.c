/* SPDX-License-Identifier: Apache-2.0 */
/*
 * brokercfg.c - MQTT broker settings: URI, identity, credentials, TLS.
 *
 * Security defaults are decided here: TLS whenever the broker is not on
 * loopback, unless the file says `insecure: true` (which the daemons log as
 * a warning), and certificate verification on unless turned off.
 */
#include "broker_private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const om_cfg_field tls_fields[] = {
    OM_F_STRING(om_tls_config, ca_file, "ca_file", 0),
    OM_F_STRING(om_tls_config, cert_file, "cert_file", 0),
    OM_F_STRING(om_tls_config, key_file, "key_file", 0),
    OM_F_BOOL(om_tls_config, verify, "verify", 0, "true"),
};
static const om_cfg_schema tls_schema = OM_SCHEMA(om_tls_config, "tls", tls_fields, NULL);

bool om_host_is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

int om_broker_uri_parse(const char *uri, bool *tls, char *host, size_t hostlen, unsigned *port)
{
    const char *sep = strstr(uri, "://");
    if (!sep)
        return -1;
    size_t slen = (size_t)(sep - uri);
    if ((slen == 4 && strncmp(uri, "mqtt", 4) == 0) || (slen == 3 && strncmp(uri, "tcp", 3) == 0))
        *tls = false;
    else if ((slen == 5 && strncmp(uri, "mqtts", 5) == 0) ||
             (slen == 3 && strncmp(uri, "ssl", 3) == 0))
        *tls = true;
    else
        return -1;
    const char *h = sep + 3;
    const char *end;
    if (*h == '[') { /* [v6]:port */
        end = strchr(h, ']');
        if (!end)
            return -1;
        end++;
    } else {
        end = h + strcspn(h, ":/");
    }
    size_t hl = (size_t)(end - h);
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = *tls ? 8883 : 1883;
    if (*end == ':') {
        char *stop;
        unsigned long p = strtoul(end + 1, &stop, 10);
        if (stop == end + 1 || p == 0 || p > 65535 || (*stop != '\0' && *stop != '/'))
            return -1;
        *port = (unsigned)p;
    } else if (*end != '\0' && *end != '/') {
        return -1;
    }
    return 0;
}

/* One broker URI of `key` (node: where it is written): TLS or not, on
 * this machine or not. Returns 0, or -1 after reporting it. */
static int check_uri(om_cfg_ctx *ctx, yaml_node_t *at, const char *key, const char *uri,
                     const om_broker_config *b, bool *tls, bool *loopback)
{
    char host[256];
    unsigned port;
    if (om_broker_uri_parse(uri, tls, host, sizeof host, &port) < 0) {
        om_cfg_error(ctx, at, key,
                     "invalid broker URI (got \"%s\", expected mqtt://HOST[:PORT] or "
                     "mqtts://HOST[:PORT])",
                     uri);
        return -1;
    }
    *loopback = om_host_is_loopback(host);
    if (!*tls && !*loopback && !b->insecure) {
        om_cfg_error(ctx, at, key,
                     "plain MQTT to %s, which is not on this machine (expected mqtts://, or "
                     "insecure: true to accept readings and credentials in clear text)",
                     host);
        return -1;
    }
    return 0;
}

static bool group_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= 64 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static void check_broker(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_broker_config *b = obj;
    bool have_list = om_cfg_get(ctx, node, "uris") != NULL;
    if (b->uri && have_list) {
        om_cfg_error(ctx, om_cfg_get(ctx, node, "uris"), "uris",
                     "give uri (one broker) or uris (a list of brokers), not both");
        return;
    }
    if (!b->uri && !have_list) {
        om_cfg_error(ctx, node, "uri", "missing (expected uri: mqtts://HOST[:PORT], or uris: "
                                       "[a list of them])");
        return;
    }
    if (b->uri && om_cfg_key_valid(ctx, node, "uri")) {
        check_uri(ctx, om_cfg_get(ctx, node, "uri"), "uri", b->uri, b, &b->use_tls,
                  &b->loopback);
    } else if (b->nuris > 0 && om_cfg_key_valid(ctx, node, "uris")) {
        yaml_node_t *list = om_cfg_get(ctx, node, "uris");
        b->loopback = true;
        for (size_t i = 0; i < b->nuris; i++) {
            char key[32];
            snprintf(key, sizeof key, "uris[%zu]", i);
            bool tls, loopback;
            if (check_uri(ctx, om_cfg_item(ctx, list, i), key, b->uris[i], b, &tls,
                          &loopback) < 0)
                continue;
            if (i > 0 && tls != b->use_tls)
                om_cfg_error(ctx, om_cfg_item(ctx, list, i), key,
                             "every broker of the list with TLS (mqtts://) or none");
            if (i == 0)
                b->use_tls = tls;
            b->loopback &= loopback;
        }
        b->uri = strdup(b->uris[0]); /* the first names the brokers in messages */
    }
    if (b->shared_group && om_cfg_key_valid(ctx, node, "shared_group") &&
        !group_name_ok(b->shared_group))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "shared_group"), "shared_group",
                     "invalid group name (got \"%s\", expected 1 to 64 letters, digits, '.', "
                     "'_' or '-')", b->shared_group);
    if ((b->tls.cert_file == NULL) != (b->tls.key_file == NULL))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "tls"), "tls",
                     "cert_file and key_file go together (got only %s)",
                     b->tls.cert_file ? "cert_file" : "key_file");
}

static const om_cfg_field broker_fields[] = {
    OM_F_STRING(om_broker_config, uri, "uri", 0),
    OM_F_STRLIST(om_broker_config, uris, nuris, "uris", OM_CFG_NONEMPTY),
    OM_F_STRING(om_broker_config, client_id, "client_id", 0),
    OM_F_STRING(om_broker_config, credentials_file, "credentials_file", 0),
    OM_F_STRUCT(om_broker_config, tls, "tls", 0, &tls_schema),
    OM_F_BOOL(om_broker_config, insecure, "insecure", 0, "false"),
    OM_F_STRING(om_broker_config, shared_group, "shared_group", 0),
};
const om_cfg_schema om_broker_schema =
    OM_SCHEMA(om_broker_config, "broker", broker_fields, check_broker);


void om_cfg_check_reconnect(om_cfg_ctx *ctx, yaml_node_t *node, unsigned min_ms, unsigned max_s)
{
    /* Only when both values stand: a refused one has its own message. */
    if (!om_cfg_key_valid(ctx, node, "reconnect_min_ms") ||
        (om_cfg_get(ctx, node, "reconnect_max_s") && !om_cfg_key_valid(ctx, node, "reconnect_max_s")))
        return;
    if ((uint64_t)min_ms > (uint64_t)max_s * 1000u)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "reconnect_min_ms"), "reconnect_min_ms",
                     "longer than the cap (got %u ms, expected at most reconnect_max_s: %u, "
                     "i.e. %llu ms)", min_ms, max_s, (unsigned long long)max_s * 1000u);
}

static const char *const log_level_names[] = {"error", "warning", "info", "debug", NULL};

int om_cfg_parse_log_level(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    const char *s = om_cfg_scalar(node);
    for (size_t i = 0; s && log_level_names[i]; i++) {
        if (strcmp(s, log_level_names[i]) == 0) {
            *(char **)dst = strdup(s);
            return 0;
        }
    }
    char got[96];
    om_cfg_error(ctx, node, NULL,
                 "unknown value (got %s, expected one of error, warning, info or debug)",
                 om_cfg_describe(node, got, sizeof got));
    return -1;
}

void om_cfg_free_string(void *dst)
{
    free(*(char **)dst);
    *(char **)dst = NULL;
}

void om_cfg_resolve_path(char **field, const char *config_path, const char *fallback)
{
    if (!*field && fallback)
        *field = strdup(fallback);
    if (!*field || (*field)[0] == '/')
        return;
    const char *slash = strrchr(config_path, '/');
    if (!slash)
        return;
    size_t dirlen = (size_t)(slash - config_path);
    size_t len = dirlen + 1 + strlen(*field) + 1;
    char *abs = malloc(len);
    if (!abs)
        return;
    snprintf(abs, len, "%.*s/%s", (int)dirlen, config_path, *field);
    free(*field);
    *field = abs;
}

void om_broker_resolve_paths(om_broker_config *broker, const char *config_path)
{
    om_cfg_resolve_path(&broker->credentials_file, config_path, NULL);
    om_cfg_resolve_path(&broker->tls.ca_file, config_path, NULL);
    om_cfg_resolve_path(&broker->tls.cert_file, config_path, NULL);
    om_cfg_resolve_path(&broker->tls.key_file, config_path, NULL);
}
