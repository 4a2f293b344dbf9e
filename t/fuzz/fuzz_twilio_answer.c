/* Twilio's answer to Messages.json: the first two bytes choose the HTTP
 * status, the rest is the body. */
#include <string.h>

#include "fuzz.h"
#include "notify_twilio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    notify_http_result res;
    notify_attempt a;

    memset(&res, 0, sizeof(res));
    res.status = size >= 2 ? 100 + (data[0] << 8 | data[1]) % 500 : 201;
    if (size >= 2) {
        data += 2;
        size -= 2;
    }
    res.body = fuzz_text(p, data, size);
    res.len = size;
    memset(&a, 0, sizeof(a));
    notify_twilio_outcome(p, APR_SUCCESS, &res, "+15557654321", &a);
    apr_pool_destroy(p);
    return 0;
}
