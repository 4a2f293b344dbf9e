/* A create body as a form: decoded, then validated. */
#include <string.h>

#include "fuzz.h"
#include "notify_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    notify_input in;
    notify_values v;
    notify_error err;

    memset(&err, 0, sizeof(err));
    if (notify_decode_form(p, (const char *)data, size, &in, &err) ==
        NOTIFY_ACTION_SUCCESSFUL) {
        notify_validate(p, &in, &v, &err);
    }
    apr_pool_destroy(p);
    return 0;
}
