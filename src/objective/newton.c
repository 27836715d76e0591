/*
 * newton.c -- the Newton system (docs/math.md, section 3).
 *
 *     (H(x) + mu I) s = -grad L(x)
 *
 * solved by Cholesky (LAPACK dpotrf + dpotrs).  dpotrf's info > 0 means the
 * matrix is not numerically positive definite: SMR_ERR_NOT_POSDEF, so a
 * solver can raise mu (Levenberg) and try again.
 */
#include "objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int smr_cholesky_solve(int64_t d, double *M, int64_t ldm, int64_t nrhs,
                       double *B)
{
    if (!M || !B)
        return SMR_ERR_NULL_POINTER;
    if (d <= 0 || nrhs <= 0)
        return SMR_ERR_BAD_SIZE;
    if (ldm == 0)
        ldm = d;
    if (ldm < d)
        return SMR_ERR_BAD_LD;
    if (d > SMR_BLAS_INT_MAX || nrhs > SMR_BLAS_INT_MAX ||
        ldm > SMR_BLAS_INT_MAX)
        return SMR_ERR_TOO_LARGE;
    for (int64_t j = 0; j < d; ++j)
        if (!smr_k_all_finite(j + 1, M + j * ldm))
            return SMR_ERR_NONFINITE_X;
    if (!smr_k_all_finite(d * nrhs, B))
        return SMR_ERR_NONFINITE_X;
    /* solve on a copy of B so that B is untouched when M is not PD */
    double *X = malloc((size_t)(d * nrhs) * sizeof(double));
    if (!X)
        return SMR_ERR_NO_MEMORY;
    memcpy(X, B, (size_t)(d * nrhs) * sizeof(double));
    int info = smr_k_cholesky_solve(d, M, ldm, nrhs, X, d);
    if (info == 0)
        memcpy(B, X, (size_t)(d * nrhs) * sizeof(double));
    free(X);
    return info == 0 ? SMR_OK : info > 0 ? SMR_ERR_NOT_POSDEF : SMR_ERR_LAPACK;
}

int smr_newton_step(const smr_problem *p, const double *x, double mu,
                    double *step)
{
    int rc = smr_check_problem_basic(p);
    if (rc != SMR_OK)
        return rc;
    if (!x || !step)
        return SMR_ERR_NULL_POINTER;
    if (!smr_k_all_finite(p->d, x))
        return SMR_ERR_NONFINITE_X;
    if (!(mu >= 0.0) || !isfinite(mu))
        return SMR_ERR_BAD_ARGUMENT;
    if ((rc = smr_problem_check(p)) != SMR_OK)
        return rc;
    int64_t d = p->d;
    if ((uint64_t)d > SIZE_MAX / sizeof(double) / (uint64_t)(d + 1))
        return SMR_ERR_NO_MEMORY;
    double *M = malloc((size_t)(d * d + d) * sizeof(double));
    if (!M)
        return SMR_ERR_NO_MEMORY;
    double *g = M + d * d;
    smr_ws ws;
    if ((rc = smr_ws_init(&ws, p, true)) != SMR_OK) {
        free(M);
        return rc;
    }
    rc = smr_obj_forward(p, x, &ws);
    if (rc == SMR_OK)
        rc = smr_obj_gradient(p, x, &ws, g);
    if (rc == SMR_OK)
        rc = smr_obj_hessian(p, &ws, mu, M, d);
    if (rc == SMR_OK) {
        for (int64_t j = 0; j < d; ++j)
            g[j] = -g[j];
        int info = smr_k_cholesky_solve(d, M, d, 1, g, d);
        rc = info == 0 ? SMR_OK : info > 0 ? SMR_ERR_NOT_POSDEF : SMR_ERR_LAPACK;
    }
    if (rc == SMR_OK)
        memcpy(step, g, (size_t)d * sizeof(double));
    smr_ws_free(&ws);
    free(M);
    return rc;
}
