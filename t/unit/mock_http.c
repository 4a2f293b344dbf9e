/* mock_http.h */
#include <stdlib.h>
#include <string.h>

#include <apr_network_io.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <check.h>

#include "mock_http.h"

struct mock_http {
    apr_pool_t *pool;
    apr_socket_t *listener;
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex;
    apr_port_t port;
    volatile int stop;
    int status;
    char *answer;
    int requests;
    char *last_body;
    void (*on_request)(void *baton);
    void *baton;
};

/* Reads the head and the body of one request (Content-Length only). */
static char *read_request(apr_socket_t *s, apr_pool_t *p)
{
    char *buf = apr_palloc(p, 1 << 20), *end, *cl;
    apr_size_t len = 0, n;
    long want = -1;

    for (;;) {
        n = (1 << 20) - 1 - len;
        if (n == 0 || apr_socket_recv(s, buf + len, &n) != APR_SUCCESS ||
            n == 0) {
            return NULL;
        }
        len += n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (!end) {
            continue;
        }
        if (want < 0) {
            cl = strcasestr(buf, "\r\nContent-Length:");
            want = cl && cl < end ? atol(cl + 17) : 0;
        }
        if ((long)(len - (end + 4 - buf)) >= want) {
            return apr_pstrmemdup(p, end + 4, want);
        }
    }
}

static void *APR_THREAD_FUNC serve(apr_thread_t *t, void *baton)
{
    mock_http *m = baton;

    while (!m->stop) {
        apr_socket_t *c;
        apr_pool_t *cp;
        char *body, *out;
        apr_size_t n;

        apr_pool_create(&cp, NULL);
        if (apr_socket_accept(&c, m->listener, cp) != APR_SUCCESS) {
            apr_pool_destroy(cp);
            continue;
        }
        apr_socket_timeout_set(c, apr_time_from_sec(10));
        body = read_request(c, cp);
        if (body && !m->stop) {
            if (m->on_request) {
                m->on_request(m->baton);
            }
            apr_thread_mutex_lock(m->mutex);
            m->requests++;
            free(m->last_body);
            m->last_body = strdup(body);
            out = apr_psprintf(cp,
                               "HTTP/1.1 %d Mock\r\nContent-Type: "
                               "application/json\r\nContent-Length: %lu\r\n"
                               "Connection: close\r\n\r\n%s",
                               m->status, (unsigned long)strlen(m->answer),
                               m->answer);
            apr_thread_mutex_unlock(m->mutex);
            n = strlen(out);
            apr_socket_send(c, out, &n);
        }
        apr_socket_close(c);
        apr_pool_destroy(cp);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static apr_status_t mock_stop(void *data)
{
    mock_http *m = data;
    apr_socket_t *s;
    apr_sockaddr_t *sa;
    apr_status_t rv;

    m->stop = 1;
    /* Wake the accept. */
    apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, m->port, 0, m->pool);
    if (apr_socket_create(&s, APR_INET, SOCK_STREAM, APR_PROTO_TCP, m->pool) ==
        APR_SUCCESS) {
        apr_socket_connect(s, sa);
        apr_socket_close(s);
    }
    apr_thread_join(&rv, m->thread);
    apr_socket_close(m->listener);
    free(m->answer);
    free(m->last_body);
    return APR_SUCCESS;
}

mock_http *mock_http_start(apr_pool_t *p)
{
    mock_http *m = apr_pcalloc(p, sizeof(*m));
    apr_sockaddr_t *sa;

    m->pool = p;
    m->status = 200;
    m->answer = strdup("[]");
    ck_assert_int_eq(
        apr_thread_mutex_create(&m->mutex, APR_THREAD_MUTEX_DEFAULT, p),
        APR_SUCCESS);
    ck_assert_int_eq(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, p),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_socket_create(&m->listener, APR_INET, SOCK_STREAM,
                                       APR_PROTO_TCP, p),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_socket_bind(m->listener, sa), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_listen(m->listener, 16), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_addr_get(&sa, APR_LOCAL, m->listener),
                     APR_SUCCESS);
    m->port = sa->port;
    ck_assert_int_eq(apr_thread_create(&m->thread, NULL, serve, m, p),
                     APR_SUCCESS);
    /* Before p's subpools go: the thread's own pool is one of them. */
    apr_pool_pre_cleanup_register(p, m, mock_stop);
    return m;
}

const char *mock_http_url(mock_http *m, const char *path)
{
    return apr_psprintf(m->pool, "http://127.0.0.1:%d%s", m->port, path);
}

void mock_http_answer(mock_http *m, int status, const char *body)
{
    apr_thread_mutex_lock(m->mutex);
    m->status = status;
    free(m->answer);
    m->answer = strdup(body);
    apr_thread_mutex_unlock(m->mutex);
}

void mock_http_on_request(mock_http *m, void (*fn)(void *baton), void *baton)
{
    m->on_request = fn;
    m->baton = baton;
}

int mock_http_requests(mock_http *m)
{
    int n;

    apr_thread_mutex_lock(m->mutex);
    n = m->requests;
    apr_thread_mutex_unlock(m->mutex);
    return n;
}

const char *mock_http_last_body(mock_http *m, apr_pool_t *p)
{
    const char *b;

    apr_thread_mutex_lock(m->mutex);
    b = m->last_body ? apr_pstrdup(p, m->last_body) : NULL;
    apr_thread_mutex_unlock(m->mutex);
    return b;
}
