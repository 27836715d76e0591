/*
 * test_newton_system.c -- the Cholesky solve and the Newton step:
 * solutions of known systems, SMR_ERR_NOT_POSDEF on indefinite matrices
 * (with the right-hand side untouched), and (H + mu I) step = -g.
 */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_cholesky_known(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 3);
    enum { d = 30, ld = 33 };
    double B[d * ld], M[ld * d], X[d * 2], R[d * 2];
    for (int k = 0; k < d * d; ++k)
        B[k] = tu_normal(&r);
    /* M = B^T B + I (SPD), X known, R = M X */
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) {
            double s = (i == j);
            for (int k = 0; k < d; ++k)
                s += B[k + i * d] * B[k + j * d];
            M[i + j * ld] = s;
        }
    for (int k = 0; k < 2 * d; ++k)
        X[k] = tu_normal(&r);
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < d; ++i) {
            double s = 0;
            for (int j = 0; j < d; ++j)
                s += M[i + j * ld] * X[j + c * d];
            R[i + c * d] = s;
        }
    assert_int_equal(smr_cholesky_solve(d, M, ld, 2, R), SMR_OK);
    TU_CHECK(tu_diff_inf(2 * d, R, X) <= 1e-9 * tu_norm_inf(2 * d, X), "err %g",
             tu_diff_inf(2 * d, R, X));
}

static void test_cholesky_indefinite(void **state)
{
    (void)state;
    double M[4] = {1, 2, 2, 1}; /* eigenvalues 3, -1 */
    double Bv[2] = {1, 1}, B0[2] = {1, 1};
    assert_int_equal(smr_cholesky_solve(2, M, 2, 1, Bv), SMR_ERR_NOT_POSDEF);
    assert_memory_equal(Bv, B0, sizeof Bv);
    double Z[4] = {0, 0, 0, 0};
    assert_int_equal(smr_cholesky_solve(2, Z, 0, 1, Bv), SMR_ERR_NOT_POSDEF);
    double Mn[4] = {1, NAN, NAN, 1};
    assert_int_equal(smr_cholesky_solve(2, Mn, 2, 1, Bv), SMR_ERR_NONFINITE_X);
    assert_int_equal(smr_cholesky_solve(2, M, 1, 1, Bv), SMR_ERR_BAD_LD);
    assert_int_equal(smr_cholesky_solve(0, M, 2, 1, Bv), SMR_ERR_BAD_SIZE);
    assert_int_equal(smr_cholesky_solve(2, NULL, 2, 1, Bv), SMR_ERR_NULL_POINTER);
    assert_memory_equal(Bv, B0, sizeof Bv);
}

/* the smallest eigenvalue of a d x d symmetric matrix (LAPACK dsyev) */
static double min_eig(int64_t d, const double *H)
{
    double *C = malloc((size_t)(d * d) * sizeof(double));
    double *ev = malloc((size_t)d * sizeof(double));
    memcpy(C, H, (size_t)(d * d) * sizeof(double));
    assert_int_equal(LAPACKE_dsyev(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)d, C, (lapack_int)d, ev), 0);
    double m = ev[0];
    free(C);
    free(ev);
    return m;
}

static void test_newton_step(void **state)
{
    (void)state;
    tu_spec spec = {.n = 400, .d = 12, .layout = SMR_COL_MAJOR, .with_w = true,
                    .lambda = 0.01, .seed = 8};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    int64_t d = spec.d;
    double x[12], g[12], s[12], H[144];
    for (int j = 0; j < d; ++j)
        x[j] = 0.1 * (j - 5);
    for (int c = 0; c < 2; ++c) {
        double mu = c ? 0.5 : 0.0;
        assert_int_equal(smr_newton_step(&tp.p, x, mu, s), SMR_OK);
        assert_int_equal(smr_gradient(&tp.p, x, g), SMR_OK);
        assert_int_equal(smr_hessian(&tp.p, x, H, 0), SMR_OK);
        double err = 0;
        for (int i = 0; i < d; ++i) {
            double r = g[i] + mu * s[i];
            for (int j = 0; j < d; ++j)
                r += H[i + j * d] * s[j];
            err = fmax(err, fabs(r));
        }
        TU_CHECK(err <= 1e-10 * tu_norm_inf(d, g), "residual %g, |g| %g", err, tu_norm_inf(d, g));
    }
    tu_problem_free(&tp);
}

/* Without regularization H can be indefinite; the Newton step then says
 * so, and a large enough shift mu cures it. */
static void test_newton_step_indefinite(void **state)
{
    (void)state;
    tu_spec spec = {.n = 30, .d = 4, .seed = 21, .a_scale = 3.0};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    double x[4], H[16], s[4] = {9, 9, 9, 9};
    tu_rng r;
    tu_seed(&r, 4);
    double lmin = 0;
    for (int tries = 0; tries < 200 && lmin >= 0; ++tries) {
        for (int j = 0; j < 4; ++j)
            x[j] = tu_normal(&r);
        assert_int_equal(smr_hessian(&tp.p, x, H, 0), SMR_OK);
        lmin = min_eig(4, H);
    }
    TU_CHECK(lmin < 0, "no indefinite Hessian found (min eig %g)", lmin);
    assert_int_equal(smr_newton_step(&tp.p, x, 0.0, s), SMR_ERR_NOT_POSDEF);
    for (int j = 0; j < 4; ++j)
        assert_true(s[j] == 9);
    assert_int_equal(smr_newton_step(&tp.p, x, -2 * lmin + 1e-3, s), SMR_OK);
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cholesky_known),
        cmocka_unit_test(test_cholesky_indefinite),
        cmocka_unit_test(test_newton_step),
        cmocka_unit_test(test_newton_step_indefinite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
