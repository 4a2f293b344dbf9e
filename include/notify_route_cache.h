/* The route registry's records (api_routes + api_services), cached per
 * process for NotifyRouteCacheSeconds. Keys come from the configuration
 * (a server and a route name), so the set of entries is bounded. */
#ifndef NOTIFY_ROUTE_CACHE_H
#define NOTIFY_ROUTE_CACHE_H

#include <apr_time.h>

#include "notify_store.h"

typedef struct notify_route_cache notify_route_cache;

notify_route_cache *notify_route_cache_create(apr_pool_t *p);

/* 1 with *row when key was stored less than ttl seconds before now. */
int notify_route_cache_get(notify_route_cache *c, const char *key,
                           apr_int64_t ttl, apr_time_t now,
                           notify_route_row *row);

void notify_route_cache_put(notify_route_cache *c, const char *key,
                            const notify_route_row *row, apr_time_t now);

#endif
