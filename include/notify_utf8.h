/* UTF-8 well-formedness. */
#ifndef NOTIFY_UTF8_H
#define NOTIFY_UTF8_H

#include <apr.h>

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), else 0. */
int notify_utf8_valid(const char *s, apr_size_t len);

#endif
