/* Phone numbers (E.164-like). */
#ifndef NOTIFY_PHONE_H
#define NOTIFY_PHONE_H

#include <apr.h>

/* 1 when s[0..len) is an optional '+' then 7 to 15 ASCII digits, else 0. */
int notify_phone_valid(const char *s, apr_size_t len);

#endif
