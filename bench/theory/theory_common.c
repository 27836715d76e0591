/* theory_common.c -- helpers of the theory experiments: CSV output, claim
 * bookkeeping, and the LAPACK calls the experiments need to *measure*
 * (eigenvalues, singular values, a generalized eigenproblem, QR).  The
 * library under test never sees these. */
#include "theory.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void *th_alloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p) {
        fprintf(stderr, "bench_theory: out of memory\n");
        exit(1);
    }
    return p;
}

FILE *th_csv(th_ctx *c, const char *name, const char *header)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fprintf(f, "# %s;mode=%s\n%s\n", bench_machine(), c->quick ? "quick" : "full", header);
    return f;
}

static void vline(th_ctx *c, const char *tag, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    printf("%-6s %s\n", tag, msg);
    if (c->summary)
        fprintf(c->summary, "%-6s %s\n", tag, msg);
    fflush(stdout);
}

void th_claim(th_ctx *c, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(c, ok ? "[ok]" : "[FAIL]", fmt, ap);
    va_end(ap);
    c->checks++;
    c->failures += !ok;
}

void th_note(th_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(c, "[note]", fmt, ap);
    va_end(ap);
}

int th_eigs(int64_t d, const double *H, double *ev)
{
    double *M = th_alloc((size_t)(d * d), sizeof *M);
    memcpy(M, H, (size_t)(d * d) * sizeof *M);
    int info = LAPACKE_dsyev(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)d, M, (lapack_int)d, ev);
    free(M);
    return info;
}

int th_svals(int64_t m, int64_t n, const double *A, double *sv)
{
    int64_t k = m < n ? m : n;
    double *M = th_alloc((size_t)(m * n), sizeof *M), *sup = th_alloc((size_t)k, sizeof *sup);
    memcpy(M, A, (size_t)(m * n) * sizeof *M);
    int info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)m, (lapack_int)n, M,
                              (lapack_int)m, sv, NULL, 1, NULL, 1, sup);
    free(M);
    free(sup);
    return info;
}

int th_pencil(int64_t d, const double *Ht, const double *H, double *ev)
{
    double *A = th_alloc((size_t)(d * d), sizeof *A), *B = th_alloc((size_t)(d * d), sizeof *B);
    memcpy(A, Ht, (size_t)(d * d) * sizeof *A);
    memcpy(B, H, (size_t)(d * d) * sizeof *B);
    int info = LAPACKE_dsygv(LAPACK_COL_MAJOR, 1, 'N', 'U', (lapack_int)d, A, (lapack_int)d, B,
                             (lapack_int)d, ev);
    free(A);
    free(B);
    return info;
}

int th_orthonormalize(int64_t d, int64_t r, double *P)
{
    double *tau = th_alloc((size_t)r, sizeof *tau);
    int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)r, P, (lapack_int)d, tau);
    if (!info)
        info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)r, (lapack_int)r, P,
                              (lapack_int)d, tau);
    free(tau);
    return info;
}

int th_orthonormal(int64_t d, int64_t r, double *P)
{
    for (int64_t k = 0; k < d * r; ++k)
        P[k] = bench_normal();
    return th_orthonormalize(d, r, P);
}

double th_uniform(void) { return 0.5 + 0.5 * erf(bench_normal() / sqrt(2.0)); }

void th_random_simplex(int64_t n, double *b)
{
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += (b[i] = -log(th_uniform()));
    for (int64_t i = 0; i < n; ++i)
        b[i] /= s;
}

void th_random_problem(int64_t n, int64_t d, double *A, double *b, double *x)
{
    for (int64_t k = 0; k < n * d; ++k)
        A[k] = bench_normal() / sqrt((double)d);
    th_random_simplex(n, b);
    for (int64_t j = 0; x && j < d; ++j)
        x[j] = bench_normal();
}

void th_softmax(int64_t n, const double *z, double *f)
{
    double m = -INFINITY, s = 0.0;
    for (int64_t i = 0; i < n; ++i)
        m = z[i] > m ? z[i] : m;
    for (int64_t i = 0; i < n; ++i)
        s += (f[i] = exp(z[i] - m));
    for (int64_t i = 0; i < n; ++i)
        f[i] /= s;
}

double th_norm(int64_t n, const double *v) { return cblas_dnrm2((int)n, v, 1); }

double th_dist(int64_t n, const double *u, const double *v)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i)
        s += (u[i] - v[i]) * (u[i] - v[i]);
    return sqrt(s);
}

void th_realize(int64_t n, int64_t d, const double *A, const double *xs, double *b)
{
    double *z = th_alloc((size_t)n, sizeof *z);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, 1.0, A, (int)d, xs, 1, 0.0, z, 1);
    th_softmax(n, z, b);
    free(z);
}

double th_loglog_slope(int m, const double *x, const double *y)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = 0;
    for (int i = 0; i < m; ++i) {
        if (!(x[i] > 0 && y[i] > 0))
            continue;
        double lx = log(x[i]), ly = log(y[i]);
        sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, ++k;
    }
    if (k < 2)
        return NAN;
    return (k * sxy - sx * sy) / (k * sxx - sx * sx);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double th_quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}
