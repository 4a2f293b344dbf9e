/* notify_twilio.h */
#include <string.h>

#include <apr_strings.h>
#include <curl/curl.h>
#include <jansson.h>

#include "notify_form.h"
#include "notify_twilio.h"

/* The largest answer read: one message resource. */
#define TWILIO_MAX_ANSWER (256 * 1024)

const char *notify_twilio_messages_url(apr_pool_t *p, const char *url,
                                       const char *sid)
{
    apr_size_t len = strlen(url);
    char *enc = curl_easy_escape(NULL, sid, (int)strlen(sid));
    const char *out;

    if (!enc) {
        return NULL;
    }
    while (len > 0 && url[len - 1] == '/') {
        len--;
    }
    out = apr_psprintf(p, "%.*s/Accounts/%s/Messages.json", (int)len, url, enc);
    curl_free(enc);
    return out;
}

const char *notify_twilio_request(apr_pool_t *p, const notify_values *v,
                                  const char *from, const char *callback,
                                  apr_size_t *len)
{
    const char *pairs[] = {
        "To",
        v->val[NOTIFY_P_PHONE_TO],
        "From",
        v->val[NOTIFY_P_PHONE_FROM] ? v->val[NOTIFY_P_PHONE_FROM] : from,
        "Body",
        v->val[NOTIFY_P_EMAIL_BODY],
        "MediaUrl",
        v->val[NOTIFY_P_MEDIA_URL],
        "StatusCallback",
        callback,
        NULL,
    };

    return notify_form_build(p, pairs, len);
}

static const char *json_text(apr_pool_t *p, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? apr_pstrdup(p, json_string_value(v)) : NULL;
}

static int accepted(const char *status)
{
    static const char *const ok[] = {"queued", "accepted", "sending", "sent"};
    size_t i;

    for (i = 0; status && i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(status, ok[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Twilio's error object: "code: message", or NULL. */
static const char *error_text(apr_pool_t *p, json_t *doc)
{
    json_t *code = json_object_get(doc, "code");
    const char *message = json_text(p, doc, "message");

    if (!json_is_object(doc) || (!json_is_integer(code) && !message)) {
        return NULL;
    }
    /* apr's formatter knows APR_INT64_T_FMT, not jansson's "lld". */
    return apr_psprintf(p, "%" APR_INT64_T_FMT ": %s",
                        json_is_integer(code)
                            ? (apr_int64_t)json_integer_value(code)
                            : (apr_int64_t)0,
                        message ? message : "(no message)");
}

void notify_twilio_outcome(apr_pool_t *p, apr_status_t sent,
                           const notify_http_result *res, const char *to,
                           notify_attempt *out)
{
    notify_recipient *rc = apr_pcalloc(p, 2 * sizeof(*rc));
    json_t *doc = NULL;
    const char *why = NULL;

    memset(&out->proof, 0, sizeof(out->proof));
    out->proof.channel = "sms";
    out->proof.provider = "twilio";
    out->proof.count = 1;
    out->proof.recipients = rc;
    out->reason = NULL;
    rc->recipient = to;
    rc->type = "to";
    rc->status = "error";
    out->verdict = NOTIFY_ATTEMPT_RETRYABLE;
    if (sent != APR_SUCCESS) {
        why = apr_psprintf(p, "Twilio unreachable: %s",
                           res->error ? res->error : "failed");
    }
    else {
        doc = json_loadb(res->body, res->len, 0, NULL);
        rc->provider_id = json_is_object(doc) ? json_text(p, doc, "sid") : NULL;
        if (res->status == 201 && json_is_object(doc)) {
            const char *status = json_text(p, doc, "status");
            if (rc->provider_id && accepted(status)) {
                rc->status = status;
                out->verdict = NOTIFY_ATTEMPT_ACCEPTED;
            }
            else {
                why = apr_psprintf(p,
                                   "Twilio's answer has %s (status %s)",
                                   rc->provider_id ? "a sid" : "no sid",
                                   status ? status : "missing");
            }
        }
        else {
            const char *err = error_text(p, doc);
            /* 429 and 5xx may pass later; any other 4xx is refused the
             * same way again (SPEC section 11). */
            if (res->status >= 400 && res->status < 500 &&
                res->status != 429) {
                out->verdict = NOTIFY_ATTEMPT_PERMANENT;
            }
            why = err ? apr_psprintf(p, "Twilio error (HTTP %ld): %s",
                                     res->status, err)
                      : apr_psprintf(p, "Twilio answered HTTP %ld",
                                     res->status);
        }
    }
    json_decref(doc);
    if (why) {
        rc->error = why;
        out->reason = why;
    }
}

static int configured(const notify_settings *s)
{
    return s->twilio_sid != NULL && s->twilio_token != NULL;
}

static apr_interval_time_t timeout(const notify_settings *s)
{
    return apr_time_from_sec(s->twilio_timeout);
}

static void attempt(apr_pool_t *p, const notify_settings *s, notify_http *http,
                    const notify_values *v, apr_int64_t id, int n,
                    notify_attempt *out)
{
    notify_http_request req;
    notify_http_result res;
    apr_status_t sent = APR_EGENERAL;

    (void)id;
    (void)n;
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.url = notify_twilio_messages_url(p, s->twilio_url, s->twilio_sid);
    req.content_type = "application/x-www-form-urlencoded";
    req.body = notify_twilio_request(p, v, s->twilio_from,
                                     s->twilio_callback_url, &req.len);
    req.userpwd = apr_pstrcat(p, s->twilio_sid, ":", s->twilio_token, NULL);
    req.timeout_ms = (long)s->twilio_timeout * 1000;
    req.connect_timeout_ms = NOTIFY_CONNECT_TIMEOUT_MS;
    req.max_answer = TWILIO_MAX_ANSWER;
    if (req.url && req.body && http) {
        sent = notify_http_post(http, p, &req, &res);
    }
    else {
        res.error = http ? "the request could not be built" : "no HTTP client";
    }
    notify_twilio_outcome(p, sent, &res, v->val[NOTIFY_P_PHONE_TO], out);
    out->latency = res.elapsed;
}

const notify_provider notify_twilio_provider = {
    "sms",      "sms",   "twilio", NOTIFY_SMS_FAILED,
    configured, timeout, attempt,
};
