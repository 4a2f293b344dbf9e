/* Errors httpd raises itself inside the API's Locations (a body over
 * LimitRequestBody, broken chunked encoding, ...) would reach the caller as
 * httpd's HTML page. An error filter swaps that page for the JSON answer of
 * the status set, so callers can switch on `status` there too. */
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mod_notify.h"
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
                          strcmp(r->handler, "notify-api") == 0);
}

static apr_status_t json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket *b = APR_BRIGADE_FIRST(bb);

    /* httpd sets its page's type after the error filters are inserted. */
    ap_set_content_type(r, "application/json; charset=utf-8");
    /* Drop httpd's page; at the end of the stream, put ours. */
    while (b != APR_BRIGADE_SENTINEL(bb)) {
        apr_bucket *next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_EOS(b) && !f->ctx) {
            notify_error err = {status_for(r->status), NULL, NULL};
            apr_size_t len;
            const char *json = notify_render_error(r->pool, &err, &len);
            f->ctx = (void *)1;
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

    if (!is_api_request(r)) {
        return;
    }
    st = status_for(r->status);
    if (st == NOTIFY_STATUS_COUNT) {
        return;
    }
    r->status = notify_status(st)->http;
    r->status_line = NULL;
    apr_table_unset(r->headers_out, "Content-Length");
    apr_table_unset(r->err_headers_out, "Content-Length");
    ap_add_output_filter(FILTER_NAME, NULL, r, r->connection);
}

void notify_errors_register(void)
{
    ap_register_output_filter(FILTER_NAME, json_error_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}
