/* Unit-test helpers: SQLite databases made from build/schema/sqlite.sql,
 * and notify_db handles bound to them as the module binds mod_dbd's. */
#ifndef TESTDB_H
#define TESTDB_H

#include <apr_dbd.h>

#include "notify_db.h"

/* The sqlite3 driver (apr_dbd_init done once). */
const apr_dbd_driver_t *testdb_driver(apr_pool_t *p);

/* A fresh database file under the temp folder, with the schema; its
 * path lives in p and the file is removed with p. */
const char *testdb_create(apr_pool_t *p, const char *name);

/* A connection to path bound into db (its statements: the store's), its
 * writer from ws (may be NULL). Closed with p. */
void testdb_connect(apr_pool_t *p, const char *path, notify_writers *ws,
                    notify_db *db);

/* Runs SQL on db's connection; fails the test on error. */
void testdb_exec(notify_db *db, const char *sql);

/* The first column of the last row of a query, or NULL. */
const char *testdb_scalar(notify_db *db, apr_pool_t *p, const char *sql);

#endif
