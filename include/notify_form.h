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

/* The first field called name, or NULL. */
const notify_form_field *notify_form_get(const apr_array_header_t *fields,
                                         const char *name);

#endif
