/*
 * lapack.c -- Cholesky factorisation and solve through LAPACKE.
 *
 * dpotrf factors M = U^T U (upper triangle); its info > 0 means the leading
 * minor of that order is not positive definite, which the objective layer
 * turns into SMR_ERR_NOT_POSDEF.  dpotrs then solves with the factor.
 */
#include "kernels.h"

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
