/*
 * test_derivatives.c -- gradient, Hessian and Hessian-vector product
 * against central finite differences and a long-double reference, over
 * shapes from n = 1 to n = 10^4 and d = 1 to 200 (n < d included), both
 * layouts, padded leading dimensions, with and without w and lambda.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int64_t n, d; bool fd_hess, ref_hess; } shape;

static const shape shapes[] = {
    {1, 1, true, true},     {1, 6, true, true},     {3, 7, true, true},
    {7, 3, true, true},     {40, 12, true, true},   {25, 60, true, true},
    {300, 200, true, false}, {10000, 10, true, true}, {10000, 200, false, false},
    /* the d <= 16 register kernel (syrk_small.c): d = 8 and 16 without
     * padding; 20000 x 16 spans several blocks and takes 2 threads */
    {33, 8, true, true},     {20000, 16, false, true},
};

/* four configurations per shape, together covering every option */
static void config(int c, const shape *s, tu_spec *spec)
{
    *spec = (tu_spec){.n = s->n, .d = s->d, .seed = 1000u * (uint64_t)c + (uint64_t)(s->n * 7 + s->d)};
    spec->layout = (c & 1) ? SMR_COL_MAJOR : SMR_ROW_MAJOR;
    spec->lda_pad = (c == 1 || c == 2) ? 3 : 0;
    spec->with_w = (c == 1 || c == 2); /* each layout with and without w */
    spec->lambda = (c >= 2) ? 0.1 * c : 0.0;
}

/* max_j sum_i A_ij^2: the size of the terms H is made of, a floor for
 * error bounds where H cancels to ~0 (n = 1: H = 0 exactly). */
static double term_scale(const smr_problem *p)
{
    double m = 0;
    for (int64_t j = 0; j < p->d; ++j) {
        double s = 0;
        for (int64_t i = 0; i < p->n; ++i)
            s += tu_a(p, i, j) * tu_a(p, i, j);
        m = fmax(m, s);
    }
    return m;
}

static double *random_point(int64_t d, double scale, uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    double *x = malloc((size_t)d * sizeof(double));
    for (int64_t j = 0; j < d; ++j)
        x[j] = scale * tu_normal(&r) / sqrt((double)d);
    return x;
}

static void test_gradient_fd(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; ++si)
        for (int c = 0; c < 4; ++c) {
            tu_spec spec;
            config(c, &shapes[si], &spec);
            tu_problem tp;
            tu_problem_make(&tp, &spec);
            int64_t d = spec.d;
            double *x = random_point(d, 1.5, spec.seed + 1);
            double *g = malloc((size_t)d * sizeof(double));
            double *gfd = malloc((size_t)d * sizeof(double));
            double L;
            assert_int_equal(smr_loss_gradient(&tp.p, x, &L, g), SMR_OK);
            tu_fd_gradient(&tp.p, x, 1e-5, gfd);
            double err = tu_diff_inf(d, g, gfd);
            /* FD error: truncation ~h^2 L''' plus rounding ~eps L / h */
            double tol = 1e-6 * tu_norm_inf(d, g) + 1e-9 * L;
            TU_CHECK(err <= tol, "n=%lld d=%lld config %d: |g - g_fd| = %.3g > %.3g (|g| = %.3g)",
                     (long long)spec.n, (long long)d, c, err, tol, tu_norm_inf(d, g));
            /* the gradient must not be trivially small against the loss */
            TU_CHECK(tu_norm_inf(d, g) > 0 || (spec.n == 1 && !spec.with_w && spec.lambda == 0),
                     "zero gradient");
            free(x);
            free(g);
            free(gfd);
            tu_problem_free(&tp);
        }
}

static void test_gradient_reference(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; ++si)
        for (int c = 0; c < 4; ++c) {
            tu_spec spec;
            config(c, &shapes[si], &spec);
            tu_problem tp;
            tu_problem_make(&tp, &spec);
            int64_t d = spec.d;
            double *x = random_point(d, 2.0, spec.seed + 2);
            double *g = malloc((size_t)d * sizeof(double));
            long double *gr = malloc((size_t)d * sizeof(long double));
            double L;
            assert_int_equal(smr_loss_gradient(&tp.p, x, &L, g), SMR_OK);
            long double Lr = tu_ref_loss_grad(&tp.p, x, gr, NULL);
            TU_NEAR(L, (double)Lr, 1e-13 * fabs((double)Lr));
            double gmax = 0, err = 0;
            for (int64_t j = 0; j < d; ++j) {
                gmax = fmax(gmax, fabs((double)gr[j]));
                err = fmax(err, fabs(g[j] - (double)gr[j]));
            }
            TU_CHECK(err <= 1e-11 * gmax, "n=%lld d=%lld config %d: err %.3g, |g| %.3g",
                     (long long)spec.n, (long long)d, c, err, gmax);
            free(x);
            free(g);
            free(gr);
            tu_problem_free(&tp);
        }
}

static void test_hessian(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; ++si)
        for (int c = 0; c < 4; ++c) {
            const shape *s = &shapes[si];
            tu_spec spec;
            config(c, s, &spec);
            tu_problem tp;
            tu_problem_make(&tp, &spec);
            int64_t d = spec.d, ldh = d + (c & 1) * 2;
            double *x = random_point(d, 1.5, spec.seed + 3);
            double *H = malloc((size_t)(ldh * d) * sizeof(double));
            for (int64_t k = 0; k < ldh * d; ++k)
                H[k] = -777.0; /* sentinel: padding must stay */
            assert_int_equal(smr_hessian(&tp.p, x, H, ldh), SMR_OK);
            double hmax = 0;
            for (int64_t k = 0; k < d; ++k) {
                for (int64_t j = 0; j < d; ++j) {
                    hmax = fmax(hmax, fabs(H[j + k * ldh]));
                    TU_CHECK(H[j + k * ldh] == H[k + j * ldh], "not symmetric");
                }
                for (int64_t j = d; j < ldh; ++j)
                    TU_CHECK(H[j + k * ldh] == -777.0, "padding written");
            }
            if (s->fd_hess) {
                double *Hfd = malloc((size_t)(d * d) * sizeof(double));
                tu_fd_hessian(&tp.p, x, 1e-5, Hfd);
                double err = 0;
                for (int64_t k = 0; k < d; ++k)
                    for (int64_t j = 0; j < d; ++j)
                        err = fmax(err, fabs(H[j + k * ldh] - Hfd[j + k * d]));
                TU_CHECK(err <= 1e-6 * hmax + 1e-12 * term_scale(&tp.p), "n=%lld d=%lld config %d: |H - H_fd| = %.3g, |H| = %.3g",
                         (long long)spec.n, (long long)d, c, err, hmax);
                free(Hfd);
            }
            if (s->ref_hess) {
                long double *Hr = malloc((size_t)(d * d) * sizeof(long double));
                tu_ref_loss_grad(&tp.p, x, NULL, Hr);
                double err = 0;
                for (int64_t k = 0; k < d; ++k)
                    for (int64_t j = 0; j < d; ++j)
                        err = fmax(err, fabs(H[j + k * ldh] - (double)Hr[j + k * d]));
                TU_CHECK(err <= 1e-12 * hmax + 1e-15 * term_scale(&tp.p), "n=%lld d=%lld config %d: |H - H_ref| = %.3g, |H| = %.3g",
                         (long long)spec.n, (long long)d, c, err, hmax);
                free(Hr);
            }
            free(x);
            free(H);
            tu_problem_free(&tp);
        }
}

static void test_hessian_vector(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; ++si)
        for (int c = 0; c < 4; ++c) {
            tu_spec spec;
            config(c, &shapes[si], &spec);
            tu_problem tp;
            tu_problem_make(&tp, &spec);
            int64_t d = spec.d;
            double *x = random_point(d, 1.5, spec.seed + 4);
            double *sv = random_point(d, 1.0, spec.seed + 5);
            double *H = malloc((size_t)(d * d) * sizeof(double));
            double *hv = malloc((size_t)d * sizeof(double));
            assert_int_equal(smr_hessian(&tp.p, x, H, 0), SMR_OK);
            assert_int_equal(smr_hessian_vector(&tp.p, x, sv, hv), SMR_OK);
            double err = 0, ref = 0;
            for (int64_t j = 0; j < d; ++j) {
                double s = 0, a = 0;
                for (int64_t k = 0; k < d; ++k) {
                    s += H[j + k * d] * sv[k];
                    a += fabs(H[j + k * d] * sv[k]);
                }
                err = fmax(err, fabs(hv[j] - s));
                ref = fmax(ref, a);
            }
            TU_CHECK(err <= 1e-12 * ref + 1e-14 * term_scale(&tp.p) * tu_norm_inf(d, sv) * (double)d, "n=%lld d=%lld config %d: |Hv - H*v| = %.3g (scale %.3g)",
                     (long long)spec.n, (long long)d, c, err, ref);
            free(x);
            free(sv);
            free(H);
            free(hv);
            tu_problem_free(&tp);
        }
}

/* smr_loss, smr_gradient and smr_loss_gradient agree bit for bit. */
static void test_entry_points_agree(void **state)
{
    (void)state;
    tu_spec spec = {.n = 500, .d = 17, .layout = SMR_COL_MAJOR, .with_w = true,
                    .lambda = 0.3, .seed = 5};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    double *x = random_point(spec.d, 1.0, 9);
    double g1[17], g2[17], L1, L2;
    assert_int_equal(smr_loss(&tp.p, x, &L1), SMR_OK);
    assert_int_equal(smr_gradient(&tp.p, x, g1), SMR_OK);
    assert_int_equal(smr_loss_gradient(&tp.p, x, &L2, g2), SMR_OK);
    assert_true(L1 == L2);
    assert_memory_equal(g1, g2, sizeof g1);
    free(x);
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_fd),
        cmocka_unit_test(test_gradient_reference),
        cmocka_unit_test(test_hessian),
        cmocka_unit_test(test_hessian_vector),
        cmocka_unit_test(test_entry_points_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
