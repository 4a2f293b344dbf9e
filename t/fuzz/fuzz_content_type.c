/* The Content-Type header (httpd hands a NUL-terminated value). */
#include <string.h>

#include "fuzz.h"
#include "notify_content_type.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();

    notify_content_type_parse(fuzz_text(p, data, size));
    apr_pool_destroy(p);
    return 0;
}
