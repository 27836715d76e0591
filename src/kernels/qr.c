/*
 * qr.c -- R of the sketch by a tall-skinny QR (TSQR) in the library's
 * threads.
 *
 * The leverage scores need only R of SM = QR (m x d, m = 8d; Q is never
 * formed).  Split SM's rows into P blocks B_p (P = min(4, m / 2d), rows
 * at least 2d each) and factor each, B_p = Q_p R_p (dgeqrf); then
 *     [R_a; R_b] = Q_ab R_ab     (dtpqrt: two stacked triangles)
 * merges pairs up a binary tree (level s merges block i with i + s for i a
 * multiple of 2s), and the last R is an R of SM: SM = diag(Q_p) Q_tree R,
 * a product of orthogonal factors, so R^T R = SM^T SM.  It equals dgeqrf's
 * R of the whole SM up to the signs of its rows and rounding, and the
 * signs are made those of a non-negative diagonal at the end (the scores
 * use R^{-1} G, where a row's sign would flip a row of the Gaussian G: a
 * different draw); backward stable as Householder QR is (Demmel, Grigori,
 * Hoemmen, Langou 2012).
 *
 * Cost: each block 2 (2d) d^2 - 2/3 d^3 = 10/3 d^3 flops, each merge of two
 * triangles 2/3 d^3 (the reflector of column j has j + 2 nonzeros): for
 * P = 4, 15 1/3 d^3 in all, as dgeqrf's of the whole SM; on two threads
 * the blocks run two at a time and the tree's first level in parallel,
 * 8 d^3 on the critical path.  P depends on m and d only, never on the thread
 * count, and each block and merge is one single-threaded LAPACK call, so
 * the bits are the same at any thread count.
 *
 * Row-major SM is copied block by block into column-major scratch (the
 * copy LAPACKE's row-major dgeqrf made of the whole SM at every call, in
 * malloc'ed memory); column-major SM is factored in place.  Measured (a
 * /tmp driver, d = 400 and 800, m = 8d, medians of 3, one program):
 * LAPACKE's row-major dgeqrf 0.042 and 0.30 s; dgeqrf on a column-major
 * copy 0.029 and 0.24 s; TSQR, one thread, P = 4 0.032 and 0.23 s; two
 * threads, P = 2 0.018 and 0.16 s, P = 4 0.019 and 0.16 s, P = 8 0.021
 * and 0.17 s (the merges grow with P).  docs/sketch.md has the figures
 * of the whole scores phase.
 */
#include "kernels.h"

#include <cblas.h>
#include <lapacke.h>

#define QR_MAX_PARTS 4
#define QR_TPQRT_NB 32    /* dtpqrt's block size (<= d)              */
#define QR_LWORK_PER_COL 64 /* dgeqrf's work per column: >= its nb (32) */
/* m d^2 below which the blocks run on the calling thread */
#define QR_SPLIT_MIN_FLOPS ((int64_t)1 << 22)

int smr_k_qr_parts(int64_t m, int64_t d)
{
    int64_t p = d > 0 ? m / (2 * d) : 1;
    return p < 1 ? 1 : p > QR_MAX_PARTS ? QR_MAX_PARTS : (int)p;
}

/* scratch of one block: tau (d), then dgeqrf's work, reused by the
 * merges as dtpqrt's T (nb x d) and work (nb x d) */
static int64_t block_scratch(int64_t d)
{
    int64_t w = QR_LWORK_PER_COL * d;
    return d + (w > 2 * QR_TPQRT_NB * d ? w : 2 * QR_TPQRT_NB * d);
}

int64_t smr_k_qr_work(bool row_major, int64_t m, int64_t d)
{
    return (row_major ? m * d : 0) + smr_k_qr_parts(m, d) * block_scratch(d);
}

typedef struct {
    bool row_major;
    int64_t m, d, ld; /* SM's */
    double *SM;
    int P;
    double *B;       /* row-major SM's blocks, column-major: block p (rows
                      * [r0, r1)) at B + r0 d, leading dim r1 - r0       */
    double *scratch; /* P blocks' scratch                                  */
    int s;           /* the merge level                                    */
    int info[QR_MAX_PARTS];
} qr_ctx;

static void rows_of(const qr_ctx *c, int p, int64_t *r0, int64_t *r1)
{
    smr_k_part_range(c->m, 1, p, c->P, r0, r1);
}

/* block p's top-left entry and leading dimension */
static double *block(const qr_ctx *c, int p, int64_t *ld)
{
    int64_t r0, r1;
    rows_of(c, p, &r0, &r1);
    if (!c->row_major) {
        *ld = c->ld;
        return c->SM + r0;
    }
    *ld = r1 - r0;
    return c->B + r0 * c->d;
}

/* rows [r0, r1) of row-major SM into column-major (ld r1 - r0), 8 rows at
 * a time: eight read streams, each column's 8 entries written together */
static void transpose_rows(const qr_ctx *c, int64_t r0, int64_t r1, double *dst)
{
    int64_t d = c->d, mb = r1 - r0;
    for (int64_t i = 0; i < mb; i += 8) {
        int64_t h = mb - i < 8 ? mb - i : 8;
        const double *src = c->SM + (r0 + i) * c->ld;
        for (int64_t j = 0; j < d; ++j)
            for (int64_t t = 0; t < h; ++t)
                dst[i + t + j * mb] = src[t * c->ld + j];
    }
}

static void factor_part(void *v, int t, int T)
{
    qr_ctx *c = v;
    int64_t d = c->d, ws = block_scratch(d);
    for (int p = t; p < c->P; p += T) {
        int64_t r0, r1, ld;
        rows_of(c, p, &r0, &r1);
        double *Bp = block(c, p, &ld);
        if (c->row_major)
            transpose_rows(c, r0, r1, Bp);
        double *tau = c->scratch + p * ws;
        c->info[p] = (int)LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)(r1 - r0),
                                              (lapack_int)d, Bp, (lapack_int)ld, tau,
                                              tau + d, (lapack_int)(ws - d));
    }
}

/* level s: merge k (block i = 2 s k with block i + s) in part k mod T */
static void merge_part(void *v, int t, int T)
{
    qr_ctx *c = v;
    int64_t d = c->d, nb = d < QR_TPQRT_NB ? d : QR_TPQRT_NB, ws = block_scratch(d);
    int s = c->s;
    for (int i = 2 * s * t; i + s < c->P; i += 2 * s * T) {
        int64_t lda, ldb;
        double *Ra = block(c, i, &lda), *Rb = block(c, i + s, &ldb);
        double *Tm = c->scratch + i * ws + d;
        int info = (int)LAPACKE_dtpqrt_work(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)d,
                                            (lapack_int)d, (lapack_int)nb, Ra, (lapack_int)lda,
                                            Rb, (lapack_int)ldb, Tm, (lapack_int)nb,
                                            Tm + nb * d);
        if (info != 0 && c->info[i] == 0)
            c->info[i] = info;
    }
}

int smr_k_qr_r(bool row_major, int64_t m, int64_t d, double *SM, int64_t ld,
               double *work, int64_t nwork)
{
    if (m < d || d < 1 || nwork < smr_k_qr_work(row_major, m, d))
        return -1;
    qr_ctx c = {.row_major = row_major, .m = m, .d = d, .ld = ld, .SM = SM,
                .P = smr_k_qr_parts(m, d), .B = work};
    c.scratch = work + (row_major ? m * d : 0);
    int T = smr_k_threads();
    if (T > c.P)
        T = c.P;
    if (m * d * d < QR_SPLIT_MIN_FLOPS)
        T = 1;
    smr_k_parallel(T, factor_part, &c);
    for (c.s = 1; c.s < c.P; c.s *= 2) {
        int merges = (c.P - 1 - c.s) / (2 * c.s) + 1;
        smr_k_parallel(T < merges ? T : merges, merge_part, &c);
    }
    for (int p = 0; p < c.P; ++p)
        if (c.info[p] != 0)
            return c.info[p];
    /* R into SM's top d rows, in SM's layout, zeros below the diagonal,
     * each row's sign such that its diagonal is >= 0: the R of SM's
     * Cholesky factor R^T R = SM^T SM, unique where SM has full rank, so
     * that it does not depend on how it was computed (the scores use
     * R^{-1} G: a row's sign would flip a row of the Gaussian G) */
    int64_t ldr;
    const double *R = block(&c, 0, &ldr);
    for (int64_t i = 0; i < d; ++i) {
        double sg = R[i + i * ldr] < 0 ? -1.0 : 1.0;
        for (int64_t j = 0; j < d; ++j) {
            double r = j >= i ? sg * R[i + j * ldr] : 0.0;
            if (row_major)
                SM[i * ld + j] = r;
            else
                SM[i + j * ld] = r;
        }
    }
    return 0;
}

/* ---- squared row norms of M R^{-1} ---- */

typedef struct {
    int64_t n, d, ldm, ldr;
    double *M;
    const double *R;
    double *out;
} rn_ctx;

static void rownorms_part(void *v, int t, int T)
{
    rn_ctx *c = v;
    int64_t r0, r1;
    smr_k_part_range(c->n, 64, t, T, &r0, &r1);
    if (r1 <= r0)
        return;
    cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit,
                (blasint)(r1 - r0), (blasint)c->d, 1.0, c->R, (blasint)c->ldr,
                c->M + r0, (blasint)c->ldm);
    for (int64_t i = r0; i < r1; ++i)
        c->out[i] = 0;
    for (int64_t j = 0; j < c->d; ++j) {
        const double *q = c->M + j * c->ldm;
        for (int64_t i = r0; i < r1; ++i)
            c->out[i] += q[i] * q[i];
    }
}

void smr_k_qr_rownorms(int64_t n, int64_t d, double *M, int64_t ldm, const double *R,
                       int64_t ldr, double *out)
{
    rn_ctx c = {.n = n, .d = d, .ldm = ldm, .ldr = ldr, .M = M, .R = R, .out = out};
    int T = smr_k_threads();
    if (n * d * d < QR_SPLIT_MIN_FLOPS)
        T = 1;
    smr_k_parallel(T, rownorms_part, &c);
}
