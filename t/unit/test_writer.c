/* Writes take turns and share commits per database, never per process
 * (notify_writer.c, notify_db.c): threads on connections to two SQLite
 * files at once; each write lands in its own database. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <check.h>

#include "notify_store.h"
#include "testdb.h"

Suite *writer_suite(void);

#define THREADS 8 /* half on each database */
#define EACH 20

static apr_pool_t *pool;
static notify_writers *writers;
static const char *file_a, *file_b;

typedef struct {
    notify_db db;
    apr_pool_t *p;
    const char *key; /* what this thread writes: its database's name */
    int bad_every;   /* every n-th create is refused by a trigger */
    int ok, failed;
} worker;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    writers = notify_writers_create(pool, 64);
    ck_assert_ptr_nonnull(writers);
    file_a = testdb_create(pool, "writer-a");
    file_b = testdb_create(pool, "writer-b");
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static void *APR_THREAD_FUNC create_many(apr_thread_t *t, void *baton)
{
    worker *w = baton;
    int i;

    for (i = 0; i < EACH; i++) {
        notify_values v;
        notify_row row = {0, "2026-11-29T10:00:00Z", "2026-11-29T10:00:00Z"};
        notify_principal who = {0, 0};

        memset(&v, 0, sizeof(v));
        v.val[NOTIFY_P_KEY] =
            w->bad_every && i % w->bad_every == 0 ? "bad" : w->key;
        v.val[NOTIFY_P_PROCESSED] = "0";
        if (notify_store_create(&w->db, w->p, &v, &row, &who, NULL, NULL) ==
            APR_SUCCESS) {
            w->ok++;
        }
        else {
            w->failed++;
        }
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static int waiting_of(notify_writer *wr)
{
    int waiting, shared, largest;

    notify_writer_stats(wr, &waiting, &shared, &largest);
    return waiting;
}

/* Runs the workers while both databases' turns are held until every
 * thread but each database's first (which leads, and waits for the turn)
 * has queued: batches surely form, on both databases at once. */
static void run(worker *w, int bad_every)
{
    apr_thread_t *t[THREADS];
    apr_status_t trv;
    notify_writer *wa, *wb;
    int i, tries;

    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        apr_pool_create(&w[i].p, pool);
        w[i].key = i % 2 ? "B" : "A";
        w[i].bad_every = bad_every;
        testdb_connect(w[i].p, i % 2 ? file_b : file_a, writers, &w[i].db);
        ck_assert_ptr_nonnull(w[i].db.writer);
    }
    wa = w[0].db.writer;
    wb = w[1].db.writer;
    ck_assert_ptr_ne(wa, wb);
    notify_writer_lock(wa);
    notify_writer_lock(wb);
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(
            apr_thread_create(&t[i], NULL, create_many, &w[i], pool),
            APR_SUCCESS);
    }
    for (tries = 0; tries < 10000 && (waiting_of(wa) < THREADS / 2 - 1 ||
                                      waiting_of(wb) < THREADS / 2 - 1);
         tries++) {
        apr_sleep(apr_time_from_msec(1));
    }
    ck_assert_int_eq(waiting_of(wa), THREADS / 2 - 1);
    ck_assert_int_eq(waiting_of(wb), THREADS / 2 - 1);
    notify_writer_unlock(wb);
    notify_writer_unlock(wa);
    for (i = 0; i < THREADS; i++) {
        apr_thread_join(&trv, t[i]);
    }
}

static const char *count_of(const char *file, const char *where)
{
    notify_db db;

    testdb_connect(pool, file, NULL, &db);
    return testdb_scalar(&db, pool,
                         apr_pstrcat(pool,
                                     "SELECT count(*) FROM "
                                     "notifications WHERE ",
                                     where, NULL));
}

START_TEST(each_write_in_its_own_database)
{
    worker w[THREADS];
    const char *all = apr_itoa(pool, THREADS / 2 * EACH);
    int i, waiting, shared, largest;

    run(w, 0);
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(w[i].ok, EACH);
        ck_assert_int_eq(w[i].failed, 0);
    }
    ck_assert_str_eq(count_of(file_a, "\"key\" = 'A'"), all);
    ck_assert_str_eq(count_of(file_a, "\"key\" <> 'A'"), "0");
    ck_assert_str_eq(count_of(file_b, "\"key\" = 'B'"), all);
    ck_assert_str_eq(count_of(file_b, "\"key\" <> 'B'"), "0");
    /* Commits were shared, within each database. */
    notify_writer_stats(w[0].db.writer, &waiting, &shared, &largest);
    ck_assert_int_ge(largest, THREADS / 2 - 1);
    notify_writer_stats(w[1].db.writer, &waiting, &shared, &largest);
    ck_assert_int_ge(largest, THREADS / 2 - 1);
}
END_TEST

START_TEST(bad_write_fails_alone)
{
    worker w[THREADS];
    int i, bad = (EACH + 3) / 4;
    notify_db db;

    testdb_connect(pool, file_a, NULL, &db);
    testdb_exec(&db, "CREATE TRIGGER boom BEFORE INSERT ON notifications "
                     "WHEN NEW.\"key\" = 'bad' BEGIN "
                     "SELECT RAISE(ABORT, 'boom'); END");
    run(w, 4);
    for (i = 0; i < THREADS; i += 2) {
        ck_assert_int_eq(w[i].failed, bad);
        ck_assert_int_eq(w[i].ok, EACH - bad);
        ck_assert_msg(strstr(w[i].db.error, "boom") != NULL, "error: %s",
                      w[i].db.error);
    }
    /* The good creates batched with a bad one were stored all the same;
     * database B has no trigger and refused nothing. */
    ck_assert_str_eq(count_of(file_a, "1"),
                     apr_itoa(pool, THREADS / 2 * (EACH - bad)));
    ck_assert_str_eq(count_of(file_b, "1"), apr_itoa(pool, THREADS / 2 * EACH));
}
END_TEST

/* Commits of at most two writes, straight on the writer: the first
 * write's leader holds its commit until three more are queued, then
 * returns and submits nothing more. Only the hand-over of the lead to the
 * next queued write (no broadcast wakes it) gets those three done: 2 in
 * one commit, then 1. */
static volatile int gate_open;
static volatile int runs, ran, entered;

static void gated_run(void *leader, notify_write_job *batch, int n)
{
    notify_write_job *j;

    (void)leader;
    __sync_fetch_and_add(&entered, 1);
    while (!gate_open) {
        apr_sleep(apr_time_from_msec(1));
    }
    for (j = batch; j; j = j->next) {
        j->rv = APR_SUCCESS;
    }
    __sync_fetch_and_add(&runs, 1);
    __sync_fetch_and_add(&ran, n);
}

static notify_writer *gated;

static void *APR_THREAD_FUNC submit_one(apr_thread_t *t, void *baton)
{
    apr_pool_t *p;
    notify_write_job job;

    (void)baton;
    apr_pool_create(&p, NULL);
    memset(&job, 0, sizeof(job));
    notify_writer_submit(gated, &job, p, gated_run, NULL);
    apr_pool_destroy(p);
    apr_thread_exit(t, job.done ? APR_SUCCESS : APR_EGENERAL);
    return NULL;
}

START_TEST(the_lead_is_handed_over)
{
    notify_writers *small = notify_writers_create(pool, 2);
    apr_thread_t *t[4];
    apr_status_t trv;
    const char *warning;
    int i, tries, waiting, shared, largest;

    ck_assert_ptr_nonnull(small);
    ck_assert_int_eq(notify_writers_get(small, file_a, &gated, &warning),
                     APR_SUCCESS);
    gate_open = runs = ran = entered = 0;
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(apr_thread_create(&t[i], NULL, submit_one, NULL, pool),
                         APR_SUCCESS);
        /* the first leads (held at the gate, alone); the others queue */
        for (tries = 0; tries < 10000 && (!entered || waiting_of(gated) < i);
             tries++) {
            apr_sleep(apr_time_from_msec(1));
        }
        ck_assert_int_eq(entered, 1);
        ck_assert_int_eq(waiting_of(gated), i);
    }
    gate_open = 1;
    for (i = 0; i < 4; i++) {
        apr_thread_join(&trv, t[i]);
        ck_assert_int_eq(trv, APR_SUCCESS);
    }
    ck_assert_int_eq(ran, 4);
    ck_assert_int_eq(runs, 3); /* [1], [2], [1] */
    notify_writer_stats(gated, &waiting, &shared, &largest);
    ck_assert_int_eq(waiting, 0);
    ck_assert_int_eq(largest, 2);
    ck_assert_int_eq(shared, 1);
}
END_TEST

/* One database reached by two paths is one writer: it is the file. */
START_TEST(one_writer_per_file)
{
    notify_writer *w1, *w2, *w3;
    const char *warning;
    char *dir = apr_pstrdup(pool, file_a), *slash = strrchr(dir, '/');

    *slash = '\0';
    ck_assert_int_eq(notify_writers_get(writers, file_a, &w1, &warning),
                     APR_SUCCESS);
    ck_assert_int_eq(
        notify_writers_get(writers,
                           apr_pstrcat(pool, dir, "/./", slash + 1, NULL), &w2,
                           &warning),
        APR_SUCCESS);
    ck_assert_int_eq(notify_writers_get(writers, file_b, &w3, &warning),
                     APR_SUCCESS);
    ck_assert_ptr_eq(w1, w2);
    ck_assert_ptr_ne(w1, w3);
    ck_assert_int_ne(
        notify_writers_get(writers, "/nonexistent/x.db", &w1, &warning),
        APR_SUCCESS);
}
END_TEST

/* The turn holds across processes: another process (another httpd child)
 * waits for it. */
START_TEST(turn_across_processes)
{
    notify_writer *w;
    const char *warning, *marker = apr_pstrcat(pool, file_a, ".took", NULL);
    int fds[2], status;
    char c;
    pid_t pid;
    apr_finfo_t fi;

    ck_assert_int_eq(notify_writers_get(writers, file_a, &w, &warning),
                     APR_SUCCESS);
    notify_writer_lock(w);
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        apr_pool_t *cp;
        notify_writers *ws;
        notify_writer *cw;
        apr_file_t *f;

        apr_pool_create(&cp, NULL);
        ws = notify_writers_create(cp, 1);
        if (notify_writers_get(ws, file_a, &cw, &warning) != APR_SUCCESS) {
            _exit(2);
        }
        if (write(fds[1], "x", 1) != 1) {
            _exit(3);
        }
        notify_writer_lock(cw);
        apr_file_open(&f, marker, APR_FOPEN_CREATE | APR_FOPEN_WRITE,
                      APR_FPROT_OS_DEFAULT, cp);
        notify_writer_unlock(cw);
        _exit(0);
    }
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    apr_sleep(apr_time_from_msec(300));
    ck_assert_int_ne(apr_stat(&fi, marker, APR_FINFO_TYPE, pool), APR_SUCCESS);
    notify_writer_unlock(w);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(apr_stat(&fi, marker, APR_FINFO_TYPE, pool), APR_SUCCESS);
    apr_file_remove(marker, pool);
}
END_TEST

Suite *writer_suite(void)
{
    Suite *s = suite_create("writer");
    TCase *tc = tcase_create("per database");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, each_write_in_its_own_database);
    tcase_add_test(tc, bad_write_fails_alone);
    tcase_add_test(tc, the_lead_is_handed_over);
    tcase_add_test(tc, one_writer_per_file);
    tcase_add_test(tc, turn_across_processes);
    suite_add_tcase(s, tc);
    return s;
}
