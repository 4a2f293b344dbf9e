/* SetHandler notify-status and mod_status's hook: the module's counters
 * (notify_metrics.h) in shared memory made before the children fork, so
 * every child counts into the same figures, and the outbox read from the
 * database at each look. The block is kept across graceful restarts
 * (httpd's retained data): the figures count since httpd started. */
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <util_script.h>
#include <mod_status.h>

#include "mod_notify.h"
#include "notify_metrics.h"
#include "notify_render.h"
#include "notify_store.h"

APLOG_USE_MODULE(notify);

#define RETAINED_KEY "mod_notify-metrics"

typedef struct {
    apr_shm_t *shm;
} retained;

int notify_status_post_config(server_rec *s)
{
    retained *kept = ap_retained_data_get(RETAINED_KEY);
    apr_status_t rv;

    if (!kept) {
        kept = ap_retained_data_create(RETAINED_KEY, sizeof(*kept));
    }
    if (!kept->shm) {
        /* Anonymous: inherited by the children, gone with httpd. */
        rv = apr_shm_create(&kept->shm, sizeof(notify_metrics), NULL,
                            s->process->pool);
        if (rv != APR_SUCCESS) {
            kept->shm = NULL;
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                         "no shared memory for the counters: notify-status "
                         "will show none");
            notify_metrics_attach(NULL);
            return OK;
        }
        memset(apr_shm_baseaddr_get(kept->shm), 0, sizeof(notify_metrics));
    }
    notify_metrics_attach(apr_shm_baseaddr_get(kept->shm));
    return OK;
}

/* The outbox figures of r's database: o->read 0 when it cannot be read. */
static void outbox_stats(request_rec *r, notify_outbox_stats *o)
{
    notify_dbd_use use = {r->pool, r->server, r, NULL, {0}};
    const char *why = NULL;
    notify_db *db;

    memset(o, 0, sizeof(*o));
    o->oldest_pending_age = -1;
    if (notify_dbd_open(&use, &db, &why) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "notify-status: the outbox cannot be read: %s", why);
        return;
    }
    if (notify_store_outbox_stats(db, r->pool, apr_time_now(), o) !=
        APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "notify-status: reading the outbox: %s", db->error);
    }
    notify_dbd_close(&use, db);
}

static int refuse(request_rec *r)
{
    notify_error err = {NOTIFY_ROUTE_NON_EXISTENT, NULL, NULL};
    notify_answer a;

    memset(&a, 0, sizeof(a));
    a.status = NOTIFY_ROUTE_NON_EXISTENT;
    a.http = notify_status(a.status)->http;
    a.body = notify_render_error(r->pool, &err, &a.len);
    apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s %s: %s", r->method, r->uri,
                  notify_status(a.status)->name);
    return notify_send_answer(r, &a);
}

int notify_status_handler(request_rec *r)
{
    notify_metrics *m = notify_metrics_attached(), none;
    notify_outbox_stats o;
    const char *format = NULL, *text;

    if (!r->handler || strcmp(r->handler, "notify-status") != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return refuse(r);
    }
    if (!m) {
        memset(&none, 0, sizeof(none));
        m = &none;
    }
    if (r->args) {
        apr_table_t *args;
        ap_args_to_table(r, &args);
        format = apr_table_get(args, "format");
    }
    outbox_stats(r, &o);
    if (format && strcmp(format, "prometheus") == 0) {
        text = notify_metrics_prometheus(r->pool, m, &o);
        ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    }
    else {
        text = notify_metrics_json(r->pool, m, &o);
        ap_set_content_type(r, "application/json; charset=utf-8");
    }
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "notify-status: out of memory rendering the counters");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, strlen(text));
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}

/* server-status: Notify... lines in ?auto, a small table otherwise. */
static int status_hook(request_rec *r, int flags)
{
    notify_metrics *m = notify_metrics_attached();
    int k;

    if (!m) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "NotifyRequestsTotal: %" APR_UINT64_T_FMT "\n",
                   notify_metrics_requests_total(m));
        for (k = 0; k < NOTIFY_STATUS_COUNT; k++) {
            ap_rprintf(r, "NotifyRequests_%s: %" APR_UINT64_T_FMT "\n",
                       notify_status((notify_status_e)k)->name,
                       apr_atomic_read64(&m->requests[k]));
        }
        ap_rprintf(r, "NotifyRequestsReplayed: %" APR_UINT64_T_FMT "\n",
                   apr_atomic_read64(&m->replayed));
        ap_rprintf(r,
                   "NotifyDeliveryAccepted: %" APR_UINT64_T_FMT "\n"
                   "NotifyDeliveryRejected: %" APR_UINT64_T_FMT "\n"
                   "NotifyDeliveryErrors: %" APR_UINT64_T_FMT "\n",
                   notify_metrics_attempts_total(m, NOTIFY_OUTCOME_ACCEPTED),
                   notify_metrics_attempts_total(m, NOTIFY_OUTCOME_REJECTED),
                   notify_metrics_attempts_total(m, NOTIFY_OUTCOME_ERROR));
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_notify</h2>\n<dl>\n", r);
    ap_rprintf(r, "<dt>Answers: %" APR_UINT64_T_FMT "</dt>\n",
               notify_metrics_requests_total(m));
    ap_rprintf(r,
               "<dt>Delivery attempts: %" APR_UINT64_T_FMT " accepted, %"
               APR_UINT64_T_FMT " rejected, %" APR_UINT64_T_FMT
               " errors</dt>\n</dl>\n",
               notify_metrics_attempts_total(m, NOTIFY_OUTCOME_ACCEPTED),
               notify_metrics_attempts_total(m, NOTIFY_OUTCOME_REJECTED),
               notify_metrics_attempts_total(m, NOTIFY_OUTCOME_ERROR));
    return OK;
}

void notify_status_register(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
