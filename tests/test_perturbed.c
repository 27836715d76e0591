/*
 * test_perturbed.c -- the 2k SPSA losses in one pass (src/objective/
 * perturbed.c) against a long-double two-pass loss of the perturbed logits
 * (from one dgemm A Z) one by one: at a random point, and at the minimizer of a
 * realizable problem where f ~ b and the differences L(z + eps a) -
 * L(z - eps a), which SPSA divides by 2 eps, are tiny; with eps such that
 * some blocks take the polynomial e^(+-eps a) and others the exponential;
 * with the w regularizer; a perturbation whose exponentials overflow is
 * reported as NaN (the caller recomputes it); bit-identical at a fixed
 * thread count; A Z formed per block from row-major, padded and
 * column-major A, at 1 and 2 threads, k = 6 and 300 (blocks of 1344 rows
 * at d = 12, a partial last one); and smr_spsa_gradient against the
 * estimate from smr_loss, where the one pass serves and where every loss
 * falls back.
 */
#include "testutil.h"
#include "kernels/kernels.h"
#include "objective/objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 20003 /* a partial last group of 8 rows */
#define D 12

/* the data and w parts of the loss at logits t, in long double by the
 * two-pass softmax: a reference independent of the library's code */
static long double ref_loss(const smr_problem *p, const double *t)
{
    long double mx = t[0], s = 0.0L, L = 0.0L;
    for (int64_t i = 1; i < p->n; ++i)
        mx = t[i] > mx ? t[i] : mx;
    for (int64_t i = 0; i < p->n; ++i)
        s += expl(t[i] - mx);
    for (int64_t i = 0; i < p->n; ++i) {
        long double c = expl(t[i] - mx) / s - p->b[i];
        long double wz = p->w ? (long double)p->w[i] * t[i] : 0.0L;
        L += c * c + wz * wz;
    }
    return 0.5L * L;
}

/* eps < 0: eps = -eps / max |a_j|, the moves' largest |eps a| is -eps */
static void check_point(tu_problem *tp, const double *x, int K, double eps,
                        const char *what, double tol, double tol_diff)
{
    const smr_problem *p = &tp->p;
    smr_mat A = smr_problem_mat(p);
    tu_rng r;
    tu_seed(&r, 21);
    double *Z = malloc(sizeof(double) * D * K);
    double *z = malloc(sizeof(double) * N), *AZ = malloc(sizeof(double) * N * K);
    double *t = malloc(sizeof(double) * N);
    double *out = malloc(sizeof(double) * 4 * K), *out2 = out + 2 * K;
    assert_non_null(Z);
    assert_non_null(z);
    assert_non_null(AZ);
    assert_non_null(t);
    assert_non_null(out);
    for (int q = 0; q < D * K; ++q)
        Z[q] = tu_normal(&r);
    smr_k_mul(&A, 1, x, D, z, N);
    smr_k_mul(&A, K, Z, D, AZ, N); /* the reference's a_j, by one dgemm */
    if (eps < 0) { /* -eps: the largest |eps a| wanted */
        double amax = 0.0;
        for (int64_t q = 0; q < N * K; ++q)
            amax = fmax(amax, fabs(AZ[q]));
        eps = -eps / amax;
    }
    int tcap = 3;
    double *scratch = malloc(sizeof(double) * (size_t)smr_obj_perturbed_scratch(K, D, tcap));
    assert_non_null(scratch);
    assert_int_equal(smr_obj_perturbed_losses(p, &A, z, NULL, Z, K, eps, scratch, tcap, out), SMR_OK);
    assert_int_equal(smr_obj_perturbed_losses(p, &A, z, NULL, Z, K, eps, scratch, tcap, out2), SMR_OK);
    assert_memory_equal(out, out2, sizeof(double) * 2 * K);
    double worst = 0.0, worst_diff = 0.0;
    for (int pass = 0; pass < 2; ++pass) { /* 2 threads, then 1 */
        int old = pass ? smr_k_set_threads(1) : 0;
        if (pass)
            assert_int_equal(smr_obj_perturbed_losses(p, &A, z, NULL, Z, K, eps, scratch, tcap, out), SMR_OK);
        for (int j = 0; j < K; ++j) {
            long double ref[2];
            for (int sg = 0; sg < 2; ++sg) {
                double s = sg ? -eps : eps;
                for (int64_t i = 0; i < N; ++i)
                    t[i] = z[i] + s * AZ[(int64_t)j * N + i];
                ref[sg] = ref_loss(p, t);
                double e = (double)(fabsl(out[2 * j + sg] - ref[sg]) / ref[sg]);
                worst = e > worst ? e : worst;
            }
            long double dref = ref[0] - ref[1];
            double dgot = out[2 * j] - out[2 * j + 1];
            double e = (double)(fabsl(dgot - dref) / fabsl(dref));
            worst_diff = e > worst_diff ? e : worst_diff;
        }
        if (pass)
            smr_k_set_threads(old);
    }
    /* the shift and normaliser of z given, as the forward pass hands them
     * over (zs), instead of the pass's own sweep: the same losses to
     * rounding */
    long double mx = z[0], at = 0.0L;
    for (int64_t i = 1; i < N; ++i)
        mx = z[i] > mx ? z[i] : mx;
    for (int64_t i = 0; i < N; ++i)
        at += expl((long double)z[i] - mx);
    double zs[2] = {(double)mx, (double)at};
    assert_int_equal(smr_obj_perturbed_losses(p, &A, z, zs, Z, K, eps, scratch, tcap, out2),
                     SMR_OK);
    double worst_zs = 0.0;
    for (int q = 0; q < 2 * K; ++q)
        worst_zs = fmax(worst_zs, fabs(out2[q] - out[q]) / fabs(out[q]));
    TU_CHECK(worst_zs <= tol, "%s: with zs given, %.3g from the pass's own", what, worst_zs);
    TU_CHECK(worst <= tol, "%s: loss relative error %.3g", what, worst);
    TU_CHECK(worst_diff <= tol_diff, "%s: L+ - L- relative error %.3g", what, worst_diff);
    print_message("%s (k %d): loss rel. err %.2g, difference rel. err %.2g\n", what, K,
                  worst, worst_diff);

    /* one direction with logits far beyond exp's range: NaN there only */
    for (int i = 0; i < D; ++i)
        Z[2 * D + i] *= 1e3 / eps;
    assert_int_equal(smr_obj_perturbed_losses(p, &A, z, NULL, Z, K, eps, scratch, tcap, out2), SMR_OK);
    for (int q = 0; q < 2 * K; ++q)
        TU_CHECK((q / 2 == 2) == !isfinite(out2[q]), "%s: q %d finite %d", what, q, isfinite(out2[q]));
    free(Z);
    free(z);
    free(AZ);
    free(t);
    free(out);
    free(scratch);
}

/* a random point, entries N(0, 0.4^2) */
static void random_x(uint64_t seed, double x[D])
{
    tu_rng r;
    tu_seed(&r, seed);
    for (int j = 0; j < D; ++j)
        x[j] = 0.4 * tu_normal(&r);
}

static void test_perturbed_losses(void **state)
{
    (void)state;
    int old = smr_k_set_threads(2);
    for (int with_w = 0; with_w < 2; ++with_w) {
        tu_spec spec = {.n = N, .d = D, .layout = SMR_ROW_MAJOR, .a_scale = 1.0,
                        .with_w = with_w, .w_scale = 0.05, .seed = 31 + (uint64_t)with_w};
        tu_problem tp;
        tu_problem_make(&tp, &spec);
        double x[D];
        random_x(4, x);
        check_point(&tp, x, 6, 1e-4, with_w ? "random, w" : "random", 1e-12, 1e-7);
        /* |eps a| up to ~0.06: blocks by the polynomial (|eps a| <= 1/16)
         * and blocks redone with the exponential, in one pass
         * (perturbed_rows.c) */
        check_point(&tp, x, 6, 5e-3, with_w ? "eps 5e-3, w" : "eps 5e-3", 1e-12, 1e-9);
        /* |eps a| at most 0.9 2^-10 (eps from the data), near the top of
         * the short series' range: every block by exp_pm_tiny, none redone
         * (without its x^3 term the loss is 1e-10 off) */
        check_point(&tp, x, 6, -0.9 * 0x1p-10, with_w ? "|eps a| <= 0.9 2^-10, w"
                                                       : "|eps a| <= 0.9 2^-10", 1e-14, 1e-9);
        if (!with_w) { /* f = b at xs exactly: the losses are O(eps^2) */
            double xs[D];
            tu_make_realizable(&tp, xs, 0.5, 9);
            check_point(&tp, xs, 6, 1e-4, "minimizer", 1e-10, 1e-6);
        }
        tu_problem_free(&tp);
    }
    smr_k_set_threads(old);
}

/* A Z is formed a block at a time from A's own layout: column-major
 * (read in place through its strides) and padded row-major A; k = 6 is one
 * partial group of directions at the AVX-512 level, k = 300 19 groups of
 * 16 (38 of 8 at AVX2), each re-reading the block */
static void test_perturbed_layouts(void **state)
{
    (void)state;
    int old = smr_k_set_threads(2);
    for (int lay = 0; lay < 2; ++lay) {
        tu_spec spec = {.n = N, .d = D, .layout = lay ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                        .lda_pad = 3, .a_scale = 1.0, .seed = 41 + (uint64_t)lay};
        tu_problem tp;
        tu_problem_make(&tp, &spec);
        double x[D];
        random_x(5, x);
        check_point(&tp, x, 6, 1e-4, lay ? "column-major" : "row-major, padded", 1e-12, 1e-7);
        check_point(&tp, x, 300, 1e-4, lay ? "column-major" : "row-major, padded", 1e-12, 1e-7);
        tu_problem_free(&tp);
    }
    smr_k_set_threads(old);
}

/* smr_spsa_gradient against the estimate formed from smr_loss at
 * x +- eps z_j with the same directions: at eps = 1e-4 (the one pass) and
 * at eps = 1e3, where every perturbed loss overflows the one pass and is
 * recomputed by a forward pass at the perturbed point (spsa.c) */
static void test_spsa_gradient_direct(void **state)
{
    (void)state;
    enum { n = 5003, d = 7, k = 5 };
    tu_spec spec = {.n = n, .d = d, .layout = SMR_ROW_MAJOR, .a_scale = 1.0,
                    .with_w = true, .w_scale = 0.05, .lambda = 0.01, .seed = 51};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    double x[d], xp[d], z[k][d], gh[d], ref[d];
    tu_rng r;
    tu_seed(&r, 6);
    for (int i = 0; i < d; ++i)
        x[i] = 0.3 * tu_normal(&r);
    for (int e = 0; e < 2; ++e) {
        double eps = e ? 1e3 : 1e-4;
        assert_int_equal(smr_spsa_gradient(&tp.p, x, k, eps, SMR_DIR_GAUSSIAN, 8, 2, gh), SMR_OK);
        memset(ref, 0, sizeof ref);
        for (int j = 0; j < k; ++j) {
            smr_k_direction(8, 2, (uint64_t)j, 0, d, z[j]);
            double l[2];
            for (int sg = 0; sg < 2; ++sg) {
                for (int i = 0; i < d; ++i)
                    xp[i] = x[i] + (sg ? -eps : eps) * z[j][i];
                assert_int_equal(smr_loss(&tp.p, xp, &l[sg]), SMR_OK);
            }
            for (int i = 0; i < d; ++i)
                ref[i] += (l[0] - l[1]) / (2.0 * eps) / k * z[j][i];
        }
        double err = tu_diff_inf(d, gh, ref), scale = 0.0;
        for (int i = 0; i < d; ++i)
            scale = fmax(scale, fabs(ref[i]));
        TU_CHECK(err <= (e ? 1e-12 : 1e-6) * scale, "eps %g: |ghat - ref| = %.3g of %.3g", eps,
                 err, scale);
        print_message("eps %g: |ghat - ref| / |ref| = %.2g\n", eps, err / scale);
    }
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perturbed_losses),
        cmocka_unit_test(test_perturbed_layouts),
        cmocka_unit_test(test_spsa_gradient_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
