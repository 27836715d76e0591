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

static int newton_init(smr_solver *sv)
{
    smr_newton_core *c = calloc(1, sizeof *c);
    if (!c)
        return SMR_ERR_NO_MEMORY;
    sv->state = c;
    return smr_newton_core_init(c, sv->d, sv->opt.newton_mu0);
}

static void newton_free(smr_solver *sv)
{
    smr_newton_core_free(sv->state);
    free(sv->state);
    sv->state = NULL;
}

int smr_newton_core_init(smr_newton_core *c, int64_t d, double mu0)
{
    if ((uint64_t)d > SIZE_MAX / sizeof(double) / (uint64_t)(2 * d + 1))
        return SMR_ERR_NO_MEMORY;
    c->H = malloc((size_t)(2 * d * d + d) * sizeof(double));
    if (!c->H)
        return SMR_ERR_NO_MEMORY;
    c->M = c->H + d * d;
    c->p = c->M + d * d;
    c->mu = mu0;
    return SMR_OK;
}

void smr_newton_core_free(smr_newton_core *c)
{
    if (c)
        free(c->H);
}

smr_status smr_newton_core_step(smr_solver *sv, smr_newton_core *c)
{
    int64_t d = sv->d;
    double scale = DBL_MIN;
    for (int64_t j = 0; j < d; ++j)
        scale = fmax(scale, fabs(c->H[j + j * d]));
    double mu_min = 1e-10 * scale, mu_max = 1e10 * scale;
    for (;;) {
        memcpy(c->M, c->H, (size_t)(d * d) * sizeof(double));
        for (int64_t j = 0; j < d; ++j) {
            c->M[j + j * d] += c->mu;
            c->p[j] = -sv->g[j];
        }
        int info = smr_k_cholesky_solve(d, c->M, d, 1, c->p, d);
        if (info == 0 && smr_k_all_finite(d, c->p))
            break;
        if (info < 0)
            return SMR_STATUS_NOT_POSDEF;
        c->mu = fmax(10.0 * c->mu, mu_min);
        if (c->mu > mu_max)
            return SMR_STATUS_NOT_POSDEF;
    }
    double gp = smr_k_dot(d, sv->g, c->p), t = 1.0, lt;
    smr_status s = smr_line_search(sv, c->p, gp, sv->loss, false, &t, &lt);
    if (s != SMR_STATUS_NONE)
        return s;
    if (t == 1.0)
        c->mu = c->mu / 10.0 < mu_min ? 0.0 : c->mu / 10.0;
    else
        c->mu = fmax(4.0 * c->mu, mu_min);
    smr_sv_accept(sv, lt, t * smr_norm2(d, c->p));
    return SMR_STATUS_NONE;
}

smr_status smr_newton_core_iterate(smr_solver *sv, smr_newton_core *c)
{
    /* the Hessian reads f at x: after a lean pass (fused.c; auto clears
     * ws.lean when it hands over, so only its first Newton iteration can
     * meet one) the workspace has none */
    double l;
    if (!sv->ws.fwd_valid && smr_sv_loss(sv, sv->x, &l) != SMR_OK)
        return SMR_STATUS_NONFINITE;
    sv->hess_evals++;
    if (smr_obj_hessian(sv->prob, &sv->ws, 0.0, c->H, sv->d) != SMR_OK)
        return SMR_STATUS_NONFINITE;
    return smr_newton_core_step(sv, c);
}

/* the objective workspace holds the forward pass at x (the last point
 * evaluated was the accepted one) */
static smr_status newton_iterate(smr_solver *sv) { return smr_newton_core_iterate(sv, sv->state); }

const smr_method_ops smr_newton_ops = {
    .name = "newton",
    .needs_hessian_blocks = true,
    .init = newton_init,
    .iterate = newton_iterate,
    .free = newton_free,
};
