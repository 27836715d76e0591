/* test_api.c -- version query, error sentences, problem checking. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SMR_VERSION_MAJOR,
             SMR_VERSION_MINOR, SMR_VERSION_PATCH);
    assert_string_equal(smr_version(), want);
    assert_string_equal(smr_version(), SMR_VERSION_STRING);
    assert_int_equal(smr_version_number(), SMR_VERSION_NUMBER);
}

static void test_strerror_distinct(void **state)
{
    (void)state;
    for (int c = 0; c < SMR_ERR_COUNT_; ++c) {
        const char *m = smr_strerror(c);
        assert_non_null(m);
        assert_true(strlen(m) > 5);
        assert_string_not_equal(m, "unknown error code");
        for (int k = 0; k < c; ++k)
            assert_string_not_equal(m, smr_strerror(k));
    }
    assert_string_equal(smr_strerror(-1), "unknown error code");
    assert_string_equal(smr_strerror(SMR_ERR_COUNT_), "unknown error code");
    assert_string_equal(smr_strerror(1 << 20), "unknown error code");
}

static void test_problem_check(void **state)
{
    (void)state;
    tu_spec spec = {.n = 20, .d = 4, .layout = SMR_COL_MAJOR, .lda_pad = 2,
                    .with_w = true, .seed = 3};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    /* padding holds NaN (testutil) and must not be read */
    assert_int_equal(smr_problem_check(&tp.p), SMR_OK);
    tp.A[2 * 22 + 5] = INFINITY;
    assert_int_equal(smr_problem_check(&tp.p), SMR_ERR_NONFINITE_A);
    assert_int_equal(smr_problem_check(NULL), SMR_ERR_NULL_POINTER);
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_strerror_distinct),
        cmocka_unit_test(test_problem_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
