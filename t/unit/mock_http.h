/* A tiny HTTP server for the unit tests, in a thread of the test: it
 * answers every POST with the answer set last, records each request's
 * body, and may hold its answer back (a hanging provider). */
#ifndef MOCK_HTTP_H
#define MOCK_HTTP_H

#include <apr_pools.h>

typedef struct mock_http mock_http;

/* Listening on 127.0.0.1 at a free port; stopped with p. */
mock_http *mock_http_start(apr_pool_t *p);

/* http://127.0.0.1:<port><path> */
const char *mock_http_url(mock_http *m, const char *path);

/* What the next requests get (copied). */
void mock_http_answer(mock_http *m, int status, const char *body);

/* Called as each request arrives, in the server's thread. */
void mock_http_on_request(mock_http *m, void (*fn)(void *baton), void *baton);

/* Requests so far, and the body of the last one (NULL: none). */
int mock_http_requests(mock_http *m);
const char *mock_http_last_body(mock_http *m, apr_pool_t *p);

#endif
