/* The value checks, each given the same bytes (with explicit lengths, and
 * copies that end exactly where the value does). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "notify_datetime.h"
#include "notify_email.h"
#include "notify_phone.h"
#include "notify_url.h"
#include "notify_utf8.h"

static int count(void *baton, const char *entry, apr_size_t len)
{
    (void)entry;
    *(apr_size_t *)baton += len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *s = malloc(size ? size : 1); /* no NUL after it */
    char out[NOTIFY_DATETIME_LEN + 1];
    const char *name, *addr;
    apr_time_t t;
    apr_size_t total = 0;

    memcpy(s, data, size);
    notify_utf8_valid(s, size);
    if (notify_datetime_parse(s, size, out)) {
        notify_datetime_to_time(out, strlen(out), &t);
    }
    notify_datetime_to_time(s, size, &t);
    notify_email_valid(s, size);
    notify_email_split(p, s, size, &name, &addr);
    if (notify_email_list_valid(s, size)) {
        notify_email_list_each(s, size, count, &total);
    }
    notify_phone_valid(s, size);
    notify_url_valid(p, s, size);
    free(s);
    apr_pool_destroy(p);
    return 0;
}
