/*
 * derivs.c -- claim 1: the gradient and Hessian formulas match finite
 * differences, and the middle matrix is diagonal + rank 2.
 *
 * Gradient: 5-point central differences of smr_loss,
 *     g_j ~ [-L(x+2h e_j) + 8L(x+h e_j) - 8L(x-h e_j) + L(x-2h e_j)] / 12h,
 * truncation O(h^4), rounding about eps_mach |L| / h.  A point is checked
 * when |g| is above that rounding floor by 1e3 (far from the origin the
 * softmax saturates and the gradient drops below what any difference of
 * double losses resolves: those points are counted, not hidden).
 * Hessian: the same stencil on smr_gradient, column by column.
 *
 * Middle matrix: with A = I_n the Hessian *is* the middle matrix
 *     B = d^2/dz^2 1/2 |softmax(z) - b|^2 = diag(delta) - f v' - v f' + kappa f f'
 * (docs/math.md).  We form B twice, by smr_hessian and by differences of
 * smr_gradient, subtract diag(delta) computed here from its own formula,
 * and measure the singular values: the third must vanish (rank <= 2).
 */
#include "theory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 5-point difference of the loss along e_j */
static double fd_loss(const smr_problem *p, double *x, int64_t j, double h)
{
    double x0 = x[j], L[4];
    const double off[4] = {2, 1, -1, -2};
    for (int s = 0; s < 4; ++s) {
        x[j] = x0 + off[s] * h;
        smr_loss(p, x, &L[s]);
    }
    x[j] = x0;
    return (-L[0] + 8 * L[1] - 8 * L[2] + L[3]) / (12 * h);
}

/* H_fd column j by the 5-point stencil on the gradient; then symmetrized */
static void fd_hessian(const smr_problem *p, double *x, double h, double *H)
{
    int64_t d = p->d;
    double *g = th_alloc((size_t)(4 * d), sizeof *g);
    const double off[4] = {2, 1, -1, -2};
    for (int64_t j = 0; j < d; ++j) {
        double x0 = x[j];
        for (int s = 0; s < 4; ++s) {
            x[j] = x0 + off[s] * h;
            smr_gradient(p, x, g + s * d);
        }
        x[j] = x0;
        for (int64_t i = 0; i < d; ++i)
            H[i + j * d] = (-g[i] + 8 * g[i + d] - 8 * g[i + 2 * d] + g[i + 3 * d]) / (12 * h);
    }
    for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < j; ++i)
            H[i + j * d] = H[j + i * d] = 0.5 * (H[i + j * d] + H[j + i * d]);
    free(g);
}

static double rel_fro(int64_t m, const double *a, const double *b)
{
    double num = 0, den = 0;
    for (int64_t k = 0; k < m; ++k)
        num += (a[k] - b[k]) * (a[k] - b[k]), den += a[k] * a[k];
    return den > 0 ? sqrt(num / den) : (num > 0 ? INFINITY : 0.0);
}

static double log_uniform(double lo, double hi)
{
    return lo * pow(hi / lo, th_uniform());
}

/* derivative checks at random problems and points */
static void derivatives(th_ctx *c)
{
    int P = c->quick ? 40 : 400;
    const double h = 1e-3;
    FILE *f = th_csv(c, "derivs.csv", "point,n,d,layout,has_w,lambda,xscale,loss,gnorm,"
                                      "grad_rel,grad_floor_rel,checked,hess_rel");
    double gmax = 0, hmax = 0;
    int checked = 0;
    bench_seed(101);
    for (int t = 0; t < P; ++t) {
        int64_t n = 20 + t % 100, d = 2 + t % 11;
        int col = t % 2, has_w = (t / 2) % 2;
        double lambda = (t / 4) % 2 ? 0.3 : 0.0, xs = log_uniform(0.1, 10.0);
        double *A = th_alloc((size_t)(n * d), sizeof *A), *b = th_alloc((size_t)n, sizeof *b);
        double *w = th_alloc((size_t)n, sizeof *w), *x = th_alloc((size_t)d, sizeof *x);
        double *g = th_alloc((size_t)d, sizeof *g), *gf = th_alloc((size_t)d, sizeof *gf);
        double *H = th_alloc((size_t)(d * d), sizeof *H), *Hf = th_alloc((size_t)(d * d), sizeof *Hf);
        for (int64_t k = 0; k < n * d; ++k)
            A[k] = bench_normal() / sqrt((double)d); /* stored in either order */
        th_random_simplex(n, b);
        for (int64_t i = 0; i < n; ++i)
            w[i] = 0.5 + 0.5 * erf(bench_normal());
        for (int64_t j = 0; j < d; ++j)
            x[j] = xs * bench_normal();
        smr_problem p = {.n = n, .d = d, .A = A, .b = b, .w = has_w ? w : NULL, .lambda = lambda,
                         .layout = col ? SMR_COL_MAJOR : SMR_ROW_MAJOR};
        double L;
        smr_loss_gradient(&p, x, &L, g);
        for (int64_t j = 0; j < d; ++j)
            gf[j] = fd_loss(&p, x, j, h);
        smr_hessian(&p, x, H, 0);
        fd_hessian(&p, x, h, Hf);
        double gn = th_norm(d, g), grel = rel_fro(d, g, gf), hrel = rel_fro(d * d, H, Hf);
        double floor_rel = 2.2e-16 * fabs(L) * sqrt((double)d) / h / (gn > 0 ? gn : 1e-300);
        int ok = floor_rel < 1e-3;
        if (ok) {
            checked++;
            gmax = fmax(gmax, grel);
            hmax = fmax(hmax, hrel);
        }
        fprintf(f, "%d,%lld,%lld,%d,%d,%g,%.6g,%.17g,%.6g,%.6g,%.6g,%d,%.6g\n", t, (long long)n,
                (long long)d, col, has_w, lambda, xs, L, gn, grel, floor_rel, ok, hrel);
        free(A), free(b), free(w), free(x), free(g), free(gf), free(H), free(Hf);
    }
    fclose(f);
    th_claim(c, checked >= P / 2 && gmax <= 1e-6,
             "gradient = 5-point finite differences of the loss: max relative error %.2e over "
             "%d/%d points resolvable in double (|x| scale 0.1..10, both layouts, w, lambda)",
             gmax, checked, P);
    th_claim(c, checked >= P / 2 && hmax <= 1e-6,
             "Hessian = finite differences of the gradient: max relative error %.2e (Frobenius) "
             "over the same %d points", hmax, checked);
}

/* the middle matrix: diagonal + rank 2 */
static void middle(th_ctx *c)
{
    int P = c->quick ? 20 : 200;
    FILE *f = th_csv(c, "middle.csv", "point,n,zscale,s1,s2_over_s1,s3_over_s1_formula,"
                                      "s3_over_s1_fd,fd_rel");
    FILE *fs = th_csv(c, "middle-spectrum.csv", "point,index,sv_formula,sv_fd");
    double r3 = 0, r3fd = 0, r2min = INFINITY;
    bench_seed(202);
    for (int t = 0; t < P; ++t) {
        int64_t n = 5 + t % 26;
        double zs = log_uniform(0.1, 5.0);
        double *Id = th_alloc((size_t)(n * n), sizeof *Id), *b = th_alloc((size_t)n, sizeof *b);
        double *z = th_alloc((size_t)n, sizeof *z), *fz = th_alloc((size_t)n, sizeof *fz);
        double *B = th_alloc((size_t)(n * n), sizeof *B), *Bf = th_alloc((size_t)(n * n), sizeof *Bf);
        double *sv = th_alloc((size_t)n, sizeof *sv), *svf = th_alloc((size_t)n, sizeof *svf);
        for (int64_t i = 0; i < n; ++i)
            Id[i * n + i] = 1.0;
        th_random_simplex(n, b);
        for (int64_t i = 0; i < n; ++i)
            z[i] = zs * bench_normal();
        smr_problem p = {.n = n, .d = n, .A = Id, .b = b};
        smr_hessian(&p, z, B, 0);
        fd_hessian(&p, z, 1e-3, Bf);
        double fdrel = rel_fro(n * n, B, Bf);
        /* delta = f o (2f - b) - <f, c> f, from the formula, here */
        th_softmax(n, z, fz);
        double fc = 0;
        for (int64_t i = 0; i < n; ++i)
            fc += fz[i] * (fz[i] - b[i]);
        for (int64_t i = 0; i < n; ++i) {
            double delta = fz[i] * (2 * fz[i] - b[i]) - fc * fz[i];
            B[i + i * n] -= delta;
            Bf[i + i * n] -= delta;
        }
        th_svals(n, n, B, sv);
        th_svals(n, n, Bf, svf);
        double q2 = sv[1] / sv[0], q3 = sv[2] / sv[0], q3f = svf[2] / svf[0];
        r3 = fmax(r3, q3), r3fd = fmax(r3fd, q3f), r2min = fmin(r2min, q2);
        fprintf(f, "%d,%lld,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", t, (long long)n, zs, sv[0], q2, q3,
                q3f, fdrel);
        if (t >= P - 4)
            for (int64_t i = 0; i < n; ++i)
                fprintf(fs, "%d,%lld,%.6g,%.6g\n", t, (long long)i + 1, sv[i] / sv[0],
                        svf[i] / svf[0]);
        free(Id), free(b), free(z), free(fz), free(B), free(Bf), free(sv), free(svf);
    }
    fclose(f);
    fclose(fs);
    th_claim(c, r3 <= 1e-12 && r3fd <= 1e-6,
             "middle matrix minus diag(delta) has rank 2: sigma_3/sigma_1 <= %.1e (library "
             "Hessian with A = Id) and <= %.1e (finite differences) over %d points, n = 5..30",
             r3, r3fd, P);
    th_note(c, "  ...and not rank 1: sigma_2/sigma_1 >= %.2e at every point", r2min);
}

int th_derivs(th_ctx *c)
{
    derivatives(c);
    middle(c);
    return 0;
}
