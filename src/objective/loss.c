/*
 * loss.c -- the loss from given logits and the gradient (docs/math.md,
 * section 1; the forward pass that computes z from A is in forward.c).
 *
 *     z = A x,  f = softmax(z),  c = f - b
 *     L = 1/2 ||c||^2 + 1/2 ||w o z||^2 + 1/2 lambda ||x||^2
 *     grad L = A^T r + lambda x,   r = f o c - <f,c> f + w o w o z
 *
 * The gradient is a second pass over A (one transposed gemv for A^T r).
 * The residual r is formed from c directly, so it keeps its relative
 * accuracy near the minimizer where c is tiny (the one-pass formula of
 * MATH.md section 2 subtracts nearly equal vectors there).
 */
#include "objective.h"

#include <math.h>

double smr_obj_loss_of_f(const smr_problem *p, const double *z,
                         const double *f, double xsq)
{
    int64_t n = p->n;
    /* 1/2 sum (f - b)^2 and 1/2 sum (w z)^2, pairwise in blocks so that
     * no n-length scratch is needed */
    double sc = 0.0, sw = 0.0, blk[128];
    for (int64_t i0 = 0; i0 < n; i0 += 128) {
        int64_t m = n - i0 < 128 ? n - i0 : 128;
        for (int64_t i = 0; i < m; ++i)
            blk[i] = f[i0 + i] - p->b[i0 + i];
        sc += smr_k_sumsq(m, blk);
        if (p->w) {
            for (int64_t i = 0; i < m; ++i)
                blk[i] = p->w[i0 + i] * z[i0 + i];
            sw += smr_k_sumsq(m, blk);
        }
    }
    return 0.5 * sc + 0.5 * sw + 0.5 * p->lambda * xsq;
}

double smr_obj_loss_logits(const smr_problem *p, const double *z, double xsq,
                           double *f)
{
    if (!smr_k_all_finite(p->n, z))
        return NAN;
    smr_k_softmax(p->n, z, f, NULL);
    return smr_obj_loss_of_f(p, z, f, xsq);
}

/* f, <f,c> and L from ws->z (already finite); records the log-normaliser
 * and <f,c> as the next one-pass evaluation's shift (fused.c). */
int smr_obj_forward_from_z(const smr_problem *p, const double *x, smr_ws *ws)
{
    int64_t n = p->n;
    double xsq = p->lambda > 0.0 ? smr_k_sumsq(p->d, x) : 0.0, lse;
    smr_k_softmax(n, ws->z, ws->f, &lse);
    ws->loss = smr_obj_loss_of_f(p, ws->z, ws->f, xsq);
    double fc = 0.0;
    for (int64_t i = 0; i < n; ++i)
        fc += ws->f[i] * (ws->f[i] - p->b[i]);
    ws->fc = fc;
    if (!isfinite(ws->loss))
        return SMR_ERR_OVERFLOW;
    ws->have_guess = true;
    ws->guess_lse = lse;
    ws->guess_fc = fc;
    return SMR_OK;
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
