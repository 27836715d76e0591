/*
 * evaluate.c -- the public objective entry points.
 *
 * Each one: validates every input (smr_check_problem_basic, then x and the
 * outputs), allocates a workspace, computes into the workspace, and copies
 * to the caller's outputs only when everything succeeded -- so on any error
 * the outputs are untouched.
 */
#include "objective.h"

#include <string.h>

/* Checks shared by all entry points: the problem and a finite x. */
static int check_point(const smr_problem *p, const double *x)
{
    int rc = smr_check_problem_basic(p);
    if (rc != SMR_OK)
        return rc;
    if (!x)
        return SMR_ERR_NULL_POINTER;
    if (!smr_k_all_finite(p->d, x))
        return SMR_ERR_NONFINITE_X;
    return SMR_OK;
}

int smr_loss(const smr_problem *p, const double *x, double *loss)
{
    return smr_loss_gradient(p, x, loss, NULL);
}

int smr_gradient(const smr_problem *p, const double *x, double *grad)
{
    if (!grad)
        return SMR_ERR_NULL_POINTER;
    return smr_loss_gradient(p, x, NULL, grad);
}

int smr_loss_gradient(const smr_problem *p, const double *x, double *loss,
                      double *grad)
{
    if (!loss && !grad)
        return SMR_ERR_NULL_POINTER;
    int rc = check_point(p, x);
    if (rc != SMR_OK)
        return rc;
    smr_ws ws;
    if ((rc = smr_ws_init(&ws, p, false)) != SMR_OK)
        return rc;
    /* Two passes over A (forward.c, then gradient.c): a stateless call has
     * no previous lse for the one-pass path (fused.c), which would mostly
     * fall back to a second pass anyway; and so smr_loss, smr_gradient and
     * the solvers' reported results agree to the last bit. */
    rc = smr_obj_forward(p, x, &ws);
    double *g = ws.dk; /* computed here, copied out on success */
    if (rc == SMR_OK && grad)
        rc = smr_obj_gradient(p, x, &ws, g);
    if (rc == SMR_OK) {
        if (loss)
            *loss = ws.loss;
        if (grad)
            memcpy(grad, g, (size_t)p->d * sizeof(double));
    }
    smr_ws_free(&ws);
    return rc;
}

/* Validate a caller's d x d output matrix; resolves ldh 0 -> d. */
static int check_square(int64_t d, const double *H, int64_t *ldh)
{
    if (!H)
        return SMR_ERR_NULL_POINTER;
    if (*ldh == 0)
        *ldh = d;
    if (*ldh < d)
        return SMR_ERR_BAD_LD;
    if (*ldh > SMR_BLAS_INT_MAX)
        return SMR_ERR_TOO_LARGE;
    return SMR_OK;
}

int smr_hessian(const smr_problem *p, const double *x, double *H, int64_t ldh)
{
    int rc = check_point(p, x);
    if (rc == SMR_OK)
        rc = check_square(p->d, H, &ldh);
    if (rc == SMR_OK) /* eager: O(nd) against the O(nd^2) product */
        rc = smr_problem_check(p);
    if (rc != SMR_OK)
        return rc;
    smr_ws ws;
    if ((rc = smr_ws_init(&ws, p, true)) != SMR_OK)
        return rc;
    rc = smr_obj_forward(p, x, &ws);
    if (rc == SMR_OK)
        rc = smr_obj_hessian(p, &ws, 0.0, H, ldh);
    smr_ws_free(&ws);
    return rc;
}

int smr_hessian_vector(const smr_problem *p, const double *x, const double *s,
                       double *hv)
{
    int rc = check_point(p, x);
    if (rc != SMR_OK)
        return rc;
    if (!s || !hv)
        return SMR_ERR_NULL_POINTER;
    if (!smr_k_all_finite(p->d, s))
        return SMR_ERR_NONFINITE_X;
    smr_ws ws;
    if ((rc = smr_ws_init(&ws, p, false)) != SMR_OK)
        return rc;
    double *out = ws.dk + 2 * p->d; /* not an input of the last step */
    rc = smr_obj_hessvec(p, x, s, &ws, out);
    if (rc == SMR_OK)
        memcpy(hv, out, (size_t)p->d * sizeof(double));
    smr_ws_free(&ws);
    return rc;
}
