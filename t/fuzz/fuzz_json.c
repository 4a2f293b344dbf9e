/* A create body as JSON: decoded (jansson, exact big ids), then validated
 * as the create route does, and the answer rendered. */
#include <string.h>

#include "fuzz.h"
#include "notify_decode.h"
#include "notify_render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    notify_input in;
    notify_values v;
    notify_error err;
    notify_row row = {1, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    const char *token;
    apr_size_t len;

    memset(&err, 0, sizeof(err));
    if (notify_decode_json(p, (const char *)data, size, &in, &err) ==
        NOTIFY_ACTION_SUCCESSFUL) {
        notify_input_token(&in, &token, &len, &err);
        if (notify_validate(p, &in, &v, &err) == NOTIFY_ACTION_SUCCESSFUL) {
            notify_render_notification(p, NOTIFY_ACTION_SUCCESSFUL, NULL, &v,
                                       &row, NULL, &len);
        }
    }
    notify_render_error(p, &err, &len);
    apr_pool_destroy(p);
    return 0;
}
