/* testdb.h */
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <check.h>

#include "notify_sql.h"
#include "testdb.h"

/* apr_dbd keeps the driver's name in the pool of the first lookup: that
 * pool must outlive every test (CK_FORK=no runs them in one process). */
const apr_dbd_driver_t *testdb_driver(apr_pool_t *p)
{
    static apr_pool_t *forever;
    const apr_dbd_driver_t *driver = NULL;

    (void)p;
    if (!forever) {
        apr_pool_create(&forever, NULL);
        apr_dbd_init(forever);
    }
    ck_assert_int_eq(apr_dbd_get_driver(forever, "sqlite3", &driver),
                     APR_SUCCESS);
    return driver;
}

void testdb_exec(notify_db *db, const char *sql)
{
    int nrows;

    ck_assert_msg(apr_dbd_query(db->driver, db->handle, &nrows, sql) == 0,
                  "%s: %s", sql, apr_dbd_error(db->driver, db->handle, 1));
}

const char *testdb_scalar(notify_db *db, apr_pool_t *p, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;

    ck_assert_msg(apr_dbd_select(db->driver, p, db->handle, &res, sql, 0) == 0,
                  "%s: %s", sql, apr_dbd_error(db->driver, db->handle, 1));
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        const char *e = apr_dbd_get_entry(db->driver, row, 0);
        v = e ? apr_pstrdup(p, e) : NULL;
    }
    return v;
}

/* The schema file, one statement at a time (the driver runs one each);
 * comments go first, they may hold semicolons. */
static void load_schema(notify_db *db, apr_pool_t *p)
{
    char *text, *stmt, *last, *line, *rest, *sql = "";
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;

    ck_assert_int_eq(
        apr_file_open(&f, "build/schema/sqlite.sql", APR_FOPEN_READ, 0, p),
        APR_SUCCESS);
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    n = (apr_size_t)fi.size;
    text = apr_pcalloc(p, n + 1);
    apr_file_read_full(f, text, n, &n);
    apr_file_close(f);
    for (line = apr_strtok(text, "\n", &rest); line;
         line = apr_strtok(NULL, "\n", &rest)) {
        if (strncmp(line, "--", 2) != 0) {
            sql = apr_pstrcat(p, sql, line, "\n", NULL);
        }
    }
    for (stmt = apr_strtok(sql, ";", &last); stmt;
         stmt = apr_strtok(NULL, ";", &last)) {
        if (strspn(stmt, " \n") == strlen(stmt)) {
            continue;
        }
        /* A PRAGMA answers a row, which apr_dbd_query calls an error. */
        if (strstr(stmt, "PRAGMA")) {
            testdb_scalar(db, p, stmt);
        }
        else {
            testdb_exec(db, stmt);
        }
    }
}

static apr_status_t remove_files(void *path)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    apr_file_remove(path, p);
    apr_file_remove(apr_pstrcat(p, path, "-wal", NULL), p);
    apr_file_remove(apr_pstrcat(p, path, "-shm", NULL), p);
    apr_file_remove(apr_pstrcat(p, path, "-mod_notify.lock", NULL), p);
    apr_pool_destroy(p);
    return APR_SUCCESS;
}

const char *testdb_create(apr_pool_t *p, const char *name)
{
    const char *tmp;
    char *path;
    notify_db db;

    ck_assert_int_eq(apr_temp_dir_get(&tmp, p), APR_SUCCESS);
    path = apr_psprintf(p, "%s/notify-unit-%" APR_PID_T_FMT "-%s.db", tmp,
                        getpid(), name);
    remove_files(path);
    apr_pool_cleanup_register(p, path, remove_files, apr_pool_cleanup_null);
    testdb_connect(p, path, NULL, &db);
    load_schema(&db, p);
    return path;
}

static apr_status_t close_handle(void *data)
{
    notify_db *db = data;

    apr_dbd_close(db->driver, db->handle);
    return APR_SUCCESS;
}

void testdb_connect(apr_pool_t *p, const char *path, notify_writers *ws,
                    notify_db *db)
{
    const apr_dbd_driver_t *driver = testdb_driver(p);
    apr_dbd_t *handle = NULL;
    apr_pool_t *conn_pool;
    const char *warning;
    notify_db *copy;

    apr_pool_create(&conn_pool, p);
    ck_assert_int_eq(apr_dbd_open(driver, conn_pool, path, &handle),
                     APR_SUCCESS);
    ck_assert_int_eq(notify_db_bind(db, p, driver, handle,
                                    apr_hash_make(conn_pool), conn_pool,
                                    notify_sql_statements(p, "sqlite3"), ws,
                                    &warning),
                     APR_SUCCESS);
    ck_assert_ptr_null(warning);
    /* Closed before its pool goes (cleanups run last-registered first). */
    copy = apr_pmemdup(p, db, sizeof(*db));
    apr_pool_cleanup_register(conn_pool, copy, close_handle,
                              apr_pool_cleanup_null);
}
