/*
 * lapack.c -- Cholesky factorisation and solve, the sketch's triangular
 * solve (its R: qr.c), and exact leverage scores by a column-pivoted QR
 * (wide, rank-deficient or ill-conditioned M; sparsify.c), through
 * LAPACKE.
 *
 * dpotrf factors M = U^T U (upper triangle); its info > 0 means the leading
 * minor of that order is not positive definite, which the objective layer
 * turns into SMR_ERR_NOT_POSDEF.  dpotrs then solves with the factor.
 * These d x d calls run with OpenBLAS at one thread (smr_k_blas_hold): they
 * cost at most the d^3 of a Newton step against the n d^2 of its Hessian,
 * and a threaded call would leave OpenBLAS's workers spinning beside the
 * library's threads in the next pass over A.
 */
#include "kernels.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

int smr_k_cholesky_solve(int64_t d, double *M, int64_t ldm, int64_t nrhs,
                         double *B, int64_t ldb)
{
    smr_k_blas_hold();
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U',
                                          (lapack_int)d, M, (lapack_int)ldm);
    if (info == 0)
        info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)d,
                                   (lapack_int)nrhs, M, (lapack_int)ldm, B,
                                   (lapack_int)ldb);
    smr_k_blas_release();
    return (int)info;
}

void smr_k_rsolve(bool row_major, int64_t d, const double *R, int64_t ld,
                  int64_t k, double *W)
{
    /* row-major R (upper, ld) is the column-major lower triangle of R^T */
    smr_k_blas_hold();
    cblas_dtrsm(CblasColMajor, CblasLeft, row_major ? CblasLower : CblasUpper,
                row_major ? CblasTrans : CblasNoTrans, CblasNonUnit, (blasint)d,
                (blasint)k, 1.0, R, (blasint)ld, W, (blasint)d);
    smr_k_blas_release();
}

int smr_k_exact_leverage(int64_t n, int64_t d, double *M, double *tau, double *out)
{
    /* M P = Q R (column pivoting: |R_jj| non-increasing); the r columns
     * whose pivots exceed max(n, d) eps |R_00| span range(M), so the hat
     * matrix M M^+ = Q_r Q_r^T and its diagonal is the squared row norms
     * of Q_r */
    int64_t mn = n < d ? n : d;
    lapack_int *jpvt = calloc((size_t)d, sizeof(lapack_int));
    if (!jpvt)
        return SMR_K_NO_MEMORY;
    smr_k_blas_hold();
    lapack_int info = LAPACKE_dgeqp3(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)d, M,
                                     (lapack_int)n, jpvt, tau);
    int64_t r = 0;
    if (info == 0) {
        double tol = (double)(n > d ? n : d) * DBL_EPSILON * fabs(M[0]);
        while (r < mn && fabs(M[r + r * n]) > tol)
            ++r;
        if (r > 0)
            info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)r,
                                  (lapack_int)r, M, (lapack_int)n, tau);
    }
    smr_k_blas_release();
    free(jpvt);
    if (info != 0)
        return (int)info;
    for (int64_t i = 0; i < n; ++i) {
        double s = 0;
        for (int64_t j = 0; j < r; ++j)
            s += M[i + j * n] * M[i + j * n];
        out[i] = s;
    }
    return 0;
}
