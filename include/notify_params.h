/* The parameter set of the create route: one table (NOTIFY_PARAM_TABLE) is
 * the truth for names, order, types and limits. Decoding (notify_decode.h)
 * fills a notify_input; validation turns it into a notify_values whose
 * strings are normalised and ready for storage and rendering. */
#ifndef NOTIFY_PARAMS_H
#define NOTIFY_PARAMS_H

#include <apr_pools.h>

#include "notify_error.h"

typedef enum {
    NOTIFY_K_TOKEN,      /* non-empty string, never echoed */
    NOTIFY_K_VIEW,       /* one of the three view names */
    NOTIFY_K_STRING,     /* one line, at most 255 bytes */
    NOTIFY_K_TEXT,       /* multi-line, bounded only by the body size */
    NOTIFY_K_ID,         /* string, or an integral JSON number */
    NOTIFY_K_EMAIL,      /* one address */
    NOTIFY_K_EMAIL_LIST, /* comma-separated addresses, at most 4096 bytes */
    NOTIFY_K_BIGINT,     /* 1 to 9223372036854775807 */
    NOTIFY_K_DATETIME,   /* normalised to YYYY-MM-DDTHH:MM:SSZ */
    NOTIFY_K_FLAG,       /* 0 or 1 */
    NOTIFY_K_PHONE,      /* optional '+', 7 to 15 digits */
    NOTIFY_K_URL         /* absolute http(s) URL, at most 2048 bytes */
} notify_kind_e;

/* Not stored nor rendered (token, view). */
#define NOTIFY_F_REQUEST 0x1
/* Rendered only in internal-applications-view (the *_fm fields). */
#define NOTIFY_F_INTERNAL 0x2

/* The table, in the order of SPEC section 2: validation errors rank in this
 * order, and the answer lists fields in it. Column names equal the names. */
#define NOTIFY_PARAM_TABLE(X)                                                  \
    X(TOKEN, "token", NOTIFY_K_TOKEN, NOTIFY_F_REQUEST)                        \
    X(VIEW, "view", NOTIFY_K_VIEW, NOTIFY_F_REQUEST)                           \
    X(KEY, "key", NOTIFY_K_STRING, 0)                                          \
    X(STATUS, "status", NOTIFY_K_STRING, 0)                                    \
    X(EMAIL_FROM, "email_from", NOTIFY_K_EMAIL, 0)                             \
    X(EMAIL_SUBJECT, "email_subject", NOTIFY_K_STRING, 0)                      \
    X(EMAIL_TECHNICIAN, "email_technician", NOTIFY_K_STRING, 0)                \
    X(USER_ID, "user_id", NOTIFY_K_ID, 0)                                      \
    X(OLIO_ID, "olio_id", NOTIFY_K_ID, 0)                                      \
    X(TOUR_ID, "tour_id", NOTIFY_K_ID, 0)                                      \
    X(CLIENT_ID, "client_id", NOTIFY_K_ID, 0)                                  \
    X(EMAIL_TO, "email_to", NOTIFY_K_EMAIL_LIST, 0)                            \
    X(EMAIL_CC, "email_cc", NOTIFY_K_EMAIL_LIST, 0)                            \
    X(EMAIL_BCC, "email_bcc", NOTIFY_K_EMAIL_LIST, 0)                          \
    X(EMAIL_BODY, "email_body", NOTIFY_K_TEXT, 0)                              \
    X(NOTIFYABLE_TYPE, "notifyable_type", NOTIFY_K_STRING, 0)                  \
    X(NOTIFYABLE_ID, "notifyable_id", NOTIFY_K_BIGINT, 0)                      \
    X(UPDATED_AT_FM, "updated_at_fm", NOTIFY_K_DATETIME, NOTIFY_F_INTERNAL)    \
    X(CREATED_AT_FM, "created_at_fm", NOTIFY_K_DATETIME, NOTIFY_F_INTERNAL)    \
    X(PROCESSED_AT, "processed_at", NOTIFY_K_DATETIME, 0)                      \
    X(PROCESSED_AT_FM, "processed_at_fm", NOTIFY_K_DATETIME,                   \
      NOTIFY_F_INTERNAL)                                                       \
    X(UPDATED_IN, "updated_in", NOTIFY_K_STRING, 0)                            \
    X(PROCESSED, "processed", NOTIFY_K_FLAG, 0)                                \
    X(NOTIFICATION_TYPE, "notification_type", NOTIFY_K_STRING, 0)              \
    X(PHONE_FROM, "phone_from", NOTIFY_K_PHONE, 0)                             \
    X(PHONE_TO, "phone_to", NOTIFY_K_PHONE, 0)                                 \
    X(MEDIA_URL, "media_url", NOTIFY_K_URL, 0)                                 \
    X(EXTENSION, "extension", NOTIFY_K_STRING, 0)

#define NOTIFY_PARAM_ENUM(id, name, kind, flags) NOTIFY_P_##id,
typedef enum {
    NOTIFY_PARAM_TABLE(NOTIFY_PARAM_ENUM) NOTIFY_P_COUNT
} notify_param_e;
#undef NOTIFY_PARAM_ENUM

typedef struct {
    const char *name;
    notify_kind_e kind;
    unsigned flags;
} notify_param_def;

const notify_param_def *notify_param(notify_param_e id);

/* The id of the parameter called name[0..len), or NOTIFY_P_COUNT. */
notify_param_e notify_param_lookup(const char *name, apr_size_t len);

/* What the decoder saw for one parameter, before any validation. */
typedef enum {
    NOTIFY_V_ABSENT = 0,
    NOTIFY_V_NULL,
    NOTIFY_V_STRING,
    NOTIFY_V_INTEGER,
    NOTIFY_V_BIGNUM, /* an integer beyond 64 bits: str holds its digits */
    NOTIFY_V_REAL,
    NOTIFY_V_BOOL,
    NOTIFY_V_COMPOUND /* array or object */
} notify_vtype_e;

typedef struct {
    notify_vtype_e type;
    const char *str; /* NOTIFY_V_STRING: bytes (NUL-terminated copy);
                        NOTIFY_V_BIGNUM: the number as written */
    apr_size_t len;
    apr_int64_t num; /* NOTIFY_V_INTEGER value, NOTIFY_V_BOOL 0/1 */
    int dup;         /* given more than once */
} notify_raw;

typedef struct {
    notify_raw raw[NOTIFY_P_COUNT];
    const char *unknown; /* the first unknown name, in body order */
    int count;           /* parameters decoded, known or not */
} notify_input;

typedef enum {
    NOTIFY_VIEW_DEFAULT = 0,
    NOTIFY_VIEW_WITH_PROOF,
    NOTIFY_VIEW_INTERNAL
} notify_view_e;

/* A validated notification: val[i] is the normalised text of parameter i,
 * NULL where it was not given; processed always holds "0" or "1". */
typedef struct {
    const char *val[NOTIFY_P_COUNT];
    notify_view_e view;
} notify_values;

/* The token, once present and a non-empty string (missing-param or
 * invalid-param otherwise). */
notify_status_e notify_input_token(const notify_input *in, const char **token,
                                   apr_size_t *len, notify_error *err);

/* The longest SMS text, in characters (SPEC section 13). */
#define NOTIFY_SMS_MAX_CHARS 1600

/* What the configuration changes in validation. */
typedef struct {
    int sms_from_configured; /* NotifyTwilioFrom set: phone_from optional */
} notify_rules;

/* Validates every parameter (own checks in table order, then unknown
 * names, then the rules tying fields together), with the default rules
 * (notify_validate) or those of a configuration. */
notify_status_e notify_validate(apr_pool_t *p, const notify_input *in,
                                notify_values *out, notify_error *err);
notify_status_e notify_validate_for(apr_pool_t *p, const notify_input *in,
                                    const notify_rules *rules,
                                    notify_values *out, notify_error *err);

#endif
