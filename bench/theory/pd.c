/*
 * pd.c -- claim 2: with large enough row weights w the Hessian is positive
 * definite at every x; with w = 0 it can be indefinite.
 *
 * H(x) = A' (B(z) + diag(w o w)) A + lambda Id, with B(z) the middle matrix
 * at z = Ax (derivs.c).  So if w_i^2 >= beta + l / sigma_min(A)^2, where
 * -beta bounds the eigenvalues of B from below, then H >= l Id.  The papers
 * prove it with a constant C (MATH.md: C = 12 suffices, since |B| <= 12 for
 * b on the simplex).  We measure, over random x near and far from the origin
 * (|x| scale 0.01..100):
 *   - the range of eig(B(Ax)) (this gives the sharp beta),
 *   - lambda_min(H) against a uniform w, and where it turns positive,
 *   - the proven bound: lambda_min(H) >= (w^2 - 12) sigma_min(A)^2 (a check).
 */
#include "theory.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void random_point(int64_t d, double *x)
{
    double s = 0.01 * pow(1e4, th_uniform());
    for (int64_t j = 0; j < d; ++j)
        x[j] = s * bench_normal();
}

int th_pd(th_ctx *c)
{
    int64_t n = c->quick ? 60 : 200, d = c->quick ? 5 : 10;
    int M = c->quick ? 30 : 300;
    /* w: finely where lambda_min changes sign, coarsely up to past sqrt(12) */
    double wg[40];
    int NW = 0;
    for (int k = 0; k <= (c->quick ? 5 : 20); ++k)
        wg[NW++] = (c->quick ? 0.1 : 0.025) * k;
    const double coarse[] = {0.75, 1, 1.5, 2, 2.5, 3, 3.5, 3.75, 4};
    for (int k = 0; k < 9; ++k)
        wg[NW++] = coarse[k];
    double *A = th_alloc((size_t)(n * d), sizeof *A), *b = th_alloc((size_t)n, sizeof *b);
    double *w = th_alloc((size_t)n, sizeof *w), *X = th_alloc((size_t)(M * d), sizeof *X);
    double *H = th_alloc((size_t)(d * d), sizeof *H), *ev = th_alloc((size_t)n, sizeof *ev);
    double *sv = th_alloc((size_t)d, sizeof *sv), *lmin = th_alloc((size_t)M, sizeof *lmin);
    bench_seed(303);
    th_random_problem(n, d, A, b, NULL);
    for (int m = 0; m < M; ++m)
        random_point(d, X + m * d);
    /* sigma_min(A): A row-major n x d is A' column-major d x n */
    th_svals(d, n, A, sv);
    double smin2 = sv[d - 1] * sv[d - 1];

    /* the middle matrix's spectrum over the points: A = I_n at z = Ax */
    double bmin = INFINITY, bmax = -INFINITY;
    {
        double *Id = th_alloc((size_t)(n * n), sizeof *Id), *z = th_alloc((size_t)n, sizeof *z);
        double *B = th_alloc((size_t)(n * n), sizeof *B);
        for (int64_t i = 0; i < n; ++i)
            Id[i * n + i] = 1.0;
        smr_problem pi = {.n = n, .d = n, .A = Id, .b = b};
        FILE *f = th_csv(c, "pd-middle.csv", "point,xnorm,eig_min,eig_max");
        for (int m = 0; m < M; ++m) {
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, 1.0, A, (int)d, X + m * d, 1,
                        0.0, z, 1);
            smr_hessian(&pi, z, B, 0);
            th_eigs(n, B, ev);
            bmin = fmin(bmin, ev[0]), bmax = fmax(bmax, ev[n - 1]);
            fprintf(f, "%d,%.6g,%.6g,%.6g\n", m, th_norm(d, X + m * d), ev[0], ev[n - 1]);
        }
        fclose(f);
        free(Id), free(z), free(B);
    }
    double beta = fmax(-bmin, 0.0);

    FILE *f = th_csv(c, "pd.csv", "w,w2,lmin_min,lmin_median,frac_indefinite,"
                                  "bound_c12,bound_measured,sigma_min2,lmin_min_rel,"
                                  "bound_measured_rel");
    double w_pos = NAN, worst_gap = INFINITY, frac0 = 0, lmin0 = 0;
    int proven_ok = 1;
    for (int kw = 0; kw < NW; ++kw) {
        double wv = wg[kw];
        for (int64_t i = 0; i < n; ++i)
            w[i] = wv;
        smr_problem p = {.n = n, .d = d, .A = A, .b = b, .w = kw ? w : NULL};
        int indef = 0;
        for (int m = 0; m < M; ++m) {
            smr_hessian(&p, X + m * d, H, 0);
            th_eigs(d, H, ev);
            lmin[m] = ev[0];
            indef += ev[0] < -1e-12 * fmax(fabs(ev[d - 1]), 1e-300);
        }
        double lo = th_quantile(lmin, M, 0.0), med = th_quantile(lmin, M, 0.5);
        double b12 = (wv * wv - 12.0) * smin2, bm = (wv * wv - beta) * smin2;
        if (wv * wv > 12.0) {
            proven_ok &= lo >= b12 * (1 - 1e-12);
            worst_gap = fmin(worst_gap, lo / b12);
        }
        if (isnan(w_pos) && lo > 0)
            w_pos = wv;
        if (kw == 0)
            frac0 = (double)indef / M, lmin0 = lo;
        fprintf(f, "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", wv, wv * wv, lo, med,
                (double)indef / M, b12, bm, smin2, lo / smin2, wv * wv - beta);
    }
    fclose(f);
    th_note(c, "middle matrix eigenvalues over %d points (|x| 0.01..100, b on the simplex): "
               "[%.3f, %.3f]  (MATH.md reports [-0.32, 0.36])", M, bmin, bmax);
    th_claim(c, frac0 > 0 && lmin0 < 0,
             "w = 0: the Hessian is indefinite at %.0f%% of the points (lambda_min down to %.3g)",
             100 * frac0, lmin0);
    th_claim(c, !isnan(w_pos) && w_pos * w_pos <= 12.0,
             "uniform w: lambda_min(H) > 0 at every sampled point from w = %.2f (w^2 = %.3f); "
             "the sharp sufficient value sqrt(beta) = %.3f, the proven sqrt(12) = %.3f",
             w_pos, w_pos * w_pos, sqrt(beta), sqrt(12.0));
    th_claim(c, proven_ok,
             "proven bound lambda_min(H) >= (w^2 - 12) sigma_min(A)^2 holds at every point with "
             "w^2 >= 12 (measured/bound >= %.2f: the bound is loose)", worst_gap);
    free(A), free(b), free(w), free(X), free(H), free(ev), free(sv), free(lmin);
    return 0;
}
