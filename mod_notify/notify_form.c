/* notify_form.h */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "notify_form.h"
#include "notify_utf8.h"

static int percent_escapes_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' && (i + 2 >= len || !apr_isxdigit(s[i + 1]) ||
                            !apr_isxdigit(s[i + 2]))) {
            return 0;
        }
    }
    return 1;
}

/* One form component: '+' is a space, then percent-decoding by libcurl. */
static const char *unescape(apr_pool_t *p, const char *s, apr_size_t len,
                            apr_size_t *outlen)
{
    char *plus = apr_pstrmemdup(p, s, len);
    char *dec;
    const char *out;
    int n = 0;
    apr_size_t i;

    if (!percent_escapes_valid(s, len)) {
        return NULL;
    }
    for (i = 0; i < len; i++) {
        if (plus[i] == '+') {
            plus[i] = ' ';
        }
    }
    dec = curl_easy_unescape(NULL, plus, (int)len, &n);
    if (!dec) {
        return NULL;
    }
    out = apr_pstrmemdup(p, dec, n);
    curl_free(dec);
    *outlen = n;
    return notify_utf8_valid(out, n) ? out : NULL;
}

apr_array_header_t *notify_form_parse(apr_pool_t *p, const char *body,
                                      apr_size_t len)
{
    apr_array_header_t *fields =
        apr_array_make(p, 16, sizeof(notify_form_field));
    const char *pos = body, *end = body + len;

    while (pos < end) {
        const char *amp = memchr(pos, '&', end - pos);
        const char *stop = amp ? amp : end;
        const char *eq = memchr(pos, '=', stop - pos);
        notify_form_field f = {NULL, 0, "", 0};

        if (stop > pos) {
            f.name = unescape(p, pos, (eq ? eq : stop) - pos, &f.name_len);
            if (eq) {
                f.value = unescape(p, eq + 1, stop - eq - 1, &f.value_len);
            }
            if (!f.name || !f.value || f.name_len == 0) {
                return NULL;
            }
            *(notify_form_field *)apr_array_push(fields) = f;
        }
        pos = stop + 1;
    }
    return fields;
}

const notify_form_field *notify_form_get(const apr_array_header_t *fields,
                                         const char *name)
{
    int i;

    for (i = 0; i < fields->nelts; i++) {
        const notify_form_field *f =
            &APR_ARRAY_IDX(fields, i, notify_form_field);
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

const char *notify_form_build(apr_pool_t *p, const char *const *pairs,
                              apr_size_t *len)
{
    struct iovec parts[2 * NOTIFY_FORM_MAX_FIELDS];
    apr_size_t n = 0;
    int i;

    for (i = 0; pairs[i] && n + 2 <= 2 * NOTIFY_FORM_MAX_FIELDS; i += 2) {
        const char *value = pairs[i + 1];
        char *enc;

        if (!value) {
            continue;
        }
        /* libcurl encodes every byte but A-Z a-z 0-9 - . _ ~ */
        enc = curl_easy_escape(NULL, value, (int)strlen(value));
        if (!enc) {
            return NULL;
        }
        parts[n].iov_base = apr_pstrcat(p, n ? "&" : "", pairs[i], "=", NULL);
        parts[n].iov_len = strlen(parts[n].iov_base);
        n++;
        parts[n].iov_base = apr_pstrdup(p, enc);
        parts[n].iov_len = strlen(enc);
        n++;
        curl_free(enc);
    }
    return apr_pstrcatv(p, parts, n, len);
}
