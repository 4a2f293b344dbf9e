/* The handlers: notify-create wires a request through the core's create
 * path (notify_create.h), and notify-api answers route-non-existent for
 * anything else under the API. What is httpd's stays here: the request's
 * path and method, reading the body, the log and the answer. */
#include <apr_strings.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_notify.h"
#include "notify_create.h"
#include "notify_metrics.h"
#include "notify_utf8.h"

APLOG_USE_MODULE(notify);

/* ---- answering ---- */

int notify_send_answer(request_rec *r, const notify_answer *a)
{
    notify_metrics_request(a->replayed ? NOTIFY_STATUS_COUNT : a->status);
    r->status = a->http;
    if (a->replayed) {
        apr_table_setn(r->headers_out, "Idempotent-Replayed", "true");
    }
    if (a->retry_after) {
        apr_table_setn(r->err_headers_out, "Retry-After", a->retry_after);
    }
    ap_set_content_type(r, "application/json; charset=utf-8");
    ap_set_content_length(r, a->len);
    if (!r->header_only) {
        ap_rwrite(a->body, (int)a->len, r);
    }
    return OK;
}

static int has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return apr_table_get(r->headers_in, "Transfer-Encoding") ||
           (cl && strcmp(cl, "0") != 0);
}

/* A refusal: logged at info (internal failures were logged in detail
 * where they happened), and, when the body was never read, the connection
 * closed rather than the body read for nothing (discarding it could even
 * raise httpd's own 413 over this answer). */
static int send_refusal(request_rec *r, const notify_answer *a, int body_read)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s %s: %s%s%s", r->method,
                  r->uri, notify_status(a->status)->name,
                  a->param ? " param=" : "", a->param ? a->param : "");
    if (!body_read && has_body(r)) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    return notify_send_answer(r, a);
}

static void log_line(void *baton, int level, const char *msg)
{
    request_rec *r = baton;

    ap_log_rerror(APLOG_MARK, level, 0, r, "%s", msg);
}

/* ---- the body ---- */

/* Reads the body as it arrives (the buffer grows with what came, never
 * sized by a Content-Length before a byte is there), refusing it past
 * max bytes as received (de-chunked). */
notify_body_e notify_read_body(request_rec *r, apr_int64_t max,
                               const char **body, apr_size_t *len,
                               notify_status_e *st, const char **message)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    apr_size_t cap = 0, n;
    char *buf = NULL;
    const char *data;
    int eos = 0;
    const char *too_large = apr_psprintf(
        r->pool, "The request body is larger than %" APR_INT64_T_FMT " bytes.",
        max);

    *len = 0;
    *st = NOTIFY_REQUEST_TOO_LARGE;
    *message = too_large;
    if (cl && apr_atoi64(cl) > max) {
        return NOTIFY_BODY_REFUSED;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!eos) {
        apr_bucket *b;
        apr_status_t rv =
            ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                           APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            int code = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
            ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r,
                          "reading the request body failed");
            if (code == AP_FILTER_ERROR) {
                return NOTIFY_BODY_HTTPD_ANSWERED;
            }
            if (code != HTTP_REQUEST_ENTITY_TOO_LARGE) {
                *st = NOTIFY_INVALID_ENCODED_PARAMS;
                *message = "The request body could not be read.";
            }
            return NOTIFY_BODY_REFUSED;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            if (apr_bucket_read(b, &data, &n, APR_BLOCK_READ) != APR_SUCCESS) {
                *st = NOTIFY_INVALID_ENCODED_PARAMS;
                *message = "The request body could not be read.";
                return NOTIFY_BODY_REFUSED;
            }
            if (*len + n > (apr_size_t)max) {
                return NOTIFY_BODY_REFUSED;
            }
            if (*len + n + 1 > cap) {
                apr_size_t want = cap ? cap * 2 : 8192;
                char *grown;
                while (want < *len + n + 1) {
                    want *= 2;
                }
                grown = apr_palloc(r->pool, want);
                if (*len) {
                    memcpy(grown, buf, *len);
                }
                buf = grown;
                cap = want;
            }
            memcpy(buf + *len, data, n);
            *len += n;
        }
        apr_brigade_cleanup(bb);
    }
    if (!buf) {
        buf = apr_palloc(r->pool, 1);
    }
    buf[*len] = '\0';
    *body = buf;
    return NOTIFY_BODY_READ;
}

/* ---- the handlers ---- */

static int route_non_existent(request_rec *r, int allow_post)
{
    notify_create c;
    notify_settings cfg;

    memset(&cfg, 0, sizeof(cfg));
    notify_create_init(&c, r->pool, &cfg, NULL);
    if (allow_post) {
        apr_table_setn(r->headers_out, "Allow", "POST");
    }
    notify_create_refuse(
        &c, NOTIFY_ROUTE_NON_EXISTENT,
        notify_utf8_valid(r->uri, strlen(r->uri))
            ? apr_psprintf(r->pool, "No route %s %s.", r->method, r->uri)
            : NULL);
    return send_refusal(r, &c.answer, 0);
}

/* "The exact create path" is the path of the <Location> that sets
 * notify-create (noted by mod_notify_config.c); a pattern section is not
 * compared. */
static int is_create_path(request_rec *r)
{
    const notify_dir_conf *d =
        ap_get_module_config(r->per_dir_config, &notify_module);

    return d->create_path_kind != NOTIFY_PATH_EXACT ||
           strcmp(r->uri, d->create_path) == 0;
}

static int create(request_rec *r)
{
    notify_settings cfg;
    notify_dbd_use use = {r->pool, r->server, r, NULL, {0}};
    notify_env env;
    notify_create c;
    notify_ctype_e ctype;
    const char *body = NULL;
    apr_size_t len = 0;
    notify_body_e got;
    notify_status_e st;
    const char *message;

    notify_settings_get(r, &cfg);
    memset(&env, 0, sizeof(env));
    env.db_open = notify_dbd_open;
    env.db_close = notify_dbd_close;
    env.baton = &use;
    env.log.fn = log_line;
    env.log.baton = r;
    env.log.max_level =
        APLOG_R_MODULE_IS_LEVEL(r, APLOG_MODULE_INDEX, APLOG_DEBUG)
            ? NOTIFY_LOG_DEBUG
            : NOTIFY_LOG_INFO;
    env.http = notify_process.http;
    env.routes = notify_process.routes;
    env.last_purge = &notify_process.last_purge;
    notify_create_init(&c, r->pool, &cfg, &env);

    /* A virtual host may use another database: a route name's record is
     * cached per server. */
    if (!notify_create_identify(
            &c, apr_psprintf(r->pool, "%pp %s", r->server, cfg.route_name))) {
        return send_refusal(r, &c.answer, 0);
    }
    ctype =
        notify_content_type_parse(apr_table_get(r->headers_in, "Content-Type"));
    if (ctype == NOTIFY_CT_INVALID) {
        notify_create_refuse(&c, NOTIFY_INVALID_CONTENT_TYPE, NULL);
        return send_refusal(r, &c.answer, 0);
    }
    got = notify_read_body(r, cfg.max_body, &body, &len, &st, &message);
    if (got == NOTIFY_BODY_HTTPD_ANSWERED) {
        return AP_FILTER_ERROR; /* through the JSON error filter */
    }
    if (got == NOTIFY_BODY_REFUSED) {
        notify_create_refuse(&c, st, message);
        return send_refusal(r, &c.answer, 0);
    }
    notify_create_process(&c, ctype, body, len,
                          apr_table_get(r->headers_in, "Idempotency-Key"));
    notify_create_finish(&c);
    /* Anything about a stored notification is an answer, not a refusal. */
    return c.answer.replayed || c.row.id ? notify_send_answer(r, &c.answer)
                                         : send_refusal(r, &c.answer, 1);
}

int notify_handler(request_rec *r)
{
    if (!r->handler) {
        return DECLINED;
    }
    if (strcmp(r->handler, "notify-api") == 0) {
        return route_non_existent(r, 0);
    }
    if (strcmp(r->handler, "notify-create") != 0) {
        return DECLINED;
    }
    if (!is_create_path(r)) {
        return route_non_existent(r, 0);
    }
    if (r->method_number != M_POST || r->header_only) {
        return route_non_existent(r, 1);
    }
    return create(r);
}
