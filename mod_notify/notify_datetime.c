/* Datetimes: parsing the accepted forms, formatting the stored one
 * (notify_datetime.h). */
#include <apr_strings.h>

#include "notify_chars.h"
#include "notify_datetime.h"

/* Own calendar arithmetic rather than apr_time_exp_*: apr_time_exp_get
 * refuses years before 1970 (APR_EBADDATE) and apr_time_exp_gmt relies on
 * the platform's gmtime; these are exact for every year 1..9999. */
#define SECS_PER_DAY 86400
#define DT_SECS_MIN APR_INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define DT_SECS_MAX APR_INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

typedef struct {
    int year, month, day, hour, min, sec;
    int offset; /* seconds east of UTC */
} dt_fields_t;

static int dt_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int dt_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    return days[m - 1] + (m == 2 && dt_is_leap(y));
}

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). Counting years
 * from March puts the leap day last; y >= 1 keeps every division exact. */
static apr_int64_t dt_days_from_civil(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (apr_int64_t)era * 146097 + doe - 719468;
}

/* The inverse (civil_from_days); z is within years 1..9999. */
static void dt_civil_from_days(apr_int64_t z, int *y, int *m, int *d)
{
    int era, doe, yoe, doy, mp;

    z += 719468;
    era = (int)(z / 146097);
    doe = (int)(z - (apr_int64_t)era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* Reads exactly n ASCII digits. */
static int dt_read_num(const char **s, const char *end, int n, int *v)
{
    int i;

    if (end - *s < n) {
        return 0;
    }
    for (*v = 0, i = 0; i < n; i++) {
        if ((*s)[i] < '0' || (*s)[i] > '9') {
            return 0;
        }
        *v = *v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    return 1;
}

/* Consumes one byte of set when it comes next. */
static int dt_read_char(const char **s, const char *end, const char *set)
{
    if (*s == end || !in_set(**s, set)) {
        return 0;
    }
    (*s)++;
    return 1;
}

/* Skips ".digits": the stored precision is the second. */
static int dt_read_fraction(const char **s, const char *end)
{
    const char *digits;

    if (!dt_read_char(s, end, ".")) {
        return 1;
    }
    for (digits = *s; *s < end && **s >= '0' && **s <= '9'; (*s)++) {
    }
    return *s > digits;
}

/* Nothing, Z, or +HH:MM / -HH:MM; +HH alone when hours_only is allowed. */
static int dt_read_offset(const char **s, const char *end, int hours_only,
                          int *offset)
{
    int sign, h, m = 0;

    *offset = 0;
    if (*s == end || dt_read_char(s, end, "Zz")) {
        return 1;
    }
    sign = **s == '-' ? -1 : 1;
    if (!dt_read_char(s, end, "+-") || !dt_read_num(s, end, 2, &h)) {
        return 0;
    }
    if (!(hours_only && *s == end) &&
        (!dt_read_char(s, end, ":") || !dt_read_num(s, end, 2, &m))) {
        return 0;
    }
    *offset = sign * (h * 3600 + m * 60);
    return h <= 23 && m <= 59;
}

static int dt_fields_valid(const dt_fields_t *f)
{
    return f->year >= 1 && f->month >= 1 && f->month <= 12 && f->day >= 1 &&
           f->day <= dt_days_in_month(f->year, f->month) && f->hour <= 23 &&
           f->min <= 59 && f->sec <= 59;
}

static int dt_read(const char *s, apr_size_t len, int hours_only,
                   dt_fields_t *f)
{
    const char *end = s + len;

    return dt_read_num(&s, end, 4, &f->year) && dt_read_char(&s, end, "-") &&
           dt_read_num(&s, end, 2, &f->month) && dt_read_char(&s, end, "-") &&
           dt_read_num(&s, end, 2, &f->day) && dt_read_char(&s, end, "Tt ") &&
           dt_read_num(&s, end, 2, &f->hour) && dt_read_char(&s, end, ":") &&
           dt_read_num(&s, end, 2, &f->min) && dt_read_char(&s, end, ":") &&
           dt_read_num(&s, end, 2, &f->sec) && dt_read_fraction(&s, end) &&
           dt_read_offset(&s, end, hours_only, &f->offset) && s == end &&
           dt_fields_valid(f);
}

/* Seconds since the epoch of a datetime text, within DT_SECS_MIN..MAX. */
static int dt_to_secs(const char *s, apr_size_t len, int hours_only,
                      apr_int64_t *secs)
{
    dt_fields_t f;

    if (!dt_read(s, len, hours_only, &f)) {
        return 0;
    }
    *secs = dt_days_from_civil(f.year, f.month, f.day) * SECS_PER_DAY +
            f.hour * 3600 + f.min * 60 + f.sec - f.offset;
    return *secs >= DT_SECS_MIN && *secs <= DT_SECS_MAX;
}

/* Rounds towards minus infinity, unlike C's '/'. */
static apr_int64_t floor_div(apr_int64_t a, apr_int64_t b)
{
    return a / b - (a % b < 0);
}

static void dt_format_secs(apr_int64_t secs, char out[NOTIFY_DATETIME_LEN + 1])
{
    apr_int64_t days = floor_div(secs, SECS_PER_DAY);
    int rem = (int)(secs - days * SECS_PER_DAY);
    int y, m, d;

    dt_civil_from_days(days, &y, &m, &d);
    apr_snprintf(out, NOTIFY_DATETIME_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 y, m, d, rem / 3600, rem / 60 % 60, rem % 60);
}

int notify_datetime_parse(const char *s, apr_size_t len,
                          char out[NOTIFY_DATETIME_LEN + 1])
{
    apr_int64_t secs;

    if (!dt_to_secs(s, len, 0, &secs)) {
        return 0;
    }
    dt_format_secs(secs, out);
    return 1;
}

void notify_datetime_format(apr_time_t t, char out[NOTIFY_DATETIME_LEN + 1])
{
    apr_int64_t secs = floor_div(t, APR_USEC_PER_SEC);

    if (secs < DT_SECS_MIN) {
        secs = DT_SECS_MIN;
    }
    else if (secs > DT_SECS_MAX) {
        secs = DT_SECS_MAX;
    }
    dt_format_secs(secs, out);
}

int notify_datetime_to_time(const char *s, apr_size_t len, apr_time_t *t)
{
    apr_int64_t secs;

    if (!dt_to_secs(s, len, 1, &secs)) {
        return 0;
    }
    *t = apr_time_from_sec(secs);
    return 1;
}

char *notify_datetime_stamp(apr_pool_t *p, apr_time_t t)
{
    char *out = apr_palloc(p, NOTIFY_DATETIME_LEN + 1);

    notify_datetime_format(t, out);
    return out;
}
