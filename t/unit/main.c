/* Runs every unit-test suite of the APR-only core. A new suite is one
 * declaration and one line in the suites array. */
#include <stdlib.h>

#include <apr_general.h>
#include <check.h>

Suite *validate_suite(void);
Suite *params_suite(void);
Suite *db_suite(void);
Suite *store_suite(void);
Suite *writer_suite(void);
Suite *rules_suite(void);
Suite *mandrill_suite(void);
Suite *create_suite(void);
Suite *worker_suite(void);
Suite *webhook_suite(void);
Suite *twilio_suite(void);
Suite *metrics_suite(void);
Suite *json_out_suite(void);

typedef Suite *suite_ctor_fn(void);

static suite_ctor_fn *const suites[] = {
    validate_suite, params_suite,   db_suite,     store_suite,  writer_suite,
    rules_suite,    mandrill_suite, create_suite, worker_suite, webhook_suite,
    twilio_suite,   metrics_suite,  json_out_suite,
};

int main(void)
{
    SRunner *sr;
    apr_size_t i;
    int failed;

    /* Before any fork: each test's fixture then creates its own pool. */
    if (apr_initialize() != APR_SUCCESS) {
        return EXIT_FAILURE;
    }
    sr = srunner_create(NULL);
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        srunner_add_suite(sr, suites[i]());
    }
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
