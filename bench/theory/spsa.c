/*
 * spsa.c -- claim 5: the SPSA estimate
 *     g^ = (1/k) sum_j [L(x + eps z_j) - L(x - eps z_j)] / (2 eps) z_j
 * is unbiased up to O(eps^2), has second moment (d + k + 1)/k |grad L|^2
 * (Gaussian z), and SPSA's iteration count depends on the effective rank
 * r = tr H / |H| rather than on d; a run replays bit for bit from its seed.
 *
 * (a) Bias: with the same z, g0 = (z'g) z is the eps -> 0 limit and
 *     E g0 = g exactly (E zz' = I), so mean(g^_eps - g0) estimates the bias
 *     with only the O(eps^2) term's variance.  z is regenerated from
 *     (seed, iteration, j) by the library's generator (smr_k_direction),
 *     which checks the seed trick too.
 * (b) E|g^|^2 / |g|^2 against (d + k + 1)/k (Gaussian) and (d + k - 1)/k
 *     (Rademacher, where |z|^2 = d exactly).
 * (c) Iterations to L <= 1e-4 L(0) on realizable problems of rank r embedded
 *     in d dimensions: A = G P' with P (d x r) orthonormal, so the problem
 *     restricted to range(P) is the same for every d.  The library's step
 *     uses the estimated trace (r-based); the "d-based" step is the same
 *     times (r_eff + k + 1)/(d + k + 1), what a rule assuming r = d takes.
 * (d) Replay: two runs with one seed give identical iterates, bit for bit;
 *     and each accepted step is parallel to smr_spsa_gradient at (x_t, t).
 */
#include "theory.h"
#include "kernels/kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- (a) bias ---- */
static void bias(th_ctx *c)
{
    int64_t n = 200, d = 10;
    int N = c->quick ? 300 : 5000;
    double *A = th_alloc((size_t)(n * d), sizeof *A), *b = th_alloc((size_t)n, sizeof *b);
    double x[10], g[10], gh[10], z[10], acc[10], mean[10];
    bench_seed(707);
    th_random_problem(n, d, A, b, x);
    smr_problem p = {.n = n, .d = d, .A = A, .b = b};
    smr_gradient(&p, x, g);
    double gn = th_norm(d, g);
    const double eps[] = {0.3, 0.1, 0.03, 0.01, 0.003, 0.001};
    FILE *f = th_csv(c, "spsa-bias.csv", "eps,bias_rel,mean_err_rel,mc_se_rel,parallel_err");
    double xs[6], ys[6], par = 0;
    for (int ke = 0; ke < 6; ++ke) {
        memset(acc, 0, sizeof acc);
        memset(mean, 0, sizeof mean);
        for (int t = 0; t < N; ++t) {
            smr_spsa_gradient(&p, x, 1, eps[ke], SMR_DIR_GAUSSIAN, 99, (uint64_t)t, gh);
            smr_k_direction(99, (uint64_t)t, 0, 0, d, z);
            double zg = cblas_ddot((int)d, z, 1, g, 1), cz = cblas_ddot((int)d, z, 1, gh, 1);
            double zz = cblas_ddot((int)d, z, 1, z, 1);
            /* g^ = c z: its component off z measures whether z is the
             * library's direction */
            double off = 0;
            for (int64_t j = 0; j < d; ++j)
                off += pow(gh[j] - cz / zz * z[j], 2);
            par = fmax(par, sqrt(off) / fmax(th_norm(d, gh), 1e-300));
            for (int64_t j = 0; j < d; ++j) {
                acc[j] += gh[j] - zg * z[j];
                mean[j] += gh[j];
            }
        }
        double bn = 0, me = 0;
        for (int64_t j = 0; j < d; ++j)
            bn += pow(acc[j] / N, 2), me += pow(mean[j] / N - g[j], 2);
        double se = sqrt((double)(d + 2) / N);
        xs[ke] = eps[ke], ys[ke] = sqrt(bn) / gn;
        fprintf(f, "%.6g,%.6g,%.6g,%.6g,%.6g\n", eps[ke], ys[ke], sqrt(me) / gn, se, par);
    }
    fclose(f);
    double slope = th_loglog_slope(4, xs, ys); /* eps 0.3 .. 0.01 */
    th_claim(c, par < 1e-12, "seed trick: every estimate is parallel to the direction "
                             "regenerated from (seed, iteration) (off-direction part <= %.1e)",
             par);
    th_claim(c, slope > 1.7 && slope < 2.3,
             "bias is O(eps^2): log-log slope of |E(g^_eps - g0)| / |g| against eps = %.2f "
             "(eps 0.3..0.01; %.2e at eps = 0.01; %d directions each)", slope, ys[3], N);
    free(A), free(b);
}

/* ---- (b) second moment ---- */
static void moment(th_ctx *c)
{
    int64_t n = 200;
    const int64_t ds[] = {4, 16, 64};
    const int ks[] = {1, 2, 4, 16};
    int N = c->quick ? 200 : 4000;
    FILE *f = th_csv(c, "spsa-moment.csv", "d,k,dir,predicted,measured,ratio");
    double worst = 0;
    bench_seed(808);
    for (int kd = 0; kd < 3; ++kd) {
        int64_t d = ds[kd];
        double *A = th_alloc((size_t)(n * d), sizeof *A), *b = th_alloc((size_t)n, sizeof *b);
        double *x = th_alloc((size_t)d, sizeof *x), *g = th_alloc((size_t)d, sizeof *g);
        double *gh = th_alloc((size_t)d, sizeof *gh);
        th_random_problem(n, d, A, b, x);
        smr_problem p = {.n = n, .d = d, .A = A, .b = b};
        smr_gradient(&p, x, g);
        double g2 = pow(th_norm(d, g), 2);
        for (int kk = 0; kk < 4; ++kk)
            for (int dir = 0; dir < 2; ++dir) {
                int k = ks[kk];
                double m2 = 0;
                for (int t = 0; t < N; ++t) {
                    smr_spsa_gradient(&p, x, k, 1e-4, dir ? SMR_DIR_RADEMACHER : SMR_DIR_GAUSSIAN,
                                      5, (uint64_t)t, gh);
                    m2 += pow(th_norm(d, gh), 2);
                }
                double meas = m2 / N / g2;
                double pred = dir ? (double)(d + k - 1) / k : (double)(d + k + 1) / k;
                worst = fmax(worst, fabs(meas / pred - 1));
                fprintf(f, "%lld,%d,%s,%.6g,%.6g,%.6g\n", (long long)d, k,
                        dir ? "rademacher" : "gaussian", pred, meas, meas / pred);
            }
        free(A), free(b), free(x), free(g), free(gh);
    }
    fclose(f);
    double lim = c->quick ? 0.35 : 0.12;
    th_claim(c, worst <= lim,
             "second moment E|g^|^2/|g|^2 = (d+k+1)/k (Gaussian), (d+k-1)/k (Rademacher): "
             "worst relative deviation %.3f over d in {4,16,64}, k in {1,2,4,16}, %d draws each",
             worst, N);
}

/* ---- (c) iterations against d, r and k ---- */
typedef struct {
    int64_t n, r;
    double *G, *b;
} base_t;

static void base_make(base_t *s, int64_t n, int64_t r)
{
    s->n = n, s->r = r;
    s->G = th_alloc((size_t)(n * r), sizeof *s->G);
    s->b = th_alloc((size_t)n, sizeof *s->b);
    double *y = th_alloc((size_t)r, sizeof *y);
    for (int64_t k = 0; k < n * r; ++k)
        s->G[k] = bench_normal() / sqrt((double)r);
    for (int64_t j = 0; j < r; ++j)
        y[j] = bench_normal();
    th_realize(n, r, s->G, y, s->b);
    free(y);
}

/* effective rank tr H / |H| at the solution, in the r-dimensional space */
static double base_reff(const base_t *s, double *kappa, double *lmax)
{
    int64_t r = s->r;
    smr_problem p = {.n = s->n, .d = r, .A = s->G, .b = s->b};
    double *H = th_alloc((size_t)(r * r), sizeof *H), *ev = th_alloc((size_t)r, sizeof *ev);
    /* the solution: the library's Newton on the small problem */
    double *y = th_alloc((size_t)r, sizeof *y);
    smr_options o;
    smr_options_init(&o);
    o.method = SMR_METHOD_NEWTON;
    smr_result res;
    smr_solve(&p, &o, y, &res);
    smr_hessian(&p, y, H, 0);
    th_eigs(r, H, ev);
    double tr = 0;
    for (int64_t j = 0; j < r; ++j)
        tr += ev[j];
    *kappa = ev[r - 1] / ev[0];
    *lmax = ev[r - 1];
    double reff = tr / ev[r - 1];
    free(H), free(ev), free(y);
    return reff;
}

/* the last embedding's P, for iso_start */
static double *P_last;

/* A = G P' (n x d) for an orthonormal P (d x r) */
static double *embed(const base_t *s, int64_t d)
{
    double *P = th_alloc((size_t)(d * s->r), sizeof *P);
    double *A = th_alloc((size_t)(s->n * d), sizeof *A);
    th_orthonormal(d, s->r, P);
    /* row-major A = G (n x r) * P' (r x d); P' row-major is P column-major */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->n, (int)d, (int)s->r, 1.0,
                s->G, (int)s->r, P, (int)d, 0.0, A, (int)d);
    free(P_last);
    P_last = P; /* for iso_start */
    return A;
}

typedef struct { double target; int64_t hit; } stop_t;

static int stop_at(const smr_iter_info *info, const double *x, void *user)
{
    stop_t *s = user;
    (void)x;
    if (info->loss <= s->target) {
        s->hit = info->iter;
        return 1;
    }
    return 0;
}

/* iterations from x0 (NULL: 0) to L <= 1e-4 L(x0), median of 3 seeds; -1
 * when not reached.  step > 0: that fixed step (spsa_step); 0: the
 * library's automatic step */
static double iterations(const base_t *s, const double *A, int64_t d, const double *x0, int k,
                         double step, int64_t maxit)
{
    smr_problem p = {.n = s->n, .d = d, .A = A, .b = s->b};
    double *x = th_alloc((size_t)d, sizeof *x), it[3], L0;
    if (x0)
        memcpy(x, x0, (size_t)d * sizeof *x);
    smr_loss(&p, x, &L0);
    for (int sd = 0; sd < 3; ++sd) {
        stop_t st = {.target = 1e-4 * L0, .hit = -1};
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_SPSA;
        o.spsa_k = k;
        o.spsa_step = step;
        o.spsa_check_every = 0;
        o.gtol_rel = 0;
        o.max_iter = maxit;
        o.seed = 11u + (uint64_t)sd;
        o.callback = stop_at;
        o.callback_data = &st;
        if (x0)
            memcpy(x, x0, (size_t)d * sizeof *x);
        else
            memset(x, 0, (size_t)d * sizeof *x);
        smr_result res;
        smr_solve(&p, &o, x, &res);
        it[sd] = st.hit >= 0 ? (double)st.hit : INFINITY;
    }
    free(x);
    double m = th_quantile(it, 3, 0.5);
    return isfinite(m) ? m : -1;
}

/* The isotropic problem of rank r: G = sqrt(n) Q with Q (n x r) orthonormal
 * and orthogonal to the all-ones vector, b = 1/n, so x* = 0 and the Hessian
 * there is exactly Q'Q/n = I_r / n in range(P): r_eff = r, kappa = 1,
 * lambda_max = 1/n at every r.  The start is P y0 with |y0| = 0.3 (logits
 * of about 0.3: the region where the loss is nearly quadratic). */
static void base_make_iso(base_t *s, int64_t n, int64_t r)
{
    s->n = n, s->r = r;
    double *Q = th_alloc((size_t)(n * r), sizeof *Q);
    s->G = th_alloc((size_t)(n * r), sizeof *s->G);
    s->b = th_alloc((size_t)n, sizeof *s->b);
    for (int64_t l = 0; l < r; ++l) {
        double mean = 0;
        for (int64_t i = 0; i < n; ++i)
            mean += (Q[i + l * n] = bench_normal()) / (double)n;
        for (int64_t i = 0; i < n; ++i)
            Q[i + l * n] -= mean;
    }
    th_orthonormalize(n, r, Q);
    for (int64_t i = 0; i < n; ++i) {
        s->b[i] = 1.0 / (double)n;
        for (int64_t l = 0; l < r; ++l)
            s->G[i * r + l] = sqrt((double)n) * Q[i + l * n];
    }
    free(Q);
}

/* x0 = P y0 for a random unit y0, with P the last embedding's */
static double *iso_start(const base_t *s, int64_t d)
{
    double *y = th_alloc((size_t)s->r, sizeof *y), *x = th_alloc((size_t)d, sizeof *x);
    for (int64_t l = 0; l < s->r; ++l)
        y[l] = bench_normal();
    double yn = th_norm(s->r, y);
    for (int64_t l = 0; l < s->r; ++l)
        for (int64_t j = 0; j < d; ++j)
            x[j] += 0.3 * P_last[j + l * d] * y[l] / yn;
    free(y);
    return x;
}

static void rank_sweeps(th_ctx *c)
{
    int q = c->quick;
    int64_t maxit = q ? 4000 : 40000;
    /* against d at r = 4 */
    base_t s;
    bench_seed(909);
    base_make(&s, 200, 4);
    double kap, lmax, reff = base_reff(&s, &kap, &lmax);
    const int64_t dfull[] = {8, 16, 32, 64, 128, 256, 512, 1024}, dquick[] = {8, 32, 128};
    const int64_t *ds = q ? dquick : dfull;
    int nd = q ? 3 : 8, k = 8;
    FILE *f = th_csv(c, "spsa-dims.csv", "d,r,r_eff,kappa,k,iters_r_step,iters_d_step,iters_auto");
    double xd[8], yr[8], yd[8];
    double eta_r = k / ((reff + k + 1) * lmax);
    for (int i = 0; i < nd; ++i) {
        double *A = embed(&s, ds[i]);
        double eta_d = k / (((double)ds[i] + k + 1) * lmax);
        double ir = iterations(&s, A, ds[i], NULL, k, eta_r, maxit);
        double id = iterations(&s, A, ds[i], NULL, k, eta_d, maxit);
        double ia = iterations(&s, A, ds[i], NULL, k, 0.0, maxit);
        xd[i] = (double)ds[i], yr[i] = ir, yd[i] = id;
        fprintf(f, "%lld,%lld,%.4g,%.4g,%d,%.0f,%.0f,%.0f\n", (long long)ds[i], (long long)s.r,
                reff, kap, k, ir, id, ia);
        th_note(c, "  r = 4 (r_eff %.2f) in d = %4lld: %6.0f iterations with the r-based step, "
                   "%6.0f with the d-based step, %6.0f with the automatic step",
                reff, (long long)ds[i], ir, id, ia);
        free(A);
    }
    fclose(f);
    double sr = th_loglog_slope(nd, xd, yr), sd = th_loglog_slope(nd, xd, yd);
    int reached = 1;
    for (int i = 0; i < nd; ++i)
        reached &= yr[i] > 0;
    th_claim(c, reached && fabs(sr) < 0.15,
             "iterations flat in d at fixed effective rank: log-log slope %.3f with the "
             "step k/((r+k+1) lambda_max), against %.2f with k/((d+k+1) lambda_max) "
             "(d = %lld..%lld)", sr, sd, (long long)ds[0], (long long)ds[nd - 1]);
    free(s.G), free(s.b);

    /* against r at fixed d, and against k: the isotropic problems
     * (kappa = 1, r_eff = r), so that r is the only thing that changes */
    int64_t d = q ? 64 : 256, n = q ? 256 : 1024;
    const int64_t rfull[] = {1, 2, 4, 8, 16, 32, 64, 128, 256}, rquick[] = {16, 32, 64};
    const int64_t *rs = q ? rquick : rfull;
    int nr = q ? 3 : 9;
    f = th_csv(c, "spsa-rank.csv", "d,r,k,iters_r_step,iters_auto,predicted");
    double xr[9], yi[9];
    int m = 0;
    bench_seed(910);
    for (int i = 0; i < nr; ++i) {
        base_make_iso(&s, n, rs[i]);
        double *A = embed(&s, d), *x0 = iso_start(&s, d);
        double lm = 1.0 / (double)n, eta = k / ((rs[i] + k + 1) * lm);
        double it = iterations(&s, A, d, x0, k, eta, maxit);
        double ia = iterations(&s, A, d, x0, k, 0.0, maxit);
        /* E L_{t+1} ~ (1 - k/(r+k+1)) L_t near x*: iterations ~ ln(1e4) (r+k+1)/k */
        double pred = log(1e4) * (double)(rs[i] + k + 1) / k;
        fprintf(f, "%lld,%lld,%d,%.0f,%.0f,%.1f\n", (long long)d, (long long)rs[i], k, it, ia, pred);
        th_note(c, "  d = %lld, r = %3lld (kappa 1): %6.0f iterations with the r-based step, "
                   "%6.0f automatic (ln(1e4)(r+k+1)/k = %.0f)", (long long)d, (long long)rs[i], it,
                ia, pred);
        if (it > 0 && rs[i] >= 2 * k) /* for r < k a step is close to a Newton step */
            xr[m] = (double)rs[i], yi[m++] = it;
        free(A), free(x0), free(s.G), free(s.b);
    }
    fclose(f);
    double slope = th_loglog_slope(m, xr, yi);
    th_claim(c, m >= 3 && slope > 0.8 && slope < 1.2,
             "iterations linear in r at fixed conditioning: log-log slope %.2f against r "
             "over r = %.0f..%lld (k = %d, d = %lld)", slope, xr[0],
             (long long)rs[nr - 1], k, (long long)d);

    /* against k at fixed d and r */
    int64_t rk = q ? 16 : 64;
    base_make_iso(&s, n, rk);
    double *A = embed(&s, d), *x0 = iso_start(&s, d);
    const int kfull[] = {1, 2, 4, 8, 16, 32, 64, 128}, kquick[] = {1, 4, 16};
    const int *kk = q ? kquick : kfull;
    int nk = q ? 3 : 8;
    f = th_csv(c, "spsa-k.csv", "d,r,k,iters,loss_evals,predicted");
    m = 0;
    for (int i = 0; i < nk; ++i) {
        double eta = kk[i] / ((rk + kk[i] + 1) * (1.0 / (double)n));
        double it = iterations(&s, A, d, x0, kk[i], eta, maxit);
        double pred = log(1e4) * (double)(rk + kk[i] + 1) / kk[i];
        fprintf(f, "%lld,%lld,%d,%.0f,%.0f,%.1f\n", (long long)d, (long long)rk, kk[i], it,
                it * (2 * kk[i] + 1), pred);
        th_note(c, "  d = %lld, r = %lld, k = %3d: %6.0f iterations, %7.0f loss evaluations "
                   "(ln(1e4)(r+k+1)/k = %.0f)", (long long)d, (long long)rk, kk[i], it,
                it * (2 * kk[i] + 1), pred);
        if (it > 0)
            xr[m] = (double)(rk + kk[i] + 1) / kk[i], yi[m++] = it;
    }
    fclose(f);
    slope = th_loglog_slope(m, xr, yi);
    th_claim(c, m == nk && slope > 0.8 && slope < 1.2,
             "iterations against k follow (r+k+1)/k: log-log slope %.2f (r = %lld, k = %d..%d); "
             "loss evaluations per unit of progress are flat while k < r", slope, (long long)rk,
             kk[0], kk[nk - 1]);
    free(A), free(x0), free(s.G), free(s.b), free(P_last);
    P_last = NULL;
}

/* ---- (d) replay ---- */
typedef struct {
    int64_t d, cap, k;
    double *X; /* iterates, cap x d */
} trace_t;

static int keep(const smr_iter_info *info, const double *x, void *user)
{
    trace_t *t = user;
    if (info->iter < t->cap)
        memcpy(t->X + info->iter * t->d, x, (size_t)t->d * sizeof *x), t->k = info->iter + 1;
    return 0;
}

static void replay(th_ctx *c)
{
    int64_t n = 300, d = 32, its = c->quick ? 100 : 500;
    double *A = th_alloc((size_t)(n * d), sizeof *A), *b = th_alloc((size_t)n, sizeof *b);
    bench_seed(1001);
    th_random_problem(n, d, A, b, NULL);
    smr_problem p = {.n = n, .d = d, .A = A, .b = b};
    trace_t t[3];
    smr_iter_info *hist[3];
    const uint64_t seeds[3] = {42, 42, 43};
    const double eps = 1e-4;
    for (int r = 0; r < 3; ++r) {
        t[r] = (trace_t){.d = d, .cap = its + 1, .X = th_alloc((size_t)((its + 1) * d), sizeof(double))};
        hist[r] = th_alloc((size_t)(its + 1), sizeof *hist[r]);
        double *x = th_alloc((size_t)d, sizeof *x);
        smr_options o;
        smr_options_init(&o);
        o.method = SMR_METHOD_SPSA;
        o.seed = seeds[r];
        o.spsa_eps = eps;
        o.max_iter = its;
        o.gtol_rel = 0;
        o.spsa_check_every = 0;
        o.threads = 1;
        o.callback = keep;
        o.callback_data = &t[r];
        o.history = hist[r];
        o.history_len = its + 1;
        smr_result res;
        smr_solve(&p, &o, x, &res);
        free(x);
    }
    /* elapsed differs between runs: compare everything else */
    for (int r = 0; r < 3; ++r)
        for (int64_t i = 0; i <= its; ++i)
            hist[r][i].elapsed = 0;
    size_t bytes = (size_t)(t[0].k * d) * sizeof(double);
    int same = t[0].k == t[1].k && !memcmp(t[0].X, t[1].X, bytes) &&
               !memcmp(hist[0], hist[1], (size_t)(its + 1) * sizeof *hist[0]);
    int differ = memcmp(t[0].X, t[2].X, bytes) != 0;
    /* each accepted step x_t - x_{t+1} against smr_spsa_gradient(x_t, t).
     * Since 71d3e5b both take their logits from a forward pass at x_t and
     * their losses from the same one-pass code (one part at this size), so
     * the estimates agree, also where the differences L(x + eps z) -
     * L(x - eps z) are themselves rounding noise (|g^| below
     * 1e4 sqrt(d) 1e-16 L / eps, the "noise floor" column).  What the
     * comparison cannot resolve is a step shorter than about 1e-8 |x|: x's
     * own rounding then turns its direction (1 - cos up to 0.9 seen).  Up
     * to 0a9f8ce the solver updated its logits in place (Ax - eta A Z c)
     * and the two agreed only above the noise floor (1 - cos <= 1e-9
     * there). */
    double worst = 0, worst_all = 0, *gh = th_alloc((size_t)d, sizeof *gh), *st = th_alloc((size_t)d, sizeof *st);
    int steps = 0, resolvable = 0, big = 0;
    FILE *f = th_csv(c, "spsa-replay.csv", "iter,loss,ghat_norm,noise_floor,one_minus_cos");
    for (int64_t i = 0; i + 1 < t[0].k; ++i) {
        const double *x0 = t[0].X + i * d, *x1 = x0 + d;
        for (int64_t j = 0; j < d; ++j)
            st[j] = x0[j] - x1[j];
        double sn = th_norm(d, st);
        if (sn == 0) /* refused step */
            continue;
        smr_spsa_gradient(&p, x0, 8, eps, SMR_DIR_GAUSSIAN, 42, (uint64_t)i, gh);
        double gn = th_norm(d, gh), cs = cblas_ddot((int)d, st, 1, gh, 1) / (sn * gn);
        double floor_ = 1e4 * sqrt((double)d) * 1e-16 * hist[0][i].loss / eps;
        fprintf(f, "%lld,%.17g,%.6g,%.6g,%.6g\n", (long long)i, hist[0][i].loss, gn, floor_, 1 - cs);
        steps++;
        if (sn > 1e-8 * th_norm(d, x0))
            worst_all = fmax(worst_all, 1 - cs), big++;
        if (gn > floor_)
            worst = fmax(worst, 1 - cs), resolvable++;
    }
    fclose(f);
    th_claim(c, same && differ,
             "replay: two %lld-iteration runs from seed 42 agree bit for bit (every iterate and "
             "history record; 1 thread); seed 43 differs", (long long)its);
    th_claim(c, steps > 0 && worst_all < 1e-12, /* the step's own rounding */
             "each accepted step is along smr_spsa_gradient(x_t, seed, t) recomputed from the "
             "seed: 1 - cos <= %.1e over the %d of %d steps longer than 1e-8 |x| (%.1e over "
             "the %d whose estimate stands above rounding)",
             worst_all, big, steps, worst, resolvable);
    for (int r = 0; r < 3; ++r)
        free(t[r].X), free(hist[r]);
    free(gh), free(st), free(A), free(b);
}

int th_spsa(th_ctx *c)
{
    bias(c);
    moment(c);
    replay(c);
    rank_sweeps(c);
    return 0;
}
