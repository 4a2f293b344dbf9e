/* notify_decode.h: JSON through jansson, forms through notify_form.c. */
#include <errno.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "notify_decode.h"
#include "notify_form.h"

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

static void json_number_raw(json_t *v, notify_raw *raw)
{
    if (json_is_integer(v)) {
        raw->type = NOTIFY_V_INTEGER;
        raw->num = json_integer_value(v);
        return;
    }
    raw->type = NOTIFY_V_REAL;
}

static void json_to_raw(apr_pool_t *p, json_t *v, notify_raw *raw)
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
        json_number_raw(v, raw);
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
    key = json_loadb(near, end - near, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_string(key)) {
        name =
            apr_pstrmemdup(p, json_string_value(key), json_string_length(key));
    }
    json_decref(key);
    return name;
}

static json_t *json_parse(apr_pool_t *p, const char *body, apr_size_t len,
                          int *overflow, const char **dup)
{
    size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
    json_error_t jerr;
    json_t *root;

    *overflow = 0;
    *dup = NULL;
    /* jansson stops at the first of the two it meets, in body order. */
    for (;;) {
        root = json_loadb(body, len, flags, &jerr);
        if (root) {
            break;
        }
        if (json_error_code(&jerr) == json_error_duplicate_key &&
            (flags & JSON_REJECT_DUPLICATES)) {
            *dup = duplicate_key(p, &jerr);
            flags &= ~JSON_REJECT_DUPLICATES;
        }
        else if (json_error_code(&jerr) == json_error_numeric_overflow &&
                 !(flags & JSON_DECODE_INT_AS_REAL)) {
            *overflow = 1;
            flags |= JSON_DECODE_INT_AS_REAL;
        }
        else {
            break;
        }
    }
    return root;
}

/* ---- integers beyond 64 bits ----
 *
 * jansson refuses an integer beyond 64 bits, and JSON_DECODE_INT_AS_REAL
 * keeps only a double's digits, while SPEC stores an id sent as a number
 * of any size as its exact decimal text. jansson has no raw-number mode,
 * so when it reported an overflow (and then accepted the body with
 * integers read as reals) the top-level members are walked once more to
 * find each number's text. The body is known to be valid JSON here; the
 * walk only needs strings, nesting and number tokens, and jansson still
 * decodes every key. */
typedef struct {
    const char *s, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->s < c->end && strchr(" \t\r\n", *c->s) && *c->s) {
        c->s++;
    }
}

/* Past a string token; c->s is on its opening quote. */
static void skip_string(cursor *c)
{
    for (c->s++; c->s < c->end && *c->s != '"'; c->s++) {
        if (*c->s == '\\') {
            c->s++;
        }
    }
    if (c->s < c->end) {
        c->s++;
    }
}

/* Up to the ',' or '}' after one value of any kind. */
static void skip_value(cursor *c)
{
    int depth = 0;

    while (c->s < c->end) {
        char ch = *c->s;
        if (ch == '"') {
            skip_string(c);
            continue;
        }
        if (depth == 0 && (ch == ',' || ch == '}' || ch == ']')) {
            return;
        }
        if (ch == '{' || ch == '[') {
            depth++;
        }
        else if (ch == '}' || ch == ']') {
            depth--;
        }
        c->s++;
    }
}

static int integer_text(const char *s, apr_size_t len)
{
    apr_size_t i = (len > 0 && s[0] == '-');

    if (i == len) {
        return 0;
    }
    for (; i < len; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* A number given as text: an integer (its value, or its digits beyond 64
 * bits) or not (a fraction or an exponent: NOTIFY_V_REAL). */
static void number_text_raw(apr_pool_t *p, const char *s, apr_size_t len,
                            notify_raw *raw)
{
    char *end;
    apr_int64_t v;

    if (!integer_text(s, len)) {
        raw->type = NOTIFY_V_REAL;
        return;
    }
    errno = 0;
    v = apr_strtoi64(apr_pstrmemdup(p, s, len), &end, 10);
    if (errno == 0 && !*end) {
        raw->type = NOTIFY_V_INTEGER;
        raw->num = v;
        return;
    }
    raw->type = NOTIFY_V_BIGNUM;
    raw->str = apr_pstrmemdup(p, s, len);
    raw->len = len;
}

/* Sets each top-level member given as a number from its text. */
static void exact_numbers(apr_pool_t *p, const char *body, apr_size_t len,
                          notify_input *in)
{
    cursor c = {body, body + len};

    skip_ws(&c);
    if (c.s >= c.end || *c.s != '{') {
        return;
    }
    c.s++;
    for (;;) {
        const char *key_start, *val;
        json_t *key;
        notify_param_e id = NOTIFY_P_COUNT;

        skip_ws(&c);
        if (c.s >= c.end || *c.s != '"') {
            return;
        }
        key_start = c.s;
        skip_string(&c);
        key = json_loadb(key_start, c.s - key_start,
                         JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (json_is_string(key)) {
            id = notify_param_lookup(json_string_value(key),
                                     json_string_length(key));
        }
        json_decref(key);
        skip_ws(&c);
        if (c.s >= c.end || *c.s != ':') {
            return;
        }
        c.s++;
        skip_ws(&c);
        val = c.s;
        skip_value(&c);
        if (id != NOTIFY_P_COUNT && !in->raw[id].dup &&
            (in->raw[id].type == NOTIFY_V_REAL ||
             in->raw[id].type == NOTIFY_V_INTEGER)) {
            const char *e = c.s;
            while (e > val && strchr(" \t\r\n", e[-1])) {
                e--;
            }
            number_text_raw(p, val, e - val, &in->raw[id]);
        }
        skip_ws(&c);
        if (c.s >= c.end || *c.s != ',') {
            return;
        }
        c.s++;
    }
}

static int only_whitespace(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (!strchr(" \t\r\n", s[i]) || !s[i]) {
            return 0;
        }
    }
    return 1;
}

notify_status_e notify_decode_json(apr_pool_t *p, const char *body,
                                   apr_size_t len, notify_input *in,
                                   notify_error *err)
{
    int overflow;
    const char *dup;
    json_t *root;
    void *it;

    input_reset(in);
    if (only_whitespace(body, len)) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    root = json_parse(p, body, len, &overflow, &dup);
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
        json_to_raw(p, json_object_iter_value(it), &raw);
        input_put(p, in, json_object_iter_key(it), json_object_iter_key_len(it),
                  &raw);
    }
    if (dup) {
        mark_duplicate(in, dup);
    }
    json_decref(root);
    if (overflow) {
        exact_numbers(p, body, len, in);
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

notify_status_e notify_decode_form(apr_pool_t *p, const char *body,
                                   apr_size_t len, notify_input *in,
                                   notify_error *err)
{
    apr_array_header_t *fields = notify_form_parse(p, body, len);
    int i;

    input_reset(in);
    if (!fields) {
        return notify_fail(err, NOTIFY_INVALID_ENCODED_PARAMS, NULL,
                           "The body is not a valid UTF-8 urlencoded form.");
    }
    for (i = 0; i < fields->nelts; i++) {
        const notify_form_field *f =
            &APR_ARRAY_IDX(fields, i, notify_form_field);
        notify_raw raw;

        memset(&raw, 0, sizeof(raw));
        raw.type = NOTIFY_V_STRING;
        raw.str = f->value;
        raw.len = f->value_len;
        input_put(p, in, f->name, f->name_len, &raw);
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}
