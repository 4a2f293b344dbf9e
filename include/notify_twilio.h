/* SMS through Twilio's Messages resource (SPEC section 13): the form
 * built from a notification, the answer (or the transport failure) read
 * into a proof and a verdict, and the status callback's fields read as an
 * event (SPEC section 12). */
#ifndef NOTIFY_TWILIO_H
#define NOTIFY_TWILIO_H

#include <apr_tables.h>

#include "notify_provider.h"
#include "notify_webhook.h"

extern const notify_provider notify_twilio_provider;

/* {url}/Accounts/{sid}/Messages.json, the sid percent-encoded. */
const char *notify_twilio_messages_url(apr_pool_t *p, const char *url,
                                       const char *sid);

/* The form body: To, From (phone_from, else from), Body, MediaUrl (when
 * given), StatusCallback (when callback is not NULL). NULL when it could
 * not be built. */
const char *notify_twilio_request(apr_pool_t *p, const notify_values *v,
                                  const char *from, const char *callback,
                                  apr_size_t *len);

/* Reads an exchange about an SMS to `to`: `sent` is the transport status
 * and res what came back. Fills out's proof (one entry, `to`), its
 * verdict and, unless accepted, its reason. */
void notify_twilio_outcome(apr_pool_t *p, apr_status_t sent,
                           const notify_http_result *res, const char *to,
                           notify_attempt *out);

/* A status callback's fields (notify_form_field) as one event: event =
 * MessageStatus, provider_id = MessageSid, no time (Twilio sends none:
 * such an event is recorded once per delivery and status), detail the
 * fields as a JSON object, status the delivery's new status (queued,
 * sent, delivered, undelivered, failed; NULL for any other). 0 when the
 * fields lack MessageSid or MessageStatus. */
int notify_twilio_event(apr_pool_t *p, const apr_array_header_t *fields,
                        notify_delivery_event *out);

#endif
