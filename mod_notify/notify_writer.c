/* notify_writer.h: one turn and one commit group per SQLite database. */
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "notify_writer.h"

struct notify_writer {
    apr_thread_mutex_t *turn; /* this process's writers of the database */
    apr_file_t *lockfile;     /* every process's (NULL: could not open) */
    /* shared commits */
    apr_thread_mutex_t *queue_mutex;
    notify_write_job *head, **tail;
    int max, leading, waiting, shared, largest;
};

struct notify_writers {
    apr_pool_t *pool;
    apr_thread_mutex_t *mutex;
    apr_hash_t *by_file; /* "device:inode" -> notify_writer */
    int group_max;
};

notify_writers *notify_writers_create(apr_pool_t *p, int group_max)
{
    notify_writers *ws = apr_pcalloc(p, sizeof(*ws));

    if (apr_thread_mutex_create(&ws->mutex, APR_THREAD_MUTEX_DEFAULT, p) !=
        APR_SUCCESS) {
        return NULL;
    }
    ws->pool = p;
    ws->by_file = apr_hash_make(p);
    ws->group_max = group_max;
    return ws;
}

static notify_writer *writer_create(notify_writers *ws, const char *path,
                                    const char **warning)
{
    notify_writer *w = apr_pcalloc(ws->pool, sizeof(*w));
    const char *lock = apr_pstrcat(ws->pool, path, "-mod_notify.lock", NULL);
    apr_status_t rv;

    if (apr_thread_mutex_create(&w->turn, APR_THREAD_MUTEX_DEFAULT, ws->pool) !=
            APR_SUCCESS ||
        apr_thread_mutex_create(&w->queue_mutex, APR_THREAD_MUTEX_DEFAULT,
                                ws->pool) != APR_SUCCESS) {
        return NULL;
    }
    w->tail = &w->head;
    w->max = ws->group_max;
    /* Kept open for the life of the process: closing any descriptor of a
     * file drops the process's fcntl locks on it. */
    rv = apr_file_open(&w->lockfile, lock, APR_FOPEN_WRITE | APR_FOPEN_CREATE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD |
                           APR_FPROT_GWRITE,
                       ws->pool);
    if (rv != APR_SUCCESS) {
        char buf[120];
        w->lockfile = NULL;
        *warning = apr_psprintf(ws->pool,
                                "cannot open %s (%s): writers of other "
                                "processes meet in SQLite's busy timeout",
                                lock, apr_strerror(rv, buf, sizeof(buf)));
    }
    return w;
}

apr_status_t notify_writers_get(notify_writers *ws, const char *path,
                                notify_writer **w, const char **warning)
{
    apr_finfo_t fi;
    apr_pool_t *tmp;
    const char *key;
    apr_status_t rv;

    *w = NULL;
    *warning = NULL;
    apr_pool_create(&tmp, NULL);
    rv = apr_stat(&fi, path, APR_FINFO_IDENT, tmp);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_INCOMPLETE(rv)) {
        apr_pool_destroy(tmp);
        return rv;
    }
    key = apr_psprintf(tmp, "%lu:%lu", (unsigned long)fi.device,
                       (unsigned long)fi.inode);
    apr_thread_mutex_lock(ws->mutex);
    *w = apr_hash_get(ws->by_file, key, APR_HASH_KEY_STRING);
    if (!*w) {
        *w = writer_create(ws, path, warning);
        if (*w) {
            apr_hash_set(ws->by_file, apr_pstrdup(ws->pool, key),
                         APR_HASH_KEY_STRING, *w);
        }
    }
    apr_thread_mutex_unlock(ws->mutex);
    apr_pool_destroy(tmp);
    return *w ? APR_SUCCESS : APR_ENOMEM;
}

void notify_writer_lock(notify_writer *w)
{
    apr_thread_mutex_lock(w->turn);
    if (w->lockfile) {
        apr_file_lock(w->lockfile, APR_FLOCK_EXCLUSIVE);
    }
}

void notify_writer_unlock(notify_writer *w)
{
    if (w->lockfile) {
        apr_file_unlock(w->lockfile);
    }
    apr_thread_mutex_unlock(w->turn);
}

int notify_writer_grouped(const notify_writer *w)
{
    return w->max > 1;
}

/* Wakes the threads of a finished batch (each sleeps on its own
 * condition, so a commit wakes only those it served, never every waiter),
 * and the thread of the next queued write, to lead. Under queue_mutex. */
static void wake_batch(notify_writer *w, notify_write_job *batch,
                       const notify_write_job *self)
{
    notify_write_job *j;

    /* Their threads run again only once this one lets go of queue_mutex. */
    for (j = batch; j; j = j->next) {
        j->done = 1;
        if (j != self) {
            apr_thread_cond_signal(j->cond);
        }
    }
    if (w->head && w->head != self) {
        apr_thread_cond_signal(w->head->cond);
    }
}

void notify_writer_submit(notify_writer *w, notify_write_job *job,
                          apr_pool_t *p, notify_batch_fn *run, void *leader)
{
    notify_write_job *batch, *last;
    int n;

    job->next = NULL;
    job->done = 0;
    job->cond = NULL;
    if (!notify_writer_grouped(w)) {
        run(leader, job, 1);
        return;
    }
    if (apr_thread_cond_create(&job->cond, p) != APR_SUCCESS) {
        /* No condition to sleep on: a transaction of its own, in turn. */
        run(leader, job, 1);
        return;
    }
    apr_thread_mutex_lock(w->queue_mutex);
    *w->tail = job;
    w->tail = &job->next;
    w->waiting++;
    while (!job->done) {
        if (w->leading) {
            apr_thread_cond_wait(job->cond, w->queue_mutex);
            continue;
        }
        /* Lead: the first max queued jobs (this one among them unless
         * more than max came before it: then on a later turn). */
        batch = last = w->head;
        for (n = 1; n < w->max && last->next; n++) {
            last = last->next;
        }
        w->head = last->next;
        if (!w->head) {
            w->tail = &w->head;
        }
        last->next = NULL;
        w->waiting -= n;
        w->leading = 1;
        apr_thread_mutex_unlock(w->queue_mutex);

        run(leader, batch, n);

        apr_thread_mutex_lock(w->queue_mutex);
        if (n > 1) {
            w->shared++;
        }
        if (n > w->largest) {
            w->largest = n;
        }
        w->leading = 0;
        wake_batch(w, batch, job);
    }
    apr_thread_mutex_unlock(w->queue_mutex);
}

void notify_writer_stats(notify_writer *w, int *waiting, int *shared,
                         int *largest)
{
    apr_thread_mutex_lock(w->queue_mutex);
    *waiting = w->waiting;
    *shared = w->shared;
    *largest = w->largest;
    apr_thread_mutex_unlock(w->queue_mutex);
}
