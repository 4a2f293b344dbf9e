/* Email addresses and lists of them: checks and splitting. Explicit
 * lengths throughout, so bytes with embedded NULs are never misread. */
#ifndef NOTIFY_EMAIL_H
#define NOTIFY_EMAIL_H

#include <apr_pools.h>

/* 1 when s[0..len) is one email address: "a@b.c" or "Name <a@b.c>"
 * (the name may be quoted; no comma anywhere), else 0.
 * Spaces and tabs may surround the address. The address is ASCII: a local
 * part of atext and single inner dots (at most 64 bytes), then at least two
 * domain labels of letters, digits and inner hyphens (1 to 63 bytes each),
 * at most 254 bytes in all; no IP literals, no quoted local parts. A display
 * name is required with angle brackets ("<a@b.c>" alone is invalid), must be
 * valid UTF-8 holding more than spaces, and has no control bytes; unquoted it
 * has no '<', '>' or '"'; quoted it may use \" and \\ escapes. */
int notify_email_valid(const char *s, apr_size_t len);

/* Splits one valid address into its display name (NULL when there is none,
 * quotes removed, surrounding spaces trimmed) and its bare address.
 * Returns APR_EINVAL, setting nothing, when s is not a valid address. */
apr_status_t notify_email_split(apr_pool_t *p, const char *s, apr_size_t len,
                                const char **name, const char **addr);

/* 1 when s[0..len) is a comma-separated list of addresses, spaces allowed
 * around entries; an empty entry or a trailing comma makes it invalid. */
int notify_email_list_valid(const char *s, apr_size_t len);

/* Calls fn once per entry of a valid list, in order; stops when fn returns
 * non-zero and passes that value back (0 when every call returned 0).
 * Each entry is passed with its surrounding spaces and tabs trimmed; the list
 * is not checked again, so an invalid list may give empty entries. */
typedef int notify_email_fn(void *baton, const char *entry, apr_size_t len);
int notify_email_list_each(const char *s, apr_size_t len, notify_email_fn *fn,
                           void *baton);

#endif
