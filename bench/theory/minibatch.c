/*
 * minibatch.c -- the second paper's setting: m problems (A_j, b_j) sharing
 * x, F(x) = (1/m) sum_j L_j(x), each SPSA step on a batch of B problems
 * drawn with replacement (smr_options.spsa_batch_count / _size).
 *
 * The targets are noisy, b_j = softmax(A_j x* + 0.3 noise), so the problems
 * disagree and the batch gradient has variance at the minimizer (with
 * exactly shared minimizers the variance vanishes there and B matters
 * little).  F* and x_F come from exact Newton on F (mean of the library's
 * gradients and Hessians, Cholesky).  We count iterations until
 * F(x) - F* <= 0.01 (F(0) - F*), F evaluated exactly in the callback,
 * against B, and the problem evaluations that costs (iterations x B).
 */
#include "theory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t m, n, d;
    smr_problem *p;
    double Fstar, F0, target;
    int64_t hit;
} batch_t;

static double F(const batch_t *s, const double *x)
{
    double t = 0, L;
    for (int64_t j = 0; j < s->m; ++j) {
        smr_loss(&s->p[j], x, &L);
        t += L;
    }
    return t / (double)s->m;
}

/* exact Newton on F from x (d <= 16): F* and the minimizer */
static double newton_F(const batch_t *s, double *x)
{
    int64_t d = s->d;
    double H[256], Hj[256], g[16], gj[16];
    for (int it = 0; it < 30; ++it) {
        memset(H, 0, sizeof H);
        memset(g, 0, sizeof g);
        for (int64_t j = 0; j < s->m; ++j) {
            smr_gradient(&s->p[j], x, gj);
            smr_hessian(&s->p[j], x, Hj, 0);
            for (int64_t a = 0; a < d; ++a)
                g[a] += gj[a] / (double)s->m;
            for (int64_t a = 0; a < d * d; ++a)
                H[a] += Hj[a] / (double)s->m;
        }
        for (int64_t a = 0; a < d; ++a)
            g[a] = -g[a];
        if (smr_cholesky_solve(d, H, d, 1, g) != SMR_OK)
            return NAN;
        for (int64_t a = 0; a < d; ++a)
            x[a] += g[a];
    }
    return F(s, x);
}

static int watch(const smr_iter_info *info, const double *x, void *user)
{
    batch_t *s = user;
    if (F(s, x) <= s->target) {
        s->hit = info->iter;
        return 1;
    }
    return 0;
}

int th_minibatch(th_ctx *c)
{
    batch_t s = {.m = c->quick ? 16 : 64, .n = 50, .d = 10};
    int64_t m = s.m, n = s.n, d = s.d;
    double *A = th_alloc((size_t)(m * n * d), sizeof *A), *b = th_alloc((size_t)(m * n), sizeof *b);
    double *xs = th_alloc((size_t)d, sizeof *xs), *x = th_alloc((size_t)d, sizeof *x);
    double *z = th_alloc((size_t)n, sizeof *z);
    s.p = th_alloc((size_t)m, sizeof *s.p);
    bench_seed(1101);
    for (int64_t j = 0; j < d; ++j)
        xs[j] = bench_normal();
    for (int64_t q = 0; q < m; ++q) {
        double *Aq = A + q * n * d, *bq = b + q * n;
        for (int64_t k = 0; k < n * d; ++k)
            Aq[k] = bench_normal() / sqrt((double)d);
        for (int64_t i = 0; i < n; ++i) {
            z[i] = 0.3 * bench_normal();
            for (int64_t j = 0; j < d; ++j)
                z[i] += Aq[i * d + j] * xs[j];
        }
        th_softmax(n, z, bq);
        s.p[q] = (smr_problem){.n = n, .d = d, .A = Aq, .b = bq};
    }
    memcpy(x, xs, (size_t)d * sizeof *x);
    s.Fstar = newton_F(&s, x);
    memset(x, 0, (size_t)d * sizeof *x);
    s.F0 = F(&s, x);
    s.target = s.Fstar + 0.01 * (s.F0 - s.Fstar);

    const int64_t Bs[] = {1, 2, 4, 8, 16, 32, 64};
    int nb = 0;
    while (nb < 7 && Bs[nb] <= m)
        ++nb;
    FILE *f = th_csv(c, "minibatch.csv", "m,n,d,k,batch,iters,problem_evals");
    double first = 0, last = 0;
    for (int kb = 0; kb < nb; ++kb) {
        double it[3];
        for (int sd = 0; sd < 3; ++sd) {
            smr_options o;
            smr_options_init(&o);
            o.method = SMR_METHOD_SPSA;
            o.spsa_batch_count = m;
            o.spsa_batch_size = Bs[kb];
            o.spsa_check_every = 0;
            o.gtol_rel = 0;
            o.max_iter = c->quick ? 5000 : 50000;
            o.seed = 21u + (uint64_t)sd;
            o.callback = watch;
            o.callback_data = &s;
            s.hit = -1;
            memset(x, 0, (size_t)d * sizeof *x);
            smr_result res;
            smr_solve(s.p, &o, x, &res);
            it[sd] = s.hit >= 0 ? (double)s.hit : INFINITY;
        }
        double med = th_quantile(it, 3, 0.5);
        if (kb == 0)
            first = med;
        last = med;
        fprintf(f, "%lld,%lld,%lld,8,%lld,%.0f,%.0f\n", (long long)m, (long long)n, (long long)d,
                (long long)Bs[kb], isfinite(med) ? med : -1,
                isfinite(med) ? med * (double)Bs[kb] : -1);
        th_note(c, "  m = %lld problems, batch %2lld: %6.0f iterations, %7.0f problem evaluations",
                (long long)m, (long long)Bs[kb], med, med * (double)Bs[kb]);
    }
    fclose(f);
    th_claim(c, isfinite(last) && last < first,
             "minibatch SPSA: iterations to 1%% of the initial gap fall with the batch size "
             "(%.0f at B = 1, %.0f at B = %lld; F* = %.4g)", first, last, (long long)Bs[nb - 1],
             s.Fstar);
    free(A), free(b), free(xs), free(x), free(z), free(s.p);
    return 0;
}
