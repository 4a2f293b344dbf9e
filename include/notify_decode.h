/* Request bodies to notify_input: JSON through jansson, forms through
 * libcurl's percent-decoder. Only structure is judged here (what makes a
 * body undecodable: invalid-encoded-params); values are judged by
 * notify_validate() (notify_params.h). */
#ifndef NOTIFY_DECODE_H
#define NOTIFY_DECODE_H

#include <apr_pools.h>

#include "notify_params.h"

/* SPEC: the outer object is level 1, level 33 is too deep. */
#define NOTIFY_MAX_DEPTH 32

/* Decodes an application/json body (an object) into in. An integer of
 * any size keeps its exact digits (NOTIFY_V_BIGNUM beyond 64 bits). */
notify_status_e notify_decode_json(apr_pool_t *p, const char *body,
                                   apr_size_t len, notify_input *in,
                                   notify_error *err);

/* Decodes an application/x-www-form-urlencoded body into in. */
notify_status_e notify_decode_form(apr_pool_t *p, const char *body,
                                   apr_size_t len, notify_input *in,
                                   notify_error *err);

#endif
