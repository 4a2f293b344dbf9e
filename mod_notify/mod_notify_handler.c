/* The two handlers. notify-create runs the request one way through the
 * steps of SPEC section 3 (route, registry, content type, size, decoding,
 * token, validation, store, render); every step either passes or names
 * the one status that answers. */
#include <httpd.h>
#include <ap_mpm.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <apr_global_mutex.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_mutex.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "mod_notify.h"

APLOG_USE_MODULE(notify);
#include "notify_http.h"
#include "notify_mandrill.h"
#include "notify_params.h"
#include "notify_render.h"
#include "notify_store.h"
#include "notify_validate.h"

#define CONN_READY_KEY "mod_notify:conn-ready"

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
/* The statements given to mod_dbd, kept to prepare one again. */
static const notify_statement *statements;
/* The server's SQLite writers take turns on it, across children (see
 * notify_store.c); created in post_config, attached in child_init. */
static apr_global_mutex_t *write_lock;
/* This process's SQLite transactions share commits (threaded MPMs only). */
static notify_group *write_group;
/* The most transactions one commit takes: a batch waits for one fsync. */
#define WRITE_GROUP_MAX 64
/* This process's client for Mandrill (created in child_init). */
static notify_http *mandrill_client;

/* Idle curl handles (each with its connection to Mandrill) kept per
 * process: one per worker thread, at least this many; and the largest
 * answer read. */
#define MANDRILL_IDLE_HANDLES 16
#define MANDRILL_MAX_ANSWER (1024 * 1024)

/* One request on its way through the steps. */
typedef struct {
    request_rec *r;
    notify_settings cfg;
    notify_error err;
    notify_db db;
    int sensitive;
    const char *route_key; /* the registry cache's key for this request */
    int filter_error; /* httpd already answered while the body was read */
    const char *body;
    apr_size_t body_len;
    notify_input in;
    const char *token;
    apr_size_t token_len;
    notify_principal who;
    notify_session_row session;
    notify_values values;
    notify_row row;
    notify_status_e outcome; /* action-successful or mandrill-email-failed */
    notify_proof *proof;     /* what delivery did; NULL: nothing sent */
    char token_sha[65];      /* the principal an Idempotency-Key belongs to */
    notify_idem_answer idem; /* the claimed key, if any */
    notify_idem_row replay;  /* a finished first answer to send again */
} notify_req;

int notify_handler_init(apr_pool_t *pconf, server_rec *s)
{
    const notify_statement *st;
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *prepare;
    server_rec *sp;
    apr_status_t rv;

    /* Its mechanism and file can be set with httpd's Mutex directive. */
    rv = ap_global_mutex_create(&write_lock, NULL, NOTIFY_WRITE_MUTEX, NULL,
                                s, pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "cannot create the SQLite write lock (Mutex %s)",
                     NOTIFY_WRITE_MUTEX);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    if (!dbd_acquire || !prepare) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "mod_dbd is not loaded: every request will fail until "
                     "it is (LoadModule dbd_module)");
        return OK;
    }
    statements = notify_store_statements(pconf);
    for (sp = s; sp; sp = sp->next) {
        for (st = statements; st->label; st++) {
            prepare(sp, st->sql, st->label);
        }
    }
    return OK;
}

/* ---- answering ---- */

static int send_json(request_rec *r, notify_status_e st, const char *json,
                     apr_size_t len)
{
    r->status = notify_status(st)->http;
    ap_set_content_type(r, "application/json; charset=utf-8");
    if (!json) {
        json = "{\"status\":\"application-crash\"}";
        len = strlen(json);
    }
    ap_set_content_length(r, len);
    if (!r->header_only) {
        ap_rwrite(json, (int)len, r);
    }
    return OK;
}

static int has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return apr_table_get(r->headers_in, "Transfer-Encoding") ||
           (cl && strcmp(cl, "0") != 0);
}

static int answer_error(notify_req *nr)
{
    request_rec *r = nr->r;
    const notify_status_info *info = notify_status(nr->err.status);
    apr_size_t len;
    const char *json;

    /* Internal failures were logged in detail where they happened. */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s %s: %s%s%s", r->method, r->uri, info->name,
                  nr->err.param ? " param=" : "",
                  nr->err.param ? nr->err.param : "");
    if (!nr->body && has_body(r)) {
        /* Refused before its body was read: closing beats reading a body
         * nobody wants (discarding it could even raise httpd's own 413
         * over this answer). */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    if (nr->err.status == NOTIFY_CLIENT_REQUIRED) {
        notify_session_view sv;
        char created[NOTIFY_DATETIME_LEN + 1], used[NOTIFY_DATETIME_LEN + 1];
        apr_time_t t;

        sv.token = nr->token;
        sv.user_id = nr->session.user_id;
        sv.created_at = sv.last_used_at = NULL;
        if (notify_datetime_to_time(nr->session.created_at,
                                    strlen(nr->session.created_at), &t)) {
            notify_datetime_format(t, created);
            sv.created_at = created;
        }
        if (notify_datetime_to_time(nr->session.last_used_at,
                                    strlen(nr->session.last_used_at), &t)) {
            notify_datetime_format(t, used);
            sv.last_used_at = used;
        }
        sv.remember_me = nr->session.remember_me;
        json = notify_render_client_required(r->pool, &nr->err, &sv, &len);
    }
    else {
        json = notify_render_error(r->pool, &nr->err, &len);
    }
    return send_json(r, nr->err.status, json, len);
}

/* An internal failure: logged with the driver's words (no secrets reach
 * db->error: statements bind values, they are never in the SQL text). */
static notify_status_e crash(notify_req *nr, notify_status_e st,
                             const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, nr->r, "%s: %s", what,
                  nr->db.error ? nr->db.error : "failed");
    return notify_fail(&nr->err, st, NULL, NULL);
}

/* ---- the database ---- */

static notify_status_e db_open(notify_req *nr, notify_status_e on_error)
{
    ap_dbd_t *dbd;
    void *ready = NULL;

    if (nr->db.handle) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    dbd = dbd_acquire ? dbd_acquire(nr->r) : NULL;
    if (!dbd) {
        nr->db.error = "no database connection (see mod_dbd's messages)";
        return crash(nr, on_error, "database");
    }
    notify_store_attach(&nr->db, dbd->driver, dbd->handle, dbd->prepared,
                        dbd->pool, statements);
    notify_store_set_writers(&nr->db, write_lock, write_group);
    /* The connection's own pool marks it set up: a new connection after a
     * reconnect gets a new pool, so it is set up again. */
    apr_pool_userdata_get(&ready, CONN_READY_KEY, dbd->pool);
    if (!ready) {
        if (notify_store_connection_init(&nr->db, nr->r->pool) !=
            APR_SUCCESS) {
            nr->db.handle = NULL;
            return crash(nr, on_error, "database set-up");
        }
        apr_pool_userdata_set((void *)1, CONN_READY_KEY, NULL, dbd->pool);
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* ---- the route registry, cached per process ---- */

typedef struct {
    notify_route_row row;
    apr_time_t fetched;
} route_entry;

static apr_pool_t *route_pool;
static apr_hash_t *route_cache;
#if APR_HAS_THREADS
static apr_thread_mutex_t *route_mutex;
#endif

static void route_cache_init(apr_pool_t *pchild, server_rec *s)
{
    (void)s;
    apr_pool_create(&route_pool, pchild);
    route_cache = apr_hash_make(route_pool);
#if APR_HAS_THREADS
    apr_thread_mutex_create(&route_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
#endif
}

/* A virtual host may use another database: the record of a route name is
 * cached per server. */
static const char *route_key(notify_req *nr)
{
    if (!nr->route_key) {
        nr->route_key = apr_psprintf(nr->r->pool, "%pp %s", nr->r->server,
                                     nr->cfg.route_name);
    }
    return nr->route_key;
}

static int route_cached(notify_req *nr, notify_route_row *row)
{
    route_entry *e;
    int hit = 0;

    if (nr->cfg.route_cache_seconds == 0 || !route_cache) {
        return 0;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_lock(route_mutex);
#endif
    e = apr_hash_get(route_cache, route_key(nr), APR_HASH_KEY_STRING);
    if (e && apr_time_now() - e->fetched <
                 apr_time_from_sec(nr->cfg.route_cache_seconds)) {
        *row = e->row;
        hit = 1;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(route_mutex);
#endif
    return hit;
}

static void route_remember(notify_req *nr, const notify_route_row *row)
{
    route_entry *e;

    if (nr->cfg.route_cache_seconds == 0 || !route_cache) {
        return;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_lock(route_mutex);
#endif
    e = apr_hash_get(route_cache, route_key(nr), APR_HASH_KEY_STRING);
    if (!e) {
        /* Servers and route names come from the configuration: the set of
         * keys is bounded. */
        e = apr_pcalloc(route_pool, sizeof(*e));
        apr_hash_set(route_cache, apr_pstrdup(route_pool, route_key(nr)),
                     APR_HASH_KEY_STRING, e);
    }
    e->row = *row;
    e->fetched = apr_time_now();
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(route_mutex);
#endif
}

static notify_status_e step_registry(notify_req *nr)
{
    notify_route_row row;
    notify_status_e st;

    if (!nr->cfg.route_registry) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    if (!route_cached(nr, &row)) {
        st = db_open(nr, NOTIFY_IDENTIFY_REQUEST_ERROR);
        if (st != NOTIFY_ACTION_SUCCESSFUL) {
            return st;
        }
        if (notify_store_find_route(&nr->db, nr->r->pool, nr->cfg.route_name,
                                    &row) != APR_SUCCESS) {
            return crash(nr, NOTIFY_IDENTIFY_REQUEST_ERROR, "route registry");
        }
        route_remember(nr, &row);
    }
    if (!row.found || !row.route_deployed) {
        return notify_fail(&nr->err, NOTIFY_ROUTE_NOT_FOUND, NULL, NULL);
    }
    if (!row.service_found || !row.service_deployed) {
        return notify_fail(&nr->err, NOTIFY_SERVICE_NOT_FOUND, NULL, NULL);
    }
    nr->sensitive = row.sensitive;
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* ---- the body ---- */

static notify_status_e too_large(notify_req *nr)
{
    return notify_fail(&nr->err, NOTIFY_REQUEST_TOO_LARGE, NULL,
                       apr_psprintf(nr->r->pool,
                                    "The request body is larger than %" APR_INT64_T_FMT
                                    " bytes.",
                                    nr->cfg.max_body));
}

/* Appends data to the body buffer, growing it geometrically, never past
 * the limit (the caller checked). */
static void body_append(notify_req *nr, char **buf, apr_size_t *cap,
                        const char *data, apr_size_t n)
{
    if (nr->body_len + n > *cap) {
        apr_size_t want = *cap ? *cap * 2 : 8192;
        char *grown;
        while (want < nr->body_len + n) {
            want *= 2;
        }
        if (want > (apr_size_t)nr->cfg.max_body) {
            want = (apr_size_t)nr->cfg.max_body;
        }
        grown = apr_palloc(nr->r->pool, want + 1);
        memcpy(grown, *buf, nr->body_len);
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + nr->body_len, data, n);
    nr->body_len += n;
}

/* AP_FILTER_ERROR: httpd has answered already (through the JSON error
 * filter); the handler must hand that back. */
static notify_status_e body_read_error(notify_req *nr, apr_status_t rv)
{
    int code = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, nr->r,
                  "reading the request body failed");
    if (code == AP_FILTER_ERROR) {
        nr->filter_error = 1;
    }
    if (code == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return too_large(nr);
    }
    return notify_fail(&nr->err, NOTIFY_INVALID_ENCODED_PARAMS, NULL,
                       "The request body could not be read.");
}

static notify_status_e step_read_body(notify_req *nr)
{
    request_rec *r = nr->r;
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    apr_size_t cap = 0;
    char *buf = NULL;
    int eos = 0;

    if (cl && apr_atoi64(cl) > nr->cfg.max_body) {
        return too_large(nr);
    }
    if (cl && apr_atoi64(cl) > 0) {
        cap = (apr_size_t)apr_atoi64(cl);
        buf = apr_palloc(r->pool, cap + 1);
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return body_read_error(nr, rv);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;
            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            if (apr_bucket_read(b, &data, &n, APR_BLOCK_READ) !=
                APR_SUCCESS) {
                return notify_fail(&nr->err, NOTIFY_INVALID_ENCODED_PARAMS,
                                   NULL,
                                   "The request body could not be read.");
            }
            if (nr->body_len + n > (apr_size_t)nr->cfg.max_body) {
                return too_large(nr);
            }
            body_append(nr, &buf, &cap, data, n);
        }
        apr_brigade_cleanup(bb);
    }
    if (!buf) {
        buf = apr_palloc(r->pool, 1);
    }
    buf[nr->body_len] = '\0';
    nr->body = buf;
    return NOTIFY_ACTION_SUCCESSFUL;
}

static notify_status_e step_decode(notify_req *nr, notify_ctype_e ctype)
{
    const char *body = nr->body;
    apr_size_t len = nr->body_len;
    notify_status_e st;

    if (nr->sensitive) {
        char *plain;
        if (!notify_base64_decode(nr->r->pool, body, len, &plain, &len)) {
            return notify_fail(&nr->err, NOTIFY_INVALID_ENCODED_PARAMS, NULL,
                               "This route takes a base64-encoded body.");
        }
        body = plain;
    }
    st = ctype == NOTIFY_CT_JSON
             ? notify_decode_json(nr->r->pool, body, len, &nr->in, &nr->err)
             : notify_decode_form(nr->r->pool, body, len, &nr->in, &nr->err);
    if (st == NOTIFY_ACTION_SUCCESSFUL && nr->in.count == 0) {
        return notify_fail(&nr->err, NOTIFY_NO_PARAMS_DECODED, NULL, NULL);
    }
    return st;
}

/* ---- authentication ---- */

static int older_than(apr_time_t now, const char *stored, apr_int64_t limit,
                      apr_int64_t *age)
{
    apr_time_t t;

    if (!stored || !notify_datetime_to_time(stored, strlen(stored), &t)) {
        *age = 0;
        return 1; /* an unreadable time cannot prove the session fresh */
    }
    *age = apr_time_sec(now) - apr_time_sec(t);
    return *age > limit;
}

static notify_status_e check_session(notify_req *nr)
{
    notify_session_row *s = &nr->session;
    apr_time_t now = apr_time_now();
    apr_int64_t age, idle;
    int too_old = older_than(now, s->created_at, nr->cfg.session_max_age,
                             &age);
    int too_idle = older_than(now, s->last_used_at,
                              nr->cfg.session_idle_timeout, &idle);
    char stamp[NOTIFY_DATETIME_LEN + 1];

    if (!s->remember_me && (too_old || too_idle)) {
        return notify_fail(&nr->err, NOTIFY_SESSION_EXPIRED, NULL, NULL);
    }
    if (!s->has_role) {
        return notify_fail(&nr->err, NOTIFY_CLIENT_REQUIRED, NULL, NULL);
    }
    if (nr->cfg.session_touch_interval == 0 ||
        idle > nr->cfg.session_touch_interval) {
        notify_datetime_format(now, stamp);
        if (notify_store_touch_session(&nr->db, nr->r->pool, s->id, stamp) !=
            APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, nr->r,
                          "session last_used_at not updated: %s",
                          nr->db.error);
        }
    }
    nr->who.session_id = s->id;
    return NOTIFY_ACTION_SUCCESSFUL;
}

static notify_status_e step_authenticate(notify_req *nr)
{
    const char *sha = nr->token_sha;
    notify_status_e st;

    st = notify_input_token(&nr->in, &nr->token, &nr->token_len, &nr->err);
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        return st;
    }
    st = db_open(nr, NOTIFY_APPLICATION_CRASH);
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        return st;
    }
    notify_sha256_hex(nr->token, nr->token_len, nr->token_sha);
    if (notify_store_find_app(&nr->db, nr->r->pool, sha, &nr->who.app_id) !=
        APR_SUCCESS) {
        return crash(nr, NOTIFY_APPLICATION_CRASH, "application lookup");
    }
    if (nr->who.app_id) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    if (notify_store_find_session(&nr->db, nr->r->pool, sha, &nr->session) !=
        APR_SUCCESS) {
        return crash(nr, NOTIFY_APPLICATION_CRASH, "session lookup");
    }
    if (!nr->session.id) {
        return notify_fail(&nr->err, NOTIFY_INVALID_TOKEN, NULL, NULL);
    }
    return check_session(nr);
}

/* ---- idempotency ---- */

/* A claim whose request died (process killed mid-request) would block its
 * key for the whole window; past this age it is taken over. */
#define IDEM_ABANDONED_AFTER(cfg) ((cfg)->mandrill_timeout + 60)
/* Expired keys are deleted by creates, at most once a minute per process. */
#define IDEM_PURGE_EVERY apr_time_from_sec(60)

static volatile apr_time_t last_purge;

static int wants_email(const notify_req *nr);

static void release_claim(notify_req *nr)
{
    if (nr->idem.claim_id &&
        notify_store_idem_release(&nr->db, nr->r->pool, nr->idem.claim_id) !=
            APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, nr->r,
                      "Idempotency-Key not released: %s", nr->db.error);
    }
    nr->idem.claim_id = 0;
}

static const char *render_answer(void *baton, int *http);

static int idem_key_valid(const char *key)
{
    apr_size_t len = strlen(key);
    apr_size_t i;

    if (len < 1 || len > 255) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static void purge_expired(notify_req *nr, apr_time_t now)
{
    char before[NOTIFY_DATETIME_LEN + 1];

    if (now - last_purge < IDEM_PURGE_EVERY) {
        return;
    }
    last_purge = now;
    notify_datetime_format(now - apr_time_from_sec(nr->cfg.idempotency_window),
                           before);
    if (notify_store_idem_purge(&nr->db, nr->r->pool, before) !=
        APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, nr->r,
                      "expired Idempotency-Keys not deleted: %s",
                      nr->db.error);
    }
}

/* What to do with a key someone holds already; NOTIFY_STATUS_COUNT: it
 * was freed, claim again. */
static notify_status_e existing_key(notify_req *nr, const notify_idem_row *row,
                                    const char *sha, apr_time_t now)
{
    apr_time_t created;
    apr_int64_t age = 0;

    if (notify_datetime_to_time(row->created_at, strlen(row->created_at),
                                &created)) {
        age = apr_time_sec(now) - apr_time_sec(created);
    }
    if (age > nr->cfg.idempotency_window ||
        (!row->http_status && age > IDEM_ABANDONED_AFTER(&nr->cfg))) {
        return notify_store_idem_release(&nr->db, nr->r->pool, row->id) ==
                       APR_SUCCESS
                   ? NOTIFY_STATUS_COUNT
                   : crash(nr, NOTIFY_APPLICATION_CRASH, "Idempotency-Key");
    }
    if (!row->request_sha256 || strcmp(row->request_sha256, sha) != 0) {
        return notify_fail(&nr->err, NOTIFY_IDEMPOTENCY_KEY_REUSED,
                           "Idempotency-Key", NULL);
    }
    if (!row->http_status) {
        apr_table_setn(nr->r->err_headers_out, "Retry-After", "1");
        return notify_fail(&nr->err, NOTIFY_REQUEST_IN_PROGRESS,
                           "Idempotency-Key", NULL);
    }
    nr->replay = *row;
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* Claims the request's Idempotency-Key, or finds the answer to replay. */
static notify_status_e step_idempotency(notify_req *nr)
{
    const char *key = apr_table_get(nr->r->headers_in, "Idempotency-Key");
    char sha[65], stamp[NOTIFY_DATETIME_LEN + 1];
    apr_time_t now = apr_time_now();
    notify_idem_row row;
    notify_status_e st;
    int tries;

    if (!key) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    if (!idem_key_valid(key)) {
        return notify_fail(&nr->err, NOTIFY_INVALID_PARAM, "Idempotency-Key",
                           "Idempotency-Key: must be 1 to 255 printable "
                           "ASCII characters without spaces");
    }
    purge_expired(nr, now);
    notify_sha256_hex(nr->body, nr->body_len, sha);
    notify_datetime_format(now, stamp);
    nr->idem.answer = render_answer;
    nr->idem.baton = nr;
    /* A key freed by an expiry races other claimers: a few rounds. */
    for (tries = 0; tries < 3; tries++) {
        if (notify_store_idem_claim(&nr->db, nr->r->pool, nr->token_sha, key,
                                    sha, stamp,
                                    &nr->idem.claim_id) != APR_SUCCESS) {
            return crash(nr, NOTIFY_APPLICATION_CRASH, "Idempotency-Key");
        }
        if (nr->idem.claim_id) {
            return NOTIFY_ACTION_SUCCESSFUL;
        }
        if (notify_store_idem_get(&nr->db, nr->r->pool, nr->token_sha, key,
                                  &row) != APR_SUCCESS) {
            return crash(nr, NOTIFY_APPLICATION_CRASH, "Idempotency-Key");
        }
        if (row.id) {
            st = existing_key(nr, &row, sha, now);
            if (st != NOTIFY_STATUS_COUNT) {
                return st;
            }
        }
    }
    nr->db.error = "the key kept changing hands";
    return crash(nr, NOTIFY_APPLICATION_CRASH, "Idempotency-Key");
}

static int send_replay(notify_req *nr)
{
    request_rec *r = nr->r;

    r->status = nr->replay.http_status;
    apr_table_setn(r->headers_out, "Idempotent-Replayed", "true");
    ap_set_content_type(r, "application/json; charset=utf-8");
    ap_set_content_length(r, strlen(nr->replay.response_body));
    ap_rwrite(nr->replay.response_body, (int)strlen(nr->replay.response_body),
              r);
    return OK;
}

/* ---- storing ---- */

static notify_status_e step_store(notify_req *nr)
{
    char now[NOTIFY_DATETIME_LEN + 1];

    notify_datetime_format(apr_time_now(), now);
    nr->row.created_at = nr->row.updated_at = apr_pstrdup(nr->r->pool, now);
    /* An email still to send completes with its delivery record. */
    if (notify_store_create(&nr->db, nr->r->pool, &nr->values, &nr->row,
                            &nr->who, wants_email(nr) ? NULL : &nr->idem) !=
        APR_SUCCESS) {
        release_claim(nr);
        return crash(nr, NOTIFY_APPLICATION_CRASH, "storing the notification");
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* ---- delivering ---- */

static const char *render_answer(void *baton, int *http)
{
    notify_req *nr = baton;
    apr_size_t len;

    *http = notify_status(nr->outcome)->http;
    return notify_render_notification(nr->r->pool, nr->outcome, &nr->values,
                                      &nr->row, nr->proof, &len);
}

static int wants_email(const notify_req *nr)
{
    const char *type = nr->values.val[NOTIFY_P_NOTIFICATION_TYPE];

    return nr->cfg.mandrill_key && type && strcmp(type, "email") == 0 &&
           strcmp(nr->values.val[NOTIFY_P_PROCESSED], "1") != 0;
}

/* The notification the dev team gets when Mandrill refused one. */
static void dev_notification(notify_req *nr, const char *reason,
                             notify_values *dev)
{
    memset(dev, 0, sizeof(*dev));
    dev->val[NOTIFY_P_NOTIFICATION_TYPE] = "system-error";
    dev->val[NOTIFY_P_KEY] = "mandrill-email-failed";
    dev->val[NOTIFY_P_NOTIFYABLE_TYPE] = "Notification";
    dev->val[NOTIFY_P_NOTIFYABLE_ID] =
        apr_psprintf(nr->r->pool, "%" APR_INT64_T_FMT, nr->row.id);
    dev->val[NOTIFY_P_EMAIL_BODY] = reason;
    dev->val[NOTIFY_P_PROCESSED] = "0";
}

static notify_status_e step_deliver(notify_req *nr)
{
    request_rec *r = nr->r;
    apr_array_header_t *rcpts;
    notify_http_result res;
    notify_values dev;
    notify_row dev_row;
    const char *body, *reason = NULL;
    char now[NOTIFY_DATETIME_LEN + 1];
    apr_size_t len;
    apr_status_t sent;
    int ok;

    nr->outcome = NOTIFY_ACTION_SUCCESSFUL;
    if (!wants_email(nr)) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    rcpts = notify_mandrill_recipients(r->pool, &nr->values);
    body = notify_mandrill_request(r->pool, nr->cfg.mandrill_key, &nr->values,
                                   rcpts, &len);
    memset(&res, 0, sizeof(res));
    sent = body && mandrill_client
               ? notify_http_post_json(mandrill_client, r->pool,
                                       nr->cfg.mandrill_url, body, len,
                                       (long)nr->cfg.mandrill_timeout * 1000,
                                       MANDRILL_MAX_ANSWER, &res)
               : APR_EGENERAL;
    nr->proof = apr_pcalloc(r->pool, sizeof(*nr->proof));
    ok = notify_mandrill_outcome(r->pool, sent, &res, rcpts, nr->proof,
                                 &reason);
    notify_datetime_format(apr_time_now(), now);
    if (ok) {
        nr->values.val[NOTIFY_P_PROCESSED] = "1";
        nr->values.val[NOTIFY_P_PROCESSED_AT] = apr_pstrdup(r->pool, now);
        nr->row.updated_at = nr->values.val[NOTIFY_P_PROCESSED_AT];
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "notification %" APR_INT64_T_FMT
                      " stored but not sent: %s",
                      nr->row.id, reason);
        dev_notification(nr, reason, &dev);
        dev_row.created_at = dev_row.updated_at = apr_pstrdup(r->pool, now);
        nr->outcome = NOTIFY_MANDRILL_EMAIL_FAILED;
    }
    if (notify_store_delivery(&nr->db, r->pool, nr->row.id, nr->proof, now,
                              ok ? NULL : &dev, &dev_row, &nr->who,
                              &nr->idem) != APR_SUCCESS) {
        return crash(nr, NOTIFY_APPLICATION_CRASH, "recording the delivery");
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* ---- the handlers ---- */

static int route_non_existent(request_rec *r, int allow_post)
{
    notify_req nr;

    memset(&nr, 0, sizeof(nr));
    nr.r = r;
    if (allow_post) {
        apr_table_setn(r->headers_out, "Allow", "POST");
    }
    notify_fail(&nr.err, NOTIFY_ROUTE_NON_EXISTENT, NULL,
                notify_utf8_valid(r->uri, strlen(r->uri))
                    ? apr_psprintf(r->pool, "No route %s %s.", r->method,
                                   r->uri)
                    : NULL);
    return answer_error(&nr);
}

#define NEXT(step)                                                            \
    if ((step) != NOTIFY_ACTION_SUCCESSFUL) {                                 \
        return nr->filter_error ? AP_FILTER_ERROR : answer_error(nr);         \
    }

static int create(notify_req *nr)
{
    request_rec *r = nr->r;
    notify_ctype_e ctype;
    const char *json;
    apr_size_t len;

    NEXT(step_registry(nr));
    ctype = notify_content_type_parse(
        apr_table_get(r->headers_in, "Content-Type"));
    if (ctype == NOTIFY_CT_INVALID) {
        notify_fail(&nr->err, NOTIFY_INVALID_CONTENT_TYPE, NULL, NULL);
        return answer_error(nr);
    }
    NEXT(step_read_body(nr));
    NEXT(step_decode(nr, ctype));
    NEXT(step_authenticate(nr));
    NEXT(notify_validate(r->pool, &nr->in, &nr->values, &nr->err));
    NEXT(step_idempotency(nr));
    if (nr->replay.id) {
        return send_replay(nr);
    }
    nr->outcome = NOTIFY_ACTION_SUCCESSFUL;
    NEXT(step_store(nr));
    NEXT(step_deliver(nr));
    json = notify_render_notification(r->pool, nr->outcome, &nr->values,
                                      &nr->row, nr->proof, &len);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "notification %" APR_INT64_T_FMT " created", nr->row.id);
    return send_json(r, nr->outcome, json, len);
}

/* "The exact create path" is the path of the <Location> that sets the
 * handler: core's merged config names the innermost section. Pattern
 * sections (LocationMatch, wildcards) cannot be compared and pass. */
static int is_create_path(request_rec *r)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *loc = core ? core->d : NULL;
    apr_size_t len;

    if (!loc || loc[0] != '/' || core->r || core->d_is_fnmatch) {
        return 1;
    }
    len = strlen(loc);
    while (len > 1 && loc[len - 1] == '/') {
        len--;
    }
    return strlen(r->uri) == len && strncmp(r->uri, loc, len) == 0;
}

int notify_handler(request_rec *r)
{
    notify_req *nr;

    if (!r->handler) {
        return DECLINED;
    }
    if (strcmp(r->handler, "notify-api") == 0) {
        return route_non_existent(r, 0);
    }
    if (strcmp(r->handler, "notify-create") != 0) {
        return DECLINED;
    }
    nr = apr_pcalloc(r->pool, sizeof(*nr));
    nr->r = r;
    notify_settings_get(r, &nr->cfg);
    if (!is_create_path(r)) {
        return route_non_existent(r, 0);
    }
    if (r->method_number != M_POST || r->header_only) {
        return route_non_existent(r, 1);
    }
    return create(nr);
}

void notify_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;
    int threads = 0, threaded = AP_MPMQ_NOT_SUPPORTED;

    route_cache_init(pchild, s);
    notify_sha256_init();
    if (write_lock && (rv = apr_global_mutex_child_init(
                           &write_lock, apr_global_mutex_lockfile(write_lock),
                           pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "cannot attach the SQLite write lock (Mutex %s): "
                     "writers of this child rely on the busy timeout",
                     NOTIFY_WRITE_MUTEX);
        write_lock = NULL;
    }
    /* With one thread per process there is never anyone to share with. */
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) == APR_SUCCESS &&
        threaded != AP_MPMQ_NOT_SUPPORTED) {
        write_group = notify_group_create(pchild, WRITE_GROUP_MAX);
    }
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS ||
        threads < MANDRILL_IDLE_HANDLES) {
        threads = MANDRILL_IDLE_HANDLES;
    }
    mandrill_client = notify_http_create(pchild, threads);
    if (!mandrill_client) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "cannot create the Mandrill client: email will fail");
    }
}
