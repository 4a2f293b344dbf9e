/* libcurl as a long-running server should use it: handles reused and
 * reset before each use (their connection cache keeps the provider's
 * connection alive), a failed handle dropped, no signals, bounded time
 * and answer size, no redirects, TLS verification on. */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <curl/curl.h>

#include "notify_http.h"

struct notify_http {
    apr_pool_t *pool;
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
#endif
    CURL **idle;
    int nidle;
    int max_idle;
};

static apr_status_t client_cleanup(void *data)
{
    notify_http *c = data;

    while (c->nidle > 0) {
        curl_easy_cleanup(c->idle[--c->nidle]);
    }
    return APR_SUCCESS;
}

notify_http *notify_http_create(apr_pool_t *p, int max_idle)
{
    notify_http *c = apr_pcalloc(p, sizeof(*c));

    c->pool = p;
    c->max_idle = max_idle;
    c->idle = apr_pcalloc(p, max_idle * sizeof(CURL *));
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p) !=
        APR_SUCCESS) {
        return NULL;
    }
#endif
    apr_pool_cleanup_register(p, c, client_cleanup, apr_pool_cleanup_null);
    return c;
}

static void lock(notify_http *c)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(c->mutex);
#endif
}

static void unlock(notify_http *c)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(c->mutex);
#endif
}

static CURL *take(notify_http *c)
{
    CURL *h = NULL;

    lock(c);
    if (c->nidle > 0) {
        h = c->idle[--c->nidle];
    }
    unlock(c);
    return h ? h : curl_easy_init();
}

/* A handle goes back only after a clean exchange; otherwise its state
 * (and connection) is not trusted again. */
static void give_back(notify_http *c, CURL *h, int healthy)
{
    if (healthy) {
        /* No option of this use survives (they point into its memory);
         * the handle's connections do. */
        curl_easy_reset(h);
        lock(c);
        if (c->nidle < c->max_idle) {
            c->idle[c->nidle++] = h;
            h = NULL;
        }
        unlock(c);
    }
    if (h) {
        curl_easy_cleanup(h);
    }
}

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
} answer_buf;

static size_t on_data(char *data, size_t size, size_t n, void *baton)
{
    answer_buf *a = baton;
    size_t more = size * n;

    if (a->len + more > a->max) {
        return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
    }
    if (a->len + more + 1 > a->cap) {
        apr_size_t cap = a->cap ? a->cap * 2 : 4096;
        char *grown;
        while (cap < a->len + more + 1) {
            cap *= 2;
        }
        grown = apr_palloc(a->p, cap);
        if (a->len) {
            memcpy(grown, a->buf, a->len);
        }
        a->buf = grown;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, data, more);
    a->len += more;
    a->buf[a->len] = '\0';
    return more;
}

static int set_options(CURL *h, const notify_http_request *req,
                       struct curl_slist *headers, answer_buf *a, char *errbuf)
{
    CURLcode rc = CURLE_OK;
    long connect_ms =
        req->connect_timeout_ms > 0 && req->connect_timeout_ms < req->timeout_ms
            ? req->connect_timeout_ms
            : req->timeout_ms;

#define SET(opt, val)                                                          \
    if (rc == CURLE_OK) {                                                      \
        rc = curl_easy_setopt(h, opt, val);                                    \
    }
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_TIMEOUT_MS, req->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, req->body);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    SET(CURLOPT_WRITEFUNCTION, on_data);
    SET(CURLOPT_WRITEDATA, a);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    if (req->userpwd) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERPWD, req->userpwd);
    }
#undef SET
    return rc == CURLE_OK;
}

apr_status_t notify_http_post(notify_http *c, apr_pool_t *p,
                              const notify_http_request *req,
                              notify_http_result *res)
{
    answer_buf a = {p, NULL, 0, 0, req->max_answer};
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    CURL *h = take(c);
    CURLcode rc = CURLE_FAILED_INIT;
    apr_time_t start = apr_time_now();

    memset(res, 0, sizeof(*res));
    headers = curl_slist_append(
        headers, apr_pstrcat(p, "Content-Type: ", req->content_type, NULL));
    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
    headers = curl_slist_append(headers, "Expect:");
    if (h && headers && set_options(h, req, headers, &a, errbuf)) {
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    }
    res->elapsed = apr_time_now() - start;
    curl_slist_free_all(headers);
    if (h) {
        give_back(c, h, rc == CURLE_OK);
    }
    if (rc != CURLE_OK) {
        res->error =
            apr_pstrdup(p, rc == CURLE_WRITE_ERROR
                               ? "the answer is too large"
                               : (*errbuf ? errbuf : curl_easy_strerror(rc)));
        res->status = 0;
        return APR_EGENERAL;
    }
    res->body = a.buf ? a.buf : "";
    res->len = a.len;
    return APR_SUCCESS;
}
