/* Pure checks and normalisers for the value types of the parameter table.
 * APR-only: no httpd, no jansson. Every function takes explicit lengths so
 * strings with embedded NUL bytes are never misread. */
#ifndef NOTIFY_VALIDATE_H
#define NOTIFY_VALIDATE_H

#include <apr_pools.h>
#include <apr_time.h>

/* Length of a normalised datetime, "YYYY-MM-DDTHH:MM:SSZ", without the NUL. */
#define NOTIFY_DATETIME_LEN 20

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), else 0. */
int notify_utf8_valid(const char *s, apr_size_t len);

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

/* 1 when s[0..len) is an optional '+' then 7 to 15 ASCII digits, else 0. */
int notify_phone_valid(const char *s, apr_size_t len);

/* 1 when s[0..len) is an absolute http or https URL with a host and no
 * whitespace or control bytes, else 0.
 * Only RFC 3986 characters are allowed, so non-ASCII bytes and '<', '>',
 * '"', '\\', '^', '`', '{', '|', '}' must be percent-encoded, and every '%'
 * starts a %XX escape; a port, when given, is 1 to 65535. */
int notify_url_valid(apr_pool_t *p, const char *s, apr_size_t len);

/* Parses RFC 3339 ("2026-11-27T10:00:00Z", "...+01:00", 't'/'z' any case,
 * fractional seconds dropped) or "YYYY-MM-DD HH:MM:SS" (optionally with 'Z'
 * or an offset; none means UTC). Writes the instant as UTC
 * "YYYY-MM-DDTHH:MM:SSZ" plus NUL into out. Returns 1 on success, 0 for a
 * malformed or impossible value (2026-02-30, second 60, hour 24).
 * Exact digit counts, no surrounding whitespace; offsets are +HH:MM or
 * -HH:MM with HH 00-23 and MM 00-59. The year, as written and once converted
 * to UTC, must lie in 0001-9999. */
int notify_datetime_parse(const char *s, apr_size_t len,
                          char out[NOTIFY_DATETIME_LEN + 1]);

/* Formats an apr_time_t (truncated to the second) the same way.
 * Truncation is towards the past for times before 1970; times outside
 * 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z are clamped to those bounds. */
void notify_datetime_format(apr_time_t t, char out[NOTIFY_DATETIME_LEN + 1]);

/* The reverse: a stored "YYYY-MM-DDTHH:MM:SSZ" (or any value the parser
 * accepts, e.g. PostgreSQL's "2026-11-27 10:00:00+00") to apr_time_t.
 * Returns 1 on success. Unlike notify_datetime_parse it also takes an
 * offset of hours alone (+HH), as PostgreSQL writes it; fractional seconds
 * are dropped here too. */
int notify_datetime_to_time(const char *s, apr_size_t len, apr_time_t *t);

typedef enum {
    NOTIFY_CT_INVALID = 0,
    NOTIFY_CT_JSON,
    NOTIFY_CT_FORM
} notify_ctype_e;

/* Reads a Content-Type header value (may be NULL): application/json or
 * application/x-www-form-urlencoded, any case; a charset parameter, quoted
 * or not, any case, must be utf-8 or utf8; other parameters are ignored.
 * Parameters must still be well formed (token=token or token="quoted");
 * spaces and tabs are tolerated around the media type, ';' and '=', and
 * empty parameters ("application/json;") are allowed, as RFC 9110 does. */
notify_ctype_e notify_content_type_parse(const char *value);

/* Decodes standard base64 (padding optional, ASCII whitespace ignored) with
 * apr_base64. Returns 1 and the bytes (NUL-terminated, length in *outlen),
 * or 0 when the input holds any other byte or has an impossible length or
 * padding. Whitespace is space, \t, \n, \v, \f, \r, allowed anywhere (also
 * between '=' signs); unused low bits of the last character are not checked;
 * an input of only whitespace decodes to 0 bytes. */
int notify_base64_decode(apr_pool_t *p, const char *in, apr_size_t len,
                         char **out, apr_size_t *outlen);

/* Lowercase hex SHA-256 of s[0..len) (OpenSSL EVP) into out (65 bytes).
 * Should OpenSSL fail, out is the empty string, which matches no stored
 * hash. */
void notify_sha256_hex(const char *s, apr_size_t len, char out[65]);

/* Fetches the SHA-256 implementation once (call before threads start);
 * without it notify_sha256_hex() still works, only slower. */
void notify_sha256_init(void);

#endif
