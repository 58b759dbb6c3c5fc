/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_deliver.c - getting alert changes to people and systems, losing
 * none (docs/alerts.md, "Delivery").
 *
 *   MQTT events     every change, QoS 1, to officemeter/v1/{site}/alerts/events;
 *                   the target moves past a change once the broker acknowledged it
 *   MQTT lists      officemeter/v1/{site}/alerts, retained: the site's open
 *                   alerts, published when they changed
 *   webhooks        every change, one POST each, in order; the target moves past
 *                   a change only on a 2xx answer, else it waits
 *                   retry.min_s x 2^(failures - 1) (at most retry.max_s) and
 *                   tries the same change again
 *   Alertmanager    its own model: the open alerts are posted every cycle with
 *                   endsAt a little ahead (it forgets alerts not sent again),
 *                   and resolved ones with their end for resend_resolved_s
 *
 * The queue is the history of changes in the database (alertdb.h): a
 * change is in it once it happened, whatever happens to this process, and
 * a change sent again after a crash carries the same idempotency key.
 * Backoff runs on the system's clock even when evaluation runs on a
 * simulator's: a receiver's outage is real time.
 */
#include "alerts_cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "officemeter/alerts/record.h"
#include "officemeter/base/clock.h"
#include "officemeter/daemon/log.h"
#include "officemeter/http/http.h"
#include "officemeter/mqtt/mqtt.h"

#define MQTT_TARGET "mqtt"
#define BATCH 500
#define MQTT_WAIT_MS 5000
#define TOPIC_MAX 160

struct alerts_delivery {
    om_mqtt *mqtt;
    om_http *http;
};

/* ---- setting up ------------------------------------------------------------------ */

static om_mqtt *make_client(alerts_env *env)
{
    const om_broker_config *b = &env->cfg.broker;
    char err[512], client_id[160];
    char *user = NULL, *pass = NULL;
    if (b->credentials_file &&
        om_mqtt_read_credentials(b->credentials_file, &user, &pass, err, sizeof err) < 0) {
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, err);
        return NULL;
    }
    /* Its own client id: the aggregator's session must not be taken over. */
    snprintf(client_id, sizeof client_id, "%s-alerts", b->client_id);
    om_mqtt_options o;
    om_mqtt_options_init(&o);
    o.uri = b->uri;
    o.client_id = client_id;
    o.username = user;
    o.password = pass;
    o.ca_file = b->tls.ca_file;
    o.cert_file = b->tls.cert_file;
    o.key_file = b->tls.key_file;
    o.verify = b->tls.verify;
    o.max_inflight = BATCH;
    om_mqtt *m = om_mqtt_new(&o, NULL, err, sizeof err);
    if (pass)
        memset(pass, 0, strlen(pass));
    free(user);
    free(pass);
    if (!m) {
        fprintf(stderr, "officemeter %s: broker %s: %s\n", env->cmd, b->uri, err);
        return NULL;
    }
    if (om_mqtt_start(m) < 0) {
        om_mqtt_errmsg(m, err, sizeof err);
        fprintf(stderr, "officemeter %s: broker %s: %s\n", env->cmd, b->uri, err);
        om_mqtt_free(m);
        return NULL;
    }
    if (om_mqtt_wait_connected(m, MQTT_WAIT_MS, err, sizeof err) < 0)
        om_log(OM_LOG_WARNING, "broker %s: %s (changes wait in the database; still trying)",
               b->uri, err);
    return m;
}

alerts_delivery *alerts_delivery_new(alerts_env *env)
{
    alerts_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (env->rules.delivery.mqtt && env->have_cfg && !(d->mqtt = make_client(env)))
        goto fail;
    if ((env->rules.delivery.nwebhooks || env->rules.delivery.alertmanager.url) &&
        !(d->http = om_http_new())) {
        fprintf(stderr, "officemeter %s: cannot start the HTTP client\n", env->cmd);
        goto fail;
    }
    return d;
fail:
    alerts_delivery_free(d);
    return NULL;
}

void alerts_delivery_free(alerts_delivery *d)
{
    if (!d)
        return;
    if (d->mqtt)
        om_mqtt_stop(d->mqtt, 2000);
    om_mqtt_free(d->mqtt);
    om_http_free(d->http);
    free(d);
}

static void webhook_target(const om_alert_webhook *w, char *buf, size_t len)
{
    snprintf(buf, len, "webhook %s", w->url);
}

int alerts_delivery_targets(alerts_delivery *d, alerts_env *env)
{
    om_alertdb_target t;
    int64_t now = om_wall_ms();
    if (d->mqtt && om_alertdb_target_get(env->db, MQTT_TARGET, now, &t) < 0)
        goto fail;
    for (size_t i = 0; i < env->rules.delivery.nwebhooks; i++) {
        char name[sizeof t.target];
        webhook_target(&env->rules.delivery.webhooks[i], name, sizeof name);
        if (om_alertdb_target_get(env->db, name, now, &t) < 0)
            goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_alertdb_errmsg(env->db));
    return -1;
}

/* ---- MQTT ------------------------------------------------------------------------ */

/* Waits until the broker acknowledged everything published. */
static bool mqtt_flushed(om_mqtt *m)
{
    int64_t until = om_mono_ms() + MQTT_WAIT_MS;
    struct timespec step = {0, 5 * 1000 * 1000};
    while (om_mqtt_inflight(m) > 0 && om_mono_ms() < until)
        nanosleep(&step, NULL);
    return om_mqtt_inflight(m) == 0;
}

static int mqtt_events(alerts_delivery *d, alerts_env *env, alerts_delivery_stats *st)
{
    om_alertdb_target t;
    if (om_alertdb_target_get(env->db, MQTT_TARGET, om_wall_ms(), &t) < 0)
        return -1;
    for (;;) {
        om_alertdb_change_row *rows;
        size_t n;
        if (om_alertdb_changes_after(env->db, t.upto, BATCH, &rows, &n) < 0)
            return -1;
        if (n == 0)
            return 0;
        bool ok = true;
        for (size_t i = 0; ok && i < n; i++) {
            if (!rows[i].notify)
                continue; /* silenced: recorded, not announced */
            char topic[TOPIC_MAX];
            snprintf(topic, sizeof topic, "officemeter/v1/%s/alerts/events", rows[i].site);
            ok = om_mqtt_publish(d->mqtt, topic, rows[i].body, strlen(rows[i].body), 1, false,
                                 NULL) == 0;
        }
        ok = ok && mqtt_flushed(d->mqtt);
        t.last_attempt = om_wall_ms();
        if (ok) {
            st->mqtt_events += (unsigned)n;
            t.upto = rows[n - 1].id;
            t.last_success = t.last_attempt;
            t.failures = 0;
            t.last_error[0] = '\0';
        } else {
            t.failures++;
            om_mqtt_errmsg(d->mqtt, t.last_error, sizeof t.last_error);
            om_log_limited("alerts mqtt", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                           "alert events not yet published (%s); they wait in the database",
                           t.last_error);
        }
        om_alertdb_changes_free(rows, n);
        if (om_alertdb_target_put(env->db, &t) < 0)
            return -1;
        if (!ok)
            return 0;
    }
}

/* FNV-1a: whether a site's list changed since it was last published. */
static void digest_of(const char *text, char *out, size_t len)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 0x100000001B3ull;
    }
    snprintf(out, len, "%016" PRIx64, h);
}

static int mqtt_lists(alerts_delivery *d, alerts_env *env, int64_t now, alerts_delivery_stats *st)
{
    for (size_t i = 0; i < env->sites.nsites; i++) {
        const char *site = env->sites.sites[i].site;
        om_alertdb_filter f = {.site = site, .open_only = true};
        om_alert_record *open;
        size_t n;
        if (om_alertdb_list(env->db, &f, now, &open, &n) < 0)
            return -1;
        /* The digest leaves the time of publication out. */
        char *same = om_alert_open_json(site, 0, open, n);
        char *payload = om_alert_open_json(site, now, open, n);
        om_alert_records_free(open, n);
        char digest[32], before[32];
        int rc = 0;
        if (!same || !payload || om_alertdb_published_get(env->db, site, before, sizeof before) < 0)
            rc = -1;
        else
            digest_of(same, digest, sizeof digest);
        if (rc == 0 && strcmp(digest, before) != 0) {
            char topic[TOPIC_MAX];
            snprintf(topic, sizeof topic, "officemeter/v1/%s/alerts", site);
            if (om_mqtt_publish(d->mqtt, topic, payload, strlen(payload), 1, true, NULL) == 0 &&
                mqtt_flushed(d->mqtt)) {
                st->mqtt_lists++;
                rc = om_alertdb_published_put(env->db, site, digest, om_wall_ms());
            }
        }
        free(same);
        free(payload);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- webhooks --------------------------------------------------------------------- */

static int64_t backoff_ms(const om_alert_delivery *cfg, unsigned failures)
{
    int64_t ms = (int64_t)cfg->retry_min_s * 1000;
    for (unsigned i = 1; i < failures && ms < (int64_t)cfg->retry_max_s * 1000; i++)
        ms *= 2;
    return ms < (int64_t)cfg->retry_max_s * 1000 ? ms : (int64_t)cfg->retry_max_s * 1000;
}

/* POSTs one change; true on a 2xx answer. */
static bool post_change(alerts_delivery *d, alerts_env *env, const om_alert_webhook *w,
                        const om_alertdb_change_row *row, char *why, size_t whylen)
{
    char key[128], header[160];
    om_alert_key(om_alertdb_instance(env->db), row->alert, row->seq, key, sizeof key);
    snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    const char *headers[] = {header, NULL};
    om_http_request req = {.url = w->url, .content_type = "application/json", .body = row->body,
                           .len = strlen(row->body), .headers = headers,
                           .timeout_ms = w->timeout_s * 1000};
    long status;
    char reply[200];
    if (om_http_post(d->http, &req, &status, reply, sizeof reply, why, whylen) < 0)
        return false;
    if (status >= 200 && status < 300)
        return true;
    snprintf(why, whylen, "%s answered HTTP %ld%s%.120s", w->url, status, reply[0] ? ": " : "",
             reply);
    return false;
}

static int webhook(alerts_delivery *d, alerts_env *env, const om_alert_webhook *w,
                   alerts_delivery_stats *st)
{
    char name[512];
    webhook_target(w, name, sizeof name);
    om_alertdb_target t;
    int64_t now = om_wall_ms();
    if (om_alertdb_target_get(env->db, name, now, &t) < 0)
        return -1;
    if (now < t.next_try)
        return 0;
    for (;;) {
        om_alertdb_change_row *rows;
        size_t n;
        if (om_alertdb_changes_after(env->db, t.upto, BATCH, &rows, &n) < 0)
            return -1;
        if (n == 0)
            return 0;
        bool stop = false;
        for (size_t i = 0; !stop && i < n; i++) {
            const om_alertdb_change_row *row = &rows[i];
            bool send = row->notify && row->severity >= w->min_severity;
            char why[512] = "";
            t.last_attempt = om_wall_ms();
            if (send && !post_change(d, env, w, row, why, sizeof why)) {
                t.failures++;
                t.next_try = t.last_attempt + backoff_ms(&env->rules.delivery, t.failures);
                snprintf(t.last_error, sizeof t.last_error, "%s", why);
                st->webhook_failures++;
                om_log_limited(name, OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                               "%s (change %s-%" PRId64 "-%u waits; next try in %" PRId64 " s)",
                               why, om_alertdb_instance(env->db), row->alert, row->seq,
                               (t.next_try - t.last_attempt) / 1000);
                stop = true;
            } else {
                if (send) {
                    st->webhooks++;
                    t.last_success = t.last_attempt;
                    if (t.failures)
                        om_log_recovered(name, OM_LOG_INFO, "%s takes alert changes again",
                                         w->url);
                }
                t.upto = row->id;
                t.failures = 0;
                t.last_error[0] = '\0';
            }
            /* Each step is durable: after a crash at most the change in
             * flight goes again, with its idempotency key. */
            if (om_alertdb_target_put(env->db, &t) < 0) {
                om_alertdb_changes_free(rows, n);
                return -1;
            }
        }
        om_alertdb_changes_free(rows, n);
        if (stop)
            return 0;
    }
}

/* ---- Alertmanager ------------------------------------------------------------------ */

static int alertmanager(alerts_delivery *d, alerts_env *env, int64_t now,
                        alerts_delivery_stats *st)
{
    const om_alert_am *am = &env->rules.delivery.alertmanager;
    om_alertdb_filter f = {.since = 0};
    om_alert_record *all;
    size_t n, k = 0;
    /* Open alerts, and those resolved within resend_resolved_s (by the
     * evaluator's clock, which resolved them); silenced ones are left out. */
    f.open_only = true;
    if (om_alertdb_list(env->db, &f, now, &all, &n) < 0)
        return -1;
    om_alert_record *resolved;
    size_t nres;
    f.open_only = false;
    f.since = now - (int64_t)am->resend_resolved_s * 1000;
    if (om_alertdb_list(env->db, &f, now, &resolved, &nres) < 0) {
        om_alert_records_free(all, n);
        return -1;
    }
    om_alert_record *send = calloc(n + nres + 1, sizeof *send);
    for (size_t i = 0; send && i < n; i++)
        if (!all[i].silenced_until)
            send[k++] = all[i];
    for (size_t i = 0; send && i < nres; i++)
        if (!resolved[i].open && resolved[i].resolved_detected_at >= f.since &&
            !resolved[i].silenced_until)
            send[k++] = resolved[i];
    int rc = 0;
    if (send && k > 0) {
        char *body = om_alert_am_json(send, k, om_wall_ms(), am->ends_after_s);
        char url[600], why[900];
        snprintf(url, sizeof url, "%s%sapi/v2/alerts", am->url,
                 am->url[strlen(am->url) - 1] == '/' ? "" : "/");
        om_http_request req = {.url = url, .content_type = "application/json", .body = body,
                               .len = body ? strlen(body) : 0, .timeout_ms = am->timeout_s * 1000};
        long status = 0;
        char reply[200];
        if (body && om_http_post(d->http, &req, &status, reply, sizeof reply, why, sizeof why) == 0 &&
            status >= 200 && status < 300) {
            st->am_posts++;
            om_log_recovered("alertmanager", OM_LOG_INFO, "Alertmanager %s takes alerts again",
                             am->url);
        } else {
            st->am_failures++;
            if (status)
                snprintf(why, sizeof why, "%s answered HTTP %ld: %.120s", url, status, reply);
            om_log_limited("alertmanager", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                           "Alertmanager: %s (sent again next cycle)", why);
        }
        free(body);
    }
    free(send); /* the records are owned by the two lists */
    om_alert_records_free(all, n);
    om_alert_records_free(resolved, nres);
    return rc;
}

/* ---- all of it ----------------------------------------------------------------------- */

int alerts_deliver(alerts_delivery *d, alerts_env *env, int64_t now, alerts_delivery_stats *st)
{
    memset(st, 0, sizeof *st);
    int rc = 0;
    if (d->mqtt && om_mqtt_is_connected(d->mqtt)) {
        if (mqtt_events(d, env, st) < 0 || mqtt_lists(d, env, now, st) < 0)
            rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < env->rules.delivery.nwebhooks; i++)
        rc = webhook(d, env, &env->rules.delivery.webhooks[i], st);
    if (rc == 0 && env->rules.delivery.alertmanager.url)
        rc = alertmanager(d, env, now, st);
    if (rc < 0)
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_alertdb_errmsg(env->db));
    return rc;
}
