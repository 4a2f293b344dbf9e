/* notify_route_cache.h */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "notify_route_cache.h"

struct notify_route_cache {
    apr_pool_t *pool;
    apr_thread_mutex_t *mutex;
    apr_hash_t *entries; /* key -> entry */
};

typedef struct {
    notify_route_row row;
    apr_time_t fetched;
} entry;

notify_route_cache *notify_route_cache_create(apr_pool_t *p)
{
    notify_route_cache *c = apr_pcalloc(p, sizeof(*c));

    if (apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p) !=
        APR_SUCCESS) {
        return NULL;
    }
    c->pool = p;
    c->entries = apr_hash_make(p);
    return c;
}

int notify_route_cache_get(notify_route_cache *c, const char *key,
                           apr_int64_t ttl, apr_time_t now,
                           notify_route_row *row)
{
    entry *e;
    int hit = 0;

    if (!c || ttl <= 0) {
        return 0;
    }
    apr_thread_mutex_lock(c->mutex);
    e = apr_hash_get(c->entries, key, APR_HASH_KEY_STRING);
    if (e && now - e->fetched < apr_time_from_sec(ttl)) {
        *row = e->row;
        hit = 1;
    }
    apr_thread_mutex_unlock(c->mutex);
    return hit;
}

void notify_route_cache_put(notify_route_cache *c, const char *key,
                            const notify_route_row *row, apr_time_t now)
{
    entry *e;

    if (!c) {
        return;
    }
    apr_thread_mutex_lock(c->mutex);
    e = apr_hash_get(c->entries, key, APR_HASH_KEY_STRING);
    if (!e) {
        e = apr_pcalloc(c->pool, sizeof(*e));
        apr_hash_set(c->entries, apr_pstrdup(c->pool, key), APR_HASH_KEY_STRING,
                     e);
    }
    e->row = *row;
    e->fetched = now;
    apr_thread_mutex_unlock(c->mutex);
}
