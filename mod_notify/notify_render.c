/* notify_render.h */
#include <string.h>

#include <apr_strings.h>

#include "notify_json_out.h"
#include "notify_render.h"

/* An answer with a notification takes about 1 KiB. */
#define ANSWER_HINT 2048

static void envelope(notify_json_out *w, notify_status_e st,
                     const char *message)
{
    const notify_status_info *info = notify_status(st);

    notify_json_out_object(w);
    notify_json_out_key(w, "status");
    notify_json_out_string(w, info->name);
    notify_json_out_key(w, "message");
    notify_json_out_string(w, message ? message : info->message);
}

static void error_members(notify_json_out *w, const notify_error *err)
{
    envelope(w, err->status, err->message);
    if (err->param) {
        notify_json_out_key(w, "param");
        notify_json_out_string(w, err->param);
    }
}

static void member(notify_json_out *w, const char *key, const char *val)
{
    notify_json_out_key(w, key);
    notify_json_out_string(w, val);
}

static void member_int(notify_json_out *w, const char *key, apr_int64_t val)
{
    notify_json_out_key(w, key);
    notify_json_out_int(w, val);
}

const char *notify_render_error(apr_pool_t *p, const notify_error *err,
                                apr_size_t *len)
{
    notify_json_out w;

    notify_json_out_init(&w, p, 256);
    error_members(&w, err);
    notify_json_out_end_object(&w);
    return notify_json_out_text(&w, len);
}

const char *notify_render_client_required(apr_pool_t *p,
                                          const notify_error *err,
                                          const notify_session_view *s,
                                          apr_size_t *len)
{
    notify_json_out w;

    notify_json_out_init(&w, p, 512);
    error_members(&w, err);
    notify_json_out_key(&w, "session");
    notify_json_out_object(&w);
    member(&w, "token", s->token);
    member_int(&w, "user_id", s->user_id);
    member(&w, "created_at", s->created_at);
    member(&w, "last_used_at", s->last_used_at);
    member_int(&w, "remember_me", s->remember_me ? 1 : 0);
    notify_json_out_end_object(&w);
    notify_json_out_end_object(&w);
    return notify_json_out_text(&w, len);
}

static void field_value(notify_json_out *w, const notify_param_def *d,
                        const char *val)
{
    if (val && (d->kind == NOTIFY_K_BIGINT || d->kind == NOTIFY_K_FLAG)) {
        notify_json_out_int(w, apr_atoi64(val));
    }
    else {
        notify_json_out_string(w, val);
    }
}

static void notification_object(notify_json_out *w, const notify_values *v,
                                const notify_row *row)
{
    int i;

    notify_json_out_object(w);
    member_int(w, "id", row->id);
    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        const notify_param_def *d = notify_param((notify_param_e)i);
        if ((d->flags & NOTIFY_F_REQUEST) ||
            ((d->flags & NOTIFY_F_INTERNAL) &&
             v->view != NOTIFY_VIEW_INTERNAL)) {
            continue;
        }
        notify_json_out_key(w, d->name);
        field_value(w, d, v->val[i]);
    }
    member(w, "created_at", row->created_at);
    member(w, "updated_at", row->updated_at);
    notify_json_out_end_object(w);
}

/* An email recipient is shown as "email" (SPEC section 3), a phone
 * number as "phone". */
static const char *recipient_key(const notify_proof *proof)
{
    return proof->channel && strcmp(proof->channel, "sms") == 0 ? "phone"
                                                                : "email";
}

static void proof_object(notify_json_out *w, const notify_proof *proof)
{
    int i;

    if (!proof) {
        notify_json_out_null(w);
        return;
    }
    notify_json_out_object(w);
    member(w, "channel", proof->channel);
    member(w, "provider", proof->provider);
    if (proof->state) {
        member(w, "state", proof->state);
        member_int(w, "attempts", proof->attempts);
        member(w, "next_attempt_at", proof->next_attempt_at);
    }
    notify_json_out_key(w, "recipients");
    notify_json_out_array(w);
    for (i = 0; i < proof->count; i++) {
        const notify_recipient *rc = &proof->recipients[i];
        notify_json_out_object(w);
        member(w, recipient_key(proof), rc->recipient);
        member(w, "type", rc->type);
        member(w, "status", rc->status);
        member(w, "provider_id", rc->provider_id);
        member(w, "reject_reason", rc->reject_reason);
        member(w, "error", rc->error);
        notify_json_out_end_object(w);
    }
    notify_json_out_end_array(w);
    notify_json_out_end_object(w);
}

const char *notify_render_notification(apr_pool_t *p, notify_status_e st,
                                       const char *message,
                                       const notify_values *v,
                                       const notify_row *row,
                                       const notify_proof *proof,
                                       apr_size_t *len)
{
    notify_json_out w;

    notify_json_out_init(&w, p, ANSWER_HINT);
    envelope(&w, st, message);
    notify_json_out_key(&w, "data");
    notify_json_out_object(&w);
    notify_json_out_key(&w, "notification");
    notification_object(&w, v, row);
    if (v->view == NOTIFY_VIEW_WITH_PROOF ||
        notify_status_is_delivery_failure(st)) {
        notify_json_out_key(&w, "proof");
        proof_object(&w, proof);
    }
    notify_json_out_end_object(&w);
    notify_json_out_end_object(&w);
    return notify_json_out_text(&w, len);
}

const char *notify_render_webhook(apr_pool_t *p, int events, int matched,
                                  apr_size_t *len)
{
    notify_json_out w;

    notify_json_out_init(&w, p, 128);
    envelope(&w, NOTIFY_WEBHOOK_ACCEPTED, NULL);
    notify_json_out_key(&w, "data");
    notify_json_out_object(&w);
    member_int(&w, "events", events);
    member_int(&w, "matched", matched);
    notify_json_out_end_object(&w);
    notify_json_out_end_object(&w);
    return notify_json_out_text(&w, len);
}
