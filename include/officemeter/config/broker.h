/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker.h - how a daemon reaches the MQTT broker: the `broker:` mapping
 * that agent.yaml and aggregator.yaml share (URI, identity, credentials,
 * TLS), loaded and checked by the same code for both.
 */
#ifndef OFFICEMETER_CONFIG_BROKER_H
#define OFFICEMETER_CONFIG_BROKER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *ca_file;
    char *cert_file;
    char *key_file;
    bool verify; /* server certificate verification; on unless explicitly off */
} om_tls_config;

typedef struct {
    char *uri;       /* mqtt://host:port or mqtts://host:port; with uris, the first of them */
    char **uris;     /* brokers to try in order (paho's serverURIs); 0 of them: uri alone */
    size_t nuris;
    char *client_id;
    char *credentials_file; /* "username:password", mode 0600; NULL: anonymous */
    om_tls_config tls;
    bool insecure;   /* allow plain MQTT to a host that is not loopback */
    /* aggregator: subscribe as a member of this MQTT 5 shared subscription
     * group ($share/NAME/...); NULL: alone (docs/aggregator.md) */
    char *shared_group;
    /* derived from uri (uris) */
    bool use_tls;
    bool loopback;   /* every broker is on this machine */
} om_broker_config;

/* Parse an MQTT URI: scheme mqtt, tcp (plain) or mqtts, ssl (TLS), host,
 * optional port (1883 / 8883). Returns 0 or -1. */
int om_broker_uri_parse(const char *uri, bool *tls, char *host, size_t hostlen, unsigned *port);
/* True for localhost, 127.0.0.0/8 and ::1. */
bool om_host_is_loopback(const char *host);

#endif
