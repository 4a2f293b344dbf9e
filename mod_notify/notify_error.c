/* notify_error.h */
#include "notify_error.h"

notify_status_e notify_fail(notify_error *err, notify_status_e st,
                            const char *param, const char *message)
{
    err->status = st;
    err->param = param;
    err->message = message;
    return st;
}
