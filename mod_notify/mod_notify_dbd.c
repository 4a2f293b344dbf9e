/* mod_dbd's side of the module: the statements registered for each
 * database that serves the module, and connections for one request or
 * one pass of the worker, taken with ap_dbd_open and given back with
 * ap_dbd_close around the steps that need them (never held through a
 * provider call). */
#include <apr_strings.h>

#include "mod_notify.h"
#include "notify_sql.h"
#include <http_log.h>

APLOG_USE_MODULE(notify);

const notify_statement *notify_dbd_statements(const char *driver)
{
    return driver && strcmp(driver, "sqlite3") == 0
               ? notify_process.statements_sqlite
               : notify_process.statements_other;
}

/* The server's name and where it was defined, for a start-up message. */
static const char *server_where(server_rec *s)
{
    if (!s->is_virtual) {
        return "the main server";
    }
    return apr_psprintf(s->process->pconf, "the virtual host at %s:%u",
                        s->defn_name ? s->defn_name : "?",
                        s->defn_line_number);
}

int notify_dbd_check_config(server_rec *s)
{
    server_rec *sp;
    int refused = 0;

    for (sp = s; sp; sp = sp->next) {
        notify_srv_conf *sc =
            ap_get_module_config(sp->module_config, &notify_module);

        if (!sc->uses_module) {
            continue;
        }
        if (!ap_find_linked_module("mod_dbd.c")) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL,
                         "mod_notify: a notify handler is set but mod_dbd is "
                         "not loaded: load it before mod_notify (LoadModule "
                         "dbd_module modules/mod_dbd.so; on Debian: a2enmod "
                         "dbd)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!sc->dbd_driver) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL,
                         "mod_notify: a notify handler is set in %s but no "
                         "DBDriver applies to it: add DBDriver (sqlite3 or "
                         "pgsql) and DBDParams to it or to the main server",
                         server_where(sp));
            refused = 1;
        }
    }
    return refused ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

int notify_dbd_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) * prepare;
    module *dbd_module = ap_find_linked_module("mod_dbd.c");
    apr_hash_t *seen = apr_hash_make(ptemp);
    const notify_statement *st;
    server_rec *sp;

    notify_process.dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    notify_process.dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    notify_process.statements_sqlite = notify_sql_statements(pconf, "sqlite3");
    notify_process.statements_other = notify_sql_statements(pconf, "other");
    for (sp = s; sp; sp = sp->next) {
        notify_srv_conf *sc =
            ap_get_module_config(sp->module_config, &notify_module);
        void *dbd_conf;

        if (!sc->uses_module) {
            continue;
        }
        if (!prepare || !notify_process.dbd_open) {
            /* notify_dbd_check_config refused this already. */
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        /* Virtual hosts without DBD directives share the main server's
         * mod_dbd configuration: registering again there would only make
         * mod_dbd warn (AH02653). A database that does not serve the
         * module never gets its statements. */
        dbd_conf = dbd_module
                       ? ap_get_module_config(sp->module_config, dbd_module)
                       : (void *)sp;
        if (apr_hash_get(seen, &dbd_conf, sizeof(dbd_conf))) {
            continue;
        }
        apr_hash_set(seen, apr_pmemdup(ptemp, &dbd_conf, sizeof(dbd_conf)),
                     sizeof(dbd_conf), sp);
        for (st = notify_dbd_statements(sc->dbd_driver); st->label; st++) {
            if (!st->since_upgrade) {
                prepare(sp, st->sql, st->label);
            }
        }
    }
    return OK;
}

static apr_status_t release(void *use)
{
    notify_dbd_use *u = use;

    if (u->dbd) {
        notify_process.dbd_close(u->s, u->dbd);
        u->dbd = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t notify_dbd_open(void *use, notify_db **db, const char **why)
{
    notify_dbd_use *u = use;
    const char *warning = NULL;
    apr_status_t rv;

    if (!notify_process.dbd_open) {
        *why = "mod_dbd is not loaded (LoadModule dbd_module)";
        return APR_EGENERAL;
    }
    u->dbd = notify_process.dbd_open(u->pool, u->s);
    if (!u->dbd) {
        *why = "no database connection (see mod_dbd's messages)";
        return APR_EGENERAL;
    }
    /* Given back on every path, also when the request ends early. */
    apr_pool_cleanup_register(u->pool, u, release, apr_pool_cleanup_null);
    rv = notify_db_bind(&u->db, u->pool, u->dbd->driver, u->dbd->handle,
                        u->dbd->prepared, u->dbd->pool,
                        notify_dbd_statements(apr_dbd_name(u->dbd->driver)),
                        notify_process.writers, &warning);
    if (warning) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, u->s, "SQLite: %s", warning);
    }
    if (rv != APR_SUCCESS) {
        *why = apr_pstrcat(u->pool, "database set-up: ",
                           u->db.error ? u->db.error : "failed", NULL);
        notify_dbd_close(u, NULL);
        return rv;
    }
    *db = &u->db;
    return APR_SUCCESS;
}

void notify_dbd_close(void *use, notify_db *db)
{
    notify_dbd_use *u = use;

    (void)db;
    apr_pool_cleanup_kill(u->pool, u, release);
    release(u);
}
