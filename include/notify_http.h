/* The one outbound HTTP client (libcurl), for Mandrill. A per-process
 * client keeps a few easy handles so keep-alive connections to the
 * provider survive across requests. */
#ifndef NOTIFY_HTTP_H
#define NOTIFY_HTTP_H

#include <apr_pools.h>

typedef struct notify_http notify_http;

/* A client whose idle handles live in p (a process-lifetime pool). Call
 * curl_global_init() before, once per process. */
notify_http *notify_http_create(apr_pool_t *p, int max_idle);

typedef struct {
    long status;       /* HTTP status, 0 when none arrived */
    const char *body;  /* NUL-terminated answer */
    apr_size_t len;
    const char *error; /* transport error, NULL when an answer arrived */
} notify_http_result;

/* POSTs a JSON body; the whole exchange (connect included) is bounded by
 * timeout_ms and the answer by max_answer bytes. Returns APR_SUCCESS when
 * an HTTP answer arrived (whatever its status), else fills res->error. */
apr_status_t notify_http_post_json(notify_http *c, apr_pool_t *p,
                                   const char *url, const char *body,
                                   apr_size_t len, long timeout_ms,
                                   apr_size_t max_answer,
                                   notify_http_result *res);

#endif
