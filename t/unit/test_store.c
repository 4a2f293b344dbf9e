/* The SQL layer against a real SQLite database built from the schema. */
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_global_mutex.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <check.h>

#include "notify_store.h"

static apr_pool_t *pool;
static notify_db db;

static void exec(const char *sql)
{
    int nrows;

    ck_assert_msg(apr_dbd_query(db.driver, db.handle, &nrows, sql) == 0,
                  "%s: %s", sql, apr_dbd_error(db.driver, db.handle, 1));
}

static const char *scalar(const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;

    ck_assert_int_eq(apr_dbd_select(db.driver, pool, db.handle, &res, sql, 0),
                     0);
    while (apr_dbd_get_row(db.driver, pool, res, &row, -1) == 0) {
        const char *e = apr_dbd_get_entry(db.driver, row, 0);
        v = e ? apr_pstrdup(pool, e) : NULL;
    }
    return v;
}

/* The schema file, one statement at a time (the driver runs one each). */
static void load_schema(void)
{
    char *text, *stmt, *last, *line, *rest, *sql = "";
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;

    ck_assert_int_eq(apr_file_open(&f, "build/schema/sqlite.sql",
                                   APR_FOPEN_READ, 0, pool),
                     APR_SUCCESS);
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    n = (apr_size_t)fi.size;
    text = apr_pcalloc(pool, n + 1);
    apr_file_read_full(f, text, n, &n);
    apr_file_close(f);
    /* Comments first: they may hold semicolons. */
    for (line = apr_strtok(text, "\n", &rest); line;
         line = apr_strtok(NULL, "\n", &rest)) {
        if (strncmp(line, "--", 2) != 0 && !strstr(line, "PRAGMA")) {
            sql = apr_pstrcat(pool, sql, line, "\n", NULL);
        }
    }
    for (stmt = apr_strtok(sql, ";", &last); stmt;
         stmt = apr_strtok(NULL, ";", &last)) {
        if (strspn(stmt, " \n") != strlen(stmt)) {
            exec(stmt);
        }
    }
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&db, 0, sizeof(db));
    apr_dbd_init(pool);
    ck_assert_int_eq(apr_dbd_get_driver(pool, "sqlite3", &db.driver),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_dbd_open(db.driver, pool, ":memory:", &db.handle),
                     APR_SUCCESS);
    load_schema();
    ck_assert_int_eq(notify_store_prepare_all(&db, pool), APR_SUCCESS);
    ck_assert_int_eq(notify_store_connection_init(&db, pool), APR_SUCCESS);
}

static void teardown(void)
{
    apr_dbd_close(db.driver, db.handle);
    apr_pool_destroy(pool);
}

START_TEST(applications)
{
    apr_int64_t id = -1;

    exec("INSERT INTO api_applications (name, token_sha256, active, "
         "created_at) VALUES ('a', 'aaa', 1, '2026-01-01T00:00:00Z'), "
         "('b', 'bbb', 0, '2026-01-01T00:00:00Z')");
    ck_assert_int_eq(notify_store_find_app(&db, pool, "aaa", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(notify_store_find_app(&db, pool, "bbb", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(notify_store_find_app(&db, pool, "zzz", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 0);
    /* A schema change expires SQLite statements: they are prepared again. */
    exec("CREATE INDEX api_applications_name ON api_applications(name)");
    ck_assert_int_eq(notify_store_find_app(&db, pool, "aaa", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 1);
}
END_TEST

START_TEST(sessions)
{
    notify_session_row s;

    exec("INSERT INTO users (id, email) VALUES (1, 'u@x.co'), (2, 'v@x.co')");
    exec("INSERT INTO liaisons (user_id) VALUES (2)");
    exec("INSERT INTO sessions (user_id, token_sha256, created_at, "
         "last_used_at, remember_me) VALUES "
         "(1, 's1', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 1), "
         "(2, 's2', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 0)");
    ck_assert_int_eq(notify_store_find_session(&db, pool, "s1", &s),
                     APR_SUCCESS);
    ck_assert_int_eq(s.id, 1);
    ck_assert_int_eq(s.user_id, 1);
    ck_assert_int_eq(s.has_role, 0);
    ck_assert_int_eq(s.remember_me, 1);
    ck_assert_str_eq(s.created_at, "2026-01-01T00:00:00Z");
    ck_assert_int_eq(notify_store_find_session(&db, pool, "s2", &s),
                     APR_SUCCESS);
    ck_assert_int_eq(s.has_role, 1);
    ck_assert_int_eq(notify_store_touch_session(&db, pool, 2,
                                                "2026-02-02T00:00:00Z"),
                     APR_SUCCESS);
    ck_assert_str_eq(scalar("SELECT last_used_at FROM sessions WHERE id = 2"),
                     "2026-02-02T00:00:00Z");
    ck_assert_int_eq(notify_store_find_session(&db, pool, "nope", &s),
                     APR_SUCCESS);
    ck_assert_int_eq(s.id, 0);
}
END_TEST

START_TEST(routes)
{
    notify_route_row rt;

    ck_assert_int_eq(notify_store_find_route(&db, pool,
                                             "notifications.create", &rt),
                     APR_SUCCESS);
    ck_assert(rt.found && rt.route_deployed && !rt.sensitive);
    ck_assert(rt.service_found && rt.service_deployed);
    exec("UPDATE api_services SET deployed = 0");
    notify_store_find_route(&db, pool, "notifications.create", &rt);
    ck_assert(rt.found && !rt.service_deployed);
    notify_store_find_route(&db, pool, "missing", &rt);
    ck_assert(!rt.found);
}
END_TEST

START_TEST(create_and_rollback)
{
    notify_values v;
    notify_row row = {0, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    notify_principal who = {1, 0};

    memset(&v, 0, sizeof(v));
    v.val[NOTIFY_P_KEY] = "order.created";
    v.val[NOTIFY_P_NOTIFYABLE_TYPE] = "Order";
    v.val[NOTIFY_P_NOTIFYABLE_ID] = "42";
    v.val[NOTIFY_P_PROCESSED] = "0";
    exec("INSERT INTO api_applications (name, token_sha256, active, "
         "created_at) VALUES ('a', 'aaa', 1, '2026-01-01T00:00:00Z')");
    ck_assert_int_eq(notify_store_create(&db, pool, &v, &row, &who, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, 1);
    ck_assert_str_eq(scalar("SELECT \"key\" || '|' || notifyable_id || '|' "
                            "|| created_by_application_id || '|' || "
                            "ifnull(created_by_session_id, 'null') "
                            "FROM notifications"),
                     "order.created|42|1|null");
    /* A failing insert leaves nothing behind and reports the driver. */
    exec("CREATE TRIGGER boom BEFORE INSERT ON notifications "
         "BEGIN SELECT RAISE(ABORT, 'boom'); END");
    ck_assert_int_ne(notify_store_create(&db, pool, &v, &row, &who, NULL),
                     APR_SUCCESS);
    ck_assert_msg(strstr(db.error, "boom") != NULL, "error: %s", db.error);
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"), "1");
}
END_TEST

START_TEST(idempotency_keys)
{
    notify_idem_row row;
    apr_int64_t id = 0, again = -1;

    ck_assert_int_eq(notify_store_idem_claim(&db, pool, "p", "k", "sha1",
                                             "2026-11-27T10:00:00Z", &id),
                     APR_SUCCESS);
    ck_assert_int_gt(id, 0);
    /* The unique constraint decides: a second claim gets nothing. */
    ck_assert_int_eq(notify_store_idem_claim(&db, pool, "p", "k", "sha2",
                                             "2026-11-27T10:00:01Z", &again),
                     APR_SUCCESS);
    ck_assert_int_eq(again, 0);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k", &row),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, id);
    ck_assert_str_eq(row.request_sha256, "sha1");
    ck_assert_int_eq(row.http_status, 0);
    ck_assert_int_eq(notify_store_idem_release(&db, pool, id), APR_SUCCESS);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k", &row),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, 0);
}
END_TEST

START_TEST(idempotency_purge)
{
    apr_int64_t id;

    notify_store_idem_claim(&db, pool, "p", "old1", "s",
                            "2026-11-01T00:00:00Z", &id);
    notify_store_idem_claim(&db, pool, "p", "old2", "s",
                            "2026-11-26T09:59:59Z", &id);
    notify_store_idem_claim(&db, pool, "p", "new", "s",
                            "2026-11-26T10:00:00Z", &id);
    ck_assert_int_eq(notify_store_idem_purge(&db, pool,
                                             "2026-11-26T10:00:00Z"),
                     APR_SUCCESS);
    ck_assert_str_eq(scalar("SELECT group_concat(idem_key) FROM "
                            "idempotency_keys"),
                     "new");
}
END_TEST

/* ---- group commit: threads, each on its own connection to one file ---- */

#define GROUP_THREADS 6
#define GROUP_EACH 20

typedef struct {
    notify_db db;
    apr_pool_t *p;
    int bad_every; /* every n-th create is refused by a trigger (0: none) */
    int ok, failed;
    apr_int64_t id_sum;
} worker;

static char *group_file;
static notify_group *group;
static apr_global_mutex_t *glock;

static void group_setup(void)
{
    const char *tmp;

    apr_pool_create(&pool, NULL);
    memset(&db, 0, sizeof(db));
    apr_dbd_init(pool);
    ck_assert_int_eq(apr_dbd_get_driver(pool, "sqlite3", &db.driver),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_temp_dir_get(&tmp, pool), APR_SUCCESS);
    group_file = apr_psprintf(pool, "%s/notify-group-%" APR_PID_T_FMT ".db",
                              tmp, getpid());
    apr_file_remove(group_file, pool);
    ck_assert_int_eq(apr_dbd_open(db.driver, pool, group_file, &db.handle),
                     APR_SUCCESS);
    load_schema();
    ck_assert_int_eq(notify_store_prepare_all(&db, pool), APR_SUCCESS);
    ck_assert_int_eq(notify_store_connection_init(&db, pool), APR_SUCCESS);
    exec("INSERT INTO api_applications (name, token_sha256, active, "
         "created_at) VALUES ('a', 'aaa', 1, '2026-01-01T00:00:00Z')");
    ck_assert_int_eq(apr_global_mutex_create(&glock, NULL, APR_LOCK_DEFAULT,
                                             pool),
                     APR_SUCCESS);
    group = notify_group_create(pool, 64);
    ck_assert_ptr_nonnull(group);
}

static void group_teardown(void)
{
    apr_dbd_close(db.driver, db.handle);
    apr_file_remove(group_file, pool);
    apr_pool_destroy(pool);
}

static void *APR_THREAD_FUNC group_worker(apr_thread_t *t, void *baton)
{
    worker *w = baton;
    int i;

    for (i = 0; i < GROUP_EACH; i++) {
        notify_values v;
        notify_row row = {0, "2026-11-29T10:00:00Z", "2026-11-29T10:00:00Z"};
        notify_principal who = {1, 0};

        memset(&v, 0, sizeof(v));
        v.val[NOTIFY_P_KEY] =
            w->bad_every && i % w->bad_every == 0 ? "bad" : "good";
        v.val[NOTIFY_P_PROCESSED] = "0";
        if (notify_store_create(&w->db, w->p, &v, &row, &who, NULL) ==
            APR_SUCCESS) {
            w->ok++;
            w->id_sum += row.id;
        }
        else {
            w->failed++;
        }
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* Runs GROUP_THREADS workers; the write lock is held until all but the
 * first (which leads alone and waits for the lock) have queued, so the
 * next batch surely holds several creates. */
static void run_workers(worker *w, int bad_every)
{
    apr_thread_t *t[GROUP_THREADS];
    apr_status_t trv;
    int i, waiting = 0, shared, largest, tries;

    ck_assert_int_eq(apr_global_mutex_lock(glock), APR_SUCCESS);
    for (i = 0; i < GROUP_THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        apr_pool_create(&w[i].p, pool);
        w[i].bad_every = bad_every;
        w[i].db.driver = db.driver;
        ck_assert_int_eq(apr_dbd_open(db.driver, w[i].p, group_file,
                                      &w[i].db.handle),
                         APR_SUCCESS);
        ck_assert_int_eq(notify_store_prepare_all(&w[i].db, w[i].p),
                         APR_SUCCESS);
        ck_assert_int_eq(notify_store_connection_init(&w[i].db, w[i].p),
                         APR_SUCCESS);
        notify_store_set_writers(&w[i].db, glock, group);
    }
    for (i = 0; i < GROUP_THREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&t[i], NULL, group_worker, &w[i],
                                           pool),
                         APR_SUCCESS);
    }
    for (tries = 0; tries < 10000 && waiting < GROUP_THREADS - 1; tries++) {
        apr_sleep(apr_time_from_msec(1));
        notify_group_stats(group, &waiting, &shared, &largest);
    }
    ck_assert_int_eq(waiting, GROUP_THREADS - 1);
    apr_global_mutex_unlock(glock);
    for (i = 0; i < GROUP_THREADS; i++) {
        apr_thread_join(&trv, t[i]);
        apr_dbd_close(db.driver, w[i].db.handle);
    }
}

START_TEST(group_shares_commits)
{
    worker w[GROUP_THREADS];
    apr_int64_t sum = 0;
    int i, waiting, shared, largest;

    run_workers(w, 0);
    for (i = 0; i < GROUP_THREADS; i++) {
        ck_assert_int_eq(w[i].ok, GROUP_EACH);
        ck_assert_int_eq(w[i].failed, 0);
        sum += w[i].id_sum;
    }
    /* Every create answered with its own row, and nothing else stored. */
    ck_assert_str_eq(scalar("SELECT count(*) || '|' || count(DISTINCT id) "
                            "FROM notifications"),
                     apr_psprintf(pool, "%d|%d", GROUP_THREADS * GROUP_EACH,
                                  GROUP_THREADS * GROUP_EACH));
    ck_assert_str_eq(scalar("SELECT sum(id) FROM notifications"),
                     apr_psprintf(pool, "%" APR_INT64_T_FMT, sum));
    notify_group_stats(group, &waiting, &shared, &largest);
    ck_assert_int_eq(waiting, 0);
    ck_assert_int_ge(shared, 1);
    ck_assert_int_ge(largest, GROUP_THREADS - 1);
}
END_TEST

START_TEST(group_bad_create_fails_alone)
{
    worker w[GROUP_THREADS];
    int i, bad = (GROUP_EACH + 3) / 4, largest, waiting, shared;

    exec("CREATE TRIGGER boom BEFORE INSERT ON notifications "
         "WHEN NEW.\"key\" = 'bad' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    run_workers(w, 4);
    for (i = 0; i < GROUP_THREADS; i++) {
        ck_assert_int_eq(w[i].failed, bad);
        ck_assert_int_eq(w[i].ok, GROUP_EACH - bad);
        ck_assert_msg(strstr(w[i].db.error, "boom") != NULL, "error: %s",
                      w[i].db.error);
    }
    /* The good creates batched with a bad one were stored all the same. */
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"),
                     apr_psprintf(pool, "%d",
                                  GROUP_THREADS * (GROUP_EACH - bad)));
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications "
                            "WHERE \"key\" = 'bad'"),
                     "0");
    notify_group_stats(group, &waiting, &shared, &largest);
    ck_assert_int_ge(largest, GROUP_THREADS - 1);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("sqlite");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, applications);
    tcase_add_test(tc, sessions);
    tcase_add_test(tc, routes);
    tcase_add_test(tc, create_and_rollback);
    tcase_add_test(tc, idempotency_keys);
    tcase_add_test(tc, idempotency_purge);
    suite_add_tcase(s, tc);
    tc = tcase_create("group commit");
    tcase_add_checked_fixture(tc, group_setup, group_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, group_shares_commits);
    tcase_add_test(tc, group_bad_create_fails_alone);
    suite_add_tcase(s, tc);
    return s;
}
