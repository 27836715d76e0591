/*
 * forward.c -- the forward pass: the loss at x and what the derivatives
 * share (docs/math.md, section 1):
 *
 *     z = A x,  f = softmax(z),  c = f - b,  <f, c>,
 *     L = 1/2 ||c||^2 + 1/2 ||w o z||^2 + 1/2 lambda ||x||^2.
 *
 * In blocks of rows, each with its own shift, split over the threads:
 *
 *     block k:  z_k = A_k x,  m_k = max z_k,  u_k = exp(z_k - m_k),
 *               a_k = sum u_k                           (in cache)
 *     then      M = max_k m_k,  alpha = sum_k e^(m_k - M) a_k,
 *               f_k = u_k e^(m_k - M) / alpha           (smr_obj_finish)
 *
 * which is the stable softmax (every u <= 1, alpha >= 1) with the shift
 * taken per block, so that the exp runs while the block's logits are in
 * cache: one pass over A and two sweeps over the n-vectors.  Row-major A
 * gets its logits from the one-pass kernel's own dots (fused_rows.c,
 * smr_fused_rows_z: the same z, bit for bit, as the loss+gradient pass);
 * column-major A likewise (fused_cols.c, smr_fused_cols_z: chunks of 64
 * or 128 rows, each column's lines prefetched).  Column-major had a
 * one-thread dgemv per block until stop 37, which read A at 2.9 times a
 * read at n = 10^4, d = 1200 -- slower than the whole loss+gradient pass
 * (2.0).  smr_loss, the dgemv build against this one alternated
 * (/tmp/x/abdl, medians of 9-11, 2 threads): d = 1200 0.76-0.82 of the
 * time, d = 2000 0.64-0.68, 4000 0.69-0.70, 5000 0.81, n = 10^6 d = 16
 * 0.80-0.83, d = 64 0.91-0.93, d = 256 0.82-0.88; one thread 0.54-0.75,
 * AVX2 level 0.63-0.80; the portable level (no SIMD) 0.99-1.08.
 *
 * It replaced dgemv + the two-pass softmax over the whole n-vector
 * (smr_obj_forward_from_z, still used where z comes from elsewhere),
 * whose softmax and loss sweeps ran on one thread and whose dgemv on
 * short rows costs several ns per row: at n = 10^6, row-major, 2 threads
 * (/tmp driver, best of 9) d = 10 took 3.0 ms for the dgemv and 2.1 for
 * the rest, against 1.5 ms to read A (docs/benchmarks.md, "The forward
 * and gradient passes").
 *
 * The result is a function of A, b, w, lambda and x alone: the blocks (the
 * one-pass kernel's, rows by d and n only; column-major by n:
 * smr_fwd_block_rows) do not depend on the thread count, and the per-block sums
 * are added in block order.  So smr_loss gives the same bits at any
 * thread count, and a solver's final loss is smr_loss's.
 */
#include "objective.h"
#include "fused_rows.h"

#include <math.h>
#include <string.h>

/* row-major blocks: the rows of one block and its n-vectors stay in cache
 * (fused_rows.c reads each panel twice, from L1 -- from L2 once a panel
 * of 8 rows outgrows L1 -- the block's n-vectors from L2); the same
 * blocks as the one-pass kernel's.  At least 64 rows: each block of the
 * one pass clears its sums Gb (4 d) and adds them into G (3 d read, 3 d
 * written), about 13 d doubles of traffic against the block's m d of A:
 * 0.8 of A's own at 16 rows (d = 2000, where 256 KiB is 16 rows), 0.2 at
 * 64.  Blocks of 16 -> 64 rows at d = 2000, n = 10^4: the one pass took
 * 0.87-0.90 of the time at 2 threads, 0.89 at 1; 32 -> 64 at d = 1024:
 * 0.92-0.95; nothing changes below d = 513 (/tmp/x/abdl, the two builds
 * alternated, medians of 21; 128 rows gained nothing more: 1.00-1.01). */
#define SMR_FUSED_BLOCK_BYTES (1 << 18)
#define SMR_FUSED_BLOCK_MIN_ROWS 64
#define SMR_FWD_COL_ROWS 4096  /* at most, rows per block, column-major */
#define SMR_FWD_COL_BLOCKS 16   /* at least, blocks when n allows          */

/* Row-major: min(R, ncap) rows; any problem of n <= ncap rows is cut into
 * the same blocks as with min(R, n), so a workspace bound to it
 * (minibatches) gives the bits of one allocated for it.  Column-major:
 * by the bound problem's n alone, multiples of 32 rows, at least 16
 * blocks up to n = 65536 (3 blocks of 4096 rows at n = 10^4 split 1:2
 * over 2 threads), at most 4096 rows. */
int64_t smr_fwd_block_rows(const smr_ws *ws, bool row_major)
{
    if (row_major)
        return smr_ws_block_rows(SMR_FUSED_BLOCK_BYTES, ws->d,
                                 SMR_FUSED_BLOCK_MIN_ROWS, ws->ncap);
    int64_t nb = (ws->n + 32 * SMR_FWD_COL_BLOCKS - 1) /
                 (32 * SMR_FWD_COL_BLOCKS) * 32;
    return nb < 32 ? 32 : nb > SMR_FWD_COL_ROWS ? SMR_FWD_COL_ROWS : nb;
}

int64_t smr_fwd_blocks_cap(const smr_ws *ws)
{
    int64_t nb = smr_fwd_block_rows(ws, true);
    int64_t r = (ws->ncap + nb - 1) / nb;
    int64_t c = (ws->ncap + SMR_FWD_COL_ROWS - 1) / SMR_FWD_COL_ROWS;
    c = c > SMR_FWD_COL_BLOCKS ? c : SMR_FWD_COL_BLOCKS;
    return r > c ? r : c;
}

int smr_fused_threads(const smr_ws *ws, int64_t nblk)
{
    int T = smr_k_threads();
    if (T > ws->tcap)
        T = ws->tcap;
    if (T > nblk)
        T = (int)nblk;
    if ((double)ws->n * (double)ws->d < SMR_FUSED_MIN_WORK)
        T = 1;
    return T < 1 ? 1 : T;
}

typedef struct {
    const smr_problem *p;
    smr_ws *ws;
    const double *x;
    int64_t nb;
    double mu, alpha; /* smr_obj_finish */
    bool zero;        /* z = 0 without reading A */
} fwd_ctx;

/* part t's blocks: z (unless given), m_k, u_k in ws->f, a_k; S[3] is NaN
 * when a logit is not finite */
static void forward_part(void *vctx, int t, int T)
{
    fwd_ctx *c = vctx;
    smr_ws *ws = c->ws;
    int64_t n = c->p->n, b0, b1;
    smr_k_part_blocks(n, c->nb, t, T, &b0, &b1);
    double *G = smr_fused_part_g(ws, t), *S = smr_fused_part_s(ws, t);
    smr_fused_acc st = {.G = G, .Gb = G + 4 * ws->d, .Gl = G + 8 * ws->d};
    S[3] = 0.0;
    for (int64_t k = b0; k < b1; ++k) {
        int64_t i0 = k * c->nb, m = n - i0 < c->nb ? n - i0 : c->nb;
        double *z = ws->z + i0, *u = ws->f + i0, mk = NAN;
        if (c->zero) {
            memset(z, 0, (size_t)m * sizeof(double));
        } else {
            st.zmax = -INFINITY;
            st.fin = 0.0;
            (ws->A.row_major ? smr_fused_rows_z : smr_fused_cols_z)(
                &ws->A, i0, m, c->x, z, &st);
            if (st.fin != 0.0) {
                S[3] = NAN;
                return;
            }
            mk = st.zmax; /* the kernel's maximum of the block */
        }
        if (isnan(mk))
            mk = smr_k_max(m, z);
        smr_k_exp_shift(m, z, mk, u);
        ws->bmu[k] = mk;
        ws->bsum[4 * k] = smr_k_sum(m, u);
    }
}

/* f = u e^(m_k - mu) / alpha over part t's blocks, and their sums of
 * (f - b)^2, (w z)^2 and f (f - b) (fused_rows.c) */
static void finish_part(void *vctx, int t, int T)
{
    fwd_ctx *c = vctx;
    const smr_problem *p = c->p;
    smr_ws *ws = c->ws;
    int64_t n = p->n, b0, b1;
    smr_k_part_blocks(n, c->nb, t, T, &b0, &b1);
    for (int64_t k = b0; k < b1; ++k) {
        int64_t i0 = k * c->nb, m = n - i0 < c->nb ? n - i0 : c->nb;
        double sc = exp(ws->bmu[k] - c->mu) / c->alpha;
        smr_fused_finish_rows(m, sc, ws->f + i0, p->b + i0,
                              p->w ? p->w + i0 : NULL, ws->z + i0,
                              ws->bsum + 4 * k + 1);
    }
}

void smr_obj_finish(const smr_problem *p, const double *x, smr_ws *ws,
                    int64_t nb, int T, double mu, double alpha)
{
    fwd_ctx c = {.p = p, .ws = ws, .x = x, .nb = nb, .mu = mu, .alpha = alpha};
    smr_k_parallel(T, finish_part, &c);
    int64_t nblk = (p->n + nb - 1) / nb;
    double sc2 = 0.0, sw2 = 0.0, fc = 0.0;
    for (int64_t k = 0; k < nblk; ++k) {
        sc2 += ws->bsum[4 * k + 1];
        sw2 += ws->bsum[4 * k + 2];
        fc += ws->bsum[4 * k + 3];
    }
    double xsq = p->lambda > 0.0 ? smr_k_sumsq(p->d, x) : 0.0;
    ws->loss = 0.5 * sc2 + 0.5 * sw2 + 0.5 * p->lambda * xsq;
    ws->fc = fc;
}

/* x = 0: z = A 0 = 0 for finite A, so the product need not read A (a
 * solve's usual start; saves one of its passes).  Only where A is known
 * finite: a NaN or infinite entry must still make z non-finite, which is
 * how the public evaluations, which do not scan A, report it.  The rest
 * of the pass is the same code on the same z, so the loss has the same
 * bits as when A is read (test_forward). */
static bool zero_point(const smr_ws *ws, int64_t d, const double *x)
{
    if (!ws->a_checked)
        return false;
    for (int64_t j = 0; j < d; ++j)
        if (x[j] != 0.0)
            return false;
    return true;
}

int smr_obj_forward(const smr_problem *p, const double *x, smr_ws *ws)
{
    int rc = smr_ws_fused_init(ws); /* no-op after the first call */
    if (rc != SMR_OK)
        return rc;
    ws->fwd_valid = ws->zsum_ok = ws->pq_valid = false; /* until z and f are complete */
    int64_t n = p->n;
    fwd_ctx c = {.p = p, .ws = ws, .x = x,
                 .nb = smr_fwd_block_rows(ws, ws->A.row_major),
                 .zero = zero_point(ws, p->d, x)};
    int64_t nblk = (n + c.nb - 1) / c.nb;
    int T = smr_fused_threads(ws, nblk);
    smr_k_parallel(T, forward_part, &c);
    for (int t = 0; t < T; ++t)
        if (smr_fused_part_s(ws, t)[3] != 0.0)
            return smr_classify_nonfinite(p);
    double mu = -INFINITY, alpha = 0.0;
    for (int64_t k = 0; k < nblk; ++k)
        mu = ws->bmu[k] > mu ? ws->bmu[k] : mu;
    for (int64_t k = 0; k < nblk; ++k)
        alpha += exp(ws->bmu[k] - mu) * ws->bsum[4 * k];
    smr_obj_finish(p, x, ws, c.nb, T, mu, alpha);
    if (!isfinite(ws->loss))
        return SMR_ERR_OVERFLOW;
    ws->fwd_valid = true;
    ws->zsum_ok = true; /* SPSA's pass takes them instead of a sweep */
    ws->zmu = mu;
    ws->zalpha = alpha;
    ws->have_guess = true;
    ws->have_pred = false; /* the lse's model is the one pass's (fused.c) */
    ws->guess_lse = mu + log(alpha);
    ws->guess_fc = ws->fc;
    return SMR_OK;
}
