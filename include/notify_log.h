/* The core logs through the glue (httpd's error log, under the module's
 * tag). Levels are syslog's, as httpd's APLOG_* levels are, so the glue
 * passes them on unchanged. Never log a token, a key or a body. */
#ifndef NOTIFY_LOG_H
#define NOTIFY_LOG_H

#include <apr_pools.h>

#define NOTIFY_LOG_ERR 3
#define NOTIFY_LOG_WARNING 4
#define NOTIFY_LOG_NOTICE 5
#define NOTIFY_LOG_INFO 6
#define NOTIFY_LOG_DEBUG 7

typedef void notify_log_fn(void *baton, int level, const char *msg);

typedef struct {
    notify_log_fn *fn; /* NULL: nothing is logged */
    void *baton;       /* the glue's: a request_rec, a server_rec */
    int max_level;     /* messages above it are not even formatted */
} notify_logger;

/* Formats in p and hands the line to the logger (lg may be NULL). */
void notify_log(const notify_logger *lg, apr_pool_t *p, int level,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
