/* UTF-8 well-formedness (notify_utf8.h). */
#include "notify_utf8.h"

/* Length of the well-formed sequence at s[0..len), or 0 (Unicode table
 * 3-7). The second byte's range is what excludes overlongs (after E0, F0),
 * surrogates (after ED) and code points above U+10FFFF (after F4). */
static apr_size_t utf8_seq_len(const unsigned char *s, apr_size_t len)
{
    unsigned char lo = 0x80, hi = 0xbf;
    apr_size_t n, i;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
    }
    else {
        return 0;
    }
    if (s[0] == 0xe0) {
        lo = 0xa0;
    }
    else if (s[0] == 0xed) {
        hi = 0x9f;
    }
    else if (s[0] == 0xf0) {
        lo = 0x90;
    }
    else if (s[0] == 0xf4) {
        hi = 0x8f;
    }
    if (len < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

int notify_utf8_valid(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n;

    while (len > 0) {
        if ((n = utf8_seq_len(u, len)) == 0) {
            return 0;
        }
        u += n;
        len -= n;
    }
    return 1;
}
