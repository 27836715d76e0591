/*
 * test_extreme.c -- logits far outside exp's range (|Ax| from 1e3 to 1e200)
 * give finite loss and gradient that agree with a long-double evaluation,
 * and overflow of finite data is reported as SMR_ERR_OVERFLOW.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

/* Magnitude of the terms that make up g_j, for an error bound that holds
 * even where g itself cancels to ~0 (f one-hot). */
static double grad_scale(const smr_problem *p, const double *x)
{
    double s = 0;
    for (int64_t j = 0; j < p->d; ++j) {
        double sj = p->lambda * fabs(x[j]);
        for (int64_t i = 0; i < p->n; ++i) {
            double zi = 0;
            for (int64_t k = 0; k < p->d; ++k)
                zi += tu_a(p, i, k) * x[k];
            double wi = p->w ? p->w[i] : 0;
            sj += fabs(tu_a(p, i, j)) * (2.0 + wi * wi * fabs(zi));
        }
        s = fmax(s, sj);
    }
    return s;
}

static void test_extreme_logits(void **state)
{
    (void)state;
    const double scales[] = {1e3, 1e4, 1e6, 1e200};
    for (size_t k = 0; k < sizeof scales / sizeof *scales; ++k)
        for (int c = 0; c < 4; ++c) {
            bool with_w = (c & 2) && scales[k] < 1e100;
            tu_spec spec = {.n = 200, .d = 5, .layout = (c & 1) ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                            .with_w = with_w, .lambda = scales[k] < 1e100 ? 0.25 : 0.0, .seed = 40 + (uint64_t)c};
            tu_problem tp;
            tu_problem_make(&tp, &spec);
            tu_rng r;
            tu_seed(&r, 77 + k);
            double x[5], g[5];
            long double gr[5];
            for (int j = 0; j < 5; ++j)
                x[j] = scales[k] * tu_normal(&r);
            double zmax = 0;
            for (int64_t i = 0; i < spec.n; ++i) {
                double zi = 0;
                for (int j = 0; j < 5; ++j)
                    zi += tu_a(&tp.p, i, j) * x[j];
                zmax = fmax(zmax, fabs(zi));
            }
            TU_CHECK(zmax >= scales[k], "logits not extreme: %g", zmax);
            double L;
            assert_int_equal(smr_loss_gradient(&tp.p, x, &L, g), SMR_OK);
            long double Lr = tu_ref_loss_grad(&tp.p, x, gr, NULL);
            TU_CHECK(isfinite(L), "loss %g", L);
            TU_NEAR(L, (double)Lr, 1e-13 * fabs((double)Lr));
            double sc = grad_scale(&tp.p, x);
            for (int j = 0; j < 5; ++j) {
                TU_CHECK(isfinite(g[j]), "g[%d] = %g", j, g[j]);
                TU_NEAR(g[j], (double)gr[j], 1e-13 * sc);
            }
            tu_problem_free(&tp);
        }
}

static void test_overflow_reported(void **state)
{
    (void)state;
    double A[6] = {1e300, 1e300, -1e300, 1e300, 2.0, 1.0};
    double b[3] = {0.2, 0.3, 0.5}, w[3] = {1e200, 1, 1};
    double x[2] = {1e10, 1e10}, g[2] = {7, 7}, L = 7;
    smr_problem p = {.n = 3, .d = 2, .A = A, .b = b};
    assert_int_equal(smr_loss_gradient(&p, x, &L, g), SMR_ERR_OVERFLOW);
    assert_true(L == 7 && g[0] == 7 && g[1] == 7);
    /* finite logits, but the regularizer overflows */
    double x2[2] = {1.0, 1.0};
    A[0] = A[1] = 1e150;
    p.w = w;
    assert_int_equal(smr_loss(&p, x2, &L), SMR_ERR_OVERFLOW);
    assert_true(L == 7);
    /* finite logits and no w, but the ridge 1/2 lambda |x|^2 overflows */
    double x3[2] = {1e200, 1e200};
    A[0] = A[1] = 1.0;
    p.w = NULL;
    p.lambda = 1.0;
    assert_int_equal(smr_loss(&p, x3, &L), SMR_ERR_OVERFLOW);
    assert_true(L == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extreme_logits),
        cmocka_unit_test(test_overflow_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
