/* What every fuzz target shares: APR started once, a pool per input. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

static inline apr_pool_t *fuzz_pool(void)
{
    static int started;
    apr_pool_t *p = NULL;

    if (!started) {
        apr_initialize();
        started = 1;
    }
    apr_pool_create(&p, NULL);
    return p;
}

/* A NUL-terminated copy of the input, in p. */
static inline char *fuzz_text(apr_pool_t *p, const uint8_t *data, size_t size)
{
    char *s = apr_palloc(p, size + 1);

    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
