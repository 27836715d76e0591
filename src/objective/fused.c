/*
 * fused.c -- loss and gradient in one pass over A (docs/math.md, section 2).
 *
 * The two-pass gradient (loss.c) needs f = softmax(Ax) complete before it
 * can form A^T r, so it reads A twice.  Here A is read once, in row blocks
 * that stay in cache: for each few rows, z = A_blk x, then with a
 * provisional shift mu and a provisional s~ for <f, c>
 *
 *     u  = exp(z - mu)                       (so f = u / alpha, alpha = sum u)
 *     W  = [ u o (u - b - s~),  u o u,  u,  w o w o z ]
 *     G += A_blk^T W                         (A_blk again, from cache)
 *
 * At the end alpha and s = <f, f - b> are known and, with c = 1/alpha,
 *
 *     f o (f - b - s) = c [ u o (u - b - s~) + (c - 1) u o u - (s - s~) u ]
 *     grad = c G1 + c (c - 1) G2 - c (s - s~) G3 + G4 + lambda x.
 *
 * This is exact algebra, not an approximation.  It is accurate when the
 * correction terms are small against the result: mu and s~ are the lse and
 * <f, c> of the previous evaluation (a solver's previous iterate or trial
 * point), so near the minimizer -- where the naive one-pass formula
 * A^T(u o u)/alpha^2 - ... subtracts nearly equal vectors -- c - 1 and
 * s - s~ are tiny and G1 carries the answer, formed from c = f - b
 * directly like the two-pass residual.  A posteriori: if
 *
 *     |c (c - 1)| |G2| + |c (s - s~)| |G3| + |c| e1  >  SMR_FUSED_CORR_MAX |grad|
 *
 * (the corrections could cost more than about 13 digits' worth of the
 * result; e1 bounds, over eps, the rounding that raising a shift put into
 * G1, smr_fused_rescale) or anything is not finite, the gradient is recomputed by the
 * two-pass path from the exact f (a second pass over A; counted in
 * ws->fused_fallbacks).  The first evaluation, with no previous lse, takes
 * mu from the first panel's largest logit and usually falls back.
 *
 * The loss and s are computed from f as in the forward pass (the
 * per-block u are rescaled to f in a pass over the n-vector, not over A:
 * smr_obj_finish, forward.c) -- or, in the lean pass (ws->lean, with a
 * provisional shift), from four sums taken in the pass, so that no
 * n-vector is written or swept again.  With every row at the one shift mu
 * (no raise), f = c u and
 *
 *     S1 = sum (u - b)^2,  S2 = sum u (u - b),  S3 = sum u^2:
 *     sum (f - b)^2 = S1 + (c - 1) (2 S2 + (c - 1) S3),
 *     s = <f, f - b> = c (S2 + (c - 1) S3).
 *
 * Near the minimizer this is S1 plus a small correction when c - 1 is
 * small: u - b is then formed row by row like the two-pass residual.
 * A posteriori, the rounding of the sums, about eps times
 *
 *     B = S1 + |c - 1| (2 sqrt(S1 S3) + |c - 1| S3)   (Cauchy-Schwarz on S2),
 *
 * must be within SMR_LEAN_MAX times the result's, else the loss (and f, z)
 * come from a forward pass (ws->lean_fallbacks).  The shift: the previous
 * lse moved by its first-order change <A^T f_prev, x - x_prev> (ws->pred),
 * which leaves c - 1 of second order in the step; with the previous lse
 * alone c - 1 is of first order, and near the minimizer, where each step
 * is longer than the distance left, (c - 1) f outweighed f - b
 * (docs/math.md, "The lean pass").  lse is convex, so the model is below
 * the true lse: u may grow (a raise, then the forward pass), never
 * underflow wholesale.
 *
 * Row-major A goes through fused_rows.c (dots, exp, weights and the
 * G update eight rows at a time -- four at the AVX2 level --, with
 * software prefetch), column-major A through fused_cols.c (chunks of
 * rows, lanes = rows).
 *
 * Threads: the blocks are split into T contiguous ranges, one per thread
 * (smr_k_parallel); each range keeps its own shift (raised, with its
 * accumulators rescaled, when a panel's largest logit exceeds it by more
 * than SMR_FUSED_RESCALE, so u never overflows) and its own G; the ranges
 * are combined in order 0..T-1.  The result depends on T, not on timing,
 * and not on where A lies in memory: the kernels that align their loads to
 * A's lines rotate the lane sums back (fused_rows.c, fused_cols.c), and a
 * column-major pass that raised its shift is redone from the largest logit
 * (below).
 */
#include "objective.h"
#include "fused_rows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* row-major blocks: smr_fwd_block_rows (forward.c); column-major blocks:
 * see smr_ws_fused_init */
#define SMR_FUSED_COL_ROWS 4096 /* rows per block, column-major A      */
#define SMR_FUSED_CORR_MAX 16.0   /* see above                           */
#define SMR_PQ_CORR_MAX 1e3       /* the Hessian's q, hessian_q below     */
#define SMR_FUSED_MAX_SHIFT 30.0  /* mu above max z by more: fall back   */
#define SMR_LEAN_MAX 16.0         /* the lean loss's test, see above     */

typedef struct {
    const smr_problem *p;
    smr_ws *ws;
    const double *x;
    bool guess, lean;
    double mu0, s0;   /* provisional shift and <f,c> */
} fused_ctx;


static void fused_part(void *vctx, int t, int T)
{
    fused_ctx *c = vctx;
    const smr_problem *p = c->p;
    smr_ws *ws = c->ws;
    int64_t d = p->d, n = p->n, nb = ws->nbf;
    int64_t b0, b1;
    smr_k_part_blocks(n, nb, t, T, &b0, &b1);
    double *G = smr_fused_part_g(ws, t), *S = smr_fused_part_s(ws, t);
    memset(G, 0, (size_t)(4 * d) * sizeof(double));
    smr_fused_acc st = {.mu = c->mu0, .have_mu = c->guess, .alpha = 0.0,
                        .zmax = -INFINITY, .fin = 0.0, .err1 = 0.0, .G = G,
                        .Gb = G + 4 * d, .Gl = G + 8 * d};
    double *z = c->lean ? NULL : ws->z, *u = c->lean ? NULL : ws->f;
    const double *b = p->b, *w = p->w;
    for (int64_t k = b0; k < b1; ++k) {
        int64_t i0 = k * nb, m = n - i0 < nb ? n - i0 : nb;
        (ws->A.row_major ? smr_fused_rows : smr_fused_cols)(
            &ws->A, i0, m, c->x, b + i0, w ? w + i0 : NULL, c->s0,
            z ? z + i0 : NULL, u ? u + i0 : NULL, &st);
        ws->bmu[k] = st.mu;
    }
    S[0] = st.have_mu ? st.mu : -INFINITY; /* an empty range has no shift */
    S[1] = st.alpha;
    S[2] = st.zmax;
    S[3] = st.fin;
    S[7] = st.err1;
    S[8] = (double)st.raises;
    for (int q = 0; q < 4; ++q)
        S[9 + q] = st.lean[q];
}

int smr_ws_fused_init(smr_ws *ws)
{
    if (ws->part)
        return SMR_OK;
    /* row-major: blocks that stay in cache (fused_rows.c reads each
     * panel twice from L1, the block's n-vectors from L2); column-major:
     * the cache unit is fused_cols.c's chunk of 32 rows, and a block is
     * the span of one set of lane sums: at most SMR_FUSED_COL_ROWS, and
     * at least 8 blocks per thread when n allows (a 2:1 split of 3 blocks
     * cost a third of the pass at n = 10^4) */
    if (ws->A.row_major) {
        ws->nbf = smr_fwd_block_rows(ws, true);
    } else {
        int64_t per = ws->ncap / (8 * (int64_t)smr_k_threads());
        per = (per + 31) / 32 * 32;
        ws->nbf = per < 32 ? 32 : per > SMR_FUSED_COL_ROWS ? SMR_FUSED_COL_ROWS : per;
        if (ws->nbf > ws->ncap)
            ws->nbf = ws->ncap;
    }
    /* bmu and bsum serve the forward pass too, whose blocks follow the
     * layout of the problem bound at the time (smr_ws_bind) */
    ws->nblk = (ws->ncap + ws->nbf - 1) / ws->nbf;
    if (smr_fwd_blocks_cap(ws) > ws->nblk)
        ws->nblk = smr_fwd_blocks_cap(ws);
    ws->tcap = smr_k_threads();
    if (ws->tcap > ws->nblk)
        ws->tcap = (int)ws->nblk;
    size_t per = (size_t)SMR_FUSED_PART(ws->d);
    ws->part = malloc((size_t)ws->tcap * per * sizeof(double));
    ws->bmu = malloc((size_t)ws->nblk * 5 * sizeof(double));
    if (!ws->part || !ws->bmu) {
        free(ws->part);
        free(ws->bmu);
        ws->part = ws->bmu = NULL;
        return SMR_ERR_NO_MEMORY;
    }
    ws->bsum = ws->bmu + ws->nblk;
    ws->pred = malloc((size_t)(3 * ws->d) * sizeof(double));
    if (!ws->pred) {
        free(ws->part);
        free(ws->bmu);
        ws->part = ws->bmu = NULL;
        return SMR_ERR_NO_MEMORY;
    }
    return SMR_OK;
}

/* The provisional shift at x: the last lse, moved by <A^T f, x - x_last>
 * when the last evaluation was a one pass (see above). */
static double guess_shift(const smr_ws *ws, const double *x)
{
    double mu = ws->guess_lse;
    if (!ws->have_pred)
        return mu;
    const double *p = ws->pred, *xl = ws->pred + ws->d;
    double dm = 0.0;
    for (int64_t j = 0; j < ws->d; ++j)
        dm += p[j] * (x[j] - xl[j]);
    return isfinite(dm) ? mu + dm : mu;
}

/*
 * The Hessian's q = A^T v, v = f o (2f - b), from the pass's sums (its p =
 * A^T f = c G3 is ws->pred's first column): with f = c u and
 * G1 = A^T (u o (u - b - s~)) = G2 - A^T (u o b) - s~ G3,
 *
 *     q = 2 c^2 G2 - c A^T (u o b) = c G1 + c (2c - 1) G2 + c s~ G3,
 *
 * into pred + 2d.  Near the minimizer (c ~ 1, s~ ~ 0, f ~ b) the G2 term
 * carries q, v ~ f o f, and nothing cancels; far from the shift's guess
 * (c << 1) the c G2 in c G1 and in -c G2 cancel.  A posteriori, as for the
 * gradient: usable when
 *
 *     |c| |G1| + |c (2c - 1)| |G2| + |c s~| |G3| + |c| e1  <=  SMR_PQ_CORR_MAX |q|
 *
 * (at most about 3 of 16 digits lost; else the Hessian forms [p q] by its
 * own pass, hessian.c).  Saves that pass (products.c) in every Newton
 * iteration whose point came from the one pass.
 */
static bool hessian_q(smr_ws *ws, double cc, double s0, double err1, const double *G)
{
    int64_t d = ws->d;
    double *q = ws->pred + 2 * d, a1 = cc, a2 = cc * (2.0 * cc - 1.0), a3 = cc * s0;
    double qn = 0.0, n1 = 0.0, n2 = 0.0, n3 = 0.0;
    for (int64_t j = 0; j < d; ++j) {
        double g1 = G[j], g2 = G[d + j], g3 = G[2 * d + j];
        q[j] = a1 * g1 + a2 * g2 + a3 * g3;
        qn += q[j] * q[j];
        n1 += g1 * g1;
        n2 += g2 * g2;
        n3 += g3 * g3;
    }
    double corr = fabs(a1) * sqrt(n1) + fabs(a2) * sqrt(n2) + fabs(a3) * sqrt(n3) +
                  fabs(cc) * err1;
    return isfinite(qn) && isfinite(corr) && corr <= SMR_PQ_CORR_MAX * sqrt(qn);
}

/* The lean pass's loss and s from its sums (see above); false when the
 * test fails.  All parts at shift mu (no raise), c = 1 / alpha. */
static bool lean_loss(const smr_problem *p, const double *x, smr_ws *ws,
                      int T, double alpha)
{
    double S1 = 0.0, S2 = 0.0, S3 = 0.0, S4 = 0.0;
    for (int t = 0; t < T; ++t) {
        const double *S = smr_fused_part_s(ws, t);
        S1 += S[9];
        S2 += S[10];
        S3 += S[11];
        S4 += S[12];
    }
    double c = 1.0 / alpha, cm1 = c - 1.0;
    double sc2 = S1 + cm1 * (2.0 * S2 + cm1 * S3);
    double B = S1 + fabs(cm1) * (2.0 * sqrt(S1 * S3) + fabs(cm1) * S3);
    if (!(isfinite(sc2) && isfinite(B) && B <= SMR_LEAN_MAX * sc2) &&
        !(B == 0.0 && sc2 == 0.0))
        return false;
    double xsq = p->lambda > 0.0 ? smr_k_sumsq(p->d, x) : 0.0;
    ws->loss = 0.5 * sc2 + 0.5 * S4 + 0.5 * p->lambda * xsq;
    ws->fc = c * (S2 + cm1 * S3);
    return isfinite(ws->loss);
}

int smr_obj_loss_grad(const smr_problem *p, const double *x, smr_ws *ws,
                      double *g)
{
    int rc = smr_ws_fused_init(ws); /* no-op after the first call */
    if (rc != SMR_OK)
        return rc;
    int64_t d = p->d, n = p->n;
    int64_t nblk = (n + ws->nbf - 1) / ws->nbf;
    int T = smr_fused_threads(ws, nblk);
    /* z and f are rewritten (or, lean, left at another point) from here */
    ws->fwd_valid = ws->zsum_ok = ws->pq_valid = false;
    bool pq_ok = false;
    fused_ctx c = {.p = p, .ws = ws, .x = x, .guess = ws->have_guess,
                   .lean = ws->lean && ws->have_guess,
                   .mu0 = ws->have_guess ? guess_shift(ws, x) : 0.0,
                   .s0 = ws->have_guess ? ws->guess_fc : 0.0};
    double mu, zmax, fin, raises;
    for (int pass = 0;; ++pass) {
        smr_k_parallel(T, fused_part, &c);
        ws->fused_passes++;
        /* combine the parts in order at the largest shift */
        mu = -INFINITY, zmax = -INFINITY, fin = 0.0, raises = 0.0;
        for (int t = 0; t < T; ++t) {
            const double *S = smr_fused_part_s(ws, t);
            mu = S[0] > mu ? S[0] : mu;
            zmax = S[2] > zmax ? S[2] : zmax;
            fin += S[3];
            raises += S[8];
        }
        if (fin != 0.0) /* a logit is NaN or infinite */
            return smr_classify_nonfinite(p);
        /* Column-major A: a shift raised mid-pass was raised at a chunk,
         * whose rows depend on A's offset modulo 64 bytes (fused_cols.c),
         * and the new shift is the chunk's largest logit.  The pass is
         * redone from the largest logit of all (exact, and the same at
         * every offset), under which no shift is raised: the result is
         * then the same wherever A lies.  Rare (a logit more than
         * SMR_FUSED_RESCALE above the previous lse); counted in
         * fused_passes. */
        if (ws->A.row_major || raises == 0.0 || pass > 0)
            break;
        c.guess = true;
        c.mu0 = zmax;
    }
    double *G = smr_fused_part_g(ws, 0), alpha = 0.0, err1 = 0.0;
    for (int t = 0; t < T; ++t) {
        double *Gt = smr_fused_part_g(ws, t), *S = smr_fused_part_s(ws, t);
        double a = S[1];
        if (S[0] != mu) {
            double rho = exp(S[0] - mu);
            err1 += rho * S[7] + smr_fused_rescale(d, rho, Gt, &a);
        } else {
            err1 += S[7];
        }
        alpha += a;
        if (t > 0)
            for (int64_t j = 0; j < 4 * d; ++j)
                G[j] += Gt[j];
    }
    bool usable = isfinite(alpha) && alpha > 0.0 && mu - zmax <= SMR_FUSED_MAX_SHIFT;
    if (c.lean) {
        ws->lean_passes++;
        /* a raised shift spoils the sums (taken at two shifts) */
        if (usable && raises == 0.0 && lean_loss(p, x, ws, T, alpha)) {
            ws->fwd_valid = false;
        } else { /* the loss, f and z by a forward pass */
            ws->lean_fallbacks++;
            int rc = smr_obj_forward(p, x, ws);
            if (rc != SMR_OK)
                return rc;
        }
        if (usable) {
            ws->have_guess = true;
            ws->guess_lse = mu + log(alpha);
            ws->guess_fc = ws->fc;
        }
    } else if (usable) {
        smr_obj_finish(p, x, ws, ws->nbf, T, mu, alpha);
        if (!isfinite(ws->loss))
            return SMR_ERR_OVERFLOW;
        ws->fwd_valid = true;
        ws->have_guess = true;
        ws->guess_lse = mu + log(alpha);
        ws->guess_fc = ws->fc;
    } else { /* u underflowed or overflowed: the exact softmax from z */
        int rc = smr_obj_forward_from_z(p, x, ws);
        if (rc != SMR_OK)
            return rc;
    }

    if (usable) {
        double cc = 1.0 / alpha, ds = ws->fc - c.s0, gn = 0.0, n2 = 0.0, n3 = 0.0;
        for (int64_t j = 0; j < d; ++j) {
            double gj = cc * G[j] + cc * (cc - 1.0) * G[d + j] - cc * ds * G[2 * d + j];
            if (p->w)
                gj += G[3 * d + j];
            if (p->lambda > 0.0)
                gj += p->lambda * x[j];
            g[j] = gj;
            gn += gj * gj;
            n2 += G[d + j] * G[d + j];
            n3 += G[2 * d + j] * G[2 * d + j];
        }
        double corr = fabs(cc * (cc - 1.0)) * sqrt(n2) + fabs(cc * ds) * sqrt(n3) +
                      fabs(cc) * err1; /* rescales' rounding (fused_rows.c) */
        /* the next shift's model: A^T f = c G3 at this x */
        for (int64_t j = 0; j < d; ++j) {
            ws->pred[j] = cc * G[2 * d + j];
            ws->pred[d + j] = x[j];
        }
        ws->have_pred = true;
        pq_ok = hessian_q(ws, cc, c.s0, err1, G);
        if (isfinite(gn) && corr <= SMR_FUSED_CORR_MAX * sqrt(gn)) {
            ws->pq_valid = pq_ok;
            return SMR_OK;
        }
    }
    ws->fused_fallbacks++;
    if (!ws->fwd_valid) { /* after a lean pass: f and z first */
        rc = smr_obj_forward(p, x, ws);
        if (rc != SMR_OK)
            return rc;
    }
    rc = smr_obj_gradient(p, x, ws, g);
    ws->pq_valid = rc == SMR_OK && pq_ok; /* (the forward pass was at x) */
    return rc;
}
