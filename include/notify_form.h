/* application/x-www-form-urlencoded bodies: the create route's forms and
 * the providers' webhook POSTs. */
#ifndef NOTIFY_FORM_H
#define NOTIFY_FORM_H

#include <apr_tables.h>

typedef struct {
    const char *name; /* decoded, NUL-terminated */
    apr_size_t name_len;
    const char *value; /* decoded, NUL-terminated ("" without '=') */
    apr_size_t value_len;
} notify_form_field;

/* The fields of a body, in order: '+' is a space, %XX escapes are decoded
 * (libcurl), every '%' must start one, names and values must be valid
 * UTF-8 and names non-empty; empty fields ("a=1&&b=2") are skipped. NULL
 * when the body is malformed. */
apr_array_header_t *notify_form_parse(apr_pool_t *p, const char *body,
                                      apr_size_t len);

/* The most fields notify_form_build writes. */
#define NOTIFY_FORM_MAX_FIELDS 16

/* A form body from pairs: name, value, name, value, ..., NULL (a NULL
 * value leaves its field out; names are plain ASCII, values are
 * percent-encoded by libcurl). NULL when it could not be built. */
const char *notify_form_build(apr_pool_t *p, const char *const *pairs,
                              apr_size_t *len);

/* The first field called name, or NULL. */
const notify_form_field *notify_form_get(const apr_array_header_t *fields,
                                         const char *name);

#endif
