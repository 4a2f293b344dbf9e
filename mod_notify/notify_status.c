#include <string.h>

#include "notify_status.h"

static const notify_status_info statuses[NOTIFY_STATUS_COUNT] = {
    [NOTIFY_ACTION_SUCCESSFUL] = {"action-successful", 200,
                                  "Notification created."},
    [NOTIFY_INVALID_TOKEN] = {"invalid-token", 401,
                              "The token matches no active application "
                              "nor session."},
    [NOTIFY_SESSION_EXPIRED] = {"session-expired", 401,
                                "The session has expired."},
    [NOTIFY_CLIENT_REQUIRED] = {"client-required", 401,
                                "The session's user has no client, employee "
                                "or liaison record."},
    [NOTIFY_MISSING_PARAM] = {"missing-param", 400,
                              "A required parameter is missing."},
    [NOTIFY_INVALID_PARAM] = {"invalid-param", 400, "A parameter is invalid."},
    [NOTIFY_INVALID_CONTENT_TYPE] = {"invalid-content-type", 400,
                                     "Content type must be application/json "
                                     "or application/x-www-form-urlencoded "
                                     "(charset utf-8)."},
    [NOTIFY_NO_PARAMS_DECODED] = {"no-params-decoded", 400,
                                  "The request holds no parameters."},
    [NOTIFY_INVALID_ENCODED_PARAMS] = {"invalid-encoded-params", 400,
                                       "The request body cannot be "
                                       "decoded."},
    [NOTIFY_REQUEST_TOO_LARGE] = {"request-too-large", 413,
                                  "The request body is too large."},
    [NOTIFY_ROUTE_NOT_FOUND] = {"route-not-found", 404,
                                "The route is not available."},
    [NOTIFY_SERVICE_NOT_FOUND] = {"service-not-found", 503,
                                  "The service is not available."},
    [NOTIFY_IDENTIFY_REQUEST_ERROR] = {"identify-request-error", 500,
                                       "The request could not be "
                                       "identified; try again later."},
    [NOTIFY_ROUTE_NON_EXISTENT] = {"route-non-existent", 500, "No such route."},
    [NOTIFY_APPLICATION_CRASH] = {"application-crash", 500,
                                  "Internal error; nothing was stored."},
    [NOTIFY_MANDRILL_EMAIL_FAILED] = {"mandrill-email-failed", 500,
                                      "The notification was stored but "
                                      "Mandrill did not accept the email."},
    [NOTIFY_IDEMPOTENCY_KEY_REUSED] = {"idempotency-key-reused", 422,
                                       "This Idempotency-Key was used with "
                                       "a different request body."},
    [NOTIFY_REQUEST_IN_PROGRESS] = {"request-in-progress", 409,
                                    "A request with this Idempotency-Key is "
                                    "still in progress."},
    [NOTIFY_SMS_FAILED] = {"sms-failed", 500,
                           "The notification was stored but Twilio did not "
                           "accept the SMS."},
    [NOTIFY_WEBHOOK_ACCEPTED] = {"webhook-accepted", 200,
                                 "The webhook batch was recorded."},
    [NOTIFY_INVALID_SIGNATURE] = {"invalid-signature", 403,
                                  "The webhook signature is missing or "
                                  "wrong."},
};

const notify_status_info *notify_status(notify_status_e st)
{
    return &statuses[st];
}

int notify_status_is_delivery_failure(notify_status_e st)
{
    return st == NOTIFY_MANDRILL_EMAIL_FAILED || st == NOTIFY_SMS_FAILED;
}

notify_status_e notify_status_by_name(const char *name)
{
    int i;

    for (i = 0; i < NOTIFY_STATUS_COUNT; i++) {
        if (strcmp(statuses[i].name, name) == 0) {
            return (notify_status_e)i;
        }
    }
    return NOTIFY_STATUS_COUNT;
}
