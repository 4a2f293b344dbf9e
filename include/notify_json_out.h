/* JSON text out: the writer the answers are rendered with, straight into
 * a pool. Only for the module's own answers, whose shape the code fixes
 * (keys are literals); untrusted JSON is decoded by jansson
 * (notify_decode.c). The text is what jansson's JSON_COMPACT dump gives:
 * no spaces; '"', '\\' and control characters escaped (\b \f \n \r \t,
 * else \u00XX with capital hex digits); everything else as is. A string
 * that is not well-formed UTF-8 is written with U+FFFD for each byte that
 * does not fit, so the answer stays valid JSON. APR-only. */
#ifndef NOTIFY_JSON_OUT_H
#define NOTIFY_JSON_OUT_H

#include <apr_pools.h>

#define NOTIFY_JSON_OUT_DEPTH 8

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
    int depth;
    int count[NOTIFY_JSON_OUT_DEPTH]; /* values so far at each depth */
    int after_key;                    /* the next value is a member's */
} notify_json_out;

/* hint: the expected size in bytes (it grows past that as needed). */
void notify_json_out_init(notify_json_out *w, apr_pool_t *p, apr_size_t hint);

/* { } and [ ]: a container as the next value. At most
 * NOTIFY_JSON_OUT_DEPTH deep. */
void notify_json_out_object(notify_json_out *w);
void notify_json_out_array(notify_json_out *w);
void notify_json_out_end_object(notify_json_out *w);
void notify_json_out_end_array(notify_json_out *w);

/* A member's key (a literal: written as given, never escaped); its value
 * is the next call. */
void notify_json_out_key(notify_json_out *w, const char *key);

/* Values: a string (NULL: null), an integer, null. */
void notify_json_out_string(notify_json_out *w, const char *s);
void notify_json_out_int(notify_json_out *w, apr_int64_t n);
void notify_json_out_null(notify_json_out *w);

/* The text, NUL-terminated, in the pool; *len its length. */
const char *notify_json_out_text(notify_json_out *w, apr_size_t *len);

#endif
