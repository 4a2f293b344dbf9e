#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "notify_render.h"

/* json_dump_callback's sink: the text grows in the pool, no malloc. */
typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
} sink;

static int sink_put(const char *s, size_t n, void *baton)
{
    sink *o = baton;

    if (o->len + n + 1 > o->cap) {
        apr_size_t cap =
            o->cap * 2 > o->len + n + 1 ? o->cap * 2 : o->len + n + 1;
        char *grown = apr_palloc(o->p, cap);
        memcpy(grown, o->buf, o->len);
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return 0;
}

/* Serialises and drops root; the text lives as long as p. An answer
 * with a notification takes about 1 KiB. */
static const char *dump(apr_pool_t *p, json_t *root, apr_size_t *len)
{
    sink o = {p, NULL, 0, 2048};
    int rv;

    o.buf = apr_palloc(p, o.cap);
    rv = json_dump_callback(root, sink_put, &o, JSON_COMPACT);
    json_decref(root);
    if (rv != 0) {
        *len = 0;
        return NULL;
    }
    o.buf[o.len] = '\0';
    *len = o.len;
    return o.buf;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *envelope(notify_status_e st, const char *message)
{
    const notify_status_info *info = notify_status(st);
    json_t *root = json_object();

    json_object_set_new_nocheck(root, "status", json_string(info->name));
    json_object_set_new_nocheck(root, "message",
                                json_string(message ? message : info->message));
    return root;
}

static json_t *error_object(const notify_error *err)
{
    json_t *root = envelope(err->status, err->message);

    if (err->param) {
        json_object_set_new_nocheck(root, "param", json_string(err->param));
    }
    return root;
}

const char *notify_render_error(apr_pool_t *p, const notify_error *err,
                                apr_size_t *len)
{
    return dump(p, error_object(err), len);
}

const char *notify_render_client_required(apr_pool_t *p,
                                          const notify_error *err,
                                          const notify_session_view *s,
                                          apr_size_t *len)
{
    json_t *root = error_object(err);
    json_t *session = json_object();

    json_object_set_new_nocheck(session, "token", json_string(s->token));
    json_object_set_new_nocheck(session, "user_id", json_integer(s->user_id));
    json_object_set_new_nocheck(session, "created_at",
                                str_or_null(s->created_at));
    json_object_set_new_nocheck(session, "last_used_at",
                                str_or_null(s->last_used_at));
    json_object_set_new_nocheck(session, "remember_me",
                                json_integer(s->remember_me ? 1 : 0));
    json_object_set_new_nocheck(root, "session", session);
    return dump(p, root, len);
}

static json_t *field_value(const notify_param_def *d, const char *val)
{
    if (!val) {
        return json_null();
    }
    if (d->kind == NOTIFY_K_BIGINT || d->kind == NOTIFY_K_FLAG) {
        return json_integer(apr_atoi64(val));
    }
    return json_string(val);
}

static json_t *notification_object(const notify_values *v,
                                   const notify_row *row)
{
    json_t *n = json_object();
    int i;

    json_object_set_new_nocheck(n, "id", json_integer(row->id));
    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        const notify_param_def *d = notify_param((notify_param_e)i);
        if ((d->flags & NOTIFY_F_REQUEST) ||
            ((d->flags & NOTIFY_F_INTERNAL) &&
             v->view != NOTIFY_VIEW_INTERNAL)) {
            continue;
        }
        json_object_set_new_nocheck(n, d->name, field_value(d, v->val[i]));
    }
    json_object_set_new_nocheck(n, "created_at", str_or_null(row->created_at));
    json_object_set_new_nocheck(n, "updated_at", str_or_null(row->updated_at));
    return n;
}

/* An email recipient is shown as "email" (SPEC section 3), a phone
 * number as "phone". */
static const char *recipient_key(const notify_proof *proof)
{
    return proof->channel && strcmp(proof->channel, "sms") == 0 ? "phone"
                                                                : "email";
}

static json_t *proof_object(const notify_proof *proof)
{
    json_t *o, *list;
    int i;

    if (!proof) {
        return json_null();
    }
    o = json_object();
    list = json_array();
    json_object_set_new_nocheck(o, "channel", str_or_null(proof->channel));
    json_object_set_new_nocheck(o, "provider", str_or_null(proof->provider));
    if (proof->state) {
        json_object_set_new_nocheck(o, "state", json_string(proof->state));
        json_object_set_new_nocheck(o, "attempts",
                                    json_integer(proof->attempts));
        json_object_set_new_nocheck(o, "next_attempt_at",
                                    str_or_null(proof->next_attempt_at));
    }
    for (i = 0; i < proof->count; i++) {
        const notify_recipient *rc = &proof->recipients[i];
        json_t *e = json_object();
        json_object_set_new_nocheck(e, recipient_key(proof),
                                    str_or_null(rc->recipient));
        json_object_set_new_nocheck(e, "type", str_or_null(rc->type));
        json_object_set_new_nocheck(e, "status", str_or_null(rc->status));
        json_object_set_new_nocheck(e, "provider_id",
                                    str_or_null(rc->provider_id));
        json_object_set_new_nocheck(e, "reject_reason",
                                    str_or_null(rc->reject_reason));
        json_object_set_new_nocheck(e, "error", str_or_null(rc->error));
        json_array_append_new(list, e);
    }
    json_object_set_new_nocheck(o, "recipients", list);
    return o;
}

const char *notify_render_notification(apr_pool_t *p, notify_status_e st,
                                       const char *message,
                                       const notify_values *v,
                                       const notify_row *row,
                                       const notify_proof *proof,
                                       apr_size_t *len)
{
    json_t *root = envelope(st, message);
    json_t *data = json_object();

    json_object_set_new_nocheck(data, "notification",
                                notification_object(v, row));
    if (v->view == NOTIFY_VIEW_WITH_PROOF ||
        notify_status_is_delivery_failure(st)) {
        json_object_set_new_nocheck(data, "proof", proof_object(proof));
    }
    json_object_set_new_nocheck(root, "data", data);
    return dump(p, root, len);
}

const char *notify_render_webhook(apr_pool_t *p, int events, int matched,
                                  apr_size_t *len)
{
    json_t *root = envelope(NOTIFY_WEBHOOK_ACCEPTED, NULL);
    json_t *data = json_object();

    json_object_set_new_nocheck(data, "events", json_integer(events));
    json_object_set_new_nocheck(data, "matched", json_integer(matched));
    json_object_set_new_nocheck(root, "data", data);
    return dump(p, root, len);
}
