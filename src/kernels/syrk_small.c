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

/* written for 8 lanes (a row of 8 columns per vector); its AVX2 version
 * below keeps GCC's 64-byte vectors, which GCC 12 holds in memory there
 * (simd.h) -- not rewritten at 4 lanes yet */
#if SMR_VL != 8
#error "syrk_small.c is written for SMR_VL = 8"
#endif

#include <string.h>

#define SMR_SYRK_CHUNK 64

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

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("arch=x86-64-v4"))) static void
syrk16_v4(const smr_mat *A, int64_t i0, int64_t m, const double *e,
          const double *f, const double *v, double *H, int64_t ldh, double *PQ)
{
    syrk16_any(A, i0, m, e, f, v, H, ldh, PQ);
}
__attribute__((target("arch=x86-64-v3"))) static void
syrk16_v3(const smr_mat *A, int64_t i0, int64_t m, const double *e,
          const double *f, const double *v, double *H, int64_t ldh, double *PQ)
{
    syrk16_any(A, i0, m, e, f, v, H, ldh, PQ);
}
#endif

void smr_k_block_syrk_small(const smr_mat *A, int64_t i0, int64_t m,
                            const double *e, const double *f, const double *v,
                            double *H, int64_t ldh, double *pq)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    int path = smr_k_simd_level();
    if (path == 2) {
        syrk16_v4(A, i0, m, e, f, v, H, ldh, pq);
        return;
    }
    if (path == 1) {
        syrk16_v3(A, i0, m, e, f, v, H, ldh, pq);
        return;
    }
#endif
    syrk16_any(A, i0, m, e, f, v, H, ldh, pq);
}
