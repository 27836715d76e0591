/* test_api.c -- version query, error sentences, problem checking. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "kernels/kernels.h"

#include <math.h>
#include <stdlib.h>
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

/* smr_simd names the level the kernels run at: the CPU's own, capped by
 * SOFTMAXREG_SIMD (CTest runs every suite with it unset, "avx2" and
 * "portable").  The CPU's level is found here independently of the
 * library, so a cap that is ignored, or one that raises the level, fails. */
static void test_simd(void **state)
{
    (void)state;
    int cpu = 0;
    /* the library's vector paths are built with GCC only (src/kernels/simd.h):
     * with clang, as on other architectures, everything is portable */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    __builtin_cpu_init();
    cpu = __builtin_cpu_supports("x86-64-v4") ? 2 : __builtin_cpu_supports("x86-64-v3") ? 1 : 0;
#endif
    const char *env = getenv("SOFTMAXREG_SIMD");
    int want = cpu;
    if (env && !strcmp(env, "portable"))
        want = 0;
    else if (env && !strcmp(env, "avx2") && cpu > 1)
        want = 1;
    static const char *const name[] = {"portable", "avx2", "avx512"};
    print_message("cpu level %s, SOFTMAXREG_SIMD=%s, smr_simd() = %s\n", name[cpu],
                  env ? env : "(unset)", smr_simd());
    assert_string_equal(smr_simd(), name[want]);
    assert_int_equal(smr_k_simd_level(), want);
    /* fixed for the process: changing the environment later does nothing */
    setenv("SOFTMAXREG_SIMD", want ? "portable" : "avx512", 1);
    assert_string_equal(smr_simd(), name[want]);
    if (env)
        setenv("SOFTMAXREG_SIMD", env, 1);
    else
        unsetenv("SOFTMAXREG_SIMD");
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
        cmocka_unit_test(test_simd),
        cmocka_unit_test(test_strerror_distinct),
        cmocka_unit_test(test_problem_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
