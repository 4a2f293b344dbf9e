/* The Content-Type header of a create request (notify_content_type.h). */
#include <apr_cstr.h>

#include "notify_chars.h"
#include "notify_content_type.h"

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
