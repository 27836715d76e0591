/*
 * test_perturbed.c -- the 2k SPSA losses in one pass (src/objective/
 * perturbed.c) against smr_obj_loss_logits on the perturbed logits one by
 * one: at a random point, and at the minimizer of a realizable problem
 * where f ~ b and the differences L(z + eps a) - L(z - eps a), which SPSA
 * divides by 2 eps, are tiny; with eps such that some blocks take the
 * polynomial e^(+-eps a) and others the exponential; with the w
 * regularizer; a perturbation whose
 * exponentials overflow is reported as NaN (the caller recomputes it);
 * bit-identical at a fixed thread count.
 */
#include "testutil.h"
#include "kernels/kernels.h"
#include "objective/objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 20003 /* a partial last group of 8 rows */
#define D 12
#define K 6

static void check_point(tu_problem *tp, const double *x, double eps, const char *what,
                        double tol, double tol_diff)
{
    const smr_problem *p = &tp->p;
    smr_mat A = smr_problem_mat(p);
    tu_rng r;
    tu_seed(&r, 21);
    double Z[D * K];
    for (int q = 0; q < D * K; ++q)
        Z[q] = tu_normal(&r);
    double *z = malloc(sizeof(double) * N), *AZ = malloc(sizeof(double) * N * K);
    double *t = malloc(sizeof(double) * N), *f = malloc(sizeof(double) * N);
    assert_non_null(z);
    assert_non_null(AZ);
    assert_non_null(t);
    assert_non_null(f);
    smr_k_mul(&A, 1, x, D, z, N);
    smr_k_mul(&A, K, Z, D, AZ, N);
    int tcap = 3;
    double *scratch = malloc(sizeof(double) * (size_t)smr_obj_perturbed_scratch(K, tcap));
    assert_non_null(scratch);
    double out[2 * K], out2[2 * K];
    assert_int_equal(smr_obj_perturbed_losses(p, z, AZ, K, eps, scratch, tcap, out), SMR_OK);
    assert_int_equal(smr_obj_perturbed_losses(p, z, AZ, K, eps, scratch, tcap, out2), SMR_OK);
    assert_memory_equal(out, out2, sizeof out);
    double worst = 0.0, worst_diff = 0.0;
    for (int j = 0; j < K; ++j) {
        double ref[2];
        for (int sg = 0; sg < 2; ++sg) {
            double s = sg ? -eps : eps;
            for (int64_t i = 0; i < N; ++i)
                t[i] = z[i] + s * AZ[j * N + i];
            ref[sg] = smr_obj_loss_logits(p, t, 0.0, f);
            double e = fabs(out[2 * j + sg] - ref[sg]) / ref[sg];
            worst = e > worst ? e : worst;
        }
        double dref = ref[0] - ref[1], dgot = out[2 * j] - out[2 * j + 1];
        double e = fabs(dgot - dref) / fabs(dref);
        worst_diff = e > worst_diff ? e : worst_diff;
    }
    TU_CHECK(worst <= tol, "%s: loss relative error %.3g", what, worst);
    TU_CHECK(worst_diff <= tol_diff, "%s: L+ - L- relative error %.3g", what, worst_diff);
    print_message("%s: loss rel. err %.2g, difference rel. err %.2g\n", what, worst, worst_diff);

    /* one direction with entries far beyond exp's range: NaN there only */
    for (int64_t i = 0; i < N; ++i)
        AZ[2 * N + i] = (i % 2 ? 1.0 : -1.0) * 1e3 / eps;
    assert_int_equal(smr_obj_perturbed_losses(p, z, AZ, K, eps, scratch, tcap, out2), SMR_OK);
    for (int q = 0; q < 2 * K; ++q)
        TU_CHECK((q / 2 == 2) == !isfinite(out2[q]), "%s: q %d finite %d", what, q, isfinite(out2[q]));
    free(z);
    free(AZ);
    free(t);
    free(f);
    free(scratch);
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
        tu_rng r;
        tu_seed(&r, 4);
        double x[D];
        for (int j = 0; j < D; ++j)
            x[j] = 0.4 * tu_normal(&r);
        check_point(&tp, x, 1e-4, with_w ? "random, w" : "random", 1e-12, 1e-7);
        /* |eps a| up to ~0.06: blocks by the polynomial (|eps a| <= 1/16)
         * and blocks redone with the exponential, in one pass
         * (perturbed_rows.c) */
        check_point(&tp, x, 5e-3, with_w ? "eps 5e-3, w" : "eps 5e-3", 1e-12, 1e-9);
        if (!with_w) { /* f = b at xs exactly: the losses are O(eps^2) */
            double xs[D];
            tu_make_realizable(&tp, xs, 0.5, 9);
            check_point(&tp, xs, 1e-4, "minimizer", 1e-10, 1e-6);
        }
        tu_problem_free(&tp);
    }
    smr_k_set_threads(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perturbed_losses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
