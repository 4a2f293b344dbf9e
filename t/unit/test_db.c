/* notify_db.c: which failures a retry can mend, and that only the
 * statement that failed is prepared again. */
#include <string.h>

#include <apr_strings.h>
#include <check.h>

#include "notify_store.h"
#include "testdb.h"

Suite *db_suite(void);

START_TEST(classify_sqlite)
{
    ck_assert_int_eq(notify_db_classify("sqlite3", 5, "database is locked"),
                     NOTIFY_DB_BUSY);
    ck_assert_int_eq(notify_db_classify("sqlite3", 6, "table is locked"),
                     NOTIFY_DB_BUSY);
    ck_assert_int_eq(notify_db_classify("sqlite3", 17, "schema"),
                     NOTIFY_DB_STALE);
    ck_assert_int_eq(notify_db_classify("sqlite3", 1,
                                        "notify_app: database "
                                        "schema has changed"),
                     NOTIFY_DB_STALE);
    ck_assert_int_eq(notify_db_classify("sqlite3", 1,
                                        "notify_app: not an "
                                        "error"),
                     NOTIFY_DB_STALE);
    /* what a retry cannot mend */
    ck_assert_int_eq(notify_db_classify("sqlite3", 19,
                                        "NOT NULL constraint "
                                        "failed"),
                     NOTIFY_DB_FATAL);
    ck_assert_int_eq(notify_db_classify("sqlite3", 1, "no such table: x"),
                     NOTIFY_DB_FATAL);
    ck_assert_int_eq(notify_db_classify("sqlite3", 13,
                                        "database or disk is "
                                        "full"),
                     NOTIFY_DB_FATAL);
}
END_TEST

START_TEST(classify_pgsql)
{
    ck_assert_int_eq(notify_db_classify("pgsql", 7,
                                        "notify_app: server "
                                        "closed the connection "
                                        "unexpectedly"),
                     NOTIFY_DB_DISCONNECTED);
    ck_assert_int_eq(notify_db_classify("pgsql", 7,
                                        "FATAL:  terminating "
                                        "connection due to "
                                        "administrator command"),
                     NOTIFY_DB_DISCONNECTED);
    ck_assert_int_eq(notify_db_classify("pgsql", 7,
                                        "no connection to the "
                                        "server"),
                     NOTIFY_DB_DISCONNECTED);
    ck_assert_int_eq(notify_db_classify("pgsql", 7,
                                        "ERROR:  prepared "
                                        "statement \"notify_app\" "
                                        "does not exist"),
                     NOTIFY_DB_STALE);
    ck_assert_int_eq(notify_db_classify("pgsql", 7,
                                        "ERROR:  duplicate key "
                                        "value violates unique "
                                        "constraint"),
                     NOTIFY_DB_FATAL);
    ck_assert_int_eq(notify_db_classify("pgsql", 7,
                                        "ERROR:  relation "
                                        "\"x\" does not exist"),
                     NOTIFY_DB_FATAL);
    ck_assert_int_eq(notify_db_classify("mysql", 2006,
                                        "server has gone "
                                        "away"),
                     NOTIFY_DB_FATAL);
}
END_TEST

static apr_status_t count_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    (void)db;
    (void)row;
    ++*(int *)baton;
    return APR_SUCCESS;
}

static apr_status_t refuse_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    (void)baton;
    (void)db;
    (void)row;
    return APR_EGENERAL;
}

START_TEST(stale_statement_prepared_again_alone)
{
    apr_pool_t *p;
    notify_db db;
    const char *args[] = {"x"};
    void *app, *route;
    int rows = 0;

    apr_pool_create(&p, NULL);
    testdb_connect(p, testdb_create(p, "db"), NULL, &db);
    ck_assert_int_eq(
        notify_db_select(&db, p, "notify_app", 1, args, count_row, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(
        notify_db_select(&db, p, "notify_route", 1, args, count_row, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(rows, 0);
    app = apr_hash_get(db.prepared, "notify_app", APR_HASH_KEY_STRING);
    route = apr_hash_get(db.prepared, "notify_route", APR_HASH_KEY_STRING);
    ck_assert_ptr_nonnull(app);
    testdb_exec(&db, "CREATE INDEX x ON api_applications(name)");
    ck_assert_int_eq(
        notify_db_select(&db, p, "notify_app", 1, args, count_row, &rows),
        APR_SUCCESS);
    ck_assert_ptr_ne(
        apr_hash_get(db.prepared, "notify_app", APR_HASH_KEY_STRING), app);
    ck_assert_ptr_eq(
        apr_hash_get(db.prepared, "notify_route", APR_HASH_KEY_STRING), route);
    /* A row the caller cannot use fails the read: never "no row". */
    testdb_exec(&db, "INSERT INTO api_applications (name, token_sha256, "
                     "active, created_at) VALUES ('a', 'x', 1, 'now')");
    ck_assert_int_ne(
        notify_db_select(&db, p, "notify_app", 1, args, refuse_row, NULL),
        APR_SUCCESS);
    ck_assert_msg(strstr(db.error, "could not be read") != NULL, "%s",
                  db.error);
    /* an unknown label is an error, not a crash */
    ck_assert_int_ne(notify_db_select(&db, p, "no_such", 0, NULL, NULL, NULL),
                     APR_SUCCESS);
    apr_pool_destroy(p);
}
END_TEST

Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("failures");

    tcase_add_test(tc, classify_sqlite);
    tcase_add_test(tc, classify_pgsql);
    tcase_add_test(tc, stale_statement_prepared_again_alone);
    suite_add_tcase(s, tc);
    return s;
}
