/*
 * loss.c -- the loss from given logits (docs/math.md, section 1):
 *
 *     f = softmax(z),  c = f - b,
 *     L = 1/2 ||c||^2 + 1/2 ||w o z||^2 + 1/2 lambda ||x||^2,
 *
 * by the two-pass softmax over the whole n-vector (src/kernels/softmax.c).
 * For z that did not come from the forward pass (forward.c, which also
 * computes z from A): the Hessian-vector product's, and the one-pass
 * kernel's fallback when its u under- or overflowed.  (SPSA's perturbed
 * logits went through here until 0a9f8ce: perturbed.c.)
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

/* f, <f,c> and L from ws->z (already finite); records the log-normaliser
 * and <f,c> as the next one-pass evaluation's shift (fused.c). */
int smr_obj_forward_from_z(const smr_problem *p, const double *x, smr_ws *ws)
{
    int64_t n = p->n;
    double xsq = p->lambda > 0.0 ? smr_k_sumsq(p->d, x) : 0.0, lse;
    ws->pq_valid = false; /* z is another point's (the one pass's p, q stale) */
    smr_k_softmax(n, ws->z, ws->f, &lse);
    ws->loss = smr_obj_loss_of_f(p, ws->z, ws->f, xsq);
    double fc = 0.0;
    for (int64_t i = 0; i < n; ++i)
        fc += ws->f[i] * (ws->f[i] - p->b[i]);
    ws->fc = fc;
    if (!isfinite(ws->loss))
        return SMR_ERR_OVERFLOW;
    ws->fwd_valid = true;
    ws->zsum_ok = false;
    ws->have_guess = true;
    ws->have_pred = false;
    ws->guess_lse = lse;
    ws->guess_fc = fc;
    return SMR_OK;
}
