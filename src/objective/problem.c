/*
 * problem.c -- validation of an smr_problem.
 *
 * Checks are pure functions returning an error code (BLIS style), in a
 * fixed order so that a problem with several faults always reports the
 * same one: pointers, sizes, layout, range of sizes, leading dimension,
 * lambda, then the entries of b, w (and, in smr_problem_check, A).
 */
#include "objective.h"

#include <math.h>

static int64_t packed_ld(const smr_problem *p)
{
    return p->layout == SMR_ROW_MAJOR ? p->d : p->n;
}

int smr_check_matrix(const smr_problem *p)
{
    if (!p || !p->A)
        return SMR_ERR_NULL_POINTER;
    if (p->n <= 0 || p->d <= 0)
        return SMR_ERR_BAD_SIZE;
    if (p->layout != SMR_ROW_MAJOR && p->layout != SMR_COL_MAJOR)
        return SMR_ERR_BAD_LAYOUT;
    if (p->n > SMR_BLAS_INT_MAX || p->d > SMR_BLAS_INT_MAX)
        return SMR_ERR_TOO_LARGE;
    if (p->lda != 0 && p->lda < packed_ld(p))
        return SMR_ERR_BAD_LD;
    if (p->lda > SMR_BLAS_INT_MAX)
        return SMR_ERR_TOO_LARGE;
    return SMR_OK;
}

int smr_check_problem_basic(const smr_problem *p)
{
    if (!p || !p->A || !p->b)
        return SMR_ERR_NULL_POINTER;
    int rc = smr_check_matrix(p);
    if (rc != SMR_OK)
        return rc;
    if (!(p->lambda >= 0.0) || !isfinite(p->lambda))
        return SMR_ERR_BAD_LAMBDA;
    if (!smr_k_all_finite(p->n, p->b))
        return SMR_ERR_NONFINITE_B;
    if (p->w && !smr_k_all_finite(p->n, p->w))
        return SMR_ERR_NONFINITE_W;
    return SMR_OK;
}

smr_mat smr_problem_mat(const smr_problem *p)
{
    smr_mat m = {.n = p->n,
                 .d = p->d,
                 .ld = p->lda ? p->lda : packed_ld(p),
                 .row_major = p->layout == SMR_ROW_MAJOR,
                 .a = p->A};
    return m;
}

int smr_classify_nonfinite(const smr_problem *p)
{
    smr_mat m = smr_problem_mat(p);
    return smr_k_mat_all_finite(&m) ? SMR_ERR_OVERFLOW : SMR_ERR_NONFINITE_A;
}

int smr_problem_check(const smr_problem *p)
{
    int rc = smr_check_problem_basic(p);
    if (rc != SMR_OK)
        return rc;
    smr_mat m = smr_problem_mat(p);
    return smr_k_mat_all_finite(&m) ? SMR_OK : SMR_ERR_NONFINITE_A;
}
