/*
 * newton.c -- claim 3: exact Newton converges quadratically near x* (the
 * log-error roughly doubles per step), and its basin.
 *
 * Realizable problem: A ~ N(0, 1/d), x* ~ N(0, I), b = softmax(A x*),
 * w = 0, lambda = 0, so L(x*) = 0 and x* is the unique minimizer when the
 * all-ones vector is not in range(A) (true for a Gaussian A with n > d).
 *
 * (a) Undamped Newton, x <- x + s with (H) s = -g (smr_newton_step, mu = 0),
 *     from x* + r u, |u| = 1: errors e_k = |x_k - x*| and the order
 *     p_k = log(e_{k+1}/e_k) / log(e_k/e_{k-1}) (2 for quadratic).
 * (b) Basin: the fraction of random starts at distance r that reach x*
 *     (within 1e-6 |x*|), undamped against the safeguarded solver
 *     (smr_solve, SMR_METHOD_NEWTON: Levenberg shift + Armijo).
 */
#include "theory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    smr_problem p;
    double *A, *b, *xs;
} realizable;

static void make(realizable *r, int64_t n, int64_t d)
{
    r->A = th_alloc((size_t)(n * d), sizeof *r->A);
    r->b = th_alloc((size_t)n, sizeof *r->b);
    r->xs = th_alloc((size_t)d, sizeof *r->xs);
    for (int64_t k = 0; k < n * d; ++k)
        r->A[k] = bench_normal() / sqrt((double)d);
    for (int64_t j = 0; j < d; ++j)
        r->xs[j] = bench_normal();
    th_realize(n, d, r->A, r->xs, r->b);
    r->p = (smr_problem){.n = n, .d = d, .A = r->A, .b = r->b};
}

static void start(int64_t d, const double *xs, double rad, double *x)
{
    double *u = th_alloc((size_t)d, sizeof *u);
    for (int64_t j = 0; j < d; ++j)
        u[j] = bench_normal();
    double un = th_norm(d, u);
    for (int64_t j = 0; j < d; ++j)
        x[j] = xs[j] + rad * u[j] / un;
    free(u);
}

/* undamped Newton; errors into err[0..iters]; returns iterations run, or
 * -1 - k when step k failed (Hessian not positive definite, non-finite) */
static int undamped(const smr_problem *p, const double *xs, double *x, int iters, double *err)
{
    int64_t d = p->d;
    double *s = th_alloc((size_t)d, sizeof *s);
    err[0] = th_dist(d, x, xs);
    int k;
    for (k = 0; k < iters; ++k) {
        if (smr_newton_step(p, x, 0.0, s) != SMR_OK) {
            free(s);
            return -1 - k;
        }
        for (int64_t j = 0; j < d; ++j)
            x[j] += s[j];
        err[k + 1] = th_dist(d, x, xs);
        if (!isfinite(err[k + 1])) {
            free(s);
            return -1 - k;
        }
    }
    free(s);
    return k;
}

int th_newton(th_ctx *c)
{
    int64_t n = c->quick ? 200 : 1000, d = c->quick ? 5 : 10;
    bench_seed(404);
    realizable r;
    make(&r, n, d);
    double xsn = th_norm(d, r.xs), tol = 1e-6 * fmax(1.0, xsn);
    double *x = th_alloc((size_t)d, sizeof *x), err[64];

    /* (a) the quadratic phase from 5 starts at distance 0.1 |x*| */
    FILE *f = th_csv(c, "newton-phase.csv", "start,iter,error,order");
    double orders[64];
    int no = 0, S = 5, fails = 0;
    for (int t = 0; t < S; ++t) {
        start(d, r.xs, 0.1 * xsn, x);
        int k = undamped(&r.p, r.xs, x, 10, err);
        if (k < 0) {
            fails++;
            continue;
        }
        for (int i = 0; i <= k; ++i) {
            double ord = NAN;
            /* the order is measured while all three errors are above the
             * rounding floor of x (1e-13 |x*|) */
            if (i >= 2 && err[i] > 1e-13 * xsn)
                ord = log(err[i] / err[i - 1]) / log(err[i - 1] / err[i - 2]);
            if (isfinite(ord) && no < 64)
                orders[no++] = ord;
            fprintf(f, "%d,%d,%.6g,%.6g\n", t, i, err[i], ord);
        }
    }
    fclose(f);
    double pmed = no ? th_quantile(orders, no, 0.5) : NAN;
    double plo = no ? orders[0] : NAN;
    th_claim(c, fails == 0 && pmed >= 1.6 && pmed <= 2.6,
             "undamped Newton from |x0 - x*| = 0.1|x*| (n = %lld, d = %lld): order of "
             "convergence median %.2f (min %.2f) over %d steps of %d starts; quadratic is 2",
             (long long)n, (long long)d, pmed, plo, no, S);

    /* (b) the basin */
    int T = c->quick ? 8 : 60, NR = c->quick ? 5 : 13;
    f = th_csv(c, "newton-basin.csv", "radius,radius_rel,undamped,safeguarded,undamped_notposdef,"
                                      "safeguarded_iters_median");
    double und_small = 0, safe_small = 0; /* success rates at the smallest radius */
    int safe_ge = 1;
    double *its = th_alloc((size_t)T, sizeof *its);
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_NEWTON;
    o.max_iter = 200;
    for (int kr = 0; kr < NR; ++kr) {
        double rel = 0.05 * pow(10.0, 2.5 * kr / (NR - 1)); /* 0.05 .. 16 |x*| */
        int und = 0, saf = 0, npd = 0;
        for (int t = 0; t < T; ++t) {
            start(d, r.xs, rel * xsn, x);
            double x0[64];
            memcpy(x0, x, (size_t)d * sizeof *x);
            int k = undamped(&r.p, r.xs, x, 50, err);
            und += k > 0 && err[k] <= tol;
            npd += k < 0;
            memcpy(x, x0, (size_t)d * sizeof *x);
            smr_result res;
            smr_solve(&r.p, &o, x, &res);
            int ok = th_dist(d, x, r.xs) <= tol;
            saf += ok;
            its[t] = (double)res.iterations;
        }
        double su = (double)und / T, ss = (double)saf / T;
        if (kr == 0)
            und_small = su, safe_small = ss;
        safe_ge &= saf >= und;
        fprintf(f, "%.6g,%.6g,%.4f,%.4f,%.4f,%.6g\n", rel * xsn, rel, su, ss, (double)npd / T,
                th_quantile(its, T, 0.5));
        th_note(c, "  basin r = %6.3f |x*|: undamped %3.0f%% (%3.0f%% stopped by an indefinite "
                   "Hessian), safeguarded %3.0f%%", rel, 100 * su, 100.0 * npd / T, 100 * ss);
    }
    fclose(f);
    th_claim(c, und_small == 1.0 && safe_small == 1.0,
             "both reach x* from every start at r = 0.05|x*| (%d starts)", T);
    th_claim(c, safe_ge, "the safeguarded solver succeeds at least as often as undamped Newton "
                         "at every radius");
    free(its), free(x), free(r.A), free(r.b), free(r.xs);
    return 0;
}
