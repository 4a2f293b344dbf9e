/* Phone numbers (notify_phone.h). */
#include "notify_phone.h"

#define PHONE_DIGITS_MIN 7
#define PHONE_DIGITS_MAX 15 /* E.164 */

int notify_phone_valid(const char *s, apr_size_t len)
{
    apr_size_t i = (len > 0 && s[0] == '+');

    if (len - i < PHONE_DIGITS_MIN || len - i > PHONE_DIGITS_MAX) {
        return 0;
    }
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}
