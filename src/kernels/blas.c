/*
 * blas.c -- the CBLAS calls of the library, in one place.
 *
 * Every wrapper is expressed in column-major terms: a row-major n x d
 * matrix with leading dimension ld is the column-major d x n matrix A^T with
 * the same ld, so "A X" on a row-major A is dgemm(Trans) on the column-major
 * view and dgemm(NoTrans) on a column-major A.  Callers have already
 * checked that every size fits the BLAS integer (smr_problem validation).
 * The products with all of A are split over the library's threads (below);
 * each piece is a one-thread BLAS call.
 */
#include "kernels.h"

#include <cblas.h>
#include <string.h>

/* Rows [i0, i0 + m) of A as a column-major matrix (rows x cols, ld) */
static const double *rows_view(const smr_mat *A, int64_t i0, int64_t m,
                               blasint *rows, blasint *cols)
{
    *rows = (blasint)(A->row_major ? A->d : m);
    *cols = (blasint)(A->row_major ? m : A->d);
    return A->row_major ? A->a + i0 * A->ld : A->a + i0;
}

/* Z[i0:i0+m, :] = A[i0:i0+m, :] X */
static void mul_rows(const smr_mat *A, int64_t i0, int64_t m, int64_t k,
                     const double *X, int64_t ldx, double *Z, int64_t ldz)
{
    CBLAS_TRANSPOSE t = A->row_major ? CblasTrans : CblasNoTrans;
    blasint rows, cols;
    const double *a = rows_view(A, i0, m, &rows, &cols);
    if (k == 1)
        cblas_dgemv(CblasColMajor, t, rows, cols, 1.0, a, (blasint)A->ld, X, 1,
                    0.0, Z + i0, 1);
    else
        cblas_dgemm(CblasColMajor, t, CblasNoTrans, (blasint)m, (blasint)k,
                    (blasint)A->d, 1.0, a, (blasint)A->ld, X, (blasint)ldx, 0.0,
                    Z + i0, (blasint)ldz);
}

/* C (d x k, ld ldc) = A[i0:i0+m, :]^T F[i0:i0+m, :] + beta C */
static void mul_t_rows(const smr_mat *A, int64_t i0, int64_t m, int64_t k,
                       const double *F, int64_t ldf, double *C, int64_t ldc,
                       double beta)
{
    CBLAS_TRANSPOSE t = A->row_major ? CblasNoTrans : CblasTrans;
    blasint rows, cols;
    const double *a = rows_view(A, i0, m, &rows, &cols);
    if (k == 1)
        cblas_dgemv(CblasColMajor, t, rows, cols, 1.0, a, (blasint)A->ld,
                    F + i0, 1, beta, C, 1);
    else
        cblas_dgemm(CblasColMajor, t, CblasNoTrans, (blasint)A->d, (blasint)k,
                    (blasint)m, 1.0, a, (blasint)A->ld, F + i0, (blasint)ldf,
                    beta, C, (blasint)ldc);
}

void smr_k_mul_t_rows_add(const smr_mat *A, int64_t i0, int64_t m,
                          const double *r, double *g)
{
    mul_t_rows(A, i0, m, 1, r, 0, g, 0, 1.0);
}

/*
 * Threads.  A product over all n rows is split into T contiguous row
 * ranges (multiples of 8 rows), one per thread, each a single-threaded
 * BLAS call (smr_k_parallel holds OpenBLAS to one thread).  A X needs no
 * combination; A^T F is the sum of the T partial d x k products, added in
 * the order 0..T-1, so the result depends on T only.  We do this instead
 * of letting OpenBLAS thread the call because OpenBLAS's idle workers spin
 * for about 2^28 cycles after each threaded call and would compete with
 * the library's own threads in the one-pass kernel that usually follows
 * (measured: the one-pass loss+gradient at n = 10^6, d = 16 took 14.7 ms
 * right after a threaded dgemv against 8.3 ms without one).
 */

typedef struct {
    const smr_mat *A;
    int64_t k, ldx, ldz;
    const double *X;
    double *Z, *part; /* part: (T - 1) x d x k partial products (mul_t) */
} split_ctx;

static void range(int64_t n, int t, int T, int64_t *i0, int64_t *m)
{
    int64_t blocks = (n + 7) / 8;
    int64_t b0 = blocks * t / T, b1 = blocks * (t + 1) / T;
    *i0 = 8 * b0;
    int64_t i1 = 8 * b1 < n ? 8 * b1 : n;
    *m = i1 > *i0 ? i1 - *i0 : 0;
}

static void mul_part(void *v, int t, int T)
{
    split_ctx *c = v;
    int64_t i0, m;
    range(c->A->n, t, T, &i0, &m);
    if (m > 0)
        mul_rows(c->A, i0, m, c->k, c->X, c->ldx, c->Z, c->ldz);
}

static void mul_t_part(void *v, int t, int T)
{
    split_ctx *c = v;
    int64_t i0, m, d = c->A->d;
    range(c->A->n, t, T, &i0, &m);
    double *C = t == 0 ? c->Z : c->part + (int64_t)(t - 1) * d * c->k;
    int64_t ldc = t == 0 ? c->ldz : d;
    if (m > 0) {
        mul_t_rows(c->A, i0, m, c->k, c->X, c->ldx, C, ldc, 0.0);
        return;
    }
    for (int64_t q = 0; q < c->k; ++q)
        memset(C + q * ldc, 0, (size_t)d * sizeof(double));
}

/* threads for a product of n d k: 1 when small, or in a parallel part */
static int split_threads(const smr_mat *A, int64_t k)
{
    if ((double)A->n * (double)A->d * (double)k < SMR_SPLIT_MIN_WORK)
        return 1;
    int T = smr_k_threads();
    return (int64_t)T * 64 > A->n ? 1 : T;
}

void smr_k_mul(const smr_mat *A, int64_t k, const double *X, int64_t ldx,
               double *Z, int64_t ldz)
{
    split_ctx c = {.A = A, .k = k, .ldx = ldx, .ldz = ldz, .X = X, .Z = Z};
    smr_k_parallel(split_threads(A, k), mul_part, &c);
}

/* the partial products of threads 1..T-1 live on the caller's stack (no
 * allocation in a solver's loop); T is lowered until they fit */
#define SMR_SPLIT_PARTIAL 8192

void smr_k_mul_t(const smr_mat *A, int64_t k, const double *F, int64_t ldf,
                 double *C, int64_t ldc)
{
    int T = split_threads(A, k);
    int64_t d = A->d;
    while (T > 1 && (T - 1) * d * k > SMR_SPLIT_PARTIAL)
        --T;
    double part[SMR_SPLIT_PARTIAL];
    split_ctx c = {.A = A, .k = k, .ldx = ldf, .ldz = ldc, .X = F, .Z = C, .part = part};
    smr_k_parallel(T, mul_t_part, &c);
    for (int t = 1; t < T; ++t) {
        const double *P = part + (int64_t)(t - 1) * d * k;
        for (int64_t q = 0; q < k; ++q)
            for (int64_t j = 0; j < d; ++j)
                C[q * ldc + j] += P[q * d + j];
    }
}

void smr_k_syrk_rows(int64_t d, int64_t m, double alpha, const double *B,
                     int64_t ldb, bool row_major, double *H, int64_t ldh)
{
    if (m == 0)
        return;
    /* row-major m x d block == column-major d x m matrix B^T: H += B^T B is
     * then (B^T)(B^T)^T, i.e. NoTrans; a column-major block needs Trans. */
    cblas_dsyrk(CblasColMajor, CblasUpper,
                row_major ? CblasNoTrans : CblasTrans, (blasint)d,
                (blasint)m, alpha, B, (blasint)ldb, 1.0, H, (blasint)ldh);
}

void smr_k_syr2(int64_t d, double alpha, const double *x, const double *y,
                double *H, int64_t ldh)
{
    smr_k_blas_hold();
    cblas_dsyr2(CblasColMajor, CblasUpper, (blasint)d, alpha, x, 1, y, 1, H,
                (blasint)ldh);
    smr_k_blas_release();
}

void smr_k_symmetrize(int64_t d, double *H, int64_t ldh)
{
    for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < j; ++i)
            H[j + i * ldh] = H[i + j * ldh];
}
