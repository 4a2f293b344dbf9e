/* The Content-Type of a create request. */
#ifndef NOTIFY_CONTENT_TYPE_H
#define NOTIFY_CONTENT_TYPE_H

typedef enum {
    NOTIFY_CT_INVALID = 0,
    NOTIFY_CT_JSON,
    NOTIFY_CT_FORM
} notify_ctype_e;

/* Reads a Content-Type header value (may be NULL): application/json or
 * application/x-www-form-urlencoded, any case; a charset parameter, quoted
 * or not, any case, must be utf-8 or utf8; other parameters are ignored.
 * Parameters must still be well formed (token=token or token="quoted");
 * spaces and tabs are tolerated around the media type, ';' and '=', and
 * empty parameters ("application/json;") are allowed, as RFC 9110 does. */
notify_ctype_e notify_content_type_parse(const char *value);

#endif
