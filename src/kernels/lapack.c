/*
 * lapack.c -- Cholesky factorisation and solve through LAPACKE.
 *
 * dpotrf factors M = U^T U (upper triangle); its info > 0 means the leading
 * minor of that order is not positive definite, which the objective layer
 * turns into SMR_ERR_NOT_POSDEF.  dpotrs then solves with the factor.
 */
#include "kernels.h"

#include <cblas.h>
#include <lapacke.h>

int smr_k_cholesky_solve(int64_t d, double *M, int64_t ldm, int64_t nrhs,
                         double *B, int64_t ldb)
{
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U',
                                          (lapack_int)d, M, (lapack_int)ldm);
    if (info != 0)
        return (int)info;
    info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)d,
                               (lapack_int)nrhs, M, (lapack_int)ldm, B,
                               (lapack_int)ldb);
    return (int)info;
}

int smr_k_qr(bool row_major, int64_t m, int64_t d, double *SM, int64_t ld,
             double *tau)
{
    return (int)LAPACKE_dgeqrf(row_major ? LAPACK_ROW_MAJOR : LAPACK_COL_MAJOR,
                               (lapack_int)m, (lapack_int)d, SM, (lapack_int)ld, tau);
}

void smr_k_rsolve(bool row_major, int64_t d, const double *R, int64_t ld,
                  int64_t k, double *W)
{
    /* row-major R (upper, ld) is the column-major lower triangle of R^T */
    cblas_dtrsm(CblasColMajor, CblasLeft, row_major ? CblasLower : CblasUpper,
                row_major ? CblasTrans : CblasNoTrans, CblasNonUnit, (blasint)d,
                (blasint)k, 1.0, R, (blasint)ld, W, (blasint)d);
}
