/* Mandrill's answer to messages/send.json: the first two bytes choose the
 * HTTP status, the rest is the body, read against three recipients. */
#include <string.h>

#include "fuzz.h"
#include "notify_mandrill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    notify_values v;
    notify_http_result res;
    notify_attempt a;
    apr_array_header_t *rcpts;

    memset(&v, 0, sizeof(v));
    v.val[NOTIFY_P_EMAIL_TO] = "Jane <jane@example.com>, bob@example.com";
    v.val[NOTIFY_P_EMAIL_BCC] = "audit@example.com";
    rcpts = notify_mandrill_recipients(p, &v);
    memset(&res, 0, sizeof(res));
    res.status = size >= 2 ? 100 + (data[0] << 8 | data[1]) % 500 : 200;
    if (size >= 2) {
        data += 2;
        size -= 2;
    }
    res.body = fuzz_text(p, data, size);
    res.len = size;
    memset(&a, 0, sizeof(a));
    notify_mandrill_outcome(p, APR_SUCCESS, &res, rcpts, &a);
    apr_pool_destroy(p);
    return 0;
}
