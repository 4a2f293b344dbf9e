/* notify_log.h */
#include <stdarg.h>

#include <apr_strings.h>

#include "notify_log.h"

void notify_log(const notify_logger *lg, apr_pool_t *p, int level,
                const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    if (!lg || !lg->fn || level > lg->max_level) {
        return;
    }
    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    lg->fn(lg->baton, level, msg);
}
