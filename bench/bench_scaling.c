/*
 * bench_scaling.c -- the cost of one iteration of each solver against n
 * and d (issue 7, target 7: linear in n for greedy descent and SPSA steps,
 * n d^2 + d^3 for a Newton iteration).
 *
 * An iteration's cost is measured through the public smr_solve, from the
 * solve's own history: (elapsed at the end of iteration K2 - elapsed at
 * the end of iteration K1) / (K2 - K1), every stopping test but max_iter
 * off, so the fixed work of a solve (checking A, the exact start and
 * result, allocating and first touching the workspace) is outside the
 * span.  Median of 5 solves (sweep_n: one A, sizes interleaved, each
 * solve paired with a streaming read of the same rows); 3 for the d
 * sweep.  (Up to cb81273 it was the difference of two solves' wall times;
 * at n >= 10^6 their fixed work -- ~0.5 s of page faults and passes --
 * varied by more than the iterations cost, and the slopes were noise.)
 * A row whose solves stopped early (iterations != K) says so in its `ok`
 * column and is not plotted.
 *
 *   bench_scaling [--quick] [--only gd|spsa|newton|newton_d] [--csv FILE]
 *
 * CSV: sweep,method,n,d,per_iter_s,work,ok,losses_per_iter,read_s -- work
 * is n (the n sweeps) or n d^2 + d^3 (Newton's d sweep); losses_per_iter
 * counts the line search's trials; read_s is the paired read (median).
 * The binary prints the fitted log-log slopes of the n sweeps (and of
 * their reads); bench/plot_scaling.gp and bench/tables.py fit the same.
 */
#include "bench_common.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    smr_method method;
    int64_t k1, k2;
} meth;

/* one solve of K iterations with its history; returns the seconds
 * between the end of iteration K1 and the end of iteration K (the
 * solve's own clock, smr_iter_info.elapsed), iterations in *it and loss
 * values in that span in *evals */
static double solve_k(const smr_problem *p, const meth *m, int64_t K,
                      int64_t *it, int64_t *evals)
{
    int64_t d = p->d;
    double *x = calloc((size_t)d, sizeof(double));
    smr_iter_info *h = calloc((size_t)(K + 1), sizeof *h);
    if (!x || !h) {
        fprintf(stderr, "bench_scaling: out of memory\n");
        exit(1);
    }
    smr_options o;
    smr_options_init(&o);
    o.method = m->method;
    o.max_iter = K;
    o.gtol_rel = 0.0;
    o.gtol_abs = 0.0;
    o.ftol = 0.0;
    o.xtol = 0.0;
    o.spsa_k = 16;
    o.seed = 7;
    o.history = h;
    o.history_len = K + 1;
    smr_result r;
    smr_solve(p, &o, x, &r);
    *it = r.iterations;
    double t = 0.0;
    *evals = 0;
    if (r.iterations >= K) {
        t = h[K].elapsed - h[m->k1].elapsed;
        *evals = h[K].loss_evals - h[m->k1].loss_evals;
    }
    free(x);
    free(h);
    return t;
}

/* least-squares slope of log y against log x */
static double loglog_slope(const double *x, const double *y, int m)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (int i = 0; i < m; ++i) {
        mx += log(x[i]) / m;
        my += log(y[i]) / m;
    }
    for (int i = 0; i < m; ++i) {
        sxy += (log(x[i]) - mx) * (log(y[i]) - my);
        sxx += (log(x[i]) - mx) * (log(x[i]) - mx);
    }
    return sxx > 0 ? sxy / sxx : NAN;
}

static double sink;

/* seconds of a streaming read of A's first rows (the limit reference of
 * bench_kernels), median of 3, timed right before the solve it is paired
 * with */
static double read_time(const smr_problem *p)
{
    double t[3];
    for (int r = 0; r < 3; ++r) {
        double t0 = bench_now();
        sink += bench_stream_sum(p->A, p->n * p->d);
        t[r] = bench_now() - t0;
    }
    return bench_median(t, 3);
}

static void put(FILE *f, const char *sweep, const meth *m, int64_t n, int64_t d, double per,
                double rd, bool ok, double epi)
{
    double work = strcmp(sweep, "newton_d") == 0
                      ? (double)n * (double)d * (double)d + (double)d * d * d
                      : (double)n;
    printf("%-9s %-7s n=%-8lld d=%-5lld %.3e s/iteration  %.2f losses/iteration  "
           "read %.3e s  (%.2f reads)  (%s)\n",
           sweep, m->name, (long long)n, (long long)d, per, epi, rd, per / rd,
           ok ? "ok" : "stopped early");
    fprintf(f, "%s,%s,%lld,%lld,%.6e,%.6e,%d,%.3f,%.6e\n", sweep, m->name, (long long)n,
            (long long)d, per, work, ok ? 1 : 0, epi, rd);
    fflush(f);
}

/* A (n x d, row-major) and b = softmax(A x*) for the sweep, seeded by n
 * and d; b2, when asked, is a second n-vector (the renormalised b) */
typedef struct { double *A, *b, *b2, *xs; } data;

static data make_data(int64_t n, int64_t d, bool b2)
{
    data q = {malloc((size_t)(n * d) * sizeof(double)), malloc((size_t)n * sizeof(double)),
              b2 ? malloc((size_t)n * sizeof(double)) : NULL,
              malloc((size_t)d * sizeof(double))};
    if (!q.A || !q.b || (b2 && !q.b2) || !q.xs) {
        fprintf(stderr, "bench_scaling: out of memory at n %lld d %lld\n", (long long)n,
                (long long)d);
        exit(1);
    }
    bench_seed(1000 + (uint64_t)n + 7 * (uint64_t)d);
    bench_problem(n, d, q.A, q.b, q.xs);
    bench_blas_idle();
    return q;
}

static void free_data(data *q)
{
    free(q->A);
    free(q->b);
    free(q->b2);
    free(q->xs);
}

#define REPS 5
#define MAXN 8

/* The n sweep.  One A for the largest n; size n solves on its first n
 * rows, with b renormalised over them (b = softmax(A x*) of all rows, so
 * its first n entries over their sum are softmax of the first n rows:
 * still exactly realizable).  All sizes share the same memory, and the
 * sizes interleave: each of REPS rounds runs every size once, ascending
 * and descending in turn, each solve right after a streaming read of the
 * same rows.  (Up to d7c2bdb each size had its own A, sizes ran in order,
 * smallest first, 3 solves each: a drift of the shared machine during the
 * sweep, or where the allocator placed each A, went into the slope.) */
static void sweep_n(FILE *f, const meth *m, const int64_t *ns, int nn, int64_t d)
{
    int64_t N = ns[nn - 1];
    data q = make_data(N, d, true);
    const double *A = q.A, *b = q.b;
    double *bn = q.b2;
    double per[MAXN][REPS], rd[MAXN][REPS], epi[MAXN] = {0};
    bool ok[MAXN];
    for (int i = 0; i < nn; ++i)
        ok[i] = true;
    for (int r = 0; r < REPS; ++r)
        for (int q = 0; q < nn; ++q) {
            int i = r % 2 ? nn - 1 - q : q;
            int64_t n = ns[i], it = 0, ev = 0;
            double s = 0;
            for (int64_t k = 0; k < n; ++k)
                s += b[k];
            for (int64_t k = 0; k < n; ++k)
                bn[k] = b[k] / s;
            smr_problem p = {.n = n, .d = d, .A = A, .b = bn, .layout = SMR_ROW_MAJOR};
            rd[i][r] = read_time(&p);
            per[i][r] = solve_k(&p, m, m->k2, &it, &ev) / (double)(m->k2 - m->k1);
            ok[i] = ok[i] && it == m->k2;
            /* loss values per iteration (line-search trials included): the
             * same for every n when the sweep measures the cost of equal work */
            epi[i] = (double)ev / (double)(m->k2 - m->k1);
        }
    double x[MAXN], yp[MAXN], yr[MAXN];
    for (int i = 0; i < nn; ++i) {
        x[i] = (double)ns[i];
        yp[i] = bench_median(per[i], REPS);
        yr[i] = bench_median(rd[i], REPS);
        put(f, "n", m, ns[i], d, yp[i], yr[i], ok[i], epi[i]);
    }
    printf("# %s: fitted log-log slope in n %.3f (the paired reads: %.3f)\n", m->name,
           loglog_slope(x, yp, nn), loglog_slope(x, yr, nn));
    free_data(&q);
}

/* Newton against d: its own A per d (n = 2^18); returns the seconds per
 * iteration */
static double one_d(FILE *f, const meth *m, int64_t n, int64_t d)
{
    data q = make_data(n, d, false);
    smr_problem p = {.n = n, .d = d, .A = q.A, .b = q.b, .layout = SMR_ROW_MAJOR};
    double dt[3], rd[3];
    bool ok = true;
    int64_t it = 0, ev = 0;
    for (int r = 0; r < 3; ++r) {
        rd[r] = read_time(&p);
        dt[r] = solve_k(&p, m, m->k2, &it, &ev) / (double)(m->k2 - m->k1);
        ok = ok && it == m->k2;
    }
    double per = bench_median(dt, 3);
    put(f, "newton_d", m, n, d, per, bench_median(rd, 3), ok,
        (double)ev / (double)(m->k2 - m->k1));
    free_data(&q);
    return per;
}

/* What the d sweep says about n d^2 + d^3: the fitted slope, each
 * segment's slope (it rises towards 1 as the n d^2 term takes over), and
 * the two-term model t = a n d + b (n d^2 + d^3) fitted by least squares
 * in relative error (a: the passes over A, which the model leaves
 * out, and whatever of the Hessian does not grow as n d^2 -- dsyrk runs
 * fewer flops a second at small d), with its worst misfit and the share
 * of the n d^2 + d^3 term at each d. */
#define SMR_MAX_DS 8 /* points of the d sweep, at most */
static void d_fit(const int64_t *ds, const double *t, int nd, int64_t n)
{
    double x[SMR_MAX_DS], a = 0, b = 0;
    for (int i = 0; i < nd; ++i)
        x[i] = (double)n * ds[i] * ds[i] + (double)ds[i] * ds[i] * ds[i];
    printf("# newton_d: fitted log-log slope in n d^2 + d^3 %.3f; by segment:", loglog_slope(x, t, nd));
    for (int i = 1; i < nd; ++i)
        printf(" %lld-%lld %.2f", (long long)ds[i - 1], (long long)ds[i],
               log(t[i] / t[i - 1]) / log(x[i] / x[i - 1]));
    /* minimise sum_i ((a u_i + b v_i) - 1)^2, u = n d / t, v = x / t */
    double suu = 0, suv = 0, svv = 0, su = 0, sv = 0;
    for (int i = 0; i < nd; ++i) {
        double u = (double)n * ds[i] / t[i], v = x[i] / t[i];
        suu += u * u, suv += u * v, svv += v * v, su += u, sv += v;
    }
    double det = suu * svv - suv * suv;
    if (nd >= 2 && det > 0) {
        a = (su * svv - sv * suv) / det;
        b = (suu * sv - suv * su) / det;
    }
    double worst = 0;
    for (int i = 0; i < nd; ++i) {
        double e = fabs((a * n * ds[i] + b * x[i]) / t[i] - 1);
        worst = e > worst ? e : worst;
    }
    printf("\n# newton_d: t = a n d + b (n d^2 + d^3): a = %.3g s, b = %.3g s, worst misfit %.1f %%;"
           " share of the b term:", a, b, 100 * worst);
    for (int i = 0; i < nd; ++i)
        printf(" d=%lld %.2f", (long long)ds[i], b * x[i] / (a * n * ds[i] + b * x[i]));
    printf("\n");
}

int main(int argc, char **argv)
{
    bool quick = false;
    const char *csv = "bench-scaling.csv", *only = NULL;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
            csv = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: bench_scaling [--quick] [--only gd|spsa|newton|newton_d] [--csv FILE]\n");
            return 2;
        }
    }
    FILE *f = fopen(csv, "w");
    if (!f) {
        perror(csv);
        return 1;
    }
    fprintf(f, "# %s\n", bench_machine());
    fprintf(f, "sweep,method,n,d,per_iter_s,work,ok,losses_per_iter,read_s\n");
    printf("# %s\n", bench_machine());
    const meth ms[] = {
        {"gd", SMR_METHOD_GD, 4, 24},
        {"spsa", SMR_METHOD_SPSA, 4, 14},
        {"newton", SMR_METHOD_NEWTON, 1, 4},
    };
    /* A from 320 MB to 2.56 GB: at least four times the last-level cache
     * (32 MiB here; issue 7), all above the threading threshold n d = 2^20,
     * so the constant does not change along the line.  The n-vectors of an
     * iteration (z, f, the weights: 20 MB each at the first size) are not
     * in that cache either.  (Up to abe0407 the sweep started at 25.6 MB,
     * which fits that cache; up to d7c2bdb at n = 1.25 10^6, where a Newton
     * iteration cost 4.2 reads of A against 5.5 from 2.5 10^6 on, while
     * gradient descent, with fewer n-vectors, cost the same per read at
     * every size: both raised the fitted slopes.) */
    const int64_t ns_full[] = {2500000, 5000000, 10000000, 20000000};
    const int64_t ns_quick[] = {20000, 40000, 80000};
    const int64_t *ns = quick ? ns_quick : ns_full;
    int nn = quick ? 3 : 4;
    int64_t d0 = 16;
    for (size_t m = 0; m < sizeof ms / sizeof ms[0]; ++m)
        if (!only || !strcmp(only, ms[m].name))
            sweep_n(f, &ms[m], ns, nn, d0);
    /* Newton against d at fixed n: n d^2 (the Hessian) + d^3 (Cholesky);
     * n = 2^18, so that A (134 MB at d = 64 ... 4.3 GB at d = 2048) is at
     * least four times the last-level cache too (up to abe0407: n = 20000,
     * A from 10 MB, in cache).  Up to d = 2048 since stop 36 (512 before):
     * the slope below 1 at d <= 512 was the passes over A, of order n d,
     * which the n d^2 term overtakes only there (d_fit; d = 1024 and 2048
     * add about 4.5 minutes) */
    const int64_t ds_full[] = {64, 128, 256, 512, 1024, 2048};
    const int64_t ds_quick[] = {32, 64};
    const int64_t *ds = quick ? ds_quick : ds_full;
    int nd = quick ? 2 : (int)(sizeof ds_full / sizeof ds_full[0]);
    _Static_assert(sizeof ds_full / sizeof ds_full[0] <= SMR_MAX_DS, "d sweep too long");
    double td[SMR_MAX_DS];
    int64_t nn_d = quick ? 5000 : 262144;
    if (!only || !strcmp(only, "newton_d")) {
        for (int i = 0; i < nd; ++i)
            td[i] = one_d(f, &ms[2], nn_d, ds[i]);
        d_fit(ds, td, nd, nn_d);
    }
    fclose(f);
    printf("csv: %s\n", csv);
    return 0;
}
