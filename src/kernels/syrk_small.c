/*
 * syrk_small.c -- H (upper triangle, column-major, ldh) += sum_i e_i a_i
 * a_i^T over rows [i0, i0 + m) of A with d <= 16, and optionally in the
 * same loop [p q] += sum_i a_i [f_i v_i]: the whole triangle in registers.
 * OpenBLAS's dsyrk spends ~20 ns per row at d = 16 (12 GFLOP/s,
 * bench_kernels `syrk`) on what is 24 8-wide multiply-adds; the hessian.c
 * path also copied every row, scaled by sqrt|e_i| and split by sign, before
 * calling it.  Here e_i is applied as it comes (either sign):
 *
 *     s = e_i a_i[0:8], t = e_i a_i[8:16]
 *     H[0:8, c]     += a_ic s          (c < 8)
 *     H[0:8, 8 + c] += a_i,8+c s,   H[8:16, 8 + c] += a_i,8+c t
 *     p += f_i a_i,  q += v_i a_i      (when f is given: 4 more)
 *
 * (the scalar a_ic is a broadcast operand from memory).  The products
 * p, q = A^T [f v] of the Hessian (hessian.c) are otherwise a second pass
 * over A, which at d <= 16 costs as much as the assembly.
 *
 * Row-major A with d = 8 or 16 is read in place.  Any other A -- column-
 * major, or rows of another length -- is read in chunks of SMR_SYRK_CHUNK
 * rows copied into a row-major buffer of width 8 or 16 on the stack (4 or
 * 8 KiB, zero-padded): a column-major chunk is d runs of 64 contiguous
 * values, so the copy streams.  The rows of one chunk (or call) are summed
 * in order in registers, then added to H.
 */
#include "kernels.h"
#include "simd.h"

#include <string.h>

#define SMR_SYRK_CHUNK 64

/* the AVX2 level's kernel, in syrk_small_avx2.c (this file at SMR_VL = 4) */
void smr_k_syrk16_v3(const smr_mat *A, int64_t i0, int64_t m, const double *e,
                     const double *f, const double *v, double *H, int64_t ldh,
                     double *PQ);

#if SMR_VL == 8
static inline __attribute__((always_inline)) void
syrk16_body(bool two, bool pq, int64_t m, const double *B, int64_t ldb,
            int64_t d, const double *e, const double *f, const double *v,
            double *H, int64_t ldh, double *PQ)
{
    vd h0[8] = {{0}}, h1[8] = {{0}}, h2[8] = {{0}};
    vd p0 = {0}, p1 = {0}, q0 = {0}, q1 = {0};
    for (int64_t i = 0; i < m; ++i) {
        const double *a = B + i * ldb;
        vd a0 = ldv(a), s = a0 * e[i];
        for (int c = 0; c < 8; ++c)
            h0[c] += a[c] * s;
        if (pq) {
            p0 += a0 * f[i];
            q0 += a0 * v[i];
        }
        if (two) {
            vd a1 = ldv(a + 8), t = a1 * e[i];
            for (int c = 0; c < 8; ++c) {
                h1[c] += a[8 + c] * s;
                h2[c] += a[8 + c] * t;
            }
            if (pq) {
                p1 += a1 * f[i];
                q1 += a1 * v[i];
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
    if (pq)
        for (int64_t c = 0; c < d; ++c) {
            PQ[c] += c < 8 ? p0[c] : p1[c - 8];
            PQ[d + c] += c < 8 ? q0[c] : q1[c - 8];
        }
}

#else
/*
 * 4 lanes (AVX2: 16 vector registers): the triangle is 4-row strips k of
 * 4-column panels c, k <= c: 40 vectors at d = 16,
 * more than the registers.  So the rows go in chunks of SMR_SYRK_CHUNK
 * (in L1 after the first panel reads them), and for each chunk one panel
 * at a time keeps its strips (4 (c + 1) vectors) in registers:
 *
 *     s_k = e_i a_i[4k : 4k + 4],   h[k][cc] += a_i,4c+cc s_k  (k <= c)
 *
 * then adds them to Hs (strip k, column j) on the stack; H gets Hs at the
 * end.  p, q: one more sweep of the chunk.
 */
static inline __attribute__((always_inline)) void
panel4(int c, int64_t m, const double *B, int64_t ldb, const double *e,
       vd Hs[4][16])
{
    vd h[4][4] = {{{0}}};
    for (int64_t i = 0; i < m; ++i) {
        const double *a = B + i * ldb;
        for (int k = 0; k <= c; ++k) {
            vd s = ldv(a + 4 * k) * e[i];
            for (int cc = 0; cc < 4; ++cc)
                h[k][cc] += a[4 * c + cc] * s;
        }
    }
    for (int k = 0; k <= c; ++k)
        for (int cc = 0; cc < 4; ++cc)
            Hs[k][4 * c + cc] += h[k][cc];
}

static inline __attribute__((always_inline)) void
syrk16_body(bool two, bool pq, int64_t m, const double *B, int64_t ldb,
            int64_t d, const double *e, const double *f, const double *v,
            double *H, int64_t ldh, double *PQ)
{
    vd Hs[4][16] = {{{0}}}, P[4] = {{0}}, Q[4] = {{0}};
    const int ns = two ? 4 : 2; /* strips (and panels) of the padded row */
    for (int64_t r0 = 0; r0 < m; r0 += SMR_SYRK_CHUNK) {
        int64_t c = m - r0 < SMR_SYRK_CHUNK ? m - r0 : SMR_SYRK_CHUNK;
        const double *Bc = B + r0 * ldb;
        panel4(0, c, Bc, ldb, e + r0, Hs);
        panel4(1, c, Bc, ldb, e + r0, Hs);
        if (two) {
            panel4(2, c, Bc, ldb, e + r0, Hs);
            panel4(3, c, Bc, ldb, e + r0, Hs);
        }
        if (pq) {
            vd p[4] = {{0}}, q[4] = {{0}};
            for (int64_t i = 0; i < c; ++i)
                for (int k = 0; k < ns; ++k) {
                    vd a = ldv(Bc + i * ldb + 4 * k);
                    p[k] += a * f[r0 + i];
                    q[k] += a * v[r0 + i];
                }
            for (int k = 0; k < ns; ++k) {
                P[k] += p[k];
                Q[k] += q[k];
            }
        }
    }
    for (int64_t j = 0; j < d; ++j)
        for (int64_t r = 0; r <= j; ++r)
            H[r + j * ldh] += Hs[r / 4][j][r % 4];
    if (pq)
        for (int64_t j = 0; j < d; ++j) {
            PQ[j] += P[j / 4][j % 4];
            PQ[d + j] += Q[j / 4][j % 4];
        }
}
#endif

/* rows [i0, i0 + m) of A into buf (m x w, row-major; columns d..w-1 were
 * zeroed by the caller and stay zero) */
static inline __attribute__((always_inline)) void
copy_rows(const smr_mat *A, int64_t i0, int64_t m, int64_t w, double *buf)
{
    int64_t d = A->d;
    if (A->row_major) {
        for (int64_t r = 0; r < m; ++r)
            memcpy(buf + r * w, A->a + (i0 + r) * A->ld, (size_t)d * sizeof(double));
        return;
    }
    for (int64_t j = 0; j < d; ++j) {
        const double *col = A->a + j * A->ld + i0;
        for (int64_t r = 0; r < m; ++r)
            buf[r * w + j] = col[r];
    }
}

static inline __attribute__((always_inline)) void
syrk16_pq(bool pq, const smr_mat *A, int64_t i0, int64_t m, const double *e,
          const double *f, const double *v, double *H, int64_t ldh, double *PQ)
{
    int64_t d = A->d;
    bool two = d > 8;
    if (A->row_major && (d == 8 || d == 16)) {
        syrk16_body(two, pq, m, A->a + i0 * A->ld, A->ld, d, e, f, v, H, ldh, PQ);
        return;
    }
    int64_t w = two ? 16 : 8;
    double buf[SMR_SYRK_CHUNK * 16] __attribute__((aligned(64)));
    memset(buf, 0, sizeof buf);
    for (int64_t r0 = 0; r0 < m; r0 += SMR_SYRK_CHUNK) {
        int64_t c = m - r0 < SMR_SYRK_CHUNK ? m - r0 : SMR_SYRK_CHUNK;
        copy_rows(A, i0 + r0, c, w, buf);
        syrk16_body(two, pq, c, buf, w, d, e + r0, pq ? f + r0 : NULL,
                    pq ? v + r0 : NULL, H, ldh, PQ);
    }
}

static inline __attribute__((always_inline)) void
syrk16_any(const smr_mat *A, int64_t i0, int64_t m, const double *e,
           const double *f, const double *v, double *H, int64_t ldh, double *PQ)
{
    if (f)
        syrk16_pq(true, A, i0, m, e, f, v, H, ldh, PQ);
    else
        syrk16_pq(false, A, i0, m, e, NULL, NULL, H, ldh, NULL);
}

#ifdef SMR_SIMD_X86
#if SMR_VL == 4
__attribute__((target("arch=x86-64-v3"))) void
smr_k_syrk16_v3(const smr_mat *A, int64_t i0, int64_t m, const double *e,
                const double *f, const double *v, double *H, int64_t ldh,
                double *PQ)
{
    syrk16_any(A, i0, m, e, f, v, H, ldh, PQ);
}
#else
__attribute__((target("arch=x86-64-v4"))) static void
syrk16_v4(const smr_mat *A, int64_t i0, int64_t m, const double *e,
          const double *f, const double *v, double *H, int64_t ldh, double *PQ)
{
    syrk16_any(A, i0, m, e, f, v, H, ldh, PQ);
}
#endif
#endif

#if SMR_VL == 8 /* the dispatch (and the portable loop) once */
void smr_k_block_syrk_small(const smr_mat *A, int64_t i0, int64_t m,
                            const double *e, const double *f, const double *v,
                            double *H, int64_t ldh, double *pq)
{
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        syrk16_v4(A, i0, m, e, f, v, H, ldh, pq);
        return;
    }
    if (path == 1) {
        smr_k_syrk16_v3(A, i0, m, e, f, v, H, ldh, pq);
        return;
    }
#endif
    syrk16_any(A, i0, m, e, f, v, H, ldh, pq);
}
#endif
