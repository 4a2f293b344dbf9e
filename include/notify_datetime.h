/* Datetimes: the accepted input forms and the stored form
 * "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
#ifndef NOTIFY_DATETIME_H
#define NOTIFY_DATETIME_H

#include <apr_pools.h>
#include <apr_time.h>

/* Length of a normalised datetime, "YYYY-MM-DDTHH:MM:SSZ", without the NUL. */
#define NOTIFY_DATETIME_LEN 20

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

/* The same, as a string in p. */
char *notify_datetime_stamp(apr_pool_t *p, apr_time_t t);

#endif
