/*
 * gradient.c -- the gradient at the point of the last forward pass
 * (docs/math.md, section 1):
 *
 *     grad L = A^T r + lambda x,   r = f o (c - <f,c>) + w o w o z
 *
 * r is formed from c = f - b directly, so it keeps its relative accuracy
 * near the minimizer where c is tiny (the one-pass formula of MATH.md
 * section 2 subtracts nearly equal vectors there).
 *
 * Row-major A: in the forward pass's blocks of rows, r for a block's rows
 * (into ws->nk, where it stays in cache), then G += A_blk^T r by the
 * one-pass kernel's update with one column (fused_rows.c,
 * smr_fused_rows_g); the blocks split into T contiguous ranges, one per
 * thread, whose sums are added in the order 0..T-1, so the result depends
 * on T only.  It replaced r over the whole n-vector on one thread and then
 * OpenBLAS dgemv (A^T r on the column-major view of A, d-long columns:
 * several ns per row when d is small); at n = 10^6, 2 threads, `/tmp`
 * driver: see docs/benchmarks.md, "The gradient pass".
 * Column-major A: the same blocks (smr_fwd_block_rows), each r and a
 * one-thread transposed dgemv over the block's stretch of every column
 * (before: r on one thread, then one dgemv per thread over all its rows;
 * figures in docs/benchmarks.md, "Column-major blocks").
 */
#include "objective.h"
#include "fused_rows.h"

#include <math.h>
#include <string.h>

/* r[0 .. m) for rows i0 .. i0 + m - 1 */
static void residual(const smr_problem *p, const smr_ws *ws, int64_t i0,
                     int64_t m, double *r)
{
    const double *f = ws->f + i0, *b = p->b + i0, fc = ws->fc;
    if (p->w) {
        const double *w = p->w + i0, *z = ws->z + i0;
        for (int64_t i = 0; i < m; ++i)
            r[i] = f[i] * ((f[i] - b[i]) - fc) + w[i] * w[i] * z[i];
    } else {
        for (int64_t i = 0; i < m; ++i)
            r[i] = f[i] * ((f[i] - b[i]) - fc);
    }
}

typedef struct {
    const smr_problem *p;
    smr_ws *ws;
    int64_t nb;
} grad_ctx;

static void grad_part(void *vctx, int t, int T)
{
    grad_ctx *c = vctx;
    smr_ws *ws = c->ws;
    int64_t n = c->p->n, d = ws->d, b0, b1;
    smr_k_part_blocks(n, c->nb, t, T, &b0, &b1);
    double *G = smr_fused_part_g(ws, t);
    memset(G, 0, (size_t)d * sizeof(double));
    smr_fused_acc st = {.G = G, .Gb = G + 4 * d, .Gl = G + 8 * d};
    for (int64_t k = b0; k < b1; ++k) {
        int64_t i0 = k * c->nb, m = n - i0 < c->nb ? n - i0 : c->nb;
        residual(c->p, ws, i0, m, ws->nk + i0);
        if (ws->A.row_major)
            smr_fused_rows_g(&ws->A, i0, m, ws->nk + i0, &st);
        else
            smr_k_mul_t_rows_add(&ws->A, i0, m, ws->nk, G);
    }
}

int smr_obj_gradient(const smr_problem *p, const double *x, smr_ws *ws,
                     double *g)
{
    int64_t n = p->n, d = p->d;
    if (!ws->fwd_valid) /* a lean pass left no f (fused.c) */
        return SMR_ERR_BAD_ARGUMENT;
    int rc = smr_ws_fused_init(ws); /* no-op after the first call */
    if (rc != SMR_OK)
        return rc;
    grad_ctx c = {.p = p, .ws = ws,
                  .nb = smr_fwd_block_rows(ws, ws->A.row_major)};
    int T = smr_fused_threads(ws, (n + c.nb - 1) / c.nb);
    smr_k_parallel(T, grad_part, &c);
    const double *G0 = smr_fused_part_g(ws, 0);
    for (int64_t j = 0; j < d; ++j)
        g[j] = G0[j];
    for (int t = 1; t < T; ++t) {
        const double *Gt = smr_fused_part_g(ws, t);
        for (int64_t j = 0; j < d; ++j)
            g[j] += Gt[j];
    }
    if (p->lambda > 0.0)
        for (int64_t j = 0; j < d; ++j)
            g[j] += p->lambda * x[j];
    if (!smr_k_all_finite(d, g))
        return smr_classify_nonfinite(p);
    return SMR_OK;
}
