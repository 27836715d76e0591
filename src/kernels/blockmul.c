/*
 * blockmul.c -- G (d x k) += B^T W for a row block B (m x d) of A that is
 * in cache, k <= 4 columns of weights W (m x k, column-major, ld m).
 *
 * OpenBLAS is built for large operands: on these thin products (k = 3 or
 * 4, B a few hundred KiB) its dgemm spends 2-4x the time of reading B from
 * memory (measured: d = 256, m = 128, one thread: 340 ms against 75 ms for
 * the dgemv that brought the rows in), so this one product is written
 * here.  Row-major B: for each strip of 8 columns the k accumulators stay
 * in registers while the rows stream by (one load of B per k
 * multiply-adds), summed in chunks of 64 rows.  Column-major B: each column of B is a contiguous run of
 * m values, dotted with the k weight vectors.  The order of every sum is
 * fixed, so results are reproducible; compiled for x86-64-v3/v4 where
 * available (picked at run time, like vexp.c), with a*b+c contracted.
 */
#include "kernels.h"
#include "simd.h"

#include <string.h>

#define SMR_STRIP 8

/* row-major: b(i, j) = B[i * ldb + j].  A full strip of 8 columns with
 * k = 3 or 4: the accumulators are named locals so that they live in
 * registers; rows are summed in chunks of 64 (two-level summation keeps
 * the rounding error ~(64 + m/64) eps instead of m eps). */
#define SMR_CHUNK 64
static inline __attribute__((always_inline)) void
strip8(int64_t m, int64_t k, const double *B, int64_t ldb, const double *W,
       int64_t j0, double *G, int64_t d)
{
    v8d g[4] = {ld8(G + j0), ld8(G + d + j0), ld8(G + 2 * d + j0), {0}};
    if (k == 4)
        g[3] = ld8(G + 3 * d + j0);
    for (int64_t i0 = 0; i0 < m; i0 += SMR_CHUNK) {
        int64_t i1 = m - i0 < SMR_CHUNK ? m : i0 + SMR_CHUNK;
        /* two rows per step into two sets: 2k independent chains */
        v8d a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        int64_t i = i0;
        for (; i + 2 <= i1; i += 2) {
            v8d x = ld8(B + i * ldb + j0), y = ld8(B + (i + 1) * ldb + j0);
            a0 += W[i] * x;
            a1 += W[m + i] * x;
            a2 += W[2 * m + i] * x;
            b0 += W[i + 1] * y;
            b1 += W[m + i + 1] * y;
            b2 += W[2 * m + i + 1] * y;
            if (k == 4) {
                a3 += W[3 * m + i] * x;
                b3 += W[3 * m + i + 1] * y;
            }
        }
        for (; i < i1; ++i) {
            v8d x = ld8(B + i * ldb + j0);
            a0 += W[i] * x;
            a1 += W[m + i] * x;
            a2 += W[2 * m + i] * x;
            if (k == 4)
                a3 += W[3 * m + i] * x;
        }
        g[0] += a0 + b0;
        g[1] += a1 + b1;
        g[2] += a2 + b2;
        g[3] += a3 + b3;
    }
    for (int64_t c = 0; c < k; ++c)
        memcpy(G + c * d + j0, &g[c], sizeof g[c]);
}

/* the last w < 8 columns, or any k: plain loops, same chunking */
static inline __attribute__((always_inline)) void strip_tail(int64_t m, int64_t k, const double *B, int64_t ldb,
                              const double *W, int64_t j0, int64_t w, double *G,
                              int64_t d)
{
    for (int64_t i0 = 0; i0 < m; i0 += SMR_CHUNK) {
        int64_t i1 = m - i0 < SMR_CHUNK ? m : i0 + SMR_CHUNK;
        for (int64_t c = 0; c < k; ++c)
            for (int64_t jj = 0; jj < w; ++jj) {
                double s = 0.0;
                for (int64_t i = i0; i < i1; ++i)
                    s += W[c * m + i] * B[i * ldb + j0 + jj];
                G[c * d + j0 + jj] += s;
            }
    }
}

static inline __attribute__((always_inline)) void body(bool row_major, int64_t m, int64_t d, int64_t k,
                        const double *B, int64_t ldb, const double *W, double *G)
{
    if (row_major) {
        int64_t j0 = 0;
        if (k == 3 || k == 4)
            for (; j0 + SMR_STRIP <= d; j0 += SMR_STRIP)
                strip8(m, k, B, ldb, W, j0, G, d);
        if (j0 < d)
            strip_tail(m, k, B, ldb, W, j0, d - j0, G, d);
        return;
    }
    /* column-major: b(i, j) = B[i + j * ldb].  The k dot products of a
     * column in one sweep, each with 8 partial sums (one vector) and two
     * sets of them: 2k independent chains. */
    for (int64_t j = 0; j < d; ++j) {
        const double *a = B + j * ldb;
        v8d s[4] = {{0}}, t[4] = {{0}};
        int64_t i = 0;
        for (; i + 16 <= m; i += 16) {
            v8d x = ld8(a + i), y = ld8(a + i + 8);
            for (int64_t c = 0; c < k; ++c) {
                s[c] += ld8(W + c * m + i) * x;
                t[c] += ld8(W + c * m + i + 8) * y;
            }
        }
        for (int64_t c = 0; c < k; ++c) {
            v8d u = s[c] + t[c];
            double r = ((u[0] + u[1]) + (u[2] + u[3])) + ((u[4] + u[5]) + (u[6] + u[7]));
            for (int64_t q = i; q < m; ++q)
                r += W[c * m + q] * a[q];
            G[c * d + j] += r;
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("arch=x86-64-v4"))) static void
body_v4(bool rm, int64_t m, int64_t d, int64_t k, const double *B, int64_t ldb,
        const double *W, double *G)
{
    body(rm, m, d, k, B, ldb, W, G);
}
__attribute__((target("arch=x86-64-v3"))) static void
body_v3(bool rm, int64_t m, int64_t d, int64_t k, const double *B, int64_t ldb,
        const double *W, double *G)
{
    body(rm, m, d, k, B, ldb, W, G);
}
#endif

void smr_k_block_mul_t_add(const smr_mat *A, int64_t i0, int64_t m, int64_t k,
                           const double *W, double *G)
{
    const double *B = A->row_major ? A->a + i0 * A->ld : A->a + i0;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    int path = smr_k_simd_level();
    if (path == 2) {
        body_v4(A->row_major, m, A->d, k, B, A->ld, W, G);
        return;
    }
    if (path == 1) {
        body_v3(A->row_major, m, A->d, k, B, A->ld, W, G);
        return;
    }
#endif
    body(A->row_major, m, A->d, k, B, A->ld, W, G);
}

/*
 * H (upper triangle, column-major, ldh) += sum_i e_i a_i a_i^T over rows
 * [i0, i0 + m) of a row-major A with d <= 16: the whole triangle in
 * registers.  OpenBLAS's dsyrk spends ~20 ns per row at d = 16 (12 GFLOP/s,
 * bench_kernels `syrk`) on what is 24 8-wide multiply-adds; the hessian.c
 * path also copied every row, scaled by sqrt|e_i| and split by sign, before
 * calling it.  Here e_i is applied as it comes (either sign):
 *
 *     s = e_i a_i[0:8], t = e_i a_i[8:16]
 *     H[0:8, c]     += a_ic s          (c < 8)
 *     H[0:8, 8 + c] += a_i,8+c s,   H[8:16, 8 + c] += a_i,8+c t
 *
 * (the scalar a_ic is a broadcast operand from memory).  Rows shorter than
 * 8 or 16 go through a zero-padded copy of the row.  The rows of one call
 * are summed in order in registers, then added to H.
 */
static inline __attribute__((always_inline)) void
syrk16_body(bool two, bool pad, int64_t m, int64_t d, const double *B,
            int64_t ldb, const double *e, double *H, int64_t ldh)
{
    v8d h0[8] = {{0}}, h1[8] = {{0}}, h2[8] = {{0}};
    double buf[16] __attribute__((aligned(64))) = {0};
    for (int64_t i = 0; i < m; ++i) {
        const double *a = B + i * ldb;
        if (pad) {
            memcpy(buf, a, (size_t)d * sizeof(double));
            a = buf;
        }
        v8d a0 = ld8(a), s = a0 * e[i];
        for (int c = 0; c < 8; ++c)
            h0[c] += a[c] * s;
        if (two) {
            v8d a1 = ld8(a + 8), t = a1 * e[i];
            for (int c = 0; c < 8; ++c) {
                h1[c] += a[8 + c] * s;
                h2[c] += a[8 + c] * t;
            }
        }
    }
    for (int64_t c = 0; c < d && c < 8; ++c)
        for (int64_t r = 0; r <= c; ++r)
            H[r + c * ldh] += h0[c][r];
    for (int64_t c = 8; c < d; ++c) {
        for (int64_t r = 0; r < 8; ++r)
            H[r + c * ldh] += h1[c - 8][r];
        for (int64_t r = 8; r <= c; ++r)
            H[r + c * ldh] += h2[c - 8][r - 8];
    }
}

static inline __attribute__((always_inline)) void
syrk16_any(int64_t m, int64_t d, const double *B, int64_t ldb, const double *e,
           double *H, int64_t ldh)
{
    if (d == 16)
        syrk16_body(true, false, m, d, B, ldb, e, H, ldh);
    else if (d > 8)
        syrk16_body(true, true, m, d, B, ldb, e, H, ldh);
    else if (d == 8)
        syrk16_body(false, false, m, d, B, ldb, e, H, ldh);
    else
        syrk16_body(false, true, m, d, B, ldb, e, H, ldh);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("arch=x86-64-v4"))) static void
syrk16_v4(int64_t m, int64_t d, const double *B, int64_t ldb, const double *e,
          double *H, int64_t ldh)
{
    syrk16_any(m, d, B, ldb, e, H, ldh);
}
__attribute__((target("arch=x86-64-v3"))) static void
syrk16_v3(int64_t m, int64_t d, const double *B, int64_t ldb, const double *e,
          double *H, int64_t ldh)
{
    syrk16_any(m, d, B, ldb, e, H, ldh);
}
#endif

void smr_k_block_syrk_small(const smr_mat *A, int64_t i0, int64_t m,
                            const double *e, double *H, int64_t ldh)
{
    const double *B = A->a + i0 * A->ld;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    int path = smr_k_simd_level();
    if (path == 2) {
        syrk16_v4(m, A->d, B, A->ld, e, H, ldh);
        return;
    }
    if (path == 1) {
        syrk16_v3(m, A->d, B, A->ld, e, H, ldh);
        return;
    }
#endif
    syrk16_any(m, A->d, B, A->ld, e, H, ldh);
}
