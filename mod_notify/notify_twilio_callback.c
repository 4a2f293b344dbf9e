/* Twilio's status callbacks (notify_twilio.h, SPEC 12). */
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "notify_form.h"
#include "notify_twilio.h"

/* MessageStatus values that become the delivery's status; any other is
 * recorded only. */
static const char *const statuses[] = {"queued", "sent", "delivered",
                                       "undelivered", "failed"};

static apr_status_t free_text(void *s)
{
    free(s);
    return APR_SUCCESS;
}

int notify_twilio_event(apr_pool_t *p, const apr_array_header_t *fields,
                        notify_delivery_event *out)
{
    const notify_form_field *sid = notify_form_get(fields, "MessageSid");
    const notify_form_field *status = notify_form_get(fields, "MessageStatus");
    json_t *detail;
    char *text;
    size_t i;
    int j;

    if (!sid || !status || !*sid->value || !*status->value) {
        return 0;
    }
    /* The fields as Twilio sent them (names and values are valid UTF-8:
     * notify_form_parse checked). */
    detail = json_object();
    for (j = 0; j < fields->nelts; j++) {
        const notify_form_field *f =
            &APR_ARRAY_IDX(fields, j, notify_form_field);
        if (!json_object_get(detail, f->name)) {
            json_object_set_new(detail, f->name,
                                json_stringn(f->value, f->value_len));
        }
    }
    text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    if (!text) {
        return 0;
    }
    apr_pool_cleanup_register(p, text, free_text, apr_pool_cleanup_null);
    memset(out, 0, sizeof(*out));
    out->event = status->value;
    out->provider_id = sid->value;
    out->recipient = NULL;
    out->occurred_at = 0; /* Twilio sends no time */
    out->detail = text;
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcmp(statuses[i], status->value) == 0) {
            out->status = statuses[i];
        }
    }
    return 1;
}
