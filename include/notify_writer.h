/* How the writes to one SQLite database take turns, per database and
 * never per process: a virtual host with its own DBDParams has its own
 * database, its own turn and its own shared commits.
 *
 * SQLite has one writer at a time. apr_dbd_sqlite3 runs every statement
 * of a process under one mutex, and SQLite's busy handler waits inside a
 * statement, polling with sleeps of up to 100 ms: writers that meet in
 * SQLite wait far longer than the writes take. So every writer of a
 * database first takes that database's turn: a thread mutex inside the
 * process, then an fcntl lock on a file beside the database
 * (<database>-mod_notify.lock) across processes, including a second httpd
 * on the same file. SQLite's busy timeout remains for writers outside
 * the module (the sqlite3 shell).
 *
 * Each SQLite commit also waits for its own fsync. Under a threaded MPM
 * the writes queued for one database therefore share commits: the first
 * thread to find no leader takes what is queued (at most max) and runs it
 * all on its own connection, which is to that same database; the others
 * sleep, each on a condition of its own, until their write is done: a
 * commit wakes the writes it served and the next to lead, never every
 * waiter. APR-only. */
#ifndef NOTIFY_WRITER_H
#define NOTIFY_WRITER_H

#include <apr_pools.h>
#include <apr_thread_cond.h>

/* A process's writers, one per database file (by device and inode). */
typedef struct notify_writers notify_writers;
typedef struct notify_writer notify_writer;

/* group_max: the most writes one commit takes; 0 or 1: no shared
 * commits (one thread per process). */
notify_writers *notify_writers_create(apr_pool_t *p, int group_max);

/* The writer of the SQLite database file at path, created on first use.
 * When its lock file cannot be opened the writer still orders this
 * process's writes, and *warning says why the other processes' are not
 * (set once per database). APR_ENOENT when path does not exist. */
apr_status_t notify_writers_get(notify_writers *ws, const char *path,
                                notify_writer **w, const char **warning);

/* The database's turn: held for one transaction, never longer. */
void notify_writer_lock(notify_writer *w);
void notify_writer_unlock(notify_writer *w);

/* One write waiting for its turn in a shared commit. */
typedef struct notify_write_job notify_write_job;
struct notify_write_job {
    notify_write_job *next;
    void *item;      /* what to write: the caller's */
    apr_status_t rv; /* set by the runner */
    int done;
    apr_thread_cond_t *cond; /* its thread sleeps on it (set by submit) */
};

/* Runs the n jobs of batch (a list by next) on the leader's connection,
 * setting each job's rv. */
typedef void notify_batch_fn(void *leader, notify_write_job *batch, int n);

/* Whether w shares commits between threads. */
int notify_writer_grouped(const notify_writer *w);

/* Queues job and returns once it is done: by this thread as the leader
 * (run(leader, ...)), or by another thread's leader. */
void notify_writer_submit(notify_writer *w, notify_write_job *job,
                          apr_pool_t *p, notify_batch_fn *run, void *leader);

/* For tests: writes waiting, shared commits so far, the largest one. */
void notify_writer_stats(notify_writer *w, int *waiting, int *shared,
                         int *largest);

#endif
