/* Pure checks and normalisers for parameter values (notify_validate.h).
 * Only APR, APR-util and OpenSSL: unit-tested and fuzzed without httpd. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_cstr.h>
#include <apr_encode.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <openssl/evp.h>

#include "notify_validate.h"

/* ------------------------------------------------------------------ */
/* Byte classes                                                        */
/* ------------------------------------------------------------------ */

/* ASCII only, whatever locale httpd or another module has set: isalpha()
 * accepts accented bytes in Latin-1 locales. */
static int is_ascii_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* strchr() also finds the terminating NUL, which is never a member. */
static int in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int is_ctl(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f;
}

static void trim_ows(const char **s, apr_size_t *len)
{
    while (*len > 0 && is_ows((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_ows((*s)[*len - 1])) {
        (*len)--;
    }
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

/* Length of the well-formed sequence at s[0..len), or 0 (Unicode table
 * 3-7). The second byte's range is what excludes overlongs (after E0, F0),
 * surrogates (after ED) and code points above U+10FFFF (after F4). */
static apr_size_t utf8_seq_len(const unsigned char *s, apr_size_t len)
{
    unsigned char lo = 0x80, hi = 0xbf;
    apr_size_t n, i;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
    }
    else {
        return 0;
    }
    if (s[0] == 0xe0) {
        lo = 0xa0;
    }
    else if (s[0] == 0xed) {
        hi = 0x9f;
    }
    else if (s[0] == 0xf0) {
        lo = 0x90;
    }
    else if (s[0] == 0xf4) {
        hi = 0x8f;
    }
    if (len < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

int notify_utf8_valid(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n;

    while (len > 0) {
        if ((n = utf8_seq_len(u, len)) == 0) {
            return 0;
        }
        u += n;
        len -= n;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* Email addresses                                                     */
/* ------------------------------------------------------------------ */

#define EMAIL_ADDR_MAX 254 /* RFC 5321 path limit minus the brackets */
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63

/* One address cut into its parts; both point into the caller's string. */
typedef struct {
    const char *name; /* display name as written, or NULL */
    apr_size_t name_len;
    const char *addr;
    apr_size_t addr_len;
} email_parts_t;

/* RFC 5322 atext */
static int is_atext(char c)
{
    return is_ascii_alnum(c) || in_set(c, "!#$%&'*+-/=?^_`{|}~");
}

/* RFC 5322 dot-atom, the only local part accepted: quoted local parts are
 * legal but no mail provider a caller uses needs them. */
static int email_local_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > EMAIL_LOCAL_MAX || s[0] == '.' || s[len - 1] == '.') {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if (s[i] == '.' && s[i - 1] == '.') {
            return 0;
        }
    }
    for (i = 0; i < len; i++) {
        if (s[i] != '.' && !is_atext(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* RFC 1035 host label, digits allowed first (RFC 1123). */
static int email_label_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > EMAIL_LABEL_MAX || s[0] == '-' || s[len - 1] == '-') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_ascii_alnum(s[i]) && s[i] != '-') {
            return 0;
        }
    }
    return 1;
}

/* Two labels at least: a bare host name is never deliverable from here. */
static int email_domain_valid(const char *s, apr_size_t len)
{
    const char *end = s + len, *dot;
    int labels = 0;

    for (;;) {
        dot = memchr(s, '.', end - s);
        if (!email_label_valid(s, (dot ? dot : end) - s)) {
            return 0;
        }
        labels++;
        if (!dot) {
            return labels >= 2;
        }
        s = dot + 1;
    }
}

static int email_addr_valid(const char *s, apr_size_t len)
{
    /* Neither part may hold '@', so the first one is the separator. */
    const char *at = memchr(s, '@', len);

    return len <= EMAIL_ADDR_MAX && at != NULL &&
           email_local_valid(s, at - s) &&
           email_domain_valid(at + 1, s + len - at - 1);
}

/* Bytes no display name may hold: ',' separates list entries (a quoted
 * comma is not supported, SPEC 10), control bytes include CR and LF. */
static int email_name_byte_ok(char c)
{
    return c != ',' && (c == '\t' || !is_ctl(c));
}

/* A quoted-string with \-escapes that, once unquoted, holds more than
 * spaces; s[0] is the opening quote. */
static int email_quoted_name_valid(const char *s, apr_size_t len)
{
    apr_size_t i;
    int visible = 0;

    for (i = 1; i + 1 < len; i++) {
        if (s[i] == '"') {
            return 0;
        }
        if (s[i] == '\\' && ++i + 1 >= len) {
            return 0;
        }
        if (!email_name_byte_ok(s[i])) {
            return 0;
        }
        visible |= !is_ows(s[i]);
    }
    return len >= 2 && s[len - 1] == '"' && visible;
}

/* The name is already trimmed, so being non-empty means it has text. */
static int email_plain_name_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (!email_name_byte_ok(s[i]) || in_set(s[i], "<>\"")) {
            return 0;
        }
    }
    return len > 0;
}

static int email_name_valid(const char *s, apr_size_t len)
{
    if (!notify_utf8_valid(s, len)) {
        return 0;
    }
    if (len > 0 && s[0] == '"') {
        return email_quoted_name_valid(s, len);
    }
    return email_plain_name_valid(s, len);
}

/* Cuts "Name <addr>" at its last '<': the address cannot hold one, and a
 * quoted name may. */
static int email_parse(const char *s, apr_size_t len, email_parts_t *ep)
{
    const char *lt;

    trim_ows(&s, &len);
    if (len == 0 || s[len - 1] != '>') {
        ep->name = NULL;
        ep->name_len = 0;
        ep->addr = s;
        ep->addr_len = len;
        return email_addr_valid(s, len);
    }
    for (lt = s + len - 1; lt > s && *lt != '<'; lt--) {
    }
    if (*lt != '<') {
        return 0;
    }
    ep->name = s;
    ep->name_len = lt - s;
    trim_ows(&ep->name, &ep->name_len);
    ep->addr = lt + 1;
    ep->addr_len = len - (lt - s) - 2;
    return email_name_valid(ep->name, ep->name_len) &&
           email_addr_valid(ep->addr, ep->addr_len);
}

int notify_email_valid(const char *s, apr_size_t len)
{
    email_parts_t ep;

    return email_parse(s, len, &ep);
}

/* The display name as text: quotes and escapes removed, then trimmed. */
static const char *email_name_text(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *buf, *o;
    const char *t;
    apr_size_t i, n;

    if (s[0] != '"') {
        return apr_pstrmemdup(p, s, len);
    }
    buf = o = apr_palloc(p, len);
    for (i = 1; i + 1 < len; i++) {
        if (s[i] == '\\') {
            i++;
        }
        *o++ = s[i];
    }
    t = buf;
    n = o - buf;
    trim_ows(&t, &n);
    return apr_pstrmemdup(p, t, n);
}

apr_status_t notify_email_split(apr_pool_t *p, const char *s, apr_size_t len,
                                const char **name, const char **addr)
{
    email_parts_t ep;

    if (!email_parse(s, len, &ep)) {
        return APR_EINVAL;
    }
    *name = ep.name ? email_name_text(p, ep.name, ep.name_len) : NULL;
    *addr = apr_pstrmemdup(p, ep.addr, ep.addr_len);
    return APR_SUCCESS;
}

int notify_email_list_each(const char *s, apr_size_t len, notify_email_fn *fn,
                           void *baton)
{
    const char *end = s + len, *comma, *entry;
    apr_size_t n;
    int rv;

    for (;;) {
        comma = memchr(s, ',', end - s);
        entry = s;
        n = (comma ? comma : end) - s;
        trim_ows(&entry, &n);
        if ((rv = fn(baton, entry, n)) != 0) {
            return rv;
        }
        if (!comma) {
            return 0;
        }
        s = comma + 1;
    }
}

static int email_entry_invalid(void *baton, const char *entry, apr_size_t len)
{
    (void)baton;
    return !notify_email_valid(entry, len);
}

/* Addresses hold no comma, so splitting on every comma is exact. */
int notify_email_list_valid(const char *s, apr_size_t len)
{
    return notify_email_list_each(s, len, email_entry_invalid, NULL) == 0;
}

/* ------------------------------------------------------------------ */
/* Phone numbers and URLs                                              */
/* ------------------------------------------------------------------ */

#define PHONE_DIGITS_MIN 7
#define PHONE_DIGITS_MAX 15 /* E.164 */

int notify_phone_valid(const char *s, apr_size_t len)
{
    apr_size_t i = (len > 0 && s[0] == '+');

    if (len - i < PHONE_DIGITS_MIN || len - i > PHONE_DIGITS_MAX) {
        return 0;
    }
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* RFC 3986 characters: the URL may end up in HTML mail, where a raw '<',
 * '"' or space is an injection. apr_uri_parse does not check them. */
static int url_chars_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len || !apr_isxdigit(s[i + 1]) ||
                !apr_isxdigit(s[i + 2])) {
                return 0;
            }
            i += 2;
        }
        else if (!is_ascii_alnum(s[i]) &&
                 !in_set(s[i], "-._~:/?#[]@!$&'()*+,;=")) {
            return 0;
        }
    }
    return 1;
}

/* apr_uri_parse reads the port with strtol and keeps whatever it gets.
 * An empty port ("http://host:/") is legal in RFC 3986. */
static int url_port_valid(const char *port)
{
    apr_size_t i;
    int n;

    if (port == NULL || port[0] == '\0') {
        return 1;
    }
    for (i = 0; port[i] != '\0'; i++) {
        if (i == 5 || port[i] < '0' || port[i] > '9') {
            return 0;
        }
    }
    n = atoi(port);
    return n >= 1 && n <= 65535;
}

int notify_url_valid(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_uri_t uri;

    if (!url_chars_valid(s, len) ||
        apr_uri_parse(p, apr_pstrmemdup(p, s, len), &uri) != APR_SUCCESS) {
        return 0;
    }
    return uri.scheme != NULL &&
           (apr_cstr_casecmp(uri.scheme, "http") == 0 ||
            apr_cstr_casecmp(uri.scheme, "https") == 0) &&
           uri.hostname != NULL && uri.hostname[0] != '\0' &&
           url_port_valid(uri.port_str);
}

/* ------------------------------------------------------------------ */
/* Datetimes                                                           */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Content-Type                                                        */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name;
    notify_ctype_e type;
} media_types[] = {
    {"application/json", NOTIFY_CT_JSON},
    {"application/x-www-form-urlencoded", NOTIFY_CT_FORM},
};

/* RFC 9110 tchar */
static int is_tchar(char c)
{
    return is_ascii_alnum(c) || in_set(c, "!#$%&'*+-.^_`|~");
}

static const char *skip_ows(const char *s)
{
    while (is_ows(*s)) {
        s++;
    }
    return s;
}

static const char *skip_token(const char *s)
{
    while (is_tchar(*s)) {
        s++;
    }
    return s;
}

static notify_ctype_e ctype_media_type(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++) {
        if (strlen(media_types[i].name) == len &&
            apr_cstr_casecmpn(s, media_types[i].name, len) == 0) {
            return media_types[i].type;
        }
    }
    return NOTIFY_CT_INVALID;
}

/* A token or a quoted-string; *val spans it without the quotes (escapes
 * kept: a charset needing one is no UTF-8 anyway). NULL when malformed. */
static const char *ctype_param_value(const char *s, const char **val,
                                     apr_size_t *len)
{
    const char *start;

    if (*s != '"') {
        start = s;
        s = skip_token(s);
        *val = start;
        *len = s - start;
        return s > start ? s : NULL;
    }
    for (start = ++s; *s != '\0' && *s != '"'; s++) {
        if (*s == '\\' && s[1] != '\0') {
            s++;
        }
    }
    *val = start;
    *len = s - start;
    return *s == '"' ? s + 1 : NULL;
}

static int ctype_charset_ok(const char *v, apr_size_t len)
{
    return (len == 5 && apr_cstr_casecmpn(v, "utf-8", 5) == 0) ||
           (len == 4 && apr_cstr_casecmpn(v, "utf8", 4) == 0);
}

/* Walks "; name=value" pairs after the media type. */
static int ctype_params_valid(const char *s)
{
    const char *name, *val;
    apr_size_t name_len, val_len;

    for (;;) {
        s = skip_ows(s);
        if (*s == '\0') {
            return 1;
        }
        if (*s != ';') {
            return 0;
        }
        s = skip_ows(s + 1);
        if (*s == '\0' || *s == ';') {
            continue;
        }
        name = s;
        s = skip_token(s);
        name_len = s - name;
        s = skip_ows(s);
        if (name_len == 0 || *s != '=') {
            return 0;
        }
        s = ctype_param_value(skip_ows(s + 1), &val, &val_len);
        if (s == NULL ||
            (name_len == 7 && apr_cstr_casecmpn(name, "charset", 7) == 0 &&
             !ctype_charset_ok(val, val_len))) {
            return 0;
        }
    }
}

notify_ctype_e notify_content_type_parse(const char *value)
{
    const char *type, *end;
    notify_ctype_e ct;

    if (value == NULL) {
        return NOTIFY_CT_INVALID;
    }
    type = skip_ows(value);
    end = skip_token(type);
    if (*end != '/') {
        return NOTIFY_CT_INVALID;
    }
    end = skip_token(end + 1);
    ct = ctype_media_type(type, end - type);
    if (ct == NOTIFY_CT_INVALID || !ctype_params_valid(end)) {
        return NOTIFY_CT_INVALID;
    }
    return ct;
}

/* ------------------------------------------------------------------ */
/* Base64 and SHA-256                                                  */
/* ------------------------------------------------------------------ */

/* apr_base64 counts in int; refusing longer input keeps it exact. */
#define BASE64_MAX ((apr_size_t)INT_MAX / 4 * 3)

/* Copies the alphabet bytes of in, NUL-terminated, for apr_base64 (which
 * stops at the first byte outside it) and counts the padding. NULL when
 * in holds another byte, or data after '='. */
static char *base64_strip(apr_pool_t *p, const char *in, apr_size_t len,
                          apr_size_t *n, apr_size_t *pad)
{
    char *buf = apr_palloc(p, len + 1);
    apr_size_t i;

    *n = *pad = 0;
    for (i = 0; i < len; i++) {
        if (in_set(in[i], " \t\n\v\f\r")) {
            continue;
        }
        if (in[i] == '=') {
            (*pad)++;
            continue;
        }
        if (*pad > 0 || (!is_ascii_alnum(in[i]) && !in_set(in[i], "+/"))) {
            return NULL;
        }
        buf[(*n)++] = in[i];
    }
    buf[*n] = '\0';
    return buf;
}

/* One character left over encodes no byte; padding, when present, must
 * complete the last quantum exactly, which takes one or two '='. */
static int base64_shape_valid(apr_size_t n, apr_size_t pad)
{
    return n <= BASE64_MAX && n % 4 != 1 && pad <= 2 &&
           (pad == 0 || (n + pad) % 4 == 0);
}

int notify_base64_decode(apr_pool_t *p, const char *in, apr_size_t len,
                         char **out, apr_size_t *outlen)
{
    apr_size_t n, pad;
    char *clean = base64_strip(p, in, len, &n, &pad);
    int got;

    if (clean == NULL || !base64_shape_valid(n, pad)) {
        return 0;
    }
    /* apr_base64_decode_len counts one byte for our NUL. */
    *out = apr_palloc(p, apr_base64_decode_len(clean));
    got = apr_base64_decode_binary((unsigned char *)*out, clean);
    (*out)[got] = '\0';
    *outlen = got;
    return 1;
}

/* EVP_sha256() makes OpenSSL 3 look the algorithm up in its provider
 * store on every use; fetched once, the lookup is gone from each request. */
static EVP_MD *sha256_md;

void notify_sha256_init(void)
{
    if (!sha256_md) {
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }
}

void notify_sha256_hex(const char *s, apr_size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len;
    const EVP_MD *type = sha256_md ? sha256_md : EVP_sha256();

    out[0] = '\0';
    if (EVP_Digest(s, len, md, &md_len, type, NULL) == 1) {
        apr_encode_base16_binary(out, md, md_len, APR_ENCODE_LOWER, NULL);
    }
}
