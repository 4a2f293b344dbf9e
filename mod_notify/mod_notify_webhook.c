/* notify-mandrill-webhook (SPEC 12): Mandrill's webhook batches. HEAD and
 * GET answer 200 (Mandrill checks the URL when the webhook is added); a
 * POST is checked (form, signature, events) and recorded in one
 * transaction by the core (notify_webhook.c, notify_mandrill_webhook.c). */
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

/* The URL Mandrill signed: as configured, else as httpd sees this one. */
static const char *signed_url(request_rec *r, const notify_settings *cfg)
{
    return cfg->mandrill_webhook_url
               ? cfg->mandrill_webhook_url
               : ap_construct_url(r->pool, r->unparsed_uri, r);
}

static int post(request_rec *r, const notify_settings *cfg)
{
    notify_dbd_use use = {r->pool, r->server, r, NULL, {0}};
    apr_array_header_t *fields, *events;
    const notify_form_field *batch;
    const char *body = NULL, *message, *why = NULL;
    notify_status_e st;
    notify_db *db;
    apr_size_t len = 0;
    int count = 0, matched = 0;
    notify_body_e got;

    if (!cfg->mandrill_webhook_key) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "Mandrill webhook at %s: NotifyMandrillWebhookKey is "
                      "not set",
                      r->uri);
        return answer(r, NOTIFY_APPLICATION_CRASH, NULL, NULL, 0);
    }
    if (notify_content_type_parse(
            apr_table_get(r->headers_in, "Content-Type")) != NOTIFY_CT_FORM) {
        return answer(r, NOTIFY_INVALID_CONTENT_TYPE,
                      "A Mandrill webhook POST is "
                      "application/x-www-form-urlencoded.",
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
    if (!notify_webhook_signed(
            r->pool, cfg->mandrill_webhook_key, signed_url(r, cfg), fields,
            apr_table_get(r->headers_in, "X-Mandrill-Signature"))) {
        return answer(r, NOTIFY_INVALID_SIGNATURE, NULL, NULL, 0);
    }
    batch = notify_form_get(fields, "mandrill_events");
    events = batch ? notify_mandrill_events(r->pool, batch->value,
                                            batch->value_len, &count)
                   : NULL;
    if (!events) {
        return answer(r, NOTIFY_INVALID_ENCODED_PARAMS,
                      "mandrill_events is not a JSON array.", NULL, 0);
    }
    if (notify_dbd_open(&use, &db, &why) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "Mandrill webhook: %s", why);
        return answer(r, NOTIFY_APPLICATION_CRASH, NULL, NULL, 0);
    }
    if (notify_webhook_record(db, r->pool, "mandrill", events,
                              notify_datetime_stamp(r->pool, apr_time_now()),
                              &matched) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "Mandrill webhook: recording %d event(s): %s", count,
                      db->error);
        notify_dbd_close(&use, db);
        /* Mandrill sends the batch again later. */
        return answer(r, NOTIFY_APPLICATION_CRASH, NULL, NULL, 0);
    }
    notify_dbd_close(&use, db);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "Mandrill webhook: %d event(s), %d matched", count, matched);
    return accepted(r, count, matched);
}

int notify_webhook_handler(request_rec *r)
{
    notify_settings cfg;

    if (!r->handler || strcmp(r->handler, "notify-mandrill-webhook") != 0) {
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
    return post(r, &cfg);
}
