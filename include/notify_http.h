/* The one outbound HTTP client (libcurl), for every provider. A
 * per-process client keeps reset easy handles, so keep-alive connections
 * to the providers survive across requests. Bodies and credentials may
 * hold secrets: nothing here logs them, and curl's verbose mode stays
 * off. */
#ifndef NOTIFY_HTTP_H
#define NOTIFY_HTTP_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct notify_http notify_http;

/* A client whose idle handles live in p (a process-lifetime pool). Call
 * curl_global_init() before, once per process. */
notify_http *notify_http_create(apr_pool_t *p, int max_idle);

typedef struct {
    const char *url;
    const char *content_type;
    const char *body;
    apr_size_t len;
    const char *userpwd;     /* HTTP basic auth "user:password", or NULL */
    long timeout_ms;         /* the whole exchange, connect included */
    long connect_timeout_ms; /* connecting alone (at most timeout_ms) */
    apr_size_t max_answer;   /* a longer answer fails the exchange */
} notify_http_request;

typedef struct {
    long status;      /* HTTP status, 0 when none arrived */
    const char *body; /* NUL-terminated answer */
    apr_size_t len;
    const char *error; /* transport error, NULL when an answer arrived */
    apr_interval_time_t elapsed;
} notify_http_result;

/* POSTs req. Returns APR_SUCCESS when an HTTP answer arrived (whatever
 * its status), else fills res->error. Redirects are not followed. */
apr_status_t notify_http_post(notify_http *c, apr_pool_t *p,
                              const notify_http_request *req,
                              notify_http_result *res);

#endif
