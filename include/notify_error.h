/* Why a step refused a request: the one status that answers, the
 * parameter it names and a message for the caller. Every step of the
 * create path returns a notify_status_e and fills a notify_error. */
#ifndef NOTIFY_ERROR_H
#define NOTIFY_ERROR_H

#include "notify_status.h"

typedef struct {
    notify_status_e status;
    const char *param;   /* the parameter named by `param`, or NULL */
    const char *message; /* NULL: the status's default message */
} notify_error;

/* Sets *err and returns its status. */
notify_status_e notify_fail(notify_error *err, notify_status_e st,
                            const char *param, const char *message);

#endif
