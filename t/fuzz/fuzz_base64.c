/* The base64 body of a sensitive_params route. */
#include <string.h>

#include "fuzz.h"
#include "notify_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *out;
    apr_size_t n;

    notify_base64_decode(p, (const char *)data, size, &out, &n);
    apr_pool_destroy(p);
    return 0;
}
