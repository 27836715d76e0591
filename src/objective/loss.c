/*
 * loss.c -- the forward pass and the gradient (docs/math.md, section 1).
 *
 *     z = A x,  f = softmax(z),  c = f - b
 *     L = 1/2 ||c||^2 + 1/2 ||w o z||^2 + 1/2 lambda ||x||^2
 *     grad L = A^T r + lambda x,   r = f o c - <f,c> f + w o w o z
 *
 * Two passes over A (one gemv for z, one transposed gemv for A^T r).  The
 * residual r is formed from c directly, so it keeps its relative accuracy
 * near the minimizer where c is tiny (the one-pass formula of MATH.md
 * section 2 subtracts nearly equal vectors there).
 */
#include "objective.h"

#include <math.h>

/* f, c, <f,c> and L from ws->z (already finite). */
int smr_obj_forward_from_z(const smr_problem *p, const double *x, smr_ws *ws)
{
    int64_t n = p->n;
    const double *b = p->b;
    double *c = ws->nk; /* scratch column 0 */
    smr_k_softmax(n, ws->z, ws->f);
    for (int64_t i = 0; i < n; ++i)
        c[i] = ws->f[i] - b[i];
    ws->fc = smr_k_dot(n, ws->f, c);
    double loss = 0.5 * smr_k_sumsq(n, c);
    if (p->w) {
        double *wz = ws->nk + n; /* scratch column 1 */
        for (int64_t i = 0; i < n; ++i)
            wz[i] = p->w[i] * ws->z[i];
        loss += 0.5 * smr_k_sumsq(n, wz);
    }
    if (p->lambda > 0.0)
        loss += 0.5 * p->lambda * smr_k_sumsq(p->d, x);
    ws->loss = loss;
    return isfinite(loss) ? SMR_OK : SMR_ERR_OVERFLOW;
}

int smr_obj_forward(const smr_problem *p, const double *x, smr_ws *ws)
{
    smr_k_mul(&ws->A, 1, x, p->d, ws->z, p->n);
    if (!smr_k_all_finite(p->n, ws->z))
        return smr_classify_nonfinite(p);
    return smr_obj_forward_from_z(p, x, ws);
}

int smr_obj_gradient(const smr_problem *p, const double *x, smr_ws *ws,
                     double *g)
{
    int64_t n = p->n, d = p->d;
    const double *f = ws->f, *b = p->b, *w = p->w;
    double *r = ws->nk;
    double fc = ws->fc;
    /* r = f o (c - <f,c>) [+ w o w o z] */
    if (w) {
        for (int64_t i = 0; i < n; ++i)
            r[i] = f[i] * ((f[i] - b[i]) - fc) + w[i] * w[i] * ws->z[i];
    } else {
        for (int64_t i = 0; i < n; ++i)
            r[i] = f[i] * ((f[i] - b[i]) - fc);
    }
    smr_k_mul_t(&ws->A, 1, r, n, g, d);
    if (p->lambda > 0.0)
        for (int64_t j = 0; j < d; ++j)
            g[j] += p->lambda * x[j];
    if (!smr_k_all_finite(d, g))
        return smr_classify_nonfinite(p);
    return SMR_OK;
}
