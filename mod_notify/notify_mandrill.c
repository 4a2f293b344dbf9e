#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "notify_mandrill.h"
#include "notify_validate.h"

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
                                    apr_size_t *len)
{
    json_t *root = json_object(), *msg = json_object(), *to = json_array();
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
    json_object_set_new(msg, "html", str_or_null(v->val[NOTIFY_P_EMAIL_BODY]));
    json_object_set_new(msg, "subject",
                        str_or_null(v->val[NOTIFY_P_EMAIL_SUBJECT]));
    json_object_set_new(msg, "from_email", str_or_null(from_email));
    json_object_set_new(msg, "from_name", str_or_null(from_name));
    json_object_set_new(msg, "to", to);
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

/* Every address failed the same way: one entry each, status "error". */
static int all_failed(apr_pool_t *p, const apr_array_header_t *rcpts,
                      notify_proof *proof, const char *why,
                      const char **reason)
{
    int i;

    proof->count = rcpts->nelts;
    proof->recipients = apr_pcalloc(p, (rcpts->nelts + 1) *
                                           sizeof(notify_recipient));
    for (i = 0; i < rcpts->nelts; i++) {
        const notify_address *a = &APR_ARRAY_IDX(rcpts, i, notify_address);
        proof->recipients[i].email = a->email;
        proof->recipients[i].type = a->type;
        proof->recipients[i].status = "error";
        proof->recipients[i].error = why;
    }
    *reason = why;
    return 0;
}

static const char *json_text(apr_pool_t *p, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? apr_pstrdup(p, json_string_value(v)) : NULL;
}

/* The type we sent to this address; Mandrill's answer does not repeat it. */
static const char *type_of(const apr_array_header_t *rcpts, const char *email)
{
    int i;

    for (i = 0; email && i < rcpts->nelts; i++) {
        const notify_address *a = &APR_ARRAY_IDX(rcpts, i, notify_address);
        if (strcasecmp(a->email, email) == 0) {
            return a->type;
        }
    }
    return NULL;
}

static int accepted(const char *status)
{
    return status && (strcmp(status, "sent") == 0 ||
                      strcmp(status, "queued") == 0 ||
                      strcmp(status, "scheduled") == 0);
}

static int read_results(apr_pool_t *p, json_t *list,
                        const apr_array_header_t *rcpts, notify_proof *proof,
                        const char **reason)
{
    size_t i, n = json_array_size(list);
    int ok = 0;

    proof->count = (int)n;
    proof->recipients = apr_pcalloc(p, (n + 1) * sizeof(notify_recipient));
    for (i = 0; i < n; i++) {
        json_t *e = json_array_get(list, i);
        notify_recipient *rc = &proof->recipients[i];
        rc->email = json_text(p, e, "email");
        rc->type = type_of(rcpts, rc->email);
        rc->status = json_text(p, e, "status");
        rc->provider_id = json_text(p, e, "_id");
        rc->reject_reason = json_text(p, e, "reject_reason");
        ok |= accepted(rc->status);
    }
    if (!ok) {
        *reason = "Mandrill accepted no recipient";
    }
    return ok;
}

int notify_mandrill_outcome(apr_pool_t *p, apr_status_t sent,
                            const notify_http_result *res,
                            const apr_array_header_t *rcpts,
                            notify_proof *proof, const char **reason)
{
    json_t *doc;
    int ok;

    memset(proof, 0, sizeof(*proof));
    if (sent != APR_SUCCESS) {
        return all_failed(p, rcpts, proof,
                          apr_psprintf(p, "Mandrill unreachable: %s",
                                       res->error ? res->error : "failed"),
                          reason);
    }
    doc = json_loadb(res->body, res->len, 0, NULL);
    if (json_is_object(doc) && json_object_get(doc, "name")) {
        const char *why = apr_psprintf(
            p, "Mandrill error (HTTP %ld): %s: %s", res->status,
            json_text(p, doc, "name"), json_text(p, doc, "message"));
        json_decref(doc);
        return all_failed(p, rcpts, proof, why, reason);
    }
    if (res->status != 200) {
        json_decref(doc);
        return all_failed(p, rcpts, proof,
                          apr_psprintf(p, "Mandrill answered HTTP %ld",
                                       res->status),
                          reason);
    }
    if (!json_is_array(doc)) {
        json_decref(doc);
        return all_failed(p, rcpts, proof,
                          "Mandrill's answer is not a JSON list of results",
                          reason);
    }
    ok = read_results(p, doc, rcpts, proof, reason);
    json_decref(doc);
    return ok;
}
