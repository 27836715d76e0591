/*
 * hessian.c -- the dense Hessian and the Hessian-vector product
 * (docs/math.md, section 1).
 *
 *     v = f o (2f - b),   delta = v - <f,c> f,   kappa = <3f - 2b, f>
 *     e = delta + w o w                      (the diagonal "middle" matrix)
 *     p = A^T f,   q = A^T v
 *     H = A^T diag(e) A  -  p q^T - q p^T + kappa p p^T  +  lambda I
 *
 * A^T diag(e) A is assembled with level-3 BLAS without copying A: rows (all
 * of them, or the sampled ones with their weights) are taken in blocks of nb, each row scaled by sqrt|e_i| into one of two
 * buffers according to the sign of e_i, and  H += P^T P - N^T N  by two
 * dsyrk calls.  (e can be negative without enough regularisation, so a
 * single syrk of diag(sqrt e) A would be wrong.)  The rank-2 part is one
 * dsyr2:  -p q^T - q p^T + kappa p p^T = -(p t^T + t p^T),  t = q - kappa/2 p.
 */
#include "objective.h"

#include <math.h>
#include <string.h>

/* F = [f, v] into ws->nk columns 0 and 1; returns kappa.  Column 2 gets
 * e_i, or e_i times the value already there when scale_col2 (for H s). */
static double middle_terms(const smr_problem *p, smr_ws *ws, bool scale_col2)
{
    int64_t n = p->n;
    const double *f = ws->f, *b = p->b, *w = p->w;
    double *fcol = ws->nk, *vcol = ws->nk + n, *e = ws->nk + 2 * n;
    double kappa = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        double v = f[i] * (2.0 * f[i] - b[i]);
        double ei = v - ws->fc * f[i] + (w ? w[i] * w[i] : 0.0);
        e[i] = scale_col2 ? ei * e[i] : ei;
        vcol[i] = v;
        fcol[i] = f[i];
        kappa += (3.0 * f[i] - 2.0 * b[i]) * f[i];
    }
    return kappa;
}

/* H (upper) += sum over m rows of w a a^T, rows rows[0..m) (or i0..i0+m
 * when rows is NULL), weights wt[k] (or e[row] when wt is NULL), by the sign
 * split: positive rows scaled by sqrt(w) into P, negative into N,
 * H += P^T P - N^T N (two dsyrk). */
static void add_rows(const smr_mat *A, const int64_t *rows, int64_t i0, int64_t m,
                     const double *wt, const double *e, smr_ws *ws, double *H,
                     int64_t ldh)
{
    int64_t d = A->d, nb = ws->nb;
    double *P = ws->blk, *N = ws->blk + nb * d;
    double *scale = ws->blk + 2 * nb * d; /* nb entries: sqrt|w|       */
    double *rowof = scale + nb;            /* nb entries: row index      */
    int64_t np = 0, nn = 0;
    /* positive rows fill slots 0.. upward, negative rows nb-1.. downward */
    for (int64_t k = 0; k < m; ++k) {
        int64_t i = rows ? rows[k] : i0 + k;
        double wi = wt ? wt[k] : e[i];
        if (wi > 0.0) {
            scale[np] = sqrt(wi);
            rowof[np++] = (double)i;
        } else if (wi < 0.0) {
            ++nn;
            scale[nb - nn] = sqrt(-wi);
            rowof[nb - nn] = (double)i;
        }
    }
    if (A->row_major) {
        for (int64_t k = 0; k < np; ++k) {
            const double *src = A->a + (int64_t)rowof[k] * A->ld;
            double *dst = P + k * d;
            for (int64_t j = 0; j < d; ++j)
                dst[j] = scale[k] * src[j];
        }
        for (int64_t k = 0; k < nn; ++k) {
            int64_t slot = nb - 1 - k;
            const double *src = A->a + (int64_t)rowof[slot] * A->ld;
            double *dst = N + k * d;
            for (int64_t j = 0; j < d; ++j)
                dst[j] = scale[slot] * src[j];
        }
        smr_k_syrk_rows(d, np, 1.0, P, d, true, H, ldh);
        smr_k_syrk_rows(d, nn, -1.0, N, d, true, H, ldh);
    } else {
        for (int64_t j = 0; j < d; ++j) {
            const double *col = A->a + j * A->ld;
            for (int64_t k = 0; k < np; ++k)
                P[k + j * nb] = scale[k] * col[(int64_t)rowof[k]];
            for (int64_t k = 0; k < nn; ++k) {
                int64_t slot = nb - 1 - k;
                N[k + j * nb] = scale[slot] * col[(int64_t)rowof[slot]];
            }
        }
        smr_k_syrk_rows(d, np, 1.0, P, nb, false, H, ldh);
        smr_k_syrk_rows(d, nn, -1.0, N, nb, false, H, ldh);
    }
}

double smr_obj_hessian_parts(const smr_problem *p, smr_ws *ws)
{
    double kappa = middle_terms(p, ws, false);
    /* p, q in one pass over A: [p q] = A^T [f v] */
    smr_k_mul_t(&ws->A, 2, ws->nk, p->n, ws->dk, p->d);
    return kappa;
}

int smr_obj_hessian_assemble(const smr_problem *p, smr_ws *ws, double kappa,
                             const int64_t *rows, const double *wt, int64_t count,
                             double mu, double *H, int64_t ldh)
{
    int64_t n = p->n, d = p->d;
    const double *e = ws->nk + 2 * n;
    double *pv = ws->dk, *qv = ws->dk + d, *tv = ws->dk + 2 * d;
    for (int64_t j = 0; j < d; ++j)
        memset(H + j * ldh, 0, (size_t)(j + 1) * sizeof(double));
    int64_t total = rows ? count : n;
    for (int64_t k0 = 0; k0 < total; k0 += ws->nb) {
        int64_t m = total - k0 < ws->nb ? total - k0 : ws->nb;
        add_rows(&ws->A, rows ? rows + k0 : NULL, k0, m, rows ? wt + k0 : NULL, e, ws, H, ldh);
    }
    for (int64_t j = 0; j < d; ++j)
        tv[j] = qv[j] - 0.5 * kappa * pv[j];
    smr_k_syr2(d, -1.0, pv, tv, H, ldh);
    for (int64_t j = 0; j < d; ++j)
        H[j + j * ldh] += p->lambda + mu;
    smr_k_symmetrize(d, H, ldh);
    for (int64_t j = 0; j < d; ++j)
        if (!smr_k_all_finite(d, H + j * ldh))
            return SMR_ERR_OVERFLOW;
    return SMR_OK;
}

int smr_obj_hessian(const smr_problem *p, smr_ws *ws, double mu, double *H,
                    int64_t ldh)
{
    double kappa = smr_obj_hessian_parts(p, ws);
    return smr_obj_hessian_assemble(p, ws, kappa, NULL, NULL, 0, mu, H, ldh);
}

/*
 * H s = A^T (e o (A s)) - p (q.s) - q (p.s) + kappa p (p.s) + lambda s.
 * Two passes over A: [z, As] = A [x, s], then [p, q, u] = A^T [f, v, e o As].
 */
int smr_obj_hessvec(const smr_problem *p, const double *x, const double *s,
                    smr_ws *ws, double *hv)
{
    int64_t n = p->n, d = p->d;
    double *X = ws->dk, *Z = ws->nk;
    memcpy(X, x, (size_t)d * sizeof(double));
    memcpy(X + d, s, (size_t)d * sizeof(double));
    smr_k_mul(&ws->A, 2, X, d, Z, n);
    if (!smr_k_all_finite(2 * n, Z))
        return smr_classify_nonfinite(p);
    memcpy(ws->z, Z, (size_t)n * sizeof(double));
    /* keep As out of the scratch columns the forward pass overwrites */
    double *as = ws->nk + 2 * n;
    memcpy(as, Z + n, (size_t)n * sizeof(double));
    int rc = smr_obj_forward_from_z(p, x, ws);
    if (rc != SMR_OK)
        return rc;
    double kappa = middle_terms(p, ws, true); /* column 2: e o As */
    smr_k_mul_t(&ws->A, 3, ws->nk, n, ws->dk, d);
    const double *pv = ws->dk, *qv = ws->dk + d, *u = ws->dk + 2 * d;
    double ps = smr_k_dot(d, pv, s), qs = smr_k_dot(d, qv, s);
    for (int64_t j = 0; j < d; ++j)
        hv[j] = u[j] - pv[j] * qs - qv[j] * ps + kappa * pv[j] * ps +
                p->lambda * s[j];
    if (!smr_k_all_finite(d, hv))
        return smr_classify_nonfinite(p);
    return SMR_OK;
}
