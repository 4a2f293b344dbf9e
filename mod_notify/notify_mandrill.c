/* notify_mandrill.h */
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "notify_email.h"
#include "notify_mandrill.h"

/* The largest answer read: one small object per recipient. */
#define MANDRILL_MAX_ANSWER (1024 * 1024)

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *list;
    const char *type;
} collect_baton;

static int collect(void *baton, const char *entry, apr_size_t len)
{
    collect_baton *b = baton;
    notify_address *a = apr_array_push(b->list);

    a->type = b->type;
    if (notify_email_split(b->p, entry, len, &a->name, &a->email) !=
        APR_SUCCESS) {
        a->email = apr_pstrmemdup(b->p, entry, len);
        a->name = NULL;
    }
    return 0;
}

apr_array_header_t *notify_mandrill_recipients(apr_pool_t *p,
                                               const notify_values *v)
{
    static const struct {
        notify_param_e param;
        const char *type;
    } fields[] = {{NOTIFY_P_EMAIL_TO, "to"},
                  {NOTIFY_P_EMAIL_CC, "cc"},
                  {NOTIFY_P_EMAIL_BCC, "bcc"}};
    collect_baton b = {p, apr_array_make(p, 4, sizeof(notify_address)), NULL};
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *list = v->val[fields[i].param];
        if (list) {
            b.type = fields[i].type;
            notify_email_list_each(list, strlen(list), collect, &b);
        }
    }
    return b.list;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static apr_status_t free_text(void *s)
{
    free(s);
    return APR_SUCCESS;
}

const char *notify_mandrill_request(apr_pool_t *p, const char *key,
                                    const notify_values *v,
                                    const apr_array_header_t *rcpts,
                                    apr_int64_t id, int attempt,
                                    apr_size_t *len)
{
    json_t *root = json_object(), *msg = json_object(), *to = json_array();
    json_t *meta = json_object();
    const char *from = v->val[NOTIFY_P_EMAIL_FROM];
    const char *from_name = NULL, *from_email = from;
    char *text;
    int i;

    if (from) {
        notify_email_split(p, from, strlen(from), &from_name, &from_email);
    }
    for (i = 0; i < rcpts->nelts; i++) {
        const notify_address *a = &APR_ARRAY_IDX(rcpts, i, notify_address);
        json_t *e = json_object();
        json_object_set_new(e, "email", json_string(a->email));
        json_object_set_new(e, "name", str_or_null(a->name));
        json_object_set_new(e, "type", json_string(a->type));
        json_array_append_new(to, e);
    }
    /* Mandrill keeps metadata values as strings. */
    json_object_set_new(meta, "notification_id",
                        json_string(apr_psprintf(p, "%" APR_INT64_T_FMT, id)));
    json_object_set_new(meta, "attempt", json_string(apr_itoa(p, attempt)));
    json_object_set_new(msg, "html", str_or_null(v->val[NOTIFY_P_EMAIL_BODY]));
    json_object_set_new(msg, "subject",
                        str_or_null(v->val[NOTIFY_P_EMAIL_SUBJECT]));
    json_object_set_new(msg, "from_email", str_or_null(from_email));
    json_object_set_new(msg, "from_name", str_or_null(from_name));
    json_object_set_new(msg, "to", to);
    json_object_set_new(msg, "metadata", meta);
    json_object_set_new(root, "key", json_string(key));
    json_object_set_new(root, "message", msg);
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) {
        return NULL;
    }
    apr_pool_cleanup_register(p, text, free_text, apr_pool_cleanup_null);
    *len = strlen(text);
    return text;
}

/* A proof of one entry per address, each "error" with why. */
static void all_failed(apr_pool_t *p, const apr_array_header_t *rcpts,
                       notify_attempt *out, notify_attempt_e verdict,
                       const char *why)
{
    int i;

    out->proof.count = rcpts->nelts;
    out->proof.recipients =
        apr_pcalloc(p, (rcpts->nelts + 1) * sizeof(notify_recipient));
    for (i = 0; i < rcpts->nelts; i++) {
        const notify_address *a = &APR_ARRAY_IDX(rcpts, i, notify_address);
        out->proof.recipients[i].recipient = a->email;
        out->proof.recipients[i].type = a->type;
        out->proof.recipients[i].status = "error";
        out->proof.recipients[i].error = why;
    }
    out->verdict = verdict;
    out->reason = why;
}

static const char *json_text(apr_pool_t *p, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? apr_pstrdup(p, json_string_value(v)) : NULL;
}

static int accepted(const char *status)
{
    return status &&
           (strcmp(status, "sent") == 0 || strcmp(status, "queued") == 0 ||
            strcmp(status, "scheduled") == 0);
}

static int refused(const char *status)
{
    return status &&
           (strcmp(status, "rejected") == 0 || strcmp(status, "invalid") == 0);
}

/* The answer's entry for email not taken by an earlier address yet:
 * Mandrill answers one entry per address, but in no promised order. */
static json_t *entry_for(json_t *list, const char *email, char *taken)
{
    size_t i, n = json_array_size(list);

    for (i = 0; i < n; i++) {
        json_t *e = json_array_get(list, i);
        const char *got = json_string_value(json_object_get(e, "email"));
        if (!taken[i] && got && strcasecmp(got, email) == 0) {
            taken[i] = 1;
            return e;
        }
    }
    return NULL;
}

/* An HTTP 200 list of results: each address takes its entry; an address
 * without one, or whose entry has no status, failed. */
static void read_results(apr_pool_t *p, json_t *list,
                         const apr_array_header_t *rcpts, notify_attempt *out)
{
    char *taken = apr_pcalloc(p, json_array_size(list) + 1);
    int i, ok = 0, all_refused = rcpts->nelts > 0;

    out->proof.count = rcpts->nelts;
    out->proof.recipients =
        apr_pcalloc(p, (rcpts->nelts + 1) * sizeof(notify_recipient));
    for (i = 0; i < rcpts->nelts; i++) {
        const notify_address *a = &APR_ARRAY_IDX(rcpts, i, notify_address);
        notify_recipient *rc = &out->proof.recipients[i];
        json_t *e = entry_for(list, a->email, taken);

        rc->recipient = a->email;
        rc->type = a->type;
        rc->status = e ? json_text(p, e, "status") : NULL;
        if (!rc->status) {
            rc->status = "error";
            rc->error = e ? "Mandrill's answer has no status for this "
                            "recipient"
                          : "Mandrill's answer has no result for this "
                            "recipient";
            all_refused = 0;
            continue;
        }
        rc->provider_id = json_text(p, e, "_id");
        rc->reject_reason = json_text(p, e, "reject_reason");
        ok |= accepted(rc->status);
        all_refused &= refused(rc->status);
    }
    if (ok) {
        out->verdict = NOTIFY_ATTEMPT_ACCEPTED;
        return;
    }
    out->verdict =
        all_refused ? NOTIFY_ATTEMPT_PERMANENT : NOTIFY_ATTEMPT_RETRYABLE;
    out->reason = all_refused ? "Mandrill rejected every recipient"
                              : "Mandrill accepted no recipient";
}

void notify_mandrill_outcome(apr_pool_t *p, apr_status_t sent,
                             const notify_http_result *res,
                             const apr_array_header_t *rcpts,
                             notify_attempt *out)
{
    json_t *doc;
    const char *name;

    memset(&out->proof, 0, sizeof(out->proof));
    out->proof.channel = "email";
    out->proof.provider = "mandrill";
    out->reason = NULL;
    if (sent != APR_SUCCESS) {
        all_failed(p, rcpts, out, NOTIFY_ATTEMPT_RETRYABLE,
                   apr_psprintf(p, "Mandrill unreachable: %s",
                                res->error ? res->error : "failed"));
        return;
    }
    doc = json_loadb(res->body, res->len, 0, NULL);
    if (json_is_object(doc) && json_object_get(doc, "name")) {
        /* A ValidationError stays one; any other (Invalid_Key,
         * GeneralError, ...) may pass once fixed on either side. */
        name = json_text(p, doc, "name");
        all_failed(p, rcpts, out,
                   name && strcmp(name, "ValidationError") == 0
                       ? NOTIFY_ATTEMPT_PERMANENT
                       : NOTIFY_ATTEMPT_RETRYABLE,
                   apr_psprintf(p, "Mandrill error (HTTP %ld): %s: %s",
                                res->status, name ? name : "(no name)",
                                json_text(p, doc, "message")));
    }
    else if (res->status != 200) {
        all_failed(p, rcpts, out, NOTIFY_ATTEMPT_RETRYABLE,
                   apr_psprintf(p, "Mandrill answered HTTP %ld", res->status));
    }
    else if (!json_is_array(doc)) {
        all_failed(p, rcpts, out, NOTIFY_ATTEMPT_RETRYABLE,
                   "Mandrill's answer is not a JSON list of results");
    }
    else {
        read_results(p, doc, rcpts, out);
    }
    json_decref(doc);
}

static int configured(const notify_settings *s)
{
    return s->mandrill_key != NULL;
}

static apr_interval_time_t timeout(const notify_settings *s)
{
    return apr_time_from_sec(s->mandrill_timeout);
}

static void attempt(apr_pool_t *p, const notify_settings *s, notify_http *http,
                    const notify_values *v, apr_int64_t id, int n,
                    notify_attempt *out)
{
    apr_array_header_t *rcpts = notify_mandrill_recipients(p, v);
    notify_http_request req;
    notify_http_result res;
    apr_status_t sent = APR_EGENERAL;

    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.url = s->mandrill_url;
    req.content_type = "application/json";
    req.body =
        notify_mandrill_request(p, s->mandrill_key, v, rcpts, id, n, &req.len);
    req.timeout_ms = (long)s->mandrill_timeout * 1000;
    req.connect_timeout_ms = NOTIFY_CONNECT_TIMEOUT_MS;
    req.max_answer = MANDRILL_MAX_ANSWER;
    if (req.body && http) {
        sent = notify_http_post(http, p, &req, &res);
    }
    else {
        res.error = req.body ? "no HTTP client"
                             : "the request could not "
                               "be built";
    }
    notify_mandrill_outcome(p, sent, &res, rcpts, out);
    out->latency = res.elapsed;
}

const notify_provider notify_mandrill_provider = {
    "email",    "email", "mandrill", NOTIFY_MANDRILL_EMAIL_FAILED,
    configured, timeout, attempt,
};
