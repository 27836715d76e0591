/*
 * test_solve_control.c -- the driver's contract: exact iteration and time
 * limits, callback stops (whatever it returns), history and verbose output,
 * option checking, x and res untouched on usage errors, a diverging fixed
 * step, overflow during a solve, a singular unregularized problem, exact
 * evaluation counts, no allocation inside the loop, thread option.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <cblas.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void make(tu_problem *tp, int64_t n, int64_t d, bool w, double lambda, uint64_t seed)
{
    tu_spec spec = {.n = n, .d = d, .with_w = w, .w_scale = 0.2, .lambda = lambda, .seed = seed};
    tu_problem_make(tp, &spec);
    double *xs = malloc((size_t)d * sizeof(double));
    tu_make_realizable(tp, xs, 1.0, seed + 1);
    free(xs);
}

/* A solve from x = 0 takes z = A 0 = 0 without reading A (loss.c, A was
 * checked finite): its start must be what smr_loss and smr_gradient give
 * at 0 by the product, bit for bit for the loss, on both layouts, with
 * w and lambda. */
static void test_zero_start_exact(void **state)
{
    (void)state;
    for (int lay = 0; lay < 2; ++lay) {
        tu_problem tp;
        tu_spec spec = {.n = 700, .d = 9, .with_w = true, .w_scale = 0.3, .lambda = 1e-3,
                        .seed = 77, .layout = lay ? SMR_COL_MAJOR : SMR_ROW_MAJOR};
        tu_problem_make(&tp, &spec);
        double x[9] = {0}, g[9], L, gn = 0;
        assert_int_equal(smr_loss(&tp.p, x, &L), SMR_OK);
        assert_int_equal(smr_gradient(&tp.p, x, g), SMR_OK);
        for (int j = 0; j < 9; ++j)
            gn += g[j] * g[j];
        smr_iter_info h[2];
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_LBFGS;
        o.max_iter = 1;
        o.history = h;
        o.history_len = 2;
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        TU_CHECK(r.initial_loss == L && h[0].loss == L, "layout %d: start %.17g, smr_loss %.17g",
                 lay, r.initial_loss, L);
        TU_NEAR(r.initial_grad_norm, sqrt(gn), 1e-14 * sqrt(gn));
        tu_problem_free(&tp);
    }
}

static void test_iteration_limit_exact(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 500, 10, false, 0, 1);
    for (int m = SMR_METHOD_GD; m <= SMR_METHOD_SPSA; ++m)
        for (int64_t lim = 1; lim <= 4; ++lim) {
            double x[10] = {0};
            smr_options o;
            smr_options_init(&o);
            o.method = (smr_method)m;
            o.max_iter = lim;
            o.gtol_rel = 1e-15;
            smr_result r;
            assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
            assert_int_equal(r.status, SMR_STATUS_MAX_ITER);
            assert_int_equal(r.iterations, lim);
            assert_false(r.converged);
        }
    tu_problem_free(&tp);
}

static void test_time_limit(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 2000, 10, false, 0, 2);
    double x[10] = {0};
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_SPSA;
    o.max_iter = 100000000;
    o.max_time = 0.05;
    smr_result r;
    assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
    assert_int_equal(r.status, SMR_STATUS_MAX_TIME);
    TU_CHECK(r.seconds >= 0.05 && r.seconds < 5.0, "seconds %g", r.seconds);
    /* tiny limit: stops after exactly one iteration */
    o.max_time = 1e-12;
    memset(x, 0, sizeof x);
    assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
    assert_int_equal(r.status, SMR_STATUS_MAX_TIME);
    assert_int_equal(r.iterations, 1);
    tu_problem_free(&tp);
}

typedef struct { int64_t stop_at, calls; int ret; double x0; } cb_data;

static int stopper(const smr_iter_info *info, const double *x, void *user)
{
    cb_data *c = user;
    c->calls++;
    c->x0 = x[0];
    return info->iter >= c->stop_at ? c->ret : 0;
}

static void test_callback_stop(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 500, 10, false, 0, 3);
    const int rets[] = {1, -7, 42, SMR_ERR_NO_MEMORY};
    for (int m = SMR_METHOD_GD; m <= SMR_METHOD_SPSA; ++m)
        for (int k = 0; k < 4; ++k) {
            double x[10] = {0};
            cb_data cd = {.stop_at = k, .ret = rets[k]};
            smr_options o;
            smr_options_init(&o);
            o.method = (smr_method)m;
            o.gtol_rel = 1e-15;
            o.callback = stopper;
            o.callback_data = &cd;
            smr_result r;
            /* the callback's value never leaks into the return code */
            assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
            assert_int_equal(r.status, SMR_STATUS_CALLBACK);
            assert_int_equal(r.iterations, k);
            assert_int_equal(cd.calls, k + 1); /* iteration 0 included */
        }
    tu_problem_free(&tp);
}

static void test_history_and_verbose(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 400, 6, true, 1e-3, 4);
    smr_iter_info h[3];
    memset(h, 0, sizeof h);
    double x[6] = {0};
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_GD;
    o.history = h;
    o.history_len = 3;
    o.verbose = mem;
    smr_result r;
    assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
    fclose(mem);
    TU_CHECK(r.iterations >= 3, "iterations %lld", (long long)r.iterations);
    for (int k = 0; k < 3; ++k) {
        assert_int_equal(h[k].iter, k);
        assert_true(isfinite(h[k].loss) && isfinite(h[k].grad_norm));
        assert_true(k == 0 || h[k].loss_evals > h[k - 1].loss_evals);
        assert_true(k == 0 || h[k].elapsed >= h[k - 1].elapsed);
    }
    assert_true(h[0].step == 0 && h[1].step > 0);
    assert_true(h[0].loss == r.initial_loss);
    /* a header and one line per iteration, iteration 0 included */
    int lines = 0;
    for (size_t i = 0; i < len; ++i)
        lines += buf[i] == '\n';
    assert_int_equal(lines, 1 + r.iterations + 1);
    assert_non_null(strstr(buf, "loss"));
    free(buf);
    tu_problem_free(&tp);
}

static void test_bad_options(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 50, 4, false, 0, 5);
    static const char *const fields[] = {
        "method", "max_iter", "max_time", "gtol_abs", "gtol_rel", "ftol", "xtol",
        "threads", "history_len", "armijo_c1", "max_backtracks", "gd_step",
        "gd_step_size", "newton_mu0", "lbfgs_memory", "spsa_k", "spsa_eps", "spsa_lr", "spsa_step",
        "spsa_dir", "spsa_check_every"};
    for (size_t c = 0; c < sizeof fields / sizeof *fields; ++c)
        for (int variant = 0; variant < 2; ++variant) {
            smr_options o;
            smr_options_init(&o);
            const char *f = fields[c];
            double bad = variant ? NAN : -1.0;
            if (!strcmp(f, "method")) o.method = variant ? (smr_method)99 : (smr_method)-1;
            if (!strcmp(f, "max_iter")) o.max_iter = variant ? 0 : -5;
            if (!strcmp(f, "max_time")) o.max_time = variant ? INFINITY : bad;
            if (!strcmp(f, "gtol_abs")) o.gtol_abs = bad;
            if (!strcmp(f, "gtol_rel")) o.gtol_rel = variant ? 1.0 : bad;
            if (!strcmp(f, "ftol")) o.ftol = bad;
            if (!strcmp(f, "xtol")) o.xtol = bad;
            if (!strcmp(f, "threads")) o.threads = variant ? 100000 : -1;
            if (!strcmp(f, "history_len")) { o.history_len = variant ? 3 : -1; o.history = NULL; }
            if (!strcmp(f, "armijo_c1")) o.armijo_c1 = variant ? 0.5 : 0.0;
            if (!strcmp(f, "max_backtracks")) o.max_backtracks = variant ? 0 : -3;
            if (!strcmp(f, "gd_step")) o.gd_step = (smr_gd_step)(variant ? 7 : -1);
            if (!strcmp(f, "gd_step_size")) { o.gd_step = SMR_GD_FIXED; o.gd_step_size = variant ? 0.0 : bad; }
            if (!strcmp(f, "newton_mu0")) o.newton_mu0 = bad;
            if (!strcmp(f, "lbfgs_memory")) o.lbfgs_memory = variant ? 0 : 1025;
            if (!strcmp(f, "spsa_k")) o.spsa_k = variant ? 0 : 5000;
            if (!strcmp(f, "spsa_eps")) o.spsa_eps = bad;
            if (!strcmp(f, "spsa_lr")) o.spsa_lr = variant ? 0.0 : bad;
            if (!strcmp(f, "spsa_step")) o.spsa_step = variant ? INFINITY : bad;
            if (!strcmp(f, "spsa_dir")) o.spsa_dir = (smr_direction)(variant ? 2 : -1);
            if (!strcmp(f, "spsa_check_every")) o.spsa_check_every = -1;
            const char *got = NULL;
            assert_int_equal(smr_options_check(&o, &got), SMR_ERR_BAD_OPTION);
            TU_CHECK(got && !strcmp(got, f), "field %s reported as %s", f, got ? got : "(null)");
            double x[4] = {1, 2, 3, 4}, x0[4] = {1, 2, 3, 4};
            smr_result r, r0;
            memset(&r, 0x3c, sizeof r);
            r0 = r;
            assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_ERR_BAD_OPTION);
            assert_memory_equal(x, x0, sizeof x);
            assert_memory_equal(&r, &r0, sizeof r);
        }
    smr_options o;
    smr_options_init(&o);
    const char *got = "x";
    assert_int_equal(smr_options_check(&o, &got), SMR_OK);
    assert_null(got);
    tu_problem_free(&tp);
}

static void test_bad_problem(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 50, 4, true, 0, 6);
    double x[4] = {1, 2, 3, 4}, x0[4] = {1, 2, 3, 4};
    smr_result r, r0;
    memset(&r, 0x3c, sizeof r);
    r0 = r;
    for (int m = 0; m < SMR_METHOD_COUNT_; ++m) {
        smr_options o;
        smr_options_init(&o);
        o.method = (smr_method)m;
        tp.A[7] = NAN; /* NaN injection into A */
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_ERR_NONFINITE_A);
        tp.A[7] = 1.0;
        tp.w[3] = INFINITY;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_ERR_NONFINITE_W);
        tp.w[3] = 1.0;
        x[2] = NAN;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_ERR_NONFINITE_X);
        x[2] = 3;
        assert_int_equal(smr_solve(&tp.p, &o, NULL, &r), SMR_ERR_NULL_POINTER);
        assert_int_equal(smr_solve(&tp.p, &o, x, NULL), SMR_ERR_NULL_POINTER);
        assert_int_equal(smr_solve(NULL, &o, x, &r), SMR_ERR_NULL_POINTER);
        assert_memory_equal(x, x0, sizeof x);
        assert_memory_equal(&r, &r0, sizeof r);
    }
    tu_problem_free(&tp);
}

/* a fixed step far too large ends with a clear status and a finite x, the
 * best point seen */
static void test_diverging_fixed_step(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 500, 8, true, 1e-3, 7);
    const double steps[] = {1e2, 1e6, 1e300};
    for (int k = 0; k < 3; ++k) {
        double x[8] = {0};
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_GD;
        o.gd_step = SMR_GD_FIXED;
        o.gd_step_size = steps[k];
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        TU_CHECK(r.status == SMR_STATUS_DIVERGED || r.status == SMR_STATUS_NONFINITE,
                 "step %g: status %s", steps[k], smr_status_name(r.status));
        /* moderately too large: the rise is caught before any overflow */
        if (k == 0)
            TU_CHECK(r.status == SMR_STATUS_DIVERGED && r.iterations == 9,
                     "step %g: %s after %lld", steps[k], smr_status_name(r.status),
                     (long long)r.iterations);
        assert_false(r.converged);
        double L;
        assert_int_equal(smr_loss(&tp.p, x, &L), SMR_OK);
        assert_true(L == r.loss && L <= r.initial_loss);
    }
    tu_problem_free(&tp);
}

/* line-search methods survive trial points whose loss overflows */
static void test_overflow_during_solve(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 200, 5, true, 0, 8);
    for (int64_t i = 0; i < 200; ++i)
        tp.w[i] = 1e150; /* 1/2 |w o Ax|^2 overflows for |Ax| > ~1e4 */
    for (int m = SMR_METHOD_GD; m <= SMR_METHOD_SPSA; ++m) {
        double x[5] = {1e-3, 0, 0, 0, 0};
        smr_options o;
        smr_options_init(&o);
        o.method = (smr_method)m;
        o.max_iter = 200;
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        for (int j = 0; j < 5; ++j)
            assert_true(isfinite(x[j]));
        TU_CHECK(isfinite(r.loss) && r.loss <= r.initial_loss,
                 "method %d: %s after %lld it, L %g, L0 %g", m, smr_status_name(r.status),
                 (long long)r.iterations, r.loss, r.initial_loss);
        /* a huge gradient has a finite norm: |g| = inf once passed the
         * relative test inf <= 1e-9 inf and was reported as converged */
        TU_CHECK(isfinite(r.grad_norm) && isfinite(r.initial_grad_norm),
                 "method %d: |g| %g, |g0| %g", m, r.grad_norm, r.initial_grad_norm);
        if (r.converged) { /* only with a genuinely small gradient */
            double g[5];
            assert_int_equal(smr_gradient(&tp.p, x, g), SMR_OK);
            TU_CHECK(tu_norm_inf(5, g) <= 1e-6 * r.initial_grad_norm, "|g| %g", tu_norm_inf(5, g));
        }
    }
    tu_problem_free(&tp);
}

/* constant column, no regularization: H singular at every x */
static void test_singular(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 400, 6, false, 0, 9);
    for (int64_t i = 0; i < 400; ++i)
        tp.A[i * 6 + 2] = 1.0;
    for (int m = 0; m < SMR_METHOD_COUNT_; ++m) {
        double x[6] = {0.5, -0.5, 3, 0.1, 0, 0.2};
        smr_options o;
        smr_options_init(&o);
        o.method = (smr_method)m;
        o.max_iter = 3000;
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        double g[6], L;
        assert_int_equal(smr_loss_gradient(&tp.p, x, &L, g), SMR_OK);
        for (int j = 0; j < 6; ++j)
            assert_true(isfinite(x[j]));
        if (r.converged)
            TU_CHECK(sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2] + g[3] * g[3] + g[4] * g[4] + g[5] * g[5]) <=
                         1e-4 * r.initial_grad_norm,
                     "method %d claims %s at |g| %g", m, smr_status_name(r.status), r.grad_norm);
        if (m == SMR_METHOD_NEWTON || m == SMR_METHOD_AUTO)
            TU_CHECK(r.converged, "newton: %s", r.message);
    }
    tu_problem_free(&tp);
}

/* Far from the origin without regularization the softmax saturates: the
 * gradient is ~1e-22 and no decrease is measurable.  That is a failure to
 * make progress, reported at once -- not a convergence. */
static void test_plateau_not_converged(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 500, 8, false, 0, 13);
    for (int m = SMR_METHOD_GD; m <= SMR_METHOD_NEWTON; ++m) {
        double x[8];
        for (int j = 0; j < 8; ++j)
            x[j] = j % 2 ? 1000.0 : -1000.0;
        smr_options o;
        smr_options_init(&o);
        o.method = (smr_method)m;
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        TU_CHECK(r.status == SMR_STATUS_LINE_SEARCH && r.iterations <= 2,
                 "method %d: %s after %lld iterations", m, smr_status_name(r.status),
                 (long long)r.iterations);
        assert_false(r.converged);
        TU_CHECK(r.loss > 0.4, "L = %g", r.loss);
    }
    tu_problem_free(&tp);
}

/* counts are exact: GD fixed step and pure SPSA follow formulas */
static void test_counts_exact(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 300, 5, true, 1e-2, 10);
    double x[5] = {0};
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_GD;
    o.gd_step = SMR_GD_FIXED;
    o.gd_step_size = 1e-3;
    o.max_iter = 7;
    o.gtol_rel = 0;
    smr_result r;
    assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
    assert_int_equal(r.iterations, 7);
    /* start, 7 steps, and the final evaluation at the returned x */
    assert_int_equal(r.loss_evals, 9);
    assert_int_equal(r.grad_evals, 9);
    assert_int_equal(r.hess_evals, 0);
    smr_options_init(&o);
    o.method = SMR_METHOD_SPSA;
    o.spsa_k = 3;
    o.max_iter = 11;
    o.spsa_check_every = 0;
    memset(x, 0, sizeof x);
    assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
    /* start (1 + 1), 11 steps of 2k + 1 losses, the final evaluation (1 + 1) */
    assert_int_equal(r.loss_evals, 1 + 11 * 7 + 1);
    assert_int_equal(r.grad_evals, 2);
    o.spsa_check_every = 5;
    memset(x, 0, sizeof x);
    assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
    /* + 2 checks (after steps 5 and 10), each one loss and one gradient,
     * and the final evaluation */
    assert_int_equal(r.grad_evals, 1 + 2 + 1);
    assert_int_equal(r.loss_evals, 1 + 11 * 7 + 2 + 1);
    tu_problem_free(&tp);
}

/* Gradient descent's first step (1/|g|, a unit move) can be far too long:
 * with w and lambda the minimum along -g lies ~10^5 times closer, and
 * halving took 14-23 trials to reach it.  The search shortens a refused GD
 * step to the minimizer of the quadratic through L(x), g.p and L(x + t p),
 * kept within 1/10 .. 1/2 of it (linesearch.c), so the first iteration
 * takes a handful of trials (20 evaluations with halving on these
 * problems, which fails the bound).  Newton keeps halving: its first
 * trial, t = 1, has the right scale. */
static void test_gd_first_step_interpolated(void **state)
{
    (void)state;
    for (int rule = 0; rule < 2; ++rule)
        for (uint64_t seed = 40; seed < 43; ++seed) {
            tu_problem tp;
            make(&tp, 2000, 10, true, 1e-3, seed);
            double x[10] = {0};
            smr_options o;
            smr_options_init(&o);
            o.method = SMR_METHOD_GD;
            o.gd_step = rule ? SMR_GD_ARMIJO : SMR_GD_BB;
            o.max_iter = 1;
            smr_result r;
            assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
            assert_int_equal(r.iterations, 1);
            assert_true(r.loss < r.initial_loss);
            /* the start, the trials, the final evaluation */
            TU_CHECK(r.loss_evals <= 2 + 8, "rule %d seed %llu: %lld evaluations", rule,
                     (unsigned long long)seed, (long long)r.loss_evals);
            tu_problem_free(&tp);
        }
}

typedef struct { size_t in_use; int changed; } alloc_probe;

static int probe(const smr_iter_info *info, const double *x, void *user)
{
    (void)x;
    alloc_probe *a = user;
    struct mallinfo2 mi = mallinfo2();
    if (info->iter == 1)
        a->in_use = mi.uordblks;
    else if (info->iter > 1 && mi.uordblks != a->in_use)
        a->changed++;
    return 0;
}

static void test_no_allocation_in_loop(void **state)
{
    (void)state;
    tu_problem tp;
    /* large enough that the products, the Hessian and the SPSA losses run
     * on 2 threads (their scratch must come from the workspace too) */
    make(&tp, 150000, 9, true, 1e-3, 11);
    for (int m = SMR_METHOD_GD; m <= SMR_METHOD_SPSA; ++m) {
        double x[9] = {0};
        alloc_probe a = {0};
        smr_options o;
        smr_options_init(&o);
        o.threads = 2;
        o.method = (smr_method)m;
        o.max_iter = 50;
        o.gtol_rel = 1e-15;
        o.callback = probe;
        o.callback_data = &a;
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        TU_CHECK(a.changed == 0, "method %d: heap use changed in %d iterations", m, a.changed);
    }
    tu_problem_free(&tp);
}

static void test_threads_option(void **state)
{
    (void)state;
    tu_problem tp;
    make(&tp, 2000, 16, false, 0, 12);
    int before = openblas_get_num_threads();
    double x1[16] = {0}, x2[16] = {0};
    smr_options o;
    smr_options_init(&o);
    o.threads = 2;
    smr_result r1, r2;
    assert_int_equal(smr_solve(&tp.p, &o, x1, &r1), SMR_OK);
    assert_int_equal(openblas_get_num_threads(), before); /* restored */
    assert_int_equal(smr_solve(&tp.p, &o, x2, &r2), SMR_OK);
    assert_true(r1.converged && r2.converged);
    assert_memory_equal(x1, x2, sizeof x1); /* fixed thread count: same bits */
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_start_exact),
        cmocka_unit_test(test_iteration_limit_exact),
        cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_history_and_verbose),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bad_problem),
        cmocka_unit_test(test_diverging_fixed_step),
        cmocka_unit_test(test_overflow_during_solve),
        cmocka_unit_test(test_singular),
        cmocka_unit_test(test_plateau_not_converged),
        cmocka_unit_test(test_counts_exact),
        cmocka_unit_test(test_gd_first_step_interpolated),
        cmocka_unit_test(test_no_allocation_in_loop),
        cmocka_unit_test(test_threads_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
