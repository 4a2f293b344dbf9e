/* Errors httpd raises itself inside the API's Locations (a body over
 * LimitRequestBody, broken chunked encoding, ...) would reach the caller as
 * httpd's HTML page. An error filter swaps that page for the JSON answer of
 * the status set, so callers can switch on `status` there too. */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mod_notify.h"
#include "notify_metrics.h"
#include "notify_params.h"
#include "notify_render.h"

APLOG_USE_MODULE(notify);

#define FILTER_NAME "NOTIFY_JSON_ERROR"

/* httpd's status to ours; NOTIFY_STATUS_COUNT leaves httpd's page alone. */
static notify_status_e status_for(int http)
{
    switch (http) {
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        return NOTIFY_REQUEST_TOO_LARGE;
    case HTTP_BAD_REQUEST:
    case HTTP_REQUEST_TIME_OUT:
    case HTTP_LENGTH_REQUIRED:
    case HTTP_REQUEST_URI_TOO_LARGE:
    case HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE:
    case HTTP_UNSUPPORTED_MEDIA_TYPE:
    case HTTP_EXPECTATION_FAILED:
        return NOTIFY_INVALID_ENCODED_PARAMS;
    case HTTP_NOT_FOUND:
    case HTTP_METHOD_NOT_ALLOWED:
    case HTTP_NOT_IMPLEMENTED:
        return NOTIFY_ROUTE_NON_EXISTENT;
    default:
        return http >= 500 ? NOTIFY_APPLICATION_CRASH : NOTIFY_STATUS_COUNT;
    }
}

static int is_api_request(request_rec *r)
{
    return r->handler && (strcmp(r->handler, "notify-create") == 0 ||
                          strcmp(r->handler, "notify-api") == 0 ||
                          strcmp(r->handler, "notify-mandrill-webhook") == 0 ||
                          strcmp(r->handler, "notify-twilio-callback") == 0);
}

/* The answer decided when the filter was inserted (r->status is ours by
 * then), and whether it has gone out. */
typedef struct {
    notify_status_e status;
    int sent;
} error_ctx;

static apr_status_t json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    error_ctx *ctx = f->ctx;
    apr_bucket *b = APR_BRIGADE_FIRST(bb);

    /* httpd sets its page's headers after the error filters are inserted:
     * its type, and for a 405 an Allow listing every method it knows. */
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_unset(r->headers_out, "Allow");
    if (ctx->status == NOTIFY_ROUTE_NON_EXISTENT &&
        strcmp(r->handler, "notify-create") == 0) {
        apr_table_setn(r->headers_out, "Allow", "POST");
    }
    /* Drop httpd's page; at the end of the stream, put ours. */
    while (b != APR_BRIGADE_SENTINEL(bb)) {
        apr_bucket *next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_EOS(b) && !ctx->sent) {
            notify_error err = {ctx->status, NULL, NULL};
            apr_size_t len;
            const char *json = notify_render_error(r->pool, &err, &len);
            ctx->sent = 1;
            if (json) {
                APR_BUCKET_INSERT_BEFORE(
                    b, apr_bucket_pool_create(json, len, r->pool,
                                              bb->bucket_alloc));
            }
        }
        else if (!APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
        }
        b = next;
    }
    return ap_pass_brigade(f->next, bb);
}

static void insert_error_filter(request_rec *r)
{
    notify_status_e st;
    error_ctx *ctx;

    if (!is_api_request(r)) {
        return;
    }
    st = status_for(r->status);
    if (st == NOTIFY_STATUS_COUNT) {
        return;
    }
    notify_metrics_request(st);
    r->status = notify_status(st)->http;
    r->status_line = NULL;
    apr_table_unset(r->headers_out, "Content-Length");
    apr_table_unset(r->err_headers_out, "Content-Length");
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->status = st;
    ap_add_output_filter(FILTER_NAME, ctx, r, r->connection);
}

/* httpd's core answers TRACE itself (in map_to_storage) before any
 * handler runs. The early location walk has already happened when
 * translate_name runs, so a TRACE inside the API is refused here, and the
 * error filter turns the 405 into route-non-existent. */
static int refuse_trace(request_rec *r)
{
    core_dir_config *core;
    const char *handler = NULL, *err = NULL;

    if (r->method_number != M_TRACE) {
        return DECLINED;
    }
    core = ap_get_core_module_config(r->per_dir_config);
    if (core && core->expr_handler) {
        handler = ap_expr_str_exec(r, core->expr_handler, &err);
    }
    if (!handler || err) {
        return DECLINED;
    }
    r->handler = handler;
    if (!is_api_request(r)) {
        r->handler = NULL;
        return DECLINED;
    }
    return HTTP_METHOD_NOT_ALLOWED;
}

void notify_errors_register(void)
{
    ap_hook_translate_name(refuse_trace, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_register_output_filter(FILTER_NAME, json_error_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}
