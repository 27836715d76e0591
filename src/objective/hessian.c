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
 * single syrk of diag(sqrt e) A would be wrong.)  With d <= 16 (either
 * layout) a register kernel applies e_i directly (smr_k_block_syrk_small;
 * at d = 16 dsyrk alone cost ~20 ns per row), and smr_obj_hessian lets it
 * form p and q from the same rows: at such d the separate A^T [f v] was a
 * second pass over A costing as much as the assembly.  The rank-2 part is one
 * dsyr2:  -p q^T - q p^T + kappa p p^T = -(p t^T + t p^T),  t = q - kappa/2 p.
 *
 * Above d = 16, A^T [f v] is one pass in the forward pass's blocks by the
 * one-pass kernels (products.c), as are H s's products.  It was OpenBLAS
 * dgemm, which packs A before multiplying: smr_hessian paired with that
 * build (/tmp/x/abhv, medians of 7) 0.86-0.90 of the time at d = 32 and
 * 64 (n = 10^6, row-major), 0.91-0.93 column-major d = 64, 0.95-0.99 at
 * d = 100 and 256 (where dsyrk's n d^2 dominates).
 */
#include "objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Returns kappa; ws->nk column 2 gets e_i, or e_i times the value already
 * there when scale_col2 (for H s); with fv, columns 0 and 1 get F = [f v]
 * for [p q] = A^T F by a pass over A (not wanted when the one pass left p
 * and q, ws->pq_valid: the copy of f was then an n-vector written for
 * nothing). */
static double middle_terms(const smr_problem *p, smr_ws *ws, bool scale_col2, bool fv)
{
    int64_t n = p->n;
    const double *f = ws->f, *b = p->b, *w = p->w;
    double *fcol = ws->nk, *vcol = ws->nk + n, *e = ws->nk + 2 * n;
    /* kappa = sum (3f - 2b) f by the pairwise sum of reduce.c over column
     * 1: loops without a running sum vectorize (the scalar running sum here
     * cost as much as the d = 16 assembly, perf at n = 5 10^6) */
    for (int64_t i = 0; i < n; ++i)
        vcol[i] = (3.0 * f[i] - 2.0 * b[i]) * f[i];
    double kappa = smr_k_sum(n, vcol);
    for (int64_t i = 0; i < n; ++i) {
        double v = f[i] * (2.0 * f[i] - b[i]);
        double ei = v - ws->fc * f[i] + (w ? w[i] * w[i] : 0.0);
        e[i] = scale_col2 ? ei * e[i] : ei;
        if (fv) {
            vcol[i] = v;
            fcol[i] = f[i];
        }
    }
    return kappa;
}

/* H (upper) += sum over m rows of w a a^T, rows rows[0..m) (or i0..i0+m
 * when rows is NULL), weights wt[k] (or e[row] when wt is NULL), by the sign
 * split: positive rows scaled by sqrt(w) into P, negative into N,
 * H += P^T P - N^T N (two dsyrk). */
static void add_rows(const smr_mat *A, const int64_t *rows, int64_t i0, int64_t m,
                     const double *wt, const double *e, const double *f,
                     const double *v, double *pq, double *blk, int64_t nb,
                     double *H, int64_t ldh)
{
    int64_t d = A->d;
    if (!rows && d <= SMR_SYRK_SMALL_D) {
        /* short rows: no sign split, no dsyrk, and with f the products
         * pq += A_blk^T [f v] from the same rows (syrk_small.c) */
        smr_k_block_syrk_small(A, i0, m, e + i0, f ? f + i0 : NULL,
                               f ? v + i0 : NULL, H, ldh, pq);
        return;
    }
    double *P = blk, *N = blk + nb * d;
    double *scale = blk + 2 * nb * d;      /* nb entries: sqrt|w|       */
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
    if (!ws->fwd_valid) /* a lean pass left no f (fused.c) */
        return NAN;
    double kappa = middle_terms(p, ws, false, !ws->pq_valid);
    if (ws->pq_valid) { /* from the one pass at this point (fused.c) */
        memcpy(ws->dk, ws->pred, (size_t)p->d * sizeof(double));
        memcpy(ws->dk + p->d, ws->pred + 2 * p->d, (size_t)p->d * sizeof(double));
        return kappa;
    }
    /* else p, q in one pass over A: [p q] = A^T [f v] (products.c) */
    if (smr_obj_mul_t_blocks(ws, 2, ws->nk, ws->dk) != SMR_OK)
        return NAN;
    return kappa;
}

/*
 * Threads: the row blocks are split into T contiguous ranges; part 0 adds
 * its rows into H, part t > 0 into its own d x d upper triangle, and the
 * triangles are added to H in the order 1..T-1 (the result depends on T
 * only).  Each part has its own row buffers.  Extra memory: (T - 1)
 * (d^2 + 2 nb d + 2 nb) doubles, allocated with the workspace for the
 * thread count in force then (smr_ws_hessian_parts); more threads than
 * that are not used.
 */
/* total d^2 below which the assembly runs on one thread (a part's start and
 * its triangle's sum cost more than it saves) */
#define SMR_HESS_THREAD_WORK 4e6

typedef struct {
    const smr_mat *A;
    const int64_t *rows;
    const double *wt, *e;
    const double *f, *v; /* non-NULL: [p q] = A^T [f v] in the same pass */
    int64_t total, nb, d;
    double *blk0, *part, *H, *pq0;
    int64_t ldh;
} assemble_ctx;

static int64_t part_doubles(int64_t d, int64_t nb) { return d * d + 2 * nb * d + 2 * nb; }

static void assemble_part(void *v, int t, int T)
{
    assemble_ctx *c = v;
    int64_t d = c->d, b0, b1;
    smr_k_part_blocks(c->total, c->nb, t, T, &b0, &b1);
    double *H = c->H, *blk = c->blk0, *pq = c->pq0;
    int64_t ldh = c->ldh;
    if (t > 0) {
        H = c->part + (int64_t)(t - 1) * part_doubles(d, c->nb);
        blk = H + d * d;
        pq = blk; /* the fused path (d <= 16) leaves the row buffers unused */
        ldh = d;
    }
    for (int64_t j = 0; j < d; ++j)
        memset(H + j * ldh, 0, (size_t)(j + 1) * sizeof(double));
    if (c->f)
        memset(pq, 0, (size_t)(2 * d) * sizeof(double));
    for (int64_t k = b0; k < b1; ++k) {
        int64_t k0 = k * c->nb, m = c->total - k0 < c->nb ? c->total - k0 : c->nb;
        add_rows(c->A, c->rows ? c->rows + k0 : NULL, k0, m, c->rows ? c->wt + k0 : NULL,
                 c->e, c->f, c->v, pq, blk, c->nb, H, ldh);
    }
}

/* threads for the assembly: at most the parts the workspace has scratch
 * for (smr_ws_hessian_parts, allocated with the workspace) */
static int assemble_threads(const smr_ws *ws, int64_t total)
{
    int T = smr_k_threads();
    int64_t nblk = (total + ws->nb - 1) / ws->nb;
    if (T > ws->hcap)
        T = ws->hcap;
    if (T > nblk)
        T = (int)nblk;
    if (T <= 1 || (double)total * (double)ws->d * (double)ws->d < SMR_HESS_THREAD_WORK)
        return 1;
    return T;
}

int smr_ws_hessian_parts(smr_ws *ws, int T)
{
    /* no scratch where even all n rows would be assembled on one thread */
    if (T <= ws->hcap || (double)ws->n * (double)ws->d * (double)ws->d < SMR_HESS_THREAD_WORK)
        return SMR_OK;
    double *h = malloc((size_t)((T - 1) * part_doubles(ws->d, ws->nb)) * sizeof(double));
    if (!h)
        return SMR_ERR_NO_MEMORY;
    free(ws->hpart);
    ws->hpart = h;
    ws->hcap = T;
    return SMR_OK;
}

/* The assembly; with_pq (all rows, d <= 16 only) also forms [p q] =
 * A^T [f v] into ws->dk in the same pass (smr_obj_hessian_parts not
 * called).  Parts t > 0 add their triangle and [p q] in the order 1..T-1. */
static int assemble(const smr_problem *p, smr_ws *ws, double kappa,
                    const int64_t *rows, const double *wt, int64_t count,
                    double mu, double *H, int64_t ldh, bool with_pq)
{
    int64_t n = p->n, d = p->d;
    const double *e = ws->nk + 2 * n;
    double *pv = ws->dk, *qv = ws->dk + d, *tv = ws->dk + 2 * d;
    int64_t total = rows ? count : n;
    int T = assemble_threads(ws, total);
    assemble_ctx c = {.A = &ws->A, .rows = rows, .wt = wt, .e = e,
                      .f = with_pq ? ws->nk : NULL, .v = with_pq ? ws->nk + n : NULL,
                      .total = total, .nb = ws->nb, .d = d, .blk0 = ws->blk,
                      .part = ws->hpart, .H = H, .pq0 = ws->dk, .ldh = ldh};
    smr_k_parallel(T, assemble_part, &c);
    for (int t = 1; t < T; ++t) {
        const double *Ht = ws->hpart + (int64_t)(t - 1) * part_doubles(d, ws->nb);
        for (int64_t j = 0; j < d; ++j)
            for (int64_t i = 0; i <= j; ++i)
                H[i + j * ldh] += Ht[i + j * d];
        if (with_pq)
            for (int64_t j = 0; j < 2 * d; ++j)
                ws->dk[j] += Ht[d * d + j];
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

int smr_obj_hessian_assemble(const smr_problem *p, smr_ws *ws, double kappa,
                             const int64_t *rows, const double *wt, int64_t count,
                             double mu, double *H, int64_t ldh)
{
    return assemble(p, ws, kappa, rows, wt, count, mu, H, ldh, false);
}

int smr_obj_hessian(const smr_problem *p, smr_ws *ws, double mu, double *H,
                    int64_t ldh)
{
    if (!ws->fwd_valid) /* a lean pass left no f (fused.c) */
        return SMR_ERR_BAD_ARGUMENT;
    if (p->d <= SMR_SYRK_SMALL_D) /* [p q] from the assembly's own pass */
        return assemble(p, ws, middle_terms(p, ws, false, true), NULL, NULL, 0, mu,
                        H, ldh, true);
    double kappa = smr_obj_hessian_parts(p, ws);
    if (isnan(kappa)) /* (fwd_valid: only the parts' buffers failed) */
        return SMR_ERR_NO_MEMORY;
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
    if (smr_obj_mul_blocks(ws, 2, X, Z) != SMR_OK) /* (products.c) */
        return smr_classify_nonfinite(p);
    memcpy(ws->z, Z, (size_t)n * sizeof(double));
    /* keep As out of the scratch columns the forward pass overwrites */
    double *as = ws->nk + 2 * n;
    memcpy(as, Z + n, (size_t)n * sizeof(double));
    int rc = smr_obj_forward_from_z(p, x, ws);
    if (rc != SMR_OK)
        return rc;
    double kappa = middle_terms(p, ws, true, true); /* column 2: e o As */
    rc = smr_obj_mul_t_blocks(ws, 3, ws->nk, ws->dk);
    if (rc != SMR_OK)
        return rc;
    const double *pv = ws->dk, *qv = ws->dk + d, *u = ws->dk + 2 * d;
    double ps = smr_k_dot(d, pv, s), qs = smr_k_dot(d, qv, s);
    for (int64_t j = 0; j < d; ++j)
        hv[j] = u[j] - pv[j] * qs - qv[j] * ps + kappa * pv[j] * ps +
                p->lambda * s[j];
    if (!smr_k_all_finite(d, hv))
        return smr_classify_nonfinite(p);
    return SMR_OK;
}
