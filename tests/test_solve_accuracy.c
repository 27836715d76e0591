/*
 * test_solve_accuracy.c -- every method, with default stopping rules
 * (SPSA: its own gradient tolerance), reaches its tolerance on realizable
 * problems and on regularized ones, for several shapes including n < d with
 * a ridge; the returned loss is within 1e-8 (relative) of the minimum.
 *
 * The minimum: 0 for realizable problems without w and lambda; otherwise
 * the loss Newton reaches with gtol_rel = 1e-13, which GD must match
 * independently.
 */
#include "testutil.h"
#include "objective/objective.h" /* SMR_FUSED_COL_MAX_D */

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t n, d;
    bool with_w;
    double lambda;
    smr_layout layout;
} family;

static const family families[] = {
    {2000, 20, false, 0.0, SMR_ROW_MAJOR},  /* realizable, L* = 0 */
    {500, 8, false, 0.0, SMR_COL_MAJOR},    /* realizable, L* = 0 */
    {3000, 30, true, 0.0, SMR_ROW_MAJOR},   /* row weights        */
    {1000, 10, false, 1e-3, SMR_COL_MAJOR}, /* ridge              */
    {40, 120, false, 1e-2, SMR_ROW_MAJOR},  /* n < d with ridge   */
    {400, 16, true, 1e-4, SMR_COL_MAJOR},   /* both               */
};

static void make(const family *f, tu_problem *tp, double *xs, uint64_t seed)
{
    tu_spec spec = {.n = f->n, .d = f->d, .layout = f->layout, .with_w = f->with_w,
                    .w_scale = 0.2, .lambda = f->lambda, .seed = seed};
    tu_problem_make(tp, &spec);
    tu_make_realizable(tp, xs, 1.0, seed + 1);
}

static double minimum(const family *f, tu_problem *tp, double *xs)
{
    if (!f->with_w && f->lambda == 0.0)
        return 0.0;
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_NEWTON;
    o.gtol_rel = 1e-13;
    o.max_iter = 200;
    double *x = calloc((size_t)f->d, sizeof(double));
    smr_result r;
    assert_int_equal(smr_solve(&tp->p, &o, x, &r), SMR_OK);
    TU_CHECK(r.converged, "reference solve: %s", r.message);
    (void)xs;
    free(x);
    return r.loss;
}

static void run_method(smr_method m)
{
    for (size_t fi = 0; fi < sizeof families / sizeof *families; ++fi) {
        const family *f = &families[fi];
        tu_problem tp;
        double *xs = malloc((size_t)f->d * sizeof(double));
        make(f, &tp, xs, 100 + fi);
        double Lmin = minimum(f, &tp, xs);
        smr_options o;
        smr_options_init(&o);
        o.method = m;
        if (m == SMR_METHOD_GD)
            o.max_iter = 20000;
        if (m == SMR_METHOD_SPSA) {
            o.max_iter = 20000;
            o.gtol_rel = 1e-4;
            o.seed = 5;
        }
        double *x = calloc((size_t)f->d, sizeof(double));
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        TU_CHECK(r.converged, "%s on family %zu: %s after %lld iterations (|g| %.3g, |g0| %.3g)",
                 smr_method_name(m), fi, smr_status_name(r.status), (long long)r.iterations,
                 r.grad_norm, r.initial_grad_norm);
        /* L-BFGS: its line search costs a few trials per iteration, not
         * the 60 of a search that can only halve (first versions: 94
         * evaluations in 7 iterations) */
        if (m == SMR_METHOD_LBFGS)
            TU_CHECK(r.loss_evals <= 3 * r.iterations + 30, "family %zu: %lld evaluations in %lld iterations",
                     fi, (long long)r.loss_evals, (long long)r.iterations);
        /* the result describes the returned x */
        double L, *g = malloc((size_t)f->d * sizeof(double));
        assert_int_equal(smr_loss_gradient(&tp.p, x, &L, g), SMR_OK);
        TU_CHECK(L == r.loss, "res.loss %.17g != L(x) %.17g", r.loss, L);
        double gn = 0;
        for (int64_t j = 0; j < f->d; ++j)
            gn += g[j] * g[j];
        TU_NEAR(sqrt(gn), r.grad_norm, 1e-12 * r.grad_norm + 1e-300);
        /* accuracy: within 1e-8 of the minimum, relative to it, or to the
         * initial loss where the minimum is 0 (SPSA: its looser tolerance) */
        double tol = (m == SMR_METHOD_SPSA ? 1e-6 : 1e-8) * (Lmin > 0 ? Lmin : r.initial_loss);
        TU_CHECK(r.loss - Lmin <= tol && r.loss >= Lmin - 1e-12 * Lmin,
                 "%s on family %zu: L = %.17g, L* = %.17g", smr_method_name(m), fi, r.loss, Lmin);
        free(g);
        free(x);
        free(xs);
        tu_problem_free(&tp);
    }
}

static void test_newton(void **s) { (void)s; run_method(SMR_METHOD_NEWTON); }
static void test_gd(void **s) { (void)s; run_method(SMR_METHOD_GD); }
static void test_spsa(void **s) { (void)s; run_method(SMR_METHOD_SPSA); }
static void test_lbfgs(void **s) { (void)s; run_method(SMR_METHOD_LBFGS); }

/* default options (auto) solve a well-posed problem to its minimizer, on
 * both sides of SMR_AUTO_NEWTON_MAX_D (Newton below; above, L-BFGS handing
 * over to Newton if it stalls, reported as auto) */
static void test_auto_defaults(void **state)
{
    (void)state;
    const int64_t dims[2] = {SMR_AUTO_NEWTON_MAX_D, SMR_AUTO_NEWTON_MAX_D + 8};
    for (int k = 0; k < 2; ++k) {
        int64_t d = dims[k];
        const family f = {5000, d, false, 0.0, SMR_ROW_MAJOR};
        tu_problem tp;
        double *xs = malloc((size_t)d * sizeof(double)), *x = calloc((size_t)d, sizeof(double));
        make(&f, &tp, xs, 77);
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, NULL, x, &r), SMR_OK);
        assert_int_equal(r.method, k == 0 ? SMR_METHOD_NEWTON : SMR_METHOD_AUTO);
        TU_CHECK(r.converged, "d %lld: %s", (long long)d, r.message);
        TU_CHECK(r.loss <= 1e-8 * r.initial_loss, "d %lld: L = %g, L0 = %g", (long long)d, r.loss,
                 r.initial_loss);
        TU_CHECK(tu_diff_inf(d, x, xs) <= 1e-6, "d %lld: |x - x*| = %g", (long long)d,
                 tu_diff_inf(d, x, xs));
        free(xs);
        free(x);
        tu_problem_free(&tp);
    }
}

/* auto above the switch on an ill-conditioned problem (column j scaled by
 * 10^(-4 j/(d-1)), as softmaxreg gen --kind ill-conditioned): plain L-BFGS
 * was still far off after 5000 iterations; auto hands over to Newton and
 * converges */
static void test_auto_ill_conditioned(void **state)
{
    (void)state;
    const int64_t d = SMR_AUTO_NEWTON_MAX_D + 16;
    const family f = {4000, d, false, 0.0, SMR_ROW_MAJOR};
    tu_problem tp;
    double *xs = malloc((size_t)d * sizeof(double)), *x = calloc((size_t)d, sizeof(double));
    make(&f, &tp, xs, 91);
    for (int64_t i = 0; i < f.n; ++i)
        for (int64_t j = 0; j < d; ++j)
            tp.A[i * d + j] *= pow(10.0, -4.0 * (double)j / (double)(d - 1));
    tu_make_realizable(&tp, xs, 1.0, 92);
    smr_result r;
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_LBFGS;
    o.max_iter = 300;
    assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
    TU_CHECK(!r.converged, "plain L-BFGS converged in %lld iterations: not a hard case",
             (long long)r.iterations);
    memset(x, 0, (size_t)d * sizeof(double));
    assert_int_equal(smr_solve(&tp.p, NULL, x, &r), SMR_OK);
    TU_CHECK(r.converged, "auto: %s after %lld iterations", r.message, (long long)r.iterations);
    TU_CHECK(r.hess_evals > 0 && r.hess_evals < 20, "auto: %lld Hessians", (long long)r.hess_evals);
    TU_CHECK(r.loss <= 1e-10 * r.initial_loss, "auto: L = %g, L0 = %g", r.loss, r.initial_loss);
    free(xs);
    free(x);
    tu_problem_free(&tp);
}

/* Newton converges from any start on regularized problems: starts up to
 * 1e4 away, where the first steps are damped and the Levenberg shift acts */
static void test_newton_far_starts(void **state)
{
    (void)state;
    const family f = {500, 8, true, 1e-3, SMR_COL_MAJOR};
    tu_problem tp;
    double xs[8];
    make(&f, &tp, xs, 31);
    double Lmin = minimum(&f, &tp, xs);
    for (double far = 1; far <= 1e4; far *= 10)
        for (int sign = 0; sign < 2; ++sign) {
            double x[8];
            for (int j = 0; j < 8; ++j)
                x[j] = far * ((j + sign) % 2 ? 1.0 : -1.0) * (1.0 + 0.1 * j);
            smr_options o;
            smr_options_init(&o);
            o.method = SMR_METHOD_NEWTON;
            smr_result r;
            assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
            TU_CHECK(r.converged, "start %g: %s", far, r.message);
            TU_CHECK(fabs(r.loss - Lmin) <= 1e-8 * Lmin, "start %g: L %.17g, L* %.17g", far,
                     r.loss, Lmin);
        }
    tu_problem_free(&tp);
}

/* L-BFGS's first line search (lbfgs.c, first_step and the clamped
 * zoom): the trials it takes at the first iteration, counted by the
 * callback, on one thread (the counts are then fixed).  Two problems where
 * the unit first move (t = 1/|g|) and a zoom that bisects took many: a
 * realizable one (|x*| ~ 5), whose minimum along -g lies several units
 * out, and a heavily regularised one (w ~ 0.1, lambda = 1e-3), whose
 * minimizer lies ~1e-6 from x = 0. */
typedef struct {
    int64_t evals1; /* loss evaluations when iteration 1 completed */
} first_trials;

static int record_first(const smr_iter_info *info, const double *x, void *data)
{
    (void)x;
    if (info->iter == 1)
        ((first_trials *)data)->evals1 = info->loss_evals;
    return 0;
}

static void test_lbfgs_first_search(void **state)
{
    (void)state;
    const family fams[2] = {{20000, 10, false, 0.0, SMR_ROW_MAJOR},
                            {20000, 10, true, 1e-3, SMR_ROW_MAJOR}};
    const double xscale[2] = {5.0, 1.0}, wscale[2] = {0.0, 0.1};
    /* 4 and 8 trials here; the unit first move with bisection took 8 and 22 */
    const int64_t maxtrials[2] = {5, 12};
    for (int k = 0; k < 2; ++k) {
        const family *f = &fams[k];
        tu_spec spec = {.n = f->n, .d = f->d, .layout = f->layout, .with_w = f->with_w,
                        .w_scale = wscale[k], .lambda = f->lambda, .seed = 61 + (uint64_t)k};
        tu_problem tp;
        tu_problem_make(&tp, &spec);
        double xs[10], x[10] = {0};
        tu_make_realizable(&tp, xs, xscale[k], 71 + (uint64_t)k);
        first_trials ft = {0};
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_LBFGS;
        o.threads = 1;
        o.callback = record_first;
        o.callback_data = &ft;
        smr_result r;
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        TU_CHECK(r.converged, "problem %d: %s", k, r.message);
        TU_CHECK(ft.evals1 - 1 <= maxtrials[k], "problem %d: %lld trials at the first iteration",
                 k, (long long)(ft.evals1 - 1));
        tu_problem_free(&tp);
    }
}

/* Column-major A wider than SMR_FUSED_COL_MAX_D: the solvers evaluate loss
 * and gradient in two passes there (linesearch.c, smr_sv_eval), not in the
 * one-pass kernel.  L-BFGS and GD on such a problem (n < d, with a ridge)
 * must reach the point L-BFGS reaches on the same problem stored row-major
 * (one pass), and the returned x must be stationary by the long-double
 * reference gradient, not only by the solver's own. */
static void test_wide_column_major_two_pass(void **state)
{
    (void)state;
    const int64_t n = 60, d = SMR_FUSED_COL_MAX_D + 100;
    tu_spec spec = {.n = n, .d = d, .layout = SMR_COL_MAJOR, .lambda = 1e-2, .seed = 91};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    double *xs = malloc((size_t)d * sizeof(double));
    tu_make_realizable(&tp, xs, 1.0, 92);
    double *Ar = malloc((size_t)(n * d) * sizeof(double));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j)
            Ar[i * d + j] = tu_a(&tp.p, i, j);
    smr_problem pr = tp.p;
    pr.A = Ar;
    pr.layout = SMR_ROW_MAJOR;
    pr.lda = 0;
    double *xr = calloc((size_t)d, sizeof(double)), *x = malloc((size_t)d * sizeof(double));
    long double *g = malloc((size_t)d * sizeof(long double));
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_LBFGS;
    smr_result rr, r;
    assert_int_equal(smr_solve(&pr, &o, xr, &rr), SMR_OK);
    TU_CHECK(rr.converged, "row-major: %s", rr.message);
    const smr_method methods[2] = {SMR_METHOD_LBFGS, SMR_METHOD_GD};
    for (int k = 0; k < 2; ++k) {
        smr_options_init(&o);
        o.method = methods[k];
        o.max_iter = 20000;
        memset(x, 0, (size_t)d * sizeof(double));
        assert_int_equal(smr_solve(&tp.p, &o, x, &r), SMR_OK);
        TU_CHECK(r.converged, "%s, column-major: %s", smr_method_name(o.method), r.message);
        /* the reported loss and gradient norm describe x (long double) */
        long double L = tu_ref_loss_grad(&tp.p, x, g, NULL), gn = 0;
        for (int64_t j = 0; j < d; ++j)
            gn += g[j] * g[j];
        TU_NEAR(r.loss, (double)L, 1e-12 * (double)L);
        TU_NEAR(r.grad_norm, sqrtl(gn), 1e-6 * r.grad_norm + 1e-15);
        /* stationary by the reference where the solver says so (at
         * roundoff it stops where no decrease is measurable: the distance
         * to the row-major solve below is the evidence then) */
        if (r.status == SMR_STATUS_GTOL)
            TU_CHECK(sqrtl(gn) <= fmax(o.gtol_abs, o.gtol_rel * r.initial_grad_norm) * 1.0001,
                     "%s: %s, |g| %.3Lg, |g0| %.3g, L %.17g", smr_method_name(o.method),
                     smr_status_name(r.status), sqrtl(gn), r.initial_grad_norm, r.loss);
        /* the same minimum as the row-major (one-pass) solve: the loss is
         * strongly convex (ridge), so |x - xr| <= (|g(x)| + |g(xr)|) / lambda */
        TU_NEAR(r.loss, rr.loss, 1e-8 * rr.loss);
        double bound = (r.grad_norm + rr.grad_norm) / spec.lambda;
        TU_CHECK(tu_diff_inf(d, x, xr) <= bound, "%s: |x - xr| %.3g > %.3g",
                 smr_method_name(o.method), tu_diff_inf(d, x, xr), bound);
    }
    free(g);
    free(x);
    free(xr);
    free(Ar);
    free(xs);
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newton),
        cmocka_unit_test(test_gd),
        cmocka_unit_test(test_spsa),
        cmocka_unit_test(test_lbfgs),
        cmocka_unit_test(test_auto_defaults),
        cmocka_unit_test(test_auto_ill_conditioned),
        cmocka_unit_test(test_newton_far_starts),
        cmocka_unit_test(test_lbfgs_first_search),
        cmocka_unit_test(test_wide_column_major_two_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
