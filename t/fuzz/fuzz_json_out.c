/* The answers' JSON writer: any bytes as a string value (up to the first
 * NUL) give JSON that jansson reads back; a well-formed UTF-8 string
 * comes back unchanged, the same text jansson itself writes. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "notify_json_out.h"
#include "notify_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *s = fuzz_text(p, data, size);
    notify_json_out w;
    const char *text;
    apr_size_t len;
    json_t *doc;

    notify_json_out_init(&w, p, 16);
    notify_json_out_object(&w);
    notify_json_out_key(&w, "s");
    notify_json_out_string(&w, s);
    notify_json_out_key(&w, "n");
    notify_json_out_int(&w, (apr_int64_t)size);
    notify_json_out_end_object(&w);
    text = notify_json_out_text(&w, &len);
    doc = json_loadb(text, len, 0, NULL);
    if (!doc || json_integer_value(json_object_get(doc, "n")) != (json_int_t)size) {
        abort();
    }
    if (notify_utf8_valid(s, strlen(s))) {
        json_t *alone = json_string(s);
        char *theirs = json_dumps(alone, JSON_COMPACT | JSON_ENCODE_ANY);
        notify_json_out one;
        apr_size_t n;

        notify_json_out_init(&one, p, 16);
        notify_json_out_string(&one, s);
        if (strcmp(json_string_value(json_object_get(doc, "s")), s) != 0 ||
            strcmp(notify_json_out_text(&one, &n), theirs) != 0) {
            abort();
        }
        free(theirs);
        json_decref(alone);
    }
    json_decref(doc);
    apr_pool_destroy(p);
    return 0;
}
