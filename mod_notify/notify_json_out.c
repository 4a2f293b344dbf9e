/* notify_json_out.h */
#include <string.h>

#include <apr_strings.h>

#include "notify_json_out.h"
#include "notify_utf8.h"

static void room(notify_json_out *w, apr_size_t n)
{
    char *grown;
    apr_size_t cap;

    if (w->len + n + 1 <= w->cap) {
        return;
    }
    cap = w->cap * 2 > w->len + n + 1 ? w->cap * 2 : w->len + n + 1;
    grown = apr_palloc(w->p, cap);
    memcpy(grown, w->buf, w->len);
    w->buf = grown;
    w->cap = cap;
}

static void put(notify_json_out *w, const char *s, apr_size_t n)
{
    room(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_char(notify_json_out *w, char c)
{
    room(w, 1);
    w->buf[w->len++] = c;
}

void notify_json_out_init(notify_json_out *w, apr_pool_t *p, apr_size_t hint)
{
    memset(w, 0, sizeof(*w));
    w->p = p;
    w->cap = hint > 16 ? hint : 16;
    w->buf = apr_palloc(p, w->cap);
}

/* Before a value: the comma after the previous value of an array (a
 * member's comma came with its key). */
static void value(notify_json_out *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->count[w->depth]++ > 0) {
        put_char(w, ',');
    }
}

static void container_open(notify_json_out *w, char c)
{
    value(w);
    put_char(w, c);
    if (w->depth + 1 < NOTIFY_JSON_OUT_DEPTH) {
        w->depth++;
        w->count[w->depth] = 0;
    }
}

static void container_close(notify_json_out *w, char c)
{
    put_char(w, c);
    if (w->depth > 0) {
        w->depth--;
    }
}

void notify_json_out_object(notify_json_out *w)
{
    container_open(w, '{');
}

void notify_json_out_array(notify_json_out *w)
{
    container_open(w, '[');
}

void notify_json_out_end_object(notify_json_out *w)
{
    container_close(w, '}');
}

void notify_json_out_end_array(notify_json_out *w)
{
    container_close(w, ']');
}

void notify_json_out_key(notify_json_out *w, const char *key)
{
    if (w->count[w->depth]++ > 0) {
        put_char(w, ',');
    }
    put_char(w, '"');
    put(w, key, strlen(key));
    put(w, "\":", 2);
    w->after_key = 1;
}

/* The length of the well-formed UTF-8 sequence at s (n bytes left), or 0:
 * its lead byte gives the length, notify_utf8_valid the rest. */
static apr_size_t utf8_seq(const unsigned char *s, apr_size_t n)
{
    apr_size_t want = s[0] < 0x80   ? 1
                      : s[0] < 0xC2 ? 0
                      : s[0] < 0xE0 ? 2
                      : s[0] < 0xF0 ? 3
                      : s[0] < 0xF5 ? 4
                                    : 0;

    return want && want <= n && notify_utf8_valid((const char *)s, want) ? want
                                                                         : 0;
}

void notify_json_out_string(notify_json_out *w, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n, i = 0, run = 0, seq;

    if (!s) {
        notify_json_out_null(w);
        return;
    }
    value(w);
    n = strlen(s);
    room(w, n + 2);
    put_char(w, '"');
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            run++;
            i++;
            continue;
        }
        put(w, s + i - run, run);
        run = 0;
        if (c >= 0x80) {
            seq = utf8_seq(u + i, n - i);
            if (seq) {
                put(w, s + i, seq);
                i += seq;
            }
            else {
                put(w, "\xEF\xBF\xBD", 3); /* U+FFFD */
                i++;
            }
            continue;
        }
        i++;
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\b':
            put(w, "\\b", 2);
            break;
        case '\f':
            put(w, "\\f", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            put(w, esc, 6);
        }
        }
    }
    put(w, s + i - run, run);
    put_char(w, '"');
}

void notify_json_out_int(notify_json_out *w, apr_int64_t n)
{
    char num[24];
    int k = apr_snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, n);

    value(w);
    put(w, num, (apr_size_t)k);
}

void notify_json_out_null(notify_json_out *w)
{
    value(w);
    put(w, "null", 4);
}

const char *notify_json_out_text(notify_json_out *w, apr_size_t *len)
{
    w->buf[w->len] = '\0';
    *len = w->len;
    return w->buf;
}
