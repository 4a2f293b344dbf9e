/* Absolute http(s) URLs (notify_url.h). */
#include <stdlib.h>

#include <apr_cstr.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "notify_chars.h"
#include "notify_url.h"

/* RFC 3986 characters: the URL may end up in HTML mail, where a raw '<',
 * '"' or space is an injection. apr_uri_parse does not check them. */
static int url_chars_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len || !apr_isxdigit(s[i + 1]) ||
                !apr_isxdigit(s[i + 2])) {
                return 0;
            }
            i += 2;
        }
        else if (!is_ascii_alnum(s[i]) &&
                 !in_set(s[i], "-._~:/?#[]@!$&'()*+,;=")) {
            return 0;
        }
    }
    return 1;
}

/* apr_uri_parse reads the port with strtol and keeps whatever it gets.
 * An empty port ("http://host:/") is legal in RFC 3986. */
static int url_port_valid(const char *port)
{
    apr_size_t i;
    int n;

    if (port == NULL || port[0] == '\0') {
        return 1;
    }
    for (i = 0; port[i] != '\0'; i++) {
        if (i == 5 || port[i] < '0' || port[i] > '9') {
            return 0;
        }
    }
    n = atoi(port);
    return n >= 1 && n <= 65535;
}

int notify_url_valid(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_uri_t uri;

    if (!url_chars_valid(s, len) ||
        apr_uri_parse(p, apr_pstrmemdup(p, s, len), &uri) != APR_SUCCESS) {
        return 0;
    }
    return uri.scheme != NULL &&
           (apr_cstr_casecmp(uri.scheme, "http") == 0 ||
            apr_cstr_casecmp(uri.scheme, "https") == 0) &&
           uri.hostname != NULL && uri.hostname[0] != '\0' &&
           url_port_valid(uri.port_str);
}
