/*
 * test_realizable.c -- at a realizable point, b = softmax(A x*), the loss
 * is zero and so is the gradient (up to the rounding of b).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

static void test_realizable_point(void **state)
{
    (void)state;
    const int64_t shapes[][2] = {{1, 1}, {5, 9}, {100, 10}, {3000, 40}, {10000, 3}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; ++si)
        for (int c = 0; c < 2; ++c) {
            int64_t n = shapes[si][0], d = shapes[si][1];
            tu_spec spec = {.n = n, .d = d, .layout = c ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                            .lda_pad = c, .seed = 90 + si};
            tu_problem tp;
            tu_problem_make(&tp, &spec);
            tu_rng r;
            tu_seed(&r, 5 + si);
            double *xs = malloc((size_t)d * sizeof(double));
            double *x0 = calloc((size_t)d, sizeof(double));
            double *g = malloc((size_t)d * sizeof(double));
            for (int64_t j = 0; j < d; ++j)
                xs[j] = tu_normal(&r) / sqrt((double)d);
            /* b = softmax(A x*), in long double, rounded */
            long double *z = malloc((size_t)n * sizeof(long double)), m = -INFINITY, s = 0;
            for (int64_t i = 0; i < n; ++i) {
                z[i] = 0;
                for (int64_t j = 0; j < d; ++j)
                    z[i] += (long double)tu_a(&tp.p, i, j) * xs[j];
                m = fmaxl(m, z[i]);
            }
            for (int64_t i = 0; i < n; ++i)
                s += (z[i] = expl(z[i] - m));
            for (int64_t i = 0; i < n; ++i)
                tp.b[i] = (double)(z[i] / s);
            double L, L0;
            assert_int_equal(smr_loss_gradient(&tp.p, x0, &L0, g), SMR_OK);
            double g0 = tu_norm_inf(d, g);
            assert_int_equal(smr_loss_gradient(&tp.p, xs, &L, g), SMR_OK);
            /* each c_i is a few ulps of f_i, so L ~ n (eps max f)^2 */
            TU_CHECK(L <= 1e-28, "n=%lld d=%lld: L(x*) = %g", (long long)n, (long long)d, L);
            TU_CHECK(n == 1 || L0 > 1e8 * L, "L(0) = %g not >> L(x*) = %g", L0, L);
            TU_CHECK(tu_norm_inf(d, g) <= 1e-9 * g0 || n == 1,
                     "n=%lld d=%lld: |g(x*)| = %g, |g(0)| = %g", (long long)n,
                     (long long)d, tu_norm_inf(d, g), g0);
            TU_CHECK(tu_norm_inf(d, g) <= 1e-15, "|g(x*)| = %g", tu_norm_inf(d, g));
            free(xs);
            free(x0);
            free(g);
            free(z);
            tu_problem_free(&tp);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_realizable_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
