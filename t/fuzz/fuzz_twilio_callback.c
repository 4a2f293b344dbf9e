/* A Twilio status callback POST: the form, its signature, the event. */
#include <string.h>

#include "fuzz.h"
#include "notify_form.h"
#include "notify_twilio.h"
#include "notify_webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_array_header_t *fields =
        notify_form_parse(p, (const char *)data, size);
    notify_delivery_event e;

    if (fields) {
        notify_webhook_signed(p, "token", "https://example.com/sms/callback",
                              fields, "c2lnbmF0dXJl");
        notify_twilio_event(p, fields, &e);
    }
    apr_pool_destroy(p);
    return 0;
}
