/*
 * blas.c -- the CBLAS calls of the library, in one place.
 *
 * Every wrapper is expressed in column-major terms: a row-major n x d
 * matrix with leading dimension ld is the column-major d x n matrix A^T with
 * the same ld, so "A X" on a row-major A is dgemm(Trans) on the column-major
 * view and dgemm(NoTrans) on a column-major A.  Callers have already
 * checked that every size fits the BLAS integer (smr_problem validation).
 */
#include "kernels.h"

#include <cblas.h>

void smr_k_mul(const smr_mat *A, int64_t k, const double *X, int64_t ldx,
               double *Z, int64_t ldz)
{
    CBLAS_TRANSPOSE t = A->row_major ? CblasTrans : CblasNoTrans;
    /* column-major view: row-major A is stored as A^T (d x n) */
    blasint rows = (blasint)(A->row_major ? A->d : A->n);
    blasint cols = (blasint)(A->row_major ? A->n : A->d);
    if (k == 1) {
        cblas_dgemv(CblasColMajor, t, rows, cols, 1.0, A->a, (blasint)A->ld,
                    X, 1, 0.0, Z, 1);
        return;
    }
    cblas_dgemm(CblasColMajor, t, CblasNoTrans, (blasint)A->n, (blasint)k,
                (blasint)A->d, 1.0, A->a, (blasint)A->ld, X, (blasint)ldx,
                0.0, Z, (blasint)ldz);
}

void smr_k_mul_t(const smr_mat *A, int64_t k, const double *F, int64_t ldf,
                 double *C, int64_t ldc)
{
    CBLAS_TRANSPOSE t = A->row_major ? CblasNoTrans : CblasTrans;
    blasint rows = (blasint)(A->row_major ? A->d : A->n);
    blasint cols = (blasint)(A->row_major ? A->n : A->d);
    if (k == 1) {
        cblas_dgemv(CblasColMajor, t, rows, cols, 1.0, A->a, (blasint)A->ld,
                    F, 1, 0.0, C, 1);
        return;
    }
    cblas_dgemm(CblasColMajor, t, CblasNoTrans, (blasint)A->d, (blasint)k,
                (blasint)A->n, 1.0, A->a, (blasint)A->ld, F, (blasint)ldf,
                0.0, C, (blasint)ldc);
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
    cblas_dsyr2(CblasColMajor, CblasUpper, (blasint)d, alpha, x, 1, y, 1, H,
                (blasint)ldh);
}

void smr_k_symmetrize(int64_t d, double *H, int64_t ldh)
{
    for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < j; ++i)
            H[j + i * ldh] = H[i + j * ldh];
}

void smr_k_block_mul(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                     double *z)
{
    if (A->row_major) /* column-major view: d x m at column i0 */
        cblas_dgemv(CblasColMajor, CblasTrans, (blasint)A->d, (blasint)m, 1.0,
                    A->a + i0 * A->ld, (blasint)A->ld, x, 1, 0.0, z, 1);
    else
        cblas_dgemv(CblasColMajor, CblasNoTrans, (blasint)m, (blasint)A->d, 1.0,
                    A->a + i0, (blasint)A->ld, x, 1, 0.0, z, 1);
}
