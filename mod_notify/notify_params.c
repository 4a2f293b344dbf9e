/* The parameter table and the checks of each value against its kind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "notify_datetime.h"
#include "notify_email.h"
#include "notify_params.h"
#include "notify_phone.h"
#include "notify_url.h"

#define NOTIFY_PARAM_ROW(id, name, kind, flags) {name, kind, flags},
static const notify_param_def params[NOTIFY_P_COUNT] = {
    NOTIFY_PARAM_TABLE(NOTIFY_PARAM_ROW)};
#undef NOTIFY_PARAM_ROW

static const char *const view_names[] = {
    [NOTIFY_VIEW_DEFAULT] = "default-view",
    [NOTIFY_VIEW_WITH_PROOF] = "default-with-proof",
    [NOTIFY_VIEW_INTERNAL] = "internal-applications-view",
};

/* Values longer than this are not quoted back in messages. */
#define NOTIFY_ECHO_MAX 64

const notify_param_def *notify_param(notify_param_e id)
{
    return &params[id];
}

notify_param_e notify_param_lookup(const char *name, apr_size_t len)
{
    int i;

    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        if (strlen(params[i].name) == len &&
            memcmp(params[i].name, name, len) == 0) {
            return (notify_param_e)i;
        }
    }
    return NOTIFY_P_COUNT;
}

static apr_size_t kind_max_len(notify_kind_e kind)
{
    switch (kind) {
    case NOTIFY_K_TEXT:
        return (apr_size_t)-1;
    case NOTIFY_K_EMAIL_LIST:
        return 4096;
    case NOTIFY_K_URL:
        return 2048;
    default:
        return 255;
    }
}

static int printable_ascii(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static notify_status_e invalid(apr_pool_t *p, notify_error *err,
                               const char *name, const char *why,
                               const notify_raw *raw)
{
    const char *msg;

    if (raw && raw->type == NOTIFY_V_STRING && raw->len <= NOTIFY_ECHO_MAX &&
        printable_ascii(raw->str, raw->len) && strcmp(name, "token") != 0) {
        msg = apr_psprintf(p, "%s: '%s' %s", name, raw->str, why);
    }
    else {
        msg = apr_psprintf(p, "%s: %s", name, why);
    }
    return notify_fail(err, NOTIFY_INVALID_PARAM, name, msg);
}

/* The checks every string value passes whatever its kind. */
static notify_status_e check_string(apr_pool_t *p, const notify_param_def *d,
                                    const notify_raw *raw, notify_error *err)
{
    if (memchr(raw->str, '\0', raw->len)) {
        return invalid(p, err, d->name, "must not contain a NUL character",
                       NULL);
    }
    if (raw->len > kind_max_len(d->kind)) {
        return invalid(p, err, d->name,
                       apr_psprintf(p,
                                    "is longer than %" APR_SIZE_T_FMT " bytes",
                                    kind_max_len(d->kind)),
                       NULL);
    }
    if (d->kind != NOTIFY_K_TEXT && strpbrk(raw->str, "\r\n")) {
        return invalid(p, err, d->name, "must be a single line", NULL);
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* Digits only, 1 to INT64_MAX: notifyable_id as a string. */
static int parse_bigint(const char *s, apr_size_t len, apr_int64_t *out)
{
    char *end;
    apr_int64_t v;

    if (len == 0 || len > 19 || strspn(s, "0123456789") != len) {
        return 0;
    }
    errno = 0;
    v = apr_strtoi64(s, &end, 10);
    if (errno || *end || v < 1) {
        return 0;
    }
    *out = v;
    return 1;
}

static notify_status_e check_number_kind(apr_pool_t *p,
                                         const notify_param_def *d,
                                         const notify_raw *raw,
                                         const char **out, notify_error *err)
{
    switch (d->kind) {
    case NOTIFY_K_ID:
        if (raw->type == NOTIFY_V_INTEGER) {
            *out = apr_psprintf(p, "%" APR_INT64_T_FMT, raw->num);
            return NOTIFY_ACTION_SUCCESSFUL;
        }
        if (raw->type == NOTIFY_V_BIGNUM) {
            /* SPEC 9: stored as its exact decimal text, whatever its size;
             * the column is text, bounded like every other string. */
            if (raw->len > kind_max_len(d->kind)) {
                return invalid(p, err, d->name, "is longer than 255 digits",
                               NULL);
            }
            *out = raw->str;
            return NOTIFY_ACTION_SUCCESSFUL;
        }
        return invalid(p, err, d->name, "must be a string or an integer", NULL);
    case NOTIFY_K_BIGINT:
        if (raw->type == NOTIFY_V_INTEGER && raw->num >= 1) {
            *out = apr_psprintf(p, "%" APR_INT64_T_FMT, raw->num);
            return NOTIFY_ACTION_SUCCESSFUL;
        }
        return invalid(p, err, d->name,
                       "must be an integer from 1 to 9223372036854775807",
                       NULL);
    case NOTIFY_K_FLAG:
        if ((raw->type == NOTIFY_V_INTEGER || raw->type == NOTIFY_V_BOOL) &&
            (raw->num == 0 || raw->num == 1)) {
            *out = raw->num ? "1" : "0";
            return NOTIFY_ACTION_SUCCESSFUL;
        }
        return invalid(p, err, d->name, "must be 0 or 1", NULL);
    default:
        return invalid(p, err, d->name, "must be a string", NULL);
    }
}

static notify_status_e check_kind(apr_pool_t *p, const notify_param_def *d,
                                  const notify_raw *raw, const char **out,
                                  notify_error *err)
{
    char dt[NOTIFY_DATETIME_LEN + 1];
    const char *s = raw->str;
    apr_size_t len = raw->len;
    apr_int64_t v;
    int ok = 1;
    const char *why = NULL;

    *out = s;
    switch (d->kind) {
    case NOTIFY_K_EMAIL:
        ok = notify_email_valid(s, len);
        why = "is not a valid email address";
        break;
    case NOTIFY_K_EMAIL_LIST:
        ok = notify_email_list_valid(s, len);
        why = "is not a valid list of email addresses";
        break;
    case NOTIFY_K_PHONE:
        ok = notify_phone_valid(s, len);
        why = "is not a valid phone number (optional +, 7 to 15 digits)";
        break;
    case NOTIFY_K_URL:
        ok = notify_url_valid(p, s, len);
        why = "is not an absolute http or https URL";
        break;
    case NOTIFY_K_BIGINT:
        ok = parse_bigint(s, len, &v);
        why = "must be an integer from 1 to 9223372036854775807";
        break;
    case NOTIFY_K_FLAG:
        ok = (len == 1 && (*s == '0' || *s == '1'));
        why = "must be 0 or 1";
        break;
    case NOTIFY_K_VIEW:
        ok = (!strcmp(s, view_names[0]) || !strcmp(s, view_names[1]) ||
              !strcmp(s, view_names[2]));
        why = "is not a view (default-view, default-with-proof, "
              "internal-applications-view)";
        break;
    case NOTIFY_K_DATETIME:
        ok = notify_datetime_parse(s, len, dt);
        why = "is not a valid datetime (RFC 3339 or YYYY-MM-DD HH:MM:SS)";
        if (ok) {
            *out = apr_pstrdup(p, dt);
        }
        break;
    default:
        break;
    }
    return ok ? NOTIFY_ACTION_SUCCESSFUL : invalid(p, err, d->name, why, raw);
}

/* One parameter's own checks; *out stays NULL when it was not given. */
static notify_status_e check_param(apr_pool_t *p, notify_param_e id,
                                   const notify_raw *raw, const char **out,
                                   notify_error *err)
{
    const notify_param_def *d = &params[id];
    notify_status_e st;

    *out = NULL;
    if (raw->dup) {
        return invalid(p, err, d->name, "is given more than once", NULL);
    }
    switch (raw->type) {
    case NOTIFY_V_ABSENT:
    case NOTIFY_V_NULL:
        return NOTIFY_ACTION_SUCCESSFUL;
    case NOTIFY_V_COMPOUND:
        return invalid(p, err, d->name, "must not be an array or object", NULL);
    case NOTIFY_V_STRING:
        break;
    default:
        return check_number_kind(p, d, raw, out, err);
    }
    if (raw->len == 0) {
        return NOTIFY_ACTION_SUCCESSFUL;
    }
    st = check_string(p, d, raw, err);
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        return st;
    }
    return check_kind(p, d, raw, out, err);
}

notify_status_e notify_input_token(const notify_input *in, const char **token,
                                   apr_size_t *len, notify_error *err)
{
    const notify_raw *raw = &in->raw[NOTIFY_P_TOKEN];

    if (raw->type == NOTIFY_V_ABSENT || raw->type == NOTIFY_V_NULL ||
        (raw->type == NOTIFY_V_STRING && raw->len == 0)) {
        return notify_fail(err, NOTIFY_MISSING_PARAM, "token",
                           "token: is required");
    }
    if (raw->type != NOTIFY_V_STRING || raw->dup) {
        return notify_fail(err, NOTIFY_INVALID_PARAM, "token",
                           raw->dup ? "token: is given more than once"
                                    : "token: must be a string");
    }
    *token = raw->str;
    *len = raw->len;
    return NOTIFY_ACTION_SUCCESSFUL;
}

static notify_status_e missing(apr_pool_t *p, notify_error *err,
                               const char *name, const char *why)
{
    return notify_fail(err, NOTIFY_MISSING_PARAM, name,
                       apr_psprintf(p, "%s: %s", name, why));
}

/* Characters (code points) of valid UTF-8 text. */
static apr_size_t utf8_chars(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* SPEC section 13: an SMS to send needs phone_to, its text (email_body)
 * and a sender (phone_from, or NotifyTwilioFrom), in that order. */
static notify_status_e check_sms(apr_pool_t *p, const notify_values *v,
                                 const notify_rules *rules, notify_error *err)
{
    const char *body = v->val[NOTIFY_P_EMAIL_BODY];

    if (!v->val[NOTIFY_P_PHONE_TO]) {
        return missing(p, err, "phone_to",
                       "is required for an sms notification");
    }
    if (!body) {
        return missing(p, err, "email_body",
                       "is required for an sms notification (its text)");
    }
    if (!v->val[NOTIFY_P_PHONE_FROM] && !(rules && rules->sms_from_configured)) {
        return missing(p, err, "phone_from",
                       "is required for an sms notification when "
                       "NotifyTwilioFrom is not set");
    }
    if (utf8_chars(body) > NOTIFY_SMS_MAX_CHARS) {
        return notify_fail(err, NOTIFY_INVALID_PARAM, "email_body",
                           apr_psprintf(p,
                                        "email_body: an sms text is at most "
                                        "%d characters",
                                        NOTIFY_SMS_MAX_CHARS));
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

/* The rules that tie fields together, after every field passed its own. */
static notify_status_e check_together(apr_pool_t *p, const notify_values *v,
                                      const notify_rules *rules,
                                      notify_error *err)
{
    /* In table order, like every other ranking. */
    static const notify_param_e email_needs[] = {
        NOTIFY_P_EMAIL_FROM, NOTIFY_P_EMAIL_SUBJECT, NOTIFY_P_EMAIL_TO};
    const char *type = v->val[NOTIFY_P_NOTIFICATION_TYPE];
    size_t i;

    if (type && strcmp(type, "email") == 0 &&
        strcmp(v->val[NOTIFY_P_PROCESSED], "1") != 0) {
        for (i = 0; i < sizeof(email_needs) / sizeof(email_needs[0]); i++) {
            if (!v->val[email_needs[i]]) {
                return missing(p, err, params[email_needs[i]].name,
                               "is required for an email notification");
            }
        }
    }
    if (type && strcmp(type, "sms") == 0 &&
        strcmp(v->val[NOTIFY_P_PROCESSED], "1") != 0) {
        notify_status_e st = check_sms(p, v, rules, err);
        if (st != NOTIFY_ACTION_SUCCESSFUL) {
            return st;
        }
    }
    if (v->val[NOTIFY_P_NOTIFYABLE_TYPE] && !v->val[NOTIFY_P_NOTIFYABLE_ID]) {
        return missing(p, err, "notifyable_id",
                       "is required with notifyable_type");
    }
    if (v->val[NOTIFY_P_NOTIFYABLE_ID] && !v->val[NOTIFY_P_NOTIFYABLE_TYPE]) {
        return missing(p, err, "notifyable_type",
                       "is required with notifyable_id");
    }
    return NOTIFY_ACTION_SUCCESSFUL;
}

static notify_status_e unknown_param(apr_pool_t *p, notify_error *err,
                                     const char *name)
{
    apr_size_t len = strlen(name);
    const char *msg = "the body holds a name that is not a parameter of "
                      "this route";

    if (len <= NOTIFY_ECHO_MAX && printable_ascii(name, len)) {
        msg = apr_psprintf(p, "'%s' is not a parameter of this route", name);
    }
    return notify_fail(err, NOTIFY_INVALID_PARAM, name, msg);
}

static notify_view_e view_of(const char *name)
{
    int i;

    for (i = 0; name && i < (int)(sizeof(view_names) / sizeof(*view_names));
         i++) {
        if (strcmp(name, view_names[i]) == 0) {
            return (notify_view_e)i;
        }
    }
    return NOTIFY_VIEW_DEFAULT;
}

notify_status_e notify_validate(apr_pool_t *p, const notify_input *in,
                                notify_values *out, notify_error *err)
{
    return notify_validate_for(p, in, NULL, out, err);
}

notify_status_e notify_validate_for(apr_pool_t *p, const notify_input *in,
                                    const notify_rules *rules,
                                    notify_values *out, notify_error *err)
{
    int i;

    memset(out, 0, sizeof(*out));
    for (i = NOTIFY_P_TOKEN + 1; i < NOTIFY_P_COUNT; i++) {
        notify_status_e st =
            check_param(p, (notify_param_e)i, &in->raw[i], &out->val[i], err);
        if (st != NOTIFY_ACTION_SUCCESSFUL) {
            return st;
        }
    }
    if (in->unknown) {
        return unknown_param(p, err, in->unknown);
    }
    if (!out->val[NOTIFY_P_PROCESSED]) {
        out->val[NOTIFY_P_PROCESSED] = "0";
    }
    out->view = view_of(out->val[NOTIFY_P_VIEW]);
    return check_together(p, out, rules, err);
}
