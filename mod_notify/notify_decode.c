/* Request bodies to notify_input: JSON through jansson, forms through
 * libcurl's percent-decoder. Only structure is judged here (what makes a
 * body undecodable); the values are judged by notify_validate(). */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <jansson.h>

#include "notify_params.h"
#include "notify_validate.h"

/* SPEC: the outer object is level 1, level 33 is too deep. */
#define NOTIFY_MAX_DEPTH 32

notify_status_e notify_fail(notify_error *err, notify_status_e st,
                            const char *param, const char *message)
{
    err->status = st;
    err->param = param;
    err->message = message;
    return st;
}

static void input_reset(notify_input *in)
{
    memset(in, 0, sizeof(*in));
}

/* Records name=raw; a repeated name marks the parameter dup. */
static void input_put(apr_pool_t *p, notify_input *in, const char *name,
                      apr_size_t nlen, const notify_raw *raw)
{
    notify_param_e id = notify_param_lookup(name, nlen);

    in->count++;
    if (id == NOTIFY_P_COUNT) {
        if (!in->unknown) {
            in->unknown = apr_pstrmemdup(p, name, nlen);
        }
        return;
    }
    if (in->raw[id].type != NOTIFY_V_ABSENT) {
        in->raw[id].dup = 1;
        return;
    }
    in->raw[id] = *raw;
}

/* A duplicate that jansson found may sit in a nested object too; only a
 * top-level parameter that was given is marked. */
static void mark_duplicate(notify_input *in, const char *name)
{
    notify_param_e id = notify_param_lookup(name, strlen(name));

    if (id != NOTIFY_P_COUNT && in->raw[id].type != NOTIFY_V_ABSENT) {
        in->raw[id].dup = 1;
    }
}

static int json_depth(json_t *v, int level)
{
    int deepest = level;
    const char *key;
    json_t *item;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach(v, key, item)
        {
            int d = json_depth(item, level + 1);
            if (d > deepest) {
                deepest = d;
            }
        }
    }
    else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            int d = json_depth(item, level + 1);
            if (d > deepest) {
                deepest = d;
            }
        }
    }
    else {
        return level - 1;
    }
    return deepest;
}

/* With JSON_DECODE_INT_AS_REAL (the retry after an integer overflow) every
 * integer arrives as a real: integral values are told apart again here. */
static void json_number_raw(json_t *v, int ints_as_real, notify_raw *raw)
{
    double d;

    if (json_is_integer(v)) {
        raw->type = NOTIFY_V_INTEGER;
        raw->num = json_integer_value(v);
        return;
    }
    d = json_real_value(v);
    raw->type = NOTIFY_V_REAL;
    if (!ints_as_real) {
        return;
    }
    if (d >= 9223372036854775807.0 || d <= -9223372036854775807.0) {
        raw->type = NOTIFY_V_BIGNUM;
    }
    else if (d == (double)(apr_int64_t)d) {
        raw->type = NOTIFY_V_INTEGER;
        raw->num = (apr_int64_t)d;
    }
}

static void json_to_raw(apr_pool_t *p, json_t *v, int ints_as_real,
                        notify_raw *raw)
{
    memset(raw, 0, sizeof(*raw));
    switch (json_typeof(v)) {
    case JSON_STRING:
        raw->type = NOTIFY_V_STRING;
        raw->len = json_string_length(v);
        raw->str = apr_pstrmemdup(p, json_string_value(v), raw->len);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        json_number_raw(v, ints_as_real, raw);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        raw->type = NOTIFY_V_BOOL;
        raw->num = json_is_true(v);
        break;
    case JSON_NULL:
        raw->type = NOTIFY_V_NULL;
        break;
    default:
        raw->type = NOTIFY_V_COMPOUND;
        break;
    }
}

/* jansson names a duplicate key only in its message, as the raw token
 * ("... near '\"key\"'"); the token is decoded with jansson again. */
static const char *duplicate_key(apr_pool_t *p, const json_error_t *jerr)
{
    const char *near = strstr(jerr->text, "near '");
    const char *end;
    json_t *key;
    const char *name = NULL;

    if (!near) {
        return NULL;
    }
    near += strlen("near '");
    end = strrchr(near, '\'');
    if (!end || end <= near) {
        return NULL;
    }
    key = json_loadb(near, end - near, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                     NULL);
    if (json_is_string(key)) {
        name = apr_pstrmemdup(p, json_string_value(key),
                              json_string_length(key));
    }
    json_decref(key);
    return name;
}

static json_t *json_parse(apr_pool_t *p, const char *body, apr_size_t len,
                          int *ints_as_real, const char **dup)
{
    size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
    json_error_t jerr;
    json_t *root;

    *ints_as_real = 0;
    *dup = NULL;
    root = json_loadb(body, len, flags, &jerr);
    if (!root && json_error_code(&jerr) == json_error_duplicate_key) {
        *dup = duplicate_key(p, &jerr);
        flags &= ~JSON_REJECT_DUPLICATES;
        root = json_loadb(body, len, flags, &jerr);
    }
    if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
        *ints_as_real = 1;
        root = json_loadb(body, len, flags | JSON_DECODE_INT_AS_REAL, &jerr);
    }
    return root;
}

static int only_whitespace(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (!strchr(" \t\r\n", s[i])) {
            return 0;
        }
    }
    return 1;
}

notify_status_e notify_decode_json(apr_pool_t *p, const char *body,
                                   apr_size_t len, notify_input *in,
                                   notify_error *err)
{
    int ints_as_real;
    const char *dup;
    json_t *root;
    void *it;

    input_reset(in);
    if (only_whitespace(body, len)) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    root = json_parse(p, body, len, &ints_as_real, &dup);
    if (!root) {
        return notify_fail(err, NOTIFY_INVALID_ENCODED_PARAMS, NULL,
                           "The body is not valid JSON.");
    }
    if (!json_is_object(root) || json_depth(root, 1) > NOTIFY_MAX_DEPTH) {
        json_decref(root);
        return notify_fail(err, NOTIFY_INVALID_ENCODED_PARAMS, NULL,
                           "The body must be a JSON object nested at most "
                           "32 levels deep.");
    }
    for (it = json_object_iter(root); it;
         it = json_object_iter_next(root, it)) {
        notify_raw raw;
        json_to_raw(p, json_object_iter_value(it), ints_as_real, &raw);
        input_put(p, in, json_object_iter_key(it),
                  json_object_iter_key_len(it), &raw);
    }
    if (dup) {
        mark_duplicate(in, dup);
    }
    json_decref(root);
    return NOTIFY_ACTION_SUCCESSFUL;
}

static int percent_escapes_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' &&
            (i + 2 >= len || !apr_isxdigit(s[i + 1]) ||
             !apr_isxdigit(s[i + 2]))) {
            return 0;
        }
    }
    return 1;
}

/* One form component: '+' is a space, then percent-decoding by libcurl. */
static const char *form_unescape(apr_pool_t *p, const char *s, apr_size_t len,
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

notify_status_e notify_decode_form(apr_pool_t *p, const char *body,
                                   apr_size_t len, notify_input *in,
                                   notify_error *err)
{
    const char *pos = body, *end = body + len;

    input_reset(in);
    while (pos < end) {
        const char *amp = memchr(pos, '&', end - pos);
        const char *stop = amp ? amp : end;
        const char *eq = memchr(pos, '=', stop - pos);
        const char *name, *value = "";
        apr_size_t nlen, vlen = 0;
        notify_raw raw;

        if (stop > pos) {
            name = form_unescape(p, pos, (eq ? eq : stop) - pos, &nlen);
            if (eq) {
                value = form_unescape(p, eq + 1, stop - eq - 1, &vlen);
            }
            if (!name || !value || nlen == 0) {
                return notify_fail(err, NOTIFY_INVALID_ENCODED_PARAMS, NULL,
                                   "The body is not a valid UTF-8 "
                                   "urlencoded form.");
            }
            memset(&raw, 0, sizeof(raw));
            raw.type = NOTIFY_V_STRING;
            raw.str = value;
            raw.len = vlen;
            input_put(p, in, name, nlen, &raw);
        }
        pos = stop + 1;
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}
