/*
 * test_solve_rates.c -- how the methods converge: Newton quadratically,
 * gradient descent linearly, SPSA reduces the loss a hundredfold in a
 * bounded number of steps, its gradient estimate is unbiased, and a run is
 * reproducible bit for bit from its seed.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { HIST = 20001 };
static smr_iter_info hist[HIST];

static void make(tu_problem *tp, int64_t n, int64_t d, bool w, double lambda,
                 uint64_t seed)
{
    tu_spec spec = {.n = n, .d = d, .with_w = w, .w_scale = 0.2, .lambda = lambda,
                    .seed = seed};
    tu_problem_make(tp, &spec);
    double *xs = malloc((size_t)d * sizeof(double));
    tu_make_realizable(tp, xs, 1.0, seed + 1);
    free(xs);
}

static smr_result solve(tu_problem *tp, smr_options *o, double *x)
{
    o->history = hist;
    o->history_len = HIST;
    smr_result r;
    memset(x, 0, (size_t)tp->p.d * sizeof(double));
    assert_int_equal(smr_solve(&tp->p, o, x, &r), SMR_OK);
    return r;
}

/* g_{k+1} <= C g_k^2 over the final steps (in units of g0), and at least
 * two such steps: the log of the gradient roughly doubles. */
static void test_newton_quadratic(void **state)
{
    (void)state;
    for (int c = 0; c < 3; ++c) {
        tu_problem tp;
        make(&tp, 3000, 25, c == 1, c == 2 ? 1e-3 : 0.0, 40 + (uint64_t)c);
        double x[25];
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_NEWTON;
        o.gtol_rel = 1e-14;
        smr_result r = solve(&tp, &o, x);
        TU_CHECK(r.converged, "%s", r.message);
        int64_t K = r.iterations, quad = 0;
        double g0 = hist[0].grad_norm;
        for (int64_t k = 1; k <= K; ++k) {
            double prev = hist[k - 1].grad_norm / g0, cur = hist[k].grad_norm / g0;
            /* the local phase, above the gradient's rounding floor */
            if (prev < 1e-2 && cur > 1e-12) {
                TU_CHECK(cur <= 100.0 * prev * prev,
                         "case %d step %lld: |g|/|g0| %.3g -> %.3g is not quadratic", c,
                         (long long)k, prev, cur);
                ++quad;
            }
        }
        /* case 1 (strong w) is nearly quadratic: one step from 1 to 1e-12 */
        TU_CHECK(quad >= (c == 1 ? 0 : 1), "case %d: no step in the local phase (%lld iterations)",
                 c, (long long)K);
        TU_CHECK(K <= 12, "case %d: %lld iterations", c, (long long)K);
        /* exact count: one Hessian per iteration, plus one for an attempt
         * that ended the solve without completing (roundoff) */
        int64_t extra = r.status == SMR_STATUS_GTOL ? 0 : 1;
        TU_CHECK(r.hess_evals == r.iterations + extra, "hess %lld iter %lld status %s",
                 (long long)r.hess_evals, (long long)r.iterations, smr_status_name(r.status));
        tu_problem_free(&tp);
    }
}

/* Armijo GD: |g_k| / |g_0| decays geometrically, at a steady rate:
 * over every window of 20 iterations the gradient falls by at least a
 * fixed factor, and the overall rate is well below 1 but not superlinear. */
static void test_gd_linear(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 2000, 10, false, 0.0, 50);
    double x[10];
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_GD;
    o.gd_step = SMR_GD_ARMIJO;
    o.max_iter = 20000;
    smr_result r = solve(&tp, &o, x);
    TU_CHECK(r.converged, "%s", r.message);
    int64_t K = r.iterations;
    TU_CHECK(K >= 40, "too few iterations to see a rate: %lld", (long long)K);
    double rate = pow(hist[K].grad_norm / hist[0].grad_norm, 1.0 / (double)K);
    TU_CHECK(rate < 0.99 && rate > 0.05, "overall rate %g", rate);
    for (int64_t k = 0; k + 20 <= K; k += 20) {
        double ratio = hist[k + 20].grad_norm / hist[k].grad_norm;
        TU_CHECK(ratio < 0.9, "window at %lld: ratio %g", (long long)k, ratio);
        /* linear, not faster: no window beats the overall rate by 1e6 */
        TU_CHECK(ratio > 1e-6 * pow(rate, 20), "window at %lld: ratio %g", (long long)k, ratio);
    }
    tu_problem_free(&tp);
}

static void test_spsa_hundredfold(void **state)
{
    (void)state;
    for (int dir = 0; dir < 2; ++dir) {
        tu_problem tp;
        make(&tp, 1000, 10, false, 0.0, 60);
        double x[10];
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_SPSA;
        o.spsa_dir = (smr_direction)dir;
        o.max_iter = 400;
        o.gtol_rel = 0;
        o.spsa_check_every = 0;
        o.seed = 17;
        smr_result r = solve(&tp, &o, x);
        TU_CHECK(r.loss <= 1e-2 * r.initial_loss, "dir %d: L %g from %g in %lld steps", dir,
                 r.loss, r.initial_loss, (long long)r.iterations);
        /* monotone: refused steps keep x */
        for (int64_t k = 1; k <= r.iterations; ++k)
            assert_true(hist[k].loss <= hist[k - 1].loss);
        tu_problem_free(&tp);
    }
}

/* mean of many estimates -> the gradient; error ~ sqrt((d + 1)/K) |g| */
static void test_spsa_unbiased(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 300, 6, true, 0.01, 70);
    double x[6] = {0.3, -0.2, 0.1, 0.5, -0.4, 0.2}, g[6], gh[6], mean[6] = {0};
    assert_int_equal(smr_gradient(&tp.p, x, g), SMR_OK);
    int K = 4000;
    for (int it = 0; it < K; ++it) {
        assert_int_equal(smr_spsa_gradient(&tp.p, x, 4, 1e-4, SMR_DIR_GAUSSIAN, 3, (uint64_t)it, gh),
                         SMR_OK);
        for (int j = 0; j < 6; ++j)
            mean[j] += gh[j] / K;
    }
    double gn = sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2] + g[3] * g[3] + g[4] * g[4] + g[5] * g[5]);
    double err = 0;
    for (int j = 0; j < 6; ++j)
        err += (mean[j] - g[j]) * (mean[j] - g[j]);
    err = sqrt(err);
    /* standard error of the mean: sqrt((d + k + 1)/k / (K)) |g| ~ 0.02 |g| */
    TU_CHECK(err <= 0.08 * gn, "|mean - g| = %g, |g| = %g", err, gn);
    /* bad input: own codes, ghat untouched; a NaN in A is named lazily */
    double keep[6] = {7, 7, 7, 7, 7, 7};
    assert_int_equal(smr_spsa_gradient(&tp.p, x, 0, 1e-4, SMR_DIR_GAUSSIAN, 3, 0, keep), SMR_ERR_BAD_ARGUMENT);
    assert_int_equal(smr_spsa_gradient(&tp.p, x, 4, -1, SMR_DIR_GAUSSIAN, 3, 0, keep), SMR_ERR_BAD_ARGUMENT);
    tp.A[4] = NAN;
    assert_int_equal(smr_spsa_gradient(&tp.p, x, 4, 1e-4, SMR_DIR_GAUSSIAN, 3, 0, keep), SMR_ERR_NONFINITE_A);
    for (int j = 0; j < 6; ++j)
        assert_true(keep[j] == 7);
    /* and a single estimate is far from it: the test can tell */
    TU_CHECK(tu_diff_inf(6, gh, g) > 1e-3 * gn, "single estimate exact?");
    tu_problem_free(&tp);
}

static void test_reproducible(void **state)
{
    (void)state;
    for (int m = SMR_METHOD_GD; m <= SMR_METHOD_SPSA; ++m) {
        tu_problem tp;
        make(&tp, 800, 12, true, 1e-3, 80);
        double x1[12], x2[12];
        smr_options o;
        smr_options_init(&o);
        o.method = (smr_method)m;
        o.seed = 99;
        o.max_iter = 300;
        smr_result r1 = solve(&tp, &o, x1);
        smr_iter_info h1[301];
        memcpy(h1, hist, sizeof h1);
        smr_result r2 = solve(&tp, &o, x2);
        assert_memory_equal(x1, x2, sizeof x1);
        assert_true(r1.loss == r2.loss && r1.iterations == r2.iterations &&
                    r1.loss_evals == r2.loss_evals);
        for (int64_t k = 0; k <= r1.iterations && k < 301; ++k)
            assert_true(h1[k].loss == hist[k].loss);
        /* a different seed changes SPSA's path */
        if (m == SMR_METHOD_SPSA) {
            o.seed = 100;
            smr_result r3 = solve(&tp, &o, x2);
            /* the path differs (the final losses may round alike when
             * both runs end at the minimum) */
            bool differs = memcmp(x1, x2, sizeof x1) != 0 || r3.iterations != r1.iterations;
            for (int64_t k = 1; k <= r3.iterations && k < 301 && !differs; ++k)
                differs = h1[k].loss != hist[k].loss;
            TU_CHECK(differs, "seeds 99 and 100 gave the same SPSA path (L %.17g, %lld it)",
                     r3.loss, (long long)r3.iterations);
        }
        tu_problem_free(&tp);
    }
}

/* spsa_step > 0: every step is x <- x - eta g^ with g^ the public estimate
 * at (x_t, seed, t), taken even when the loss rises; a step far too large
 * stops with DIVERGED (or NONFINITE), never loops to max_iter. */
typedef struct { double X[41][5]; int64_t k; } fixed_trace;
static int keep_x(const smr_iter_info *info, const double *x, void *user)
{
    fixed_trace *t = user;
    if (info->iter <= 40)
        memcpy(t->X[info->iter], x, sizeof t->X[0]), t->k = info->iter + 1;
    return 0;
}

static void test_spsa_fixed_step(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 200, 5, false, 0.0, 90);
    static fixed_trace t;
    double x[5], gh[5];
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_SPSA;
    o.spsa_step = 0.5;
    o.spsa_eps = 1e-4;
    o.spsa_k = 3;
    o.seed = 5;
    o.max_iter = 40;
    o.gtol_rel = 0;
    o.spsa_check_every = 0;
    o.callback = keep_x;
    o.callback_data = &t;
    solve(&tp, &o, x);
    assert_int_equal(t.k, 41);
    for (int64_t i = 0; i < 40; ++i) {
        assert_int_equal(smr_spsa_gradient(&tp.p, t.X[i], 3, 1e-4, SMR_DIR_GAUSSIAN, 5,
                                           (uint64_t)i, gh), SMR_OK);
        for (int j = 0; j < 5; ++j)
            TU_CHECK(fabs(t.X[i + 1][j] - (t.X[i][j] - 0.5 * gh[j])) <=
                         1e-9 * (fabs(t.X[i][j]) + 0.5 * fabs(gh[j])),
                     "step %lld, coordinate %d: %.17g vs %.17g", (long long)i, j, t.X[i + 1][j],
                     t.X[i][j] - 0.5 * gh[j]);
    }
    /* a large step is taken although the loss rises (no refusal); the
     * solve ends unconverged and returns the best iterate, the start */
    o.callback = NULL;
    o.spsa_step = 1e6;
    o.max_iter = 200;
    smr_result r = solve(&tp, &o, x);
    TU_CHECK(hist[1].loss > hist[0].loss, "step 1: L %g -> %g", hist[0].loss, hist[1].loss);
    TU_CHECK(!r.converged, "status %s", smr_status_name(r.status));
    assert_true(r.loss == r.initial_loss);
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newton_quadratic),
        cmocka_unit_test(test_gd_linear),
        cmocka_unit_test(test_spsa_hundredfold),
        cmocka_unit_test(test_spsa_unbiased),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_spsa_fixed_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
