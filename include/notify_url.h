/* Absolute http and https URLs. */
#ifndef NOTIFY_URL_H
#define NOTIFY_URL_H

#include <apr_pools.h>

/* 1 when s[0..len) is an absolute http or https URL with a host and no
 * whitespace or control bytes, else 0.
 * Only RFC 3986 characters are allowed, so non-ASCII bytes and '<', '>',
 * '"', '\\', '^', '`', '{', '|', '}' must be percent-encoded, and every '%'
 * starts a %XX escape; a port, when given, is 1 to 65535. */
int notify_url_valid(apr_pool_t *p, const char *s, apr_size_t len);

#endif
