/*
 * products.c -- A X (up to two columns) and A^T C (up to three columns)
 * in the forward pass's blocks of rows, by the one-pass kernels' own loops:
 * the logits of fused_rows.c / fused_cols.c (their z-only modes) and, for
 * the transposed product, fused_rows.c's one-column update (row-major) or
 * one transposed dgemv per block and column (column-major, as gradient.c).
 * A block is read from memory for its first column and from cache for the
 * others, so each product is one pass over A.
 *
 * For the Hessian-vector product (hessian.c).  Before, OpenBLAS dgemm took
 * these tall, thin products, and dgemm packs its operand first: perf of
 * smr_hessian_vector at n = 10^6, d = 16, row-major, put 40 % of the time
 * in dgemm_itcopy / dgemm_incopy (copies of A) and 18 % in the kernel.
 *
 * Threads as in gradient.c: the blocks split into T contiguous ranges,
 * each range's sums added in the order 0..T-1, so the results depend on
 * the thread count only (A X not even on that: each row's dot is the
 * kernel's).
 */
#include "objective.h"
#include "fused_rows.h"

#include <math.h>
#include <string.h>

typedef struct {
    smr_ws *ws;
    int k;
    const double *in; /* X (d x k) or C (n x k), columns d or n apart */
    double *out;      /* Z (n x k), or nothing (the parts' sums)     */
    int64_t nb;
} prod_ctx;

/* Z's rows of part t's blocks; S[3] is NaN when one is not finite */
static void mul_part(void *vc, int t, int T)
{
    prod_ctx *c = vc;
    smr_ws *ws = c->ws;
    int64_t n = ws->n, d = ws->d, b0, b1;
    smr_k_part_blocks(n, c->nb, t, T, &b0, &b1);
    double *G = smr_fused_part_g(ws, t), *S = smr_fused_part_s(ws, t);
    smr_fused_acc st = {.G = G, .Gb = G + 4 * d, .Gl = G + 8 * d};
    S[3] = 0.0;
    for (int64_t k = b0; k < b1; ++k) {
        int64_t i0 = k * c->nb, m = n - i0 < c->nb ? n - i0 : c->nb;
        for (int j = 0; j < c->k; ++j) {
            st.zmax = -INFINITY;
            st.fin = 0.0;
            (ws->A.row_major ? smr_fused_rows_z : smr_fused_cols_z)(
                &ws->A, i0, m, c->in + j * d, c->out + j * n + i0, &st);
            if (st.fin != 0.0)
                S[3] = NAN;
        }
    }
}

/* part t's sums A_blk^T C_blk, column j at G + j d */
static void mul_t_part(void *vc, int t, int T)
{
    prod_ctx *c = vc;
    smr_ws *ws = c->ws;
    int64_t n = ws->n, d = ws->d, b0, b1;
    smr_k_part_blocks(n, c->nb, t, T, &b0, &b1);
    double *G = smr_fused_part_g(ws, t);
    memset(G, 0, (size_t)(c->k * d) * sizeof(double));
    smr_fused_acc st = {.Gb = G + 4 * d, .Gl = G + 8 * d};
    for (int64_t k = b0; k < b1; ++k) {
        int64_t i0 = k * c->nb, m = n - i0 < c->nb ? n - i0 : c->nb;
        for (int j = 0; j < c->k; ++j) {
            const double *r = c->in + j * n;
            if (ws->A.row_major) {
                st.G = G + j * d;
                smr_fused_rows_g(&ws->A, i0, m, r + i0, &st);
            } else {
                smr_k_mul_t_rows_add(&ws->A, i0, m, r, G + j * d);
            }
        }
    }
}

static int setup(smr_ws *ws, prod_ctx *c, int *T)
{
    int rc = smr_ws_fused_init(ws); /* no-op after the first call */
    if (rc != SMR_OK)
        return rc;
    c->nb = smr_fwd_block_rows(ws, ws->A.row_major);
    *T = smr_fused_threads(ws, (ws->n + c->nb - 1) / c->nb);
    return SMR_OK;
}

int smr_obj_mul_blocks(smr_ws *ws, int k, const double *X, double *Z)
{
    prod_ctx c = {.ws = ws, .k = k, .in = X, .out = Z};
    int T, rc = setup(ws, &c, &T);
    if (rc != SMR_OK)
        return rc;
    smr_k_parallel(T, mul_part, &c);
    for (int t = 0; t < T; ++t)
        if (smr_fused_part_s(ws, t)[3] != 0.0)
            return SMR_ERR_OVERFLOW;
    return SMR_OK;
}

int smr_obj_mul_t_blocks(smr_ws *ws, int k, const double *C, double *out)
{
    prod_ctx c = {.ws = ws, .k = k, .in = C};
    int T, rc = setup(ws, &c, &T);
    if (rc != SMR_OK)
        return rc;
    smr_k_parallel(T, mul_t_part, &c);
    int64_t kd = (int64_t)k * ws->d;
    memcpy(out, smr_fused_part_g(ws, 0), (size_t)kd * sizeof(double));
    for (int t = 1; t < T; ++t) {
        const double *Gt = smr_fused_part_g(ws, t);
        for (int64_t j = 0; j < kd; ++j)
            out[j] += Gt[j];
    }
    return SMR_OK;
}
