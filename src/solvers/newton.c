/*
 * newton.c -- Newton's method with a Levenberg shift and Armijo backtracking
 * (docs/math.md section 3).
 *
 *   H = Hessian at x (level-3 assembly, objective layer)
 *   repeat: factor H + mu I by Cholesky (dpotrf); if it is not positive
 *           definite, mu <- max(10 mu, mu_min), up to mu_max
 *   p = -(H + mu I)^{-1} g                              (dpotrs)
 *   Armijo backtracking from t = 1 along p
 *   mu <- mu / 10 after a full step (0 once below mu_min), 4 mu after a
 *   shortened one.
 *
 * mu_min = 1e-10 s and mu_max = 1e10 s, with s the largest |H_jj| (the
 * Hessian's scale), so the shift is relative.  With mu -> 0 after full steps
 * the final phase is pure Newton: quadratic convergence.  The shift also
 * handles a singular Hessian (A with a constant column and no
 * regularization): H + mu I is PD and the step stays bounded.
 */
#include "solver.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double *H, *M, *p; /* Hessian, its shifted factor, direction */
    double mu;
} newton_state;

static int newton_init(smr_solver *sv)
{
    int64_t d = sv->d;
    if ((uint64_t)d > SIZE_MAX / sizeof(double) / (uint64_t)(2 * d + 1))
        return SMR_ERR_NO_MEMORY;
    newton_state *st = calloc(1, sizeof *st);
    if (!st)
        return SMR_ERR_NO_MEMORY;
    st->H = malloc((size_t)(2 * d * d + d) * sizeof(double));
    if (!st->H) {
        free(st);
        return SMR_ERR_NO_MEMORY;
    }
    st->M = st->H + d * d;
    st->p = st->M + d * d;
    st->mu = sv->opt.newton_mu0;
    sv->state = st;
    return SMR_OK;
}

static void newton_free(smr_solver *sv)
{
    newton_state *st = sv->state;
    free(st->H);
    free(st);
    sv->state = NULL;
}

static smr_status newton_iterate(smr_solver *sv)
{
    newton_state *st = sv->state;
    int64_t d = sv->d;
    /* the objective workspace holds the forward pass at x (the last point
     * evaluated was the accepted one) */
    sv->hess_evals++;
    if (smr_obj_hessian(sv->prob, &sv->ws, 0.0, st->H, d) != SMR_OK)
        return SMR_STATUS_NONFINITE;
    double scale = DBL_MIN;
    for (int64_t j = 0; j < d; ++j)
        scale = fmax(scale, fabs(st->H[j + j * d]));
    double mu_min = 1e-10 * scale, mu_max = 1e10 * scale;
    for (;;) {
        memcpy(st->M, st->H, (size_t)(d * d) * sizeof(double));
        for (int64_t j = 0; j < d; ++j) {
            st->M[j + j * d] += st->mu;
            st->p[j] = -sv->g[j];
        }
        int info = smr_k_cholesky_solve(d, st->M, d, 1, st->p, d);
        if (info == 0 && smr_k_all_finite(d, st->p))
            break;
        if (info < 0)
            return SMR_STATUS_NOT_POSDEF;
        st->mu = fmax(10.0 * st->mu, mu_min);
        if (st->mu > mu_max)
            return SMR_STATUS_NOT_POSDEF;
    }
    double gp = smr_k_dot(d, sv->g, st->p), t = 1.0, lt;
    smr_status s = smr_line_search(sv, st->p, gp, sv->loss, &t, &lt);
    if (s != SMR_STATUS_NONE)
        return s;
    if (t == 1.0)
        st->mu = st->mu / 10.0 < mu_min ? 0.0 : st->mu / 10.0;
    else
        st->mu = fmax(4.0 * st->mu, mu_min);
    smr_sv_accept(sv, lt, t * smr_norm2(d, st->p));
    return SMR_STATUS_NONE;
}

const smr_method_ops smr_newton_ops = {
    .name = "newton",
    .needs_hessian_blocks = true,
    .init = newton_init,
    .iterate = newton_iterate,
    .free = newton_free,
};
