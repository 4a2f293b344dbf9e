/* Mandrill's webhook batches (notify_mandrill.h, SPEC 12). */
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "notify_mandrill.h"

/* Mandrill's event -> the delivery's status; NULL: recorded only. */
static const struct {
    const char *event;
    const char *status;
} statuses[] = {
    {"send", "delivered"},
    {"deferral", "deferred"},
    {"hard_bounce", "bounced"},
    {"soft_bounce", "bounced"},
    {"reject", "rejected"},
    {"spam", "spam"},
    {"unsub", "unsubscribed"},
    {"open", NULL},
    {"click", NULL},
};

static const char *text(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static apr_status_t free_text(void *s)
{
    free(s);
    return APR_SUCCESS;
}

/* One entry as an event, or 0 when it is none Mandrill documents for a
 * message (sync events carry no msg). */
static int read_event(apr_pool_t *p, json_t *e, notify_delivery_event *out)
{
    json_t *msg = json_object_get(e, "msg"), *ts = json_object_get(e, "ts");
    const char *event = text(e, "event");
    const char *id = text(e, "_id");
    char *detail;
    size_t i;

    if (!json_is_object(e) || !event || !json_is_object(msg) ||
        !json_is_integer(ts) || json_integer_value(ts) < 0 ||
        json_integer_value(ts) > APR_INT64_C(253402300799)) {
        return 0;
    }
    if (!id) {
        id = text(msg, "_id");
    }
    if (!id) {
        return 0;
    }
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcmp(statuses[i].event, event) == 0) {
            break;
        }
    }
    if (i == sizeof(statuses) / sizeof(statuses[0])) {
        return 0;
    }
    detail = json_dumps(e, JSON_COMPACT);
    if (!detail) {
        return 0;
    }
    apr_pool_cleanup_register(p, detail, free_text, apr_pool_cleanup_null);
    out->event = apr_pstrdup(p, event);
    out->provider_id = apr_pstrdup(p, id);
    out->recipient =
        text(msg, "email") ? apr_pstrdup(p, text(msg, "email")) : NULL;
    out->occurred_at = apr_time_from_sec(json_integer_value(ts));
    out->detail = detail;
    out->status = statuses[i].status;
    return 1;
}

apr_array_header_t *notify_mandrill_events(apr_pool_t *p, const char *json,
                                           apr_size_t len, int *count)
{
    json_t *list = json_loadb(json, len, 0, NULL);
    apr_array_header_t *events;
    size_t i;

    *count = 0;
    if (!json_is_array(list)) {
        json_decref(list);
        return NULL;
    }
    *count = (int)json_array_size(list);
    events = apr_array_make(p, *count + 1, sizeof(notify_delivery_event));
    for (i = 0; i < json_array_size(list); i++) {
        notify_delivery_event e;
        if (read_event(p, json_array_get(list, i), &e)) {
            *(notify_delivery_event *)apr_array_push(events) = e;
        }
    }
    json_decref(list);
    return events;
}
