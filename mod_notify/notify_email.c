/* Email addresses and comma-separated lists of them (notify_email.h). */
#include <string.h>

#include <apr_strings.h>

#include "notify_chars.h"
#include "notify_email.h"
#include "notify_utf8.h"

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
