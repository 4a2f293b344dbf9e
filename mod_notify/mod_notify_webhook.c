/* notify-mandrill-webhook and notify-twilio-callback (SPEC 12): the
 * providers' event POSTs. HEAD and GET answer 200 (Mandrill checks the
 * URL when the webhook is added); a POST is checked (form, signature,
 * events) and recorded in one transaction by the core (notify_webhook.c,
 * and each provider's reading of its events: notify_mandrill_webhook.c,
 * notify_twilio_callback.c). */
#include <apr_strings.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_notify.h"
#include "notify_content_type.h"
#include "notify_datetime.h"
#include "notify_form.h"
#include "notify_mandrill.h"
#include "notify_render.h"
#include "notify_twilio.h"

APLOG_USE_MODULE(notify);

static int answer(request_rec *r, notify_status_e st, const char *message,
                  const char *json, apr_size_t len)
{
    notify_answer a;
    notify_error err = {st, NULL, message};

    memset(&a, 0, sizeof(a));
    a.status = st;
    a.http = notify_status(st)->http;
    a.body = json ? json : notify_render_error(r->pool, &err, &a.len);
    a.len = json ? len : a.len;
    if (st != NOTIFY_WEBHOOK_ACCEPTED) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s %s: %s", r->method,
                      r->uri, notify_status(st)->name);
    }
    return notify_send_answer(r, &a);
}

static int accepted(request_rec *r, int events, int matched)
{
    apr_size_t len;
    const char *json = notify_render_webhook(r->pool, events, matched, &len);

    return answer(r, NOTIFY_WEBHOOK_ACCEPTED, NULL, json, len);
}

/* What differs between the providers' hooks. */
typedef struct {
    const char *handler;
    const char *provider; /* notification_deliveries.provider */
    const char *title;    /* for the log */
    const char *key_directive;
    const char *signature_header;
    const char *(*key)(const notify_settings *cfg);
    const char *(*url)(const notify_settings *cfg); /* NULL: as httpd sees it */
    /* The events of a checked form; NULL with *why when it holds none. */
    apr_array_header_t *(*events)(apr_pool_t *p,
                                  const apr_array_header_t *fields,
                                  int *count, const char **why);
} hook_kind;

static const char *mandrill_key(const notify_settings *cfg)
{
    return cfg->mandrill_webhook_key;
}

static const char *mandrill_url(const notify_settings *cfg)
{
    return cfg->mandrill_webhook_url;
}

static apr_array_header_t *mandrill_events(apr_pool_t *p,
                                           const apr_array_header_t *fields,
                                           int *count, const char **why)
{
    const notify_form_field *batch = notify_form_get(fields, "mandrill_events");
    apr_array_header_t *events =
        batch ? notify_mandrill_events(p, batch->value, batch->value_len, count)
              : NULL;

    *why = "mandrill_events is not a JSON array.";
    return events;
}

static const char *twilio_key(const notify_settings *cfg)
{
    return cfg->twilio_token;
}

static const char *twilio_url(const notify_settings *cfg)
{
    return cfg->twilio_callback_url;
}

static apr_array_header_t *twilio_events(apr_pool_t *p,
                                         const apr_array_header_t *fields,
                                         int *count, const char **why)
{
    apr_array_header_t *events =
        apr_array_make(p, 1, sizeof(notify_delivery_event));

    *why = "A Twilio status callback has MessageSid and MessageStatus.";
    *count = 1;
    return notify_twilio_event(p, fields, apr_array_push(events)) ? events
                                                                   : NULL;
}

static const hook_kind kinds[] = {
    {"notify-mandrill-webhook", "mandrill", "Mandrill webhook",
     "NotifyMandrillWebhookKey", "X-Mandrill-Signature", mandrill_key,
     mandrill_url, mandrill_events},
    {"notify-twilio-callback", "twilio", "Twilio status callback",
     "NotifyTwilioAuthToken", "X-Twilio-Signature", twilio_key, twilio_url,
     twilio_events},
};

/* The URL the provider signed: as configured, else as httpd sees this
 * one. */
static const char *signed_url(request_rec *r, const hook_kind *k,
                              const notify_settings *cfg)
{
    const char *url = k->url(cfg);

    return url ? url : ap_construct_url(r->pool, r->unparsed_uri, r);
}

static int post(request_rec *r, const hook_kind *k, const notify_settings *cfg)
{
    notify_dbd_use use = {r->pool, r->server, r, NULL, {0}};
    apr_array_header_t *fields, *events;
    const char *body = NULL, *message, *why = NULL, *key = k->key(cfg);
    notify_status_e st;
    notify_db *db;
    apr_size_t len = 0;
    int count = 0, matched = 0;
    notify_body_e got;

    if (!key) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s at %s: %s is not set",
                      k->title, r->uri, k->key_directive);
        return answer(r, NOTIFY_APPLICATION_CRASH, NULL, NULL, 0);
    }
    if (notify_content_type_parse(
            apr_table_get(r->headers_in, "Content-Type")) != NOTIFY_CT_FORM) {
        return answer(r, NOTIFY_INVALID_CONTENT_TYPE,
                      apr_psprintf(r->pool,
                                   "A %s POST is "
                                   "application/x-www-form-urlencoded.",
                                   k->title),
                      NULL, 0);
    }
    got = notify_read_body(r, cfg->max_body, &body, &len, &st, &message);
    if (got == NOTIFY_BODY_HTTPD_ANSWERED) {
        return AP_FILTER_ERROR;
    }
    if (got == NOTIFY_BODY_REFUSED) {
        return answer(r, st, message, NULL, 0);
    }
    fields = notify_form_parse(r->pool, body, len);
    if (!fields) {
        return answer(r, NOTIFY_INVALID_ENCODED_PARAMS,
                      "The body is not a valid UTF-8 urlencoded form.", NULL,
                      0);
    }
    if (!notify_webhook_signed(r->pool, key, signed_url(r, k, cfg), fields,
                               apr_table_get(r->headers_in,
                                             k->signature_header))) {
        return answer(r, NOTIFY_INVALID_SIGNATURE, NULL, NULL, 0);
    }
    events = k->events(r->pool, fields, &count, &message);
    if (!events) {
        return answer(r, NOTIFY_INVALID_ENCODED_PARAMS, message, NULL, 0);
    }
    if (notify_dbd_open(&use, &db, &why) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s: %s", k->title, why);
        return answer(r, NOTIFY_APPLICATION_CRASH, NULL, NULL, 0);
    }
    if (notify_webhook_record(db, r->pool, k->provider, events,
                              notify_datetime_stamp(r->pool, apr_time_now()),
                              &matched) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "%s: recording %d event(s): %s", k->title, count,
                      db->error);
        notify_dbd_close(&use, db);
        /* The provider sends it again later. */
        return answer(r, NOTIFY_APPLICATION_CRASH, NULL, NULL, 0);
    }
    notify_dbd_close(&use, db);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "%s: %d event(s), %d matched",
                  k->title, count, matched);
    return accepted(r, count, matched);
}

int notify_webhook_handler(request_rec *r)
{
    const hook_kind *k = NULL;
    notify_settings cfg;
    size_t i;

    for (i = 0; r->handler && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(r->handler, kinds[i].handler) == 0) {
            k = &kinds[i];
        }
    }
    if (!k) {
        return DECLINED;
    }
    notify_settings_get(r, &cfg);
    if (r->method_number == M_GET) {
        return accepted(r, 0, 0); /* HEAD too: httpd sends no body */
    }
    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD, POST");
        return answer(r, NOTIFY_ROUTE_NON_EXISTENT, NULL, NULL, 0);
    }
    return post(r, k, &cfg);
}
