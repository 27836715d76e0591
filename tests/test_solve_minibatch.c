/*
 * test_solve_minibatch.c -- SPSA's minibatch mode: m problems sharing x,
 * F(x) = (1/m) sum_j L_j(x), each step on a sampled batch.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { M = 12, D = 6 };

/* m problems of different n and both layouts, all realizable by the same
 * x* (tu_make_realizable draws x* from its seed alone) */
static void make_batch(tu_problem tp[M], smr_problem probs[M], double xs[D])
{
    for (int q = 0; q < M; ++q) {
        tu_spec spec = {.n = 100 + 37 * q, .d = D, .layout = q % 2 ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                        .seed = 300 + (uint64_t)q};
        tu_problem_make(&tp[q], &spec);
        tu_make_realizable(&tp[q], xs, 1.0, 1);
        probs[q] = tp[q].p;
    }
}

static double full_loss(const smr_problem probs[M], const double *x)
{
    double F = 0, L;
    for (int q = 0; q < M; ++q) {
        assert_int_equal(smr_loss(&probs[q], x, &L), SMR_OK);
        F += L / M;
    }
    return F;
}

static void test_minibatch_converges(void **state)
{
    (void)state;
    tu_problem tp[M];
    smr_problem probs[M];
    double xs[D];
    make_batch(tp, probs, xs);
    TU_CHECK(full_loss(probs, xs) <= 1e-28, "x* not shared: F(x*) = %g", full_loss(probs, xs));
    for (int64_t B = 1; B <= 4; B *= 2) {
        double x[D] = {0};
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_SPSA;
        o.spsa_batch_count = M;
        o.spsa_batch_size = B;
        o.max_iter = 3000;
        o.gtol_rel = 1e-4;
        o.seed = 11;
        smr_result r;
        assert_int_equal(smr_solve(probs, &o, x, &r), SMR_OK);
        TU_CHECK(r.converged, "B=%lld: %s after %lld", (long long)B, r.message, (long long)r.iterations);
        /* res describes x, with the full objective F */
        double F = full_loss(probs, x);
        TU_CHECK(fabs(F - r.loss) <= 1e-14 * F + 1e-300, "F(x) %.17g, res.loss %.17g", F, r.loss);
        TU_CHECK(F <= 1e-2 * r.initial_loss, "B=%lld: F %g from %g", (long long)B, F, r.initial_loss);
        TU_CHECK(tu_diff_inf(D, x, xs) <= 1e-2, "|x - x*| = %g", tu_diff_inf(D, x, xs));
        /* reproducible from the seed */
        double x2[D] = {0};
        smr_result r2;
        assert_int_equal(smr_solve(probs, &o, x2, &r2), SMR_OK);
        assert_memory_equal(x, x2, sizeof x);
        assert_int_equal(r.loss_evals, r2.loss_evals);
    }
    for (int q = 0; q < M; ++q)
        tu_problem_free(&tp[q]);
}

static void test_minibatch_counts(void **state)
{
    (void)state;
    tu_problem tp[M];
    smr_problem probs[M];
    double xs[D], x[D] = {0};
    make_batch(tp, probs, xs);
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_SPSA;
    o.spsa_batch_count = M;
    o.spsa_batch_size = 3;
    o.spsa_k = 2;
    o.spsa_check_every = 0;
    o.max_iter = 5;
    smr_result r;
    assert_int_equal(smr_solve(probs, &o, x, &r), SMR_OK);
    assert_int_equal(r.iterations, 5);
    /* F at the start (M), 5 steps of B(2k + 2), F at the end (M); the
     * gradient comes with each F */
    assert_int_equal(r.loss_evals, M + 5 * 3 * 6 + M);
    assert_int_equal(r.grad_evals, 2 * M);
    for (int q = 0; q < M; ++q)
        tu_problem_free(&tp[q]);
}

static void test_minibatch_bad_input(void **state)
{
    (void)state;
    tu_problem tp[M];
    smr_problem probs[M];
    double xs[D], x[D] = {1, 2, 3, 4, 5, 6}, x0[D] = {1, 2, 3, 4, 5, 6};
    make_batch(tp, probs, xs);
    smr_options o;
    smr_result r;
    const char *field;
    smr_options_init(&o);
    o.spsa_batch_count = M; /* method auto: not SPSA */
    assert_int_equal(smr_options_check(&o, &field), SMR_ERR_BAD_OPTION);
    assert_string_equal(field, "spsa_batch_count");
    o.method = SMR_METHOD_SPSA;
    o.spsa_batch_size = M + 1;
    assert_int_equal(smr_options_check(&o, &field), SMR_ERR_BAD_OPTION);
    assert_string_equal(field, "spsa_batch_size");
    o.spsa_batch_size = 0;
    assert_int_equal(smr_solve(probs, &o, x, &r), SMR_ERR_BAD_OPTION);
    o.spsa_batch_size = 2;
    o.spsa_batch_count = -1;
    assert_int_equal(smr_solve(probs, &o, x, &r), SMR_ERR_BAD_OPTION);
    o.spsa_batch_count = M;
    probs[7].d = D - 1; /* d must agree */
    assert_int_equal(smr_solve(probs, &o, x, &r), SMR_ERR_BAD_SIZE);
    probs[7].d = D;
    tp[9].A[3] = NAN; /* a NaN in one problem of the list */
    assert_int_equal(smr_solve(probs, &o, x, &r), SMR_ERR_NONFINITE_A);
    assert_int_equal(smr_solve(NULL, &o, x, &r), SMR_ERR_NULL_POINTER);
    assert_memory_equal(x, x0, sizeof x);
    for (int q = 0; q < M; ++q)
        tu_problem_free(&tp[q]);
}

/* a batch of one problem is that problem: with the gradient checks off,
 * the minibatch solve takes the single-problem solve's steps bit for bit
 * (the same directions, losses from the same passes), at the default eps
 * and at one
 * so large that every perturbed loss falls back to a forward pass at the
 * perturbed point (spsa.c, pair_losses) */
static void test_minibatch_of_one(void **state)
{
    (void)state;
    tu_problem tp[M];
    smr_problem probs[M];
    double xs[D];
    make_batch(tp, probs, xs);
    for (int c = 0; c < 4; ++c) { /* problems 4 (row-major), 5 (column-major) */
        int e = c / 2, q = 4 + c % 2;
        double x1[D] = {0}, xb[D] = {0};
        smr_iter_info h1[21], hb[21];
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_SPSA;
        o.spsa_check_every = 0;
        o.spsa_eps = e ? 1e3 : 0.0;
        o.max_iter = 20;
        o.gtol_rel = 0.0;
        o.seed = 3;
        o.history = h1;
        o.history_len = 21;
        smr_result r1, rb;
        assert_int_equal(smr_solve(&probs[q], &o, x1, &r1), SMR_OK);
        o.spsa_batch_count = 1;
        o.spsa_batch_size = 1;
        o.history = hb;
        assert_int_equal(smr_solve(&probs[q], &o, xb, &rb), SMR_OK);
        assert_int_equal(r1.iterations, rb.iterations);
        double dx = tu_diff_inf(D, x1, xb), worst = 0.0;
        for (int64_t it = 1; it <= r1.iterations; ++it)
            worst = fmax(worst, fabs(h1[it].loss - hb[it].loss) / h1[it].loss);
        print_message("problem %d, eps %s: |x1 - xb| = %.3g, step losses agree to %.3g (|x1| %.3g, F %.3g -> %.3g)\n",
                      q, e ? "1e3" : "default", dx, worst, tu_diff_inf(D, x1, (double[D]){0}),
                      r1.initial_loss, r1.loss);
        /* the same passes in the same order: the same bits */
        TU_CHECK(dx == 0.0 && worst == 0.0, "problem %d, eps %d: |x1 - xb| = %.3g, losses %.3g", q, e,
                 dx, worst);
    }
    for (int q = 0; q < M; ++q)
        tu_problem_free(&tp[q]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minibatch_converges),
        cmocka_unit_test(test_minibatch_counts),
        cmocka_unit_test(test_minibatch_bad_input),
        cmocka_unit_test(test_minibatch_of_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
