/*
 * sketch.c -- claim 4: leverage-score sampling gives a (1 +- eps) spectral
 * approximation of A'DA with s ~ d log(d/delta) / eps^2 rows, and Newton
 * with the sampled Hessian converges linearly at a rate that falls with eps.
 * (The per-iteration time against n is bench_sketch's, run by
 * bench/theory.sh next to this.)
 *
 * (a) eps_measured(s) = max |eig(H^{-1/2} Ht H^{-1/2}) - 1| (a generalized
 *     eigenproblem, LAPACK dsygv) against the sample count s (smr_sparsify
 *     with an explicit s), many seeds; the rule's eps for that s is
 *     sqrt(4 d ln(2d/delta) / s).
 * (b) Failure rate: the fraction of seeds with eps_measured > eps, at
 *     s = rule(d, eps, delta) and at a quarter and a sixteenth of it.
 * (c) Contraction: SMR_METHOD_SKETCH on a realizable problem, geometric
 *     mean of |x_{k+1} - x*| / |x_k - x*| while the error is in
 *     [1e-10, 1e-2] |x*|, against eps.  For Ht within (1 +- eps)H the local
 *     map contracts by eps/(1 - eps) in the H-norm.
 */
#include "theory.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t n, d;
    double *A, *D, *H, *K, *Ht, *ev;
    smr_problem p;
} spec_t;

/* H = sum_t wt[t] a_{row[t]} a_{row[t]}' (upper triangle, column-major) */
static void gram(const spec_t *s, int64_t m, const int64_t *rows, const double *wt, double *H)
{
    int64_t d = s->d;
    for (int64_t t = 0; t < m; ++t) {
        int64_t i = rows ? rows[t] : t;
        double sw = sqrt(wt[t]);
        for (int64_t j = 0; j < d; ++j)
            s->K[j + t * d] = sw * s->A[i * d + j];
    }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)d, (int)m, 1.0, s->K, (int)d, 0.0,
                H, (int)d);
}

/* eps measured for one seed and sample count; -1 on error */
static double trial(spec_t *s, int64_t samples, uint64_t seed)
{
    smr_sparsifier sp;
    if (smr_sparsify(&s->p, s->D, 0.5, 0.1, samples, seed, &sp) != SMR_OK)
        return -1;
    gram(s, sp.count, sp.rows, sp.weights, s->Ht);
    smr_sparsifier_free(&sp);
    if (th_pencil(s->d, s->Ht, s->H, s->ev) != 0)
        return -1;
    return fmax(1.0 - s->ev[0], s->ev[s->d - 1] - 1.0);
}

static double rule_eps(int64_t d, double delta, int64_t s)
{
    return sqrt(4.0 * (double)d * log(2.0 * (double)d / delta) / (double)s);
}

static void spectral(th_ctx *c)
{
    spec_t s = {.n = c->quick ? 4000 : 20000, .d = c->quick ? 8 : 20};
    int64_t n = s.n, d = s.d;
    s.A = th_alloc((size_t)(n * d), sizeof *s.A), s.D = th_alloc((size_t)n, sizeof *s.D);
    s.H = th_alloc((size_t)(d * d), sizeof *s.H), s.Ht = th_alloc((size_t)(d * d), sizeof *s.Ht);
    s.K = th_alloc((size_t)(n * d), sizeof *s.K), s.ev = th_alloc((size_t)d, sizeof *s.ev);
    bench_seed(505);
    /* heavy-tailed row norms, so that leverage scores matter */
    for (int64_t i = 0; i < n; ++i) {
        double scale = exp(bench_normal()) / sqrt((double)d);
        for (int64_t j = 0; j < d; ++j)
            s.A[i * d + j] = scale * bench_normal();
        s.D[i] = exp(0.5 * bench_normal());
    }
    s.p = (smr_problem){.n = n, .d = d, .A = s.A};
    gram(&s, n, NULL, s.D, s.H);

    int T = c->quick ? 10 : 50;
    double *e = th_alloc((size_t)T, sizeof *e);
    FILE *f = th_csv(c, "sketch-spectral.csv", "n,d,samples,eps_median,eps_q90,eps_max,eps_rule");
    double xs[16], ys[16];
    int m = 0, rule_ok = 1;
    for (int64_t mult = 2; mult * d < n / 2 && m < 16; mult *= 2) {
        int64_t smp = mult * d;
        for (int t = 0; t < T; ++t)
            e[t] = trial(&s, smp, 1000u + (uint64_t)t);
        double med = th_quantile(e, T, 0.5), q90 = th_quantile(e, T, 0.9), mx = e[T - 1];
        double er = rule_eps(d, 0.1, smp);
        if (er < 1)
            rule_ok &= q90 <= er;
        xs[m] = (double)smp, ys[m++] = med;
        fprintf(f, "%lld,%lld,%lld,%.6g,%.6g,%.6g,%.6g\n", (long long)n, (long long)d,
                (long long)smp, med, q90, mx, er);
    }
    fclose(f);
    double slope = th_loglog_slope(m, xs, ys);
    th_claim(c, slope > -0.65 && slope < -0.35,
             "spectral error falls like s^-1/2: log-log slope of the median eps against s "
             "= %.3f (n = %lld, d = %lld, %d seeds per s)", slope, (long long)n, (long long)d, T);
    th_claim(c, rule_ok, "the 90th percentile of eps is within the rule's eps(s) = "
                         "sqrt(4 d ln(20 d) / s) at every s where that is below 1");

    /* (b) failure rate against delta at eps = 0.25 */
    const double deltas[] = {0.5, 0.3, 0.1, 0.03, 0.01};
    const double eps = 0.25;
    int F = c->quick ? 20 : 200, fail_ok = 1;
    double *ef = th_alloc((size_t)F, sizeof *ef);
    f = th_csv(c, "sketch-failure.csv", "delta,eps,samples_rule,fail_rule,fail_quarter,"
                                        "fail_sixteenth");
    for (int kd = 0; kd < 5; ++kd) {
        int64_t s0 = smr_sparsify_sample_size(d, eps, deltas[kd]);
        double rate[3];
        for (int v = 0; v < 3; ++v) {
            int64_t smp = v == 0 ? s0 : v == 1 ? s0 / 4 : s0 / 16;
            int bad = 0;
            for (int t = 0; t < F; ++t)
                bad += (ef[t] = trial(&s, smp, 50000u + (uint64_t)(kd * F + t))) > eps;
            rate[v] = (double)bad / F;
        }
        fail_ok &= rate[0] <= deltas[kd];
        fprintf(f, "%.6g,%.6g,%lld,%.4f,%.4f,%.4f\n", deltas[kd], eps, (long long)s0, rate[0],
                rate[1], rate[2]);
        th_note(c, "  delta = %.2f: s = %lld, failure rate %.3f at s, %.3f at s/4, %.3f at s/16",
                deltas[kd], (long long)s0, rate[0], rate[1], rate[2]);
    }
    fclose(f);
    th_claim(c, fail_ok, "at the rule's sample count the failure rate is <= delta for every "
                         "delta (%d seeds each; eps = %.2f)", F, eps);
    free(ef), free(e), free(s.A), free(s.D), free(s.H), free(s.Ht), free(s.K), free(s.ev);
}

typedef struct {
    const double *xs;
    int64_t d;
    double err[256];
    int k;
} track;

static int record(const smr_iter_info *info, const double *x, void *user)
{
    track *t = user;
    (void)info;
    if (t->k < 256)
        t->err[t->k++] = th_dist(t->d, x, t->xs);
    return 0;
}

static void contraction(th_ctx *c)
{
    int64_t n = c->quick ? 20000 : 100000, d = c->quick ? 5 : 10;
    double *A = th_alloc((size_t)(n * d), sizeof *A), *b = th_alloc((size_t)n, sizeof *b);
    double *xs = th_alloc((size_t)d, sizeof *xs), *x = th_alloc((size_t)d, sizeof *x);
    bench_seed(606);
    for (int64_t k = 0; k < n * d; ++k)
        A[k] = bench_normal() / sqrt((double)d);
    for (int64_t j = 0; j < d; ++j)
        xs[j] = bench_normal();
    th_realize(n, d, A, xs, b);
    smr_problem p = {.n = n, .d = d, .A = A, .b = b};
    double xsn = th_norm(d, xs);
    const double eps[] = {0.8, 0.6, 0.4, 0.2, 0.1, 0.05};
    int ne = c->quick ? 5 : 6, S = 3, mono = 1;
    FILE *f = th_csv(c, "sketch-contraction.csv", "eps,samples,seed,rate,iterations,bound_h");
    double prev = INFINITY, r[6];
    for (int ke = 0; ke < ne; ++ke) {
        double rates[8];
        int64_t smp = smr_sparsify_sample_size(d, eps[ke], 0.1);
        for (int sd = 0; sd < S; ++sd) {
            track t = {.xs = xs, .d = d};
            smr_options o;
            smr_options_init(&o);
            o.method = SMR_METHOD_SKETCH;
            o.sketch_eps = eps[ke];
            o.seed = 7u + (uint64_t)sd;
            o.gtol_rel = 1e-13;
            o.max_iter = 200;
            o.callback = record;
            o.callback_data = &t;
            memset(x, 0, (size_t)d * sizeof *x);
            smr_result res;
            smr_solve(&p, &o, x, &res);
            double lr = 0;
            int m = 0;
            for (int i = 0; i + 1 < t.k; ++i)
                if (t.err[i] <= 1e-2 * xsn && t.err[i + 1] >= 1e-10 * xsn && t.err[i + 1] > 0)
                    lr += log(t.err[i + 1] / t.err[i]), ++m;
            rates[sd] = m ? exp(lr / m) : NAN;
            fprintf(f, "%.6g,%lld,%d,%.6g,%lld,%.6g\n", eps[ke], (long long)(smp < n ? smp : n),
                    sd, rates[sd], (long long)res.iterations, eps[ke] / (1 - eps[ke]));
        }
        r[ke] = th_quantile(rates, S, 0.5);
        mono &= r[ke] <= prev * 1.05 || r[ke] < 1e-3;
        prev = r[ke];
        th_note(c, "  sketched Newton eps = %.2f (s = %lld of n = %lld): local contraction "
                   "%.3g per step (eps/(1-eps) = %.3g)",
                eps[ke], (long long)(smp < n ? smp : n), (long long)n, r[ke],
                eps[ke] / (1 - eps[ke]));
    }
    fclose(f);
    int below = 1;
    for (int ke = 0; ke < ne; ++ke)
        below &= r[ke] <= eps[ke] / (1 - eps[ke]);
    th_claim(c, mono && below, "the contraction falls with eps and stays below eps/(1-eps) "
                               "(%.3g at eps = %.2f, %.3g at eps = %.2f)",
             r[0], eps[0], r[ne - 1], eps[ne - 1]);
    free(A), free(b), free(xs), free(x);
}

int th_sketch(th_ctx *c)
{
    spectral(c);
    contraction(c);
    return 0;
}
