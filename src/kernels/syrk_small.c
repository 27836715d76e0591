/*
 * syrk_small.c -- H (upper triangle, column-major, ldh) += sum_i e_i a_i
 * a_i^T over rows [i0, i0 + m) of a row-major A with d <= 16: the whole
 * triangle in registers.  OpenBLAS's dsyrk spends ~20 ns per row at d = 16 (12 GFLOP/s,
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
#include "kernels.h"
#include "simd.h"

#include <string.h>

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
