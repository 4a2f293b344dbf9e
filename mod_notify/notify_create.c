/* notify_create.h */
#include <string.h>

#include <apr_strings.h>

#include "notify_create.h"
#include "notify_crypto.h"
#include "notify_datetime.h"
#include "notify_decode.h"
#include "notify_idem.h"
#include "notify_outbox.h"
#include "notify_render.h"
#include "notify_utf8.h"

/* Expired Idempotency-Keys are deleted by creates, at most this often per
 * process, so no cron job is needed. */
#define IDEM_PURGE_EVERY apr_time_from_sec(60)

/* What a repeat gets while the first request of its key has kept no
 * answer: it is still being stored (or never will be). */
#define RETRY_AFTER "1"

/* The answer kept with a notification still to deliver, and the one sent
 * when what delivery did could not be recorded. */
#define UNRECORDED_MESSAGE                                                     \
    "The notification was stored, but what its delivery did could not be "     \
    "recorded; do not send it again."

void notify_create_init(notify_create *c, apr_pool_t *p,
                        const notify_settings *cfg, const notify_env *env)
{
    memset(c, 0, sizeof(*c));
    c->pool = p;
    c->cfg = cfg;
    c->env = env;
    c->outcome = NOTIFY_ACTION_SUCCESSFUL;
}

/* ---- answers ---- */

static void set_answer(notify_create *c, notify_status_e st, const char *json,
                       apr_size_t len)
{
    c->answer.status = st;
    c->answer.http = notify_status(st)->http;
    if (!json) {
        json = "{\"status\":\"application-crash\"}";
        len = strlen(json);
        c->answer.http = 500;
    }
    c->answer.body = json;
    c->answer.len = len;
}

static void answer_error(notify_create *c)
{
    apr_size_t len = 0;
    const char *json;

    c->answer.param = c->err.param;
    if (c->err.status == NOTIFY_CLIENT_REQUIRED) {
        notify_session_view sv;
        char created[NOTIFY_DATETIME_LEN + 1], used[NOTIFY_DATETIME_LEN + 1];
        apr_time_t t;

        sv.token = c->token;
        sv.user_id = c->session.user_id;
        sv.created_at = sv.last_used_at = NULL;
        if (c->session.created_at &&
            notify_datetime_to_time(c->session.created_at,
                                    strlen(c->session.created_at), &t)) {
            notify_datetime_format(t, created);
            sv.created_at = created;
        }
        if (c->session.last_used_at &&
            notify_datetime_to_time(c->session.last_used_at,
                                    strlen(c->session.last_used_at), &t)) {
            notify_datetime_format(t, used);
            sv.last_used_at = used;
        }
        sv.remember_me = c->session.remember_me;
        json = notify_render_client_required(c->pool, &c->err, &sv, &len);
    }
    else {
        json = notify_render_error(c->pool, &c->err, &len);
    }
    set_answer(c, c->err.status, json, len);
}

void notify_create_refuse(notify_create *c, notify_status_e st,
                          const char *message)
{
    notify_fail(&c->err, st, NULL, message);
    answer_error(c);
}

/* An internal failure, logged with its cause (never a secret: statements
 * bind their values, which are never in the SQL text or its errors). */
static notify_status_e crash(notify_create *c, notify_status_e st,
                             const char *what, const char *why)
{
    notify_log(&c->env->log, c->pool, NOTIFY_LOG_ERR, "%s: %s", what,
               why ? why : "failed");
    return notify_fail(&c->err, st, NULL, NULL);
}

static notify_status_e db_crash(notify_create *c, notify_status_e st,
                                const char *what)
{
    return crash(c, st, what, c->db ? c->db->error : NULL);
}

/* ---- the database ---- */

static notify_status_e db_open(notify_create *c, notify_status_e on_error)
{
    const char *why = NULL;

    if (c->db) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    if (c->env->db_open(c->env->baton, &c->db, &why) != APR_SUCCESS) {
        c->db = NULL;
        return crash(c, on_error, "database", why);
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

static void db_close(notify_create *c)
{
    if (c->db) {
        c->env->db_close(c->env->baton, c->db);
        c->db = NULL;
    }
}

void notify_create_finish(notify_create *c)
{
    db_close(c);
}

/* ---- the route registry ---- */

int notify_create_identify(notify_create *c, const char *cache_key)
{
    notify_route_row row;
    apr_time_t now = apr_time_now();
    notify_status_e st = NOTIFY_ACTION_SUCCESSFUL;

    if (!c->cfg->route_registry) {
        return 1;
    }
    if (!notify_route_cache_get(c->env->routes, cache_key,
                                c->cfg->route_cache_seconds, now, &row)) {
        st = db_open(c, NOTIFY_IDENTIFY_REQUEST_ERROR);
        if (st == NOTIFY_ACTION_SUCCESSFUL &&
            notify_store_find_route(c->db, c->pool, c->cfg->route_name, &row) !=
                APR_SUCCESS) {
            st = db_crash(c, NOTIFY_IDENTIFY_REQUEST_ERROR, "route registry");
        }
        /* The body is read next, at the client's pace: not on a
         * connection others may need. */
        db_close(c);
        if (st != NOTIFY_ACTION_SUCCESSFUL) {
            answer_error(c);
            return 0;
        }
        if (c->cfg->route_cache_seconds > 0) {
            notify_route_cache_put(c->env->routes, cache_key, &row, now);
        }
    }
    if (!row.found || !row.route_deployed) {
        notify_create_refuse(c, NOTIFY_ROUTE_NOT_FOUND, NULL);
        return 0;
    }
    if (!row.service_found || !row.service_deployed) {
        notify_create_refuse(c, NOTIFY_SERVICE_NOT_FOUND, NULL);
        return 0;
    }
    c->sensitive = row.sensitive;
    return 1;
}

/* ---- decoding ---- */

static notify_status_e step_decode(notify_create *c, notify_ctype_e ctype)
{
    const char *body = c->body;
    apr_size_t len = c->body_len;
    notify_status_e st;

    if (c->sensitive) {
        char *plain;
        if (!notify_base64_decode(c->pool, body, len, &plain, &len)) {
            return notify_fail(&c->err, NOTIFY_INVALID_ENCODED_PARAMS, NULL,
                               "This route takes a base64-encoded body.");
        }
        body = plain;
    }
    st = ctype == NOTIFY_CT_JSON
             ? notify_decode_json(c->pool, body, len, &c->in, &c->err)
             : notify_decode_form(c->pool, body, len, &c->in, &c->err);
    if (st == NOTIFY_ACTION_SUCCESSFUL && c->in.count == 0) {
        return notify_fail(&c->err, NOTIFY_NO_PARAMS_DECODED, NULL, NULL);
    }
    return st;
}

/* ---- authentication ---- */

static notify_status_e check_session(notify_create *c)
{
    notify_session_policy pol = {c->cfg->session_max_age,
                                 c->cfg->session_idle_timeout,
                                 c->cfg->session_touch_interval};
    apr_time_t now = apr_time_now();
    notify_session_verdict v = notify_session_check(&c->session, now, &pol);
    char stamp[NOTIFY_DATETIME_LEN + 1];

    if (v.status != NOTIFY_ACTION_SUCCESSFUL) {
        return notify_fail(&c->err, v.status, NULL, NULL);
    }
    if (v.touch) {
        /* Outside the notification's transaction: the use is recorded
         * even when the notification is then refused. */
        notify_datetime_format(now, stamp);
        if (notify_store_touch_session(c->db, c->pool, c->session.id, stamp) !=
            APR_SUCCESS) {
            notify_log(&c->env->log, c->pool, NOTIFY_LOG_WARNING,
                       "session last_used_at not updated: %s", c->db->error);
        }
    }
    c->who.session_id = c->session.id;
    return NOTIFY_ACTION_SUCCESSFUL;
}

static notify_status_e step_authenticate(notify_create *c)
{
    notify_status_e st;

    st = notify_input_token(&c->in, &c->token, &c->token_len, &c->err);
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        return st;
    }
    st = db_open(c, NOTIFY_APPLICATION_CRASH);
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        return st;
    }
    notify_sha256_hex(c->token, c->token_len, c->token_sha);
    if (notify_store_find_app(c->db, c->pool, c->token_sha, &c->who.app_id) !=
        APR_SUCCESS) {
        return db_crash(c, NOTIFY_APPLICATION_CRASH, "application lookup");
    }
    if (c->who.app_id) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    if (notify_store_find_session(c->db, c->pool, c->token_sha, &c->session) !=
        APR_SUCCESS) {
        return db_crash(c, NOTIFY_APPLICATION_CRASH, "session lookup");
    }
    if (!c->session.id) {
        return notify_fail(&c->err, NOTIFY_INVALID_TOKEN, NULL, NULL);
    }
    return check_session(c);
}

/* ---- idempotency ---- */

static void purge_expired(notify_create *c, apr_time_t now)
{
    char before[NOTIFY_DATETIME_LEN + 1];

    if (!c->env->last_purge ||
        !notify_idem_purge_due(c->env->last_purge, now, IDEM_PURGE_EVERY)) {
        return;
    }
    notify_datetime_format(now - apr_time_from_sec(c->cfg->idempotency_window),
                           before);
    if (notify_store_idem_purge(c->db, c->pool, before) != APR_SUCCESS) {
        notify_log(&c->env->log, c->pool, NOTIFY_LOG_WARNING,
                   "expired Idempotency-Keys not deleted: %s", c->db->error);
    }
}

/* A claim left by a request whose process died (killed mid-request)
 * would block its key for the whole window: after this it is taken over.
 * It covers the longest a create may legitimately take to commit. */
static apr_int64_t abandoned_after(const notify_settings *cfg)
{
    return apr_time_sec(notify_delivery_timeout(cfg)) + 60;
}

static notify_status_e step_idempotency(notify_create *c, const char *key)
{
    notify_idem_policy pol = {c->cfg->idempotency_window,
                              abandoned_after(c->cfg)};
    notify_idem_outcome out;
    apr_time_t now = apr_time_now();
    char sha[65];

    if (!key) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    if (!notify_idem_key_valid(key)) {
        return notify_fail(&c->err, NOTIFY_INVALID_PARAM, "Idempotency-Key",
                           "Idempotency-Key: must be 1 to 255 printable "
                           "ASCII characters without spaces");
    }
    purge_expired(c, now);
    notify_sha256_hex(c->body, c->body_len, sha);
    if (notify_idem_claim(c->db, c->pool, c->token_sha, key, sha, now, &pol,
                          &out) != APR_SUCCESS) {
        return db_crash(c, NOTIFY_APPLICATION_CRASH, "Idempotency-Key");
    }
    switch (out.verdict) {
    case NOTIFY_IDEM_CLAIMED:
        c->claim_id = out.claim_id;
        return NOTIFY_ACTION_SUCCESSFUL;
    case NOTIFY_IDEM_REUSED:
        return notify_fail(&c->err, NOTIFY_IDEMPOTENCY_KEY_REUSED,
                           "Idempotency-Key", NULL);
    case NOTIFY_IDEM_IN_PROGRESS:
        c->answer.retry_after = RETRY_AFTER;
        return notify_fail(&c->err, NOTIFY_REQUEST_IN_PROGRESS,
                           "Idempotency-Key", NULL);
    default:
        c->answer.status = NOTIFY_STATUS_COUNT;
        c->answer.http = out.kept.http_status
                             ? out.kept.http_status
                             : notify_status(NOTIFY_APPLICATION_CRASH)->http;
        c->answer.body = out.kept.response_body;
        c->answer.len = strlen(out.kept.response_body);
        c->answer.replayed = 1;
        return NOTIFY_ACTION_SUCCESSFUL;
    }
}

/* ---- storing ---- */

/* The answer kept with the notification while its delivery is to come:
 * should its process die, or the delivery not be recorded, a repeat gets
 * this, never a second send. */
static const char *render_unrecorded(void *baton, int *http)
{
    notify_create *c = baton;
    apr_size_t len;

    *http = notify_status(NOTIFY_APPLICATION_CRASH)->http;
    return notify_render_notification(c->pool, NOTIFY_APPLICATION_CRASH,
                                      UNRECORDED_MESSAGE, &c->values, &c->row,
                                      NULL, &len);
}

/* The final answer, kept by the write that completes the request. */
static const char *render_outcome(void *baton, int *http)
{
    notify_create *c = baton;
    apr_size_t len;

    *http = notify_status(c->outcome)->http;
    return notify_render_notification(c->pool, c->outcome, NULL, &c->values,
                                      &c->row, c->proof, &len);
}

static void release_claim(notify_create *c)
{
    notify_idem_row mine = {c->claim_id, NULL, 0, NULL, 0, NULL};
    int deleted;

    if (c->claim_id && notify_store_idem_release(c->db, c->pool, &mine,
                                                 &deleted) != APR_SUCCESS) {
        notify_log(&c->env->log, c->pool, NOTIFY_LOG_WARNING,
                   "Idempotency-Key not released: %s", c->db->error);
    }
    c->claim_id = 0;
}

/* The proof of a notification queued for the worker (SPEC 11). */
static notify_proof *queued_proof(notify_create *c, const char *now)
{
    notify_proof *proof = apr_pcalloc(c->pool, sizeof(*proof));

    proof->channel = c->provider->channel;
    proof->provider = c->provider->name;
    proof->state = "queued";
    proof->next_attempt_at = now;
    return proof;
}

static notify_status_e step_store(notify_create *c)
{
    apr_time_t t = apr_time_now();
    char *now = notify_datetime_stamp(c->pool, t);
    notify_idem_answer keep = {c->claim_id, render_outcome, c, 0};
    notify_outbox_new *ob = NULL;

    c->row.created_at = c->row.updated_at = now;
    c->provider = notify_delivery_provider(&c->values, c->cfg);
    if (c->provider) {
        /* With the notification, in its transaction, so that nothing to
         * deliver is ever lost. */
        ob = apr_pcalloc(c->pool, sizeof(*ob));
        ob->channel = c->provider->channel;
        ob->next_attempt_at = now;
        ob->route = c->cfg->route;
        if (c->cfg->delivery_queued) {
            ob->state = "pending";
            c->proof = queued_proof(c, now);
        }
        else {
            /* The request makes the first attempt: it is the claimant. */
            ob->state = "sending";
            ob->attempts = 1;
            ob->locked_until = notify_datetime_stamp(
                c->pool, t + c->provider->timeout(c->cfg) +
                             apr_time_from_sec(NOTIFY_LOCK_SLACK));
            keep.render = render_unrecorded;
            keep.provisional = 1;
        }
    }
    if (notify_store_create(c->db, c->pool, &c->values, &c->row, &c->who, &keep,
                            ob) != APR_SUCCESS) {
        const char *why = c->db->error;
        release_claim(c);
        return crash(c, NOTIFY_APPLICATION_CRASH, "storing the notification",
                     why);
    }
    c->outbox_id = ob ? ob->id : 0;
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* ---- delivering ---- */

/* The first attempt, made by the request; from here on the answer never
 * says that nothing was stored. */
static void step_deliver(notify_create *c)
{
    const notify_provider *prov = c->provider;
    notify_attempt_record rec;
    notify_idem_answer keep = {c->claim_id, render_outcome, c, 0};
    notify_values dev[2];
    notify_row dev_row[2];
    notify_status_e st;

    /* No connection is held while the provider takes its time. */
    db_close(c);
    notify_delivery_attempt(c->pool, prov, c->cfg, c->env->http, &c->values,
                            c->row.id, 1, &c->attempt);
    memset(&rec, 0, sizeof(rec));
    rec.notification_id = c->row.id;
    rec.outbox_id = c->outbox_id;
    rec.attempt = 1;
    rec.who = &c->who;
    notify_attempt_outcome(c->pool, c->cfg, prov, 1, &c->attempt, &rec, dev,
                           dev_row);
    c->proof = &c->attempt.proof;
    if (rec.accepted) {
        c->values.val[NOTIFY_P_PROCESSED] = "1";
        c->values.val[NOTIFY_P_PROCESSED_AT] = rec.now;
        c->row.updated_at = rec.now;
    }
    else {
        c->outcome = prov->failed_status;
        notify_log(&c->env->log, c->pool, NOTIFY_LOG_ERR,
                   "notification %" APR_INT64_T_FMT " stored but not sent (%s"
                   "): %s",
                   c->row.id, rec.state, c->attempt.reason);
    }
    st = db_open(c, NOTIFY_APPLICATION_CRASH);
    if (st == NOTIFY_ACTION_SUCCESSFUL &&
        notify_store_attempt(c->db, c->pool, &rec, &keep) != APR_SUCCESS) {
        st = db_crash(c, NOTIFY_APPLICATION_CRASH,
                      apr_psprintf(c->pool,
                                   "notification %" APR_INT64_T_FMT
                                   " was handed to %s; recording that",
                                   c->row.id, prov->name));
    }
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        /* The answer kept with the notification is the one that goes out
         * now, and becomes final if the database takes that much; the
         * outbox row at least must not send it again. */
        c->outcome = NOTIFY_APPLICATION_CRASH;
        c->values.val[NOTIFY_P_PROCESSED] = "0";
        c->values.val[NOTIFY_P_PROCESSED_AT] = NULL;
        c->row.updated_at = c->row.created_at;
        keep.render = render_unrecorded;
        if (c->db &&
            notify_store_outbox_mark(c->db, c->pool, &rec) != APR_SUCCESS) {
            notify_log(&c->env->log, c->pool, NOTIFY_LOG_ERR,
                       "outbox row of notification %" APR_INT64_T_FMT
                       " not updated (it will be tried again after its "
                       "lock): %s",
                       c->row.id, c->db->error);
        }
        if (c->db && c->claim_id &&
            notify_store_idem_keep(c->db, c->pool, &keep) != APR_SUCCESS) {
            notify_log(&c->env->log, c->pool, NOTIFY_LOG_WARNING,
                       "Idempotency-Key: answer not kept: %s", c->db->error);
        }
    }
}

static void answer_outcome(notify_create *c)
{
    int http;
    const char *json = c->outcome == NOTIFY_APPLICATION_CRASH
                           ? render_unrecorded(c, &http)
                           : render_outcome(c, &http);

    set_answer(c, c->outcome, json, json ? strlen(json) : 0);
}

#define STEP(step)                                                             \
    if ((step) != NOTIFY_ACTION_SUCCESSFUL) {                                  \
        answer_error(c);                                                       \
        return;                                                                \
    }

static notify_status_e step_validate(notify_create *c)
{
    notify_rules rules = {c->cfg->twilio_from != NULL};

    return notify_validate_for(c->pool, &c->in, &rules, &c->values, &c->err);
}

void notify_create_process(notify_create *c, notify_ctype_e ctype,
                           const char *body, apr_size_t len,
                           const char *idem_key)
{
    c->body = body;
    c->body_len = len;
    STEP(step_decode(c, ctype));
    STEP(step_authenticate(c));
    STEP(step_validate(c));
    STEP(step_idempotency(c, idem_key));
    if (c->answer.replayed) {
        return;
    }
    STEP(step_store(c));
    if (c->provider && !c->cfg->delivery_queued) {
        step_deliver(c);
    }
    answer_outcome(c);
    notify_log(&c->env->log, c->pool, NOTIFY_LOG_DEBUG,
               "notification %" APR_INT64_T_FMT " created", c->row.id);
}
