/* A Mandrill webhook POST: the form, its signature, mandrill_events. */
#include <string.h>

#include "fuzz.h"
#include "notify_form.h"
#include "notify_mandrill.h"
#include "notify_webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_array_header_t *fields =
        notify_form_parse(p, (const char *)data, size);
    const notify_form_field *batch;
    int count;

    if (fields) {
        notify_webhook_signed(p, "key", "https://example.com/hook", fields,
                              "c2lnbmF0dXJl");
        batch = notify_form_get(fields, "mandrill_events");
        if (batch) {
            notify_mandrill_events(p, batch->value, batch->value_len, &count);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
