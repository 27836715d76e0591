/*
 * linesearch.c -- evaluations counted for the result, and the Armijo
 * backtracking line search shared by gradient descent and Newton.
 *
 *     accept t if  L(x + t p) <= Lref + c1 t g.p,   else shorten t:
 *
 *     Newton:  t <- t / 2
 *     GD:      t <- the minimizer of the quadratic through L(x), the slope
 *              g.p at 0 and L(x + t p), kept within [t / 10, t / 2]
 *
 * (the quadratic: Nocedal & Wright, section 3.5; the safeguard: Dennis &
 * Schnabel, A6.3.1).  Gradient descent's steps have no natural scale, and
 * halving took 14-23 trials at its first iteration on w = 0.1,
 * lambda = 1e-3 problems, where the unit move is ~10^5 times too long;
 * Newton's unit step has one, and with the quadratic Newton and sketch
 * took as many evaluations as with halving (239 and 363-366 on 24
 * problems), so they keep halving (docs/solvers.md).  A trial point whose
 * loss overflows is treated as a step too long and halves it.  When no
 * step is accepted, the search tells apart "nothing more to gain in double
 * precision" -- the predicted decrease t0 |g.p| is within a few hundred ulps
 * of L, so no decrease can be measured -- from a genuine failure.
 */
#include "solver.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* |v|, scaled when the plain sum of squares overflows (or underflows to a
 * subnormal), so that a huge but finite gradient has a finite norm */
double smr_norm2(int64_t n, const double *v)
{
    double s = smr_k_sumsq(n, v);
    if (isfinite(s) && s > 1e-290)
        return sqrt(s);
    double m = 0.0;
    for (int64_t i = 0; i < n; ++i)
        m = fabs(v[i]) > m ? fabs(v[i]) : m;
    if (!(m > 0.0) || !isfinite(m))
        return isnan(s) || isnan(m) ? NAN : m == 0.0 ? 0.0 : INFINITY;
    double t = 0.0;
    for (int64_t i = 0; i < n; ++i)
        t += (v[i] / m) * (v[i] / m);
    return m * sqrt(t);
}

int smr_sv_loss(smr_solver *sv, const double *y, double *loss)
{
    sv->loss_evals++;
    int rc = smr_obj_forward(sv->prob, y, &sv->ws);
    *loss = sv->ws.loss;
    return rc;
}

int smr_sv_grad(smr_solver *sv, const double *y, double *g)
{
    sv->grad_evals++;
    return smr_obj_gradient(sv->prob, y, &sv->ws, g);
}

static int eval_probs(smr_solver *sv, const double *y, double *loss,
                      double *g, bool exact);

int smr_sv_eval_exact(smr_solver *sv, const double *y, double *loss, double *g)
{
    if (sv->probs)
        return eval_probs(sv, y, loss, g, true);
    int rc = smr_sv_loss(sv, y, loss);
    return rc == SMR_OK ? smr_sv_grad(sv, y, g) : rc;
}

int smr_sv_eval(smr_solver *sv, const double *y, double *loss, double *g)
{
    if (!sv->probs) {
        /* one pass over A for both (fused.c) where it measured faster than
         * two passes (bench_kernels, docs/benchmarks.md): row-major A, any
         * d (at d = 1000 and 2000, n = 10^5: 1.36 and 1.38 times a read of
         * A against 1.94 and 2.62 for the two passes); column-major A up to
         * SMR_FUSED_COL_MAX_D columns (fused_cols.c; 1.3-2.3x faster than
         * two passes from d = 10 to 500, solves 1.4-1.8x faster from
         * d = 1200 to 4000; above the cap even: objective.h) */
        if (!sv->ws.A.row_major && sv->ws.A.d > SMR_FUSED_COL_MAX_D)
            return smr_sv_eval_exact(sv, y, loss, g);
        sv->loss_evals++;
        sv->grad_evals++;
        int rc = smr_obj_loss_grad(sv->prob, y, &sv->ws, g);
        *loss = sv->ws.loss;
        return rc;
    }
    return eval_probs(sv, y, loss, g, false);
}

/* F = (1/m) sum_j L_j, grad F = (1/m) sum_j grad L_j, each term by the
 * one-pass kernel or, when exact, by the two passes of smr_loss and
 * smr_gradient (the same logits bit for bit: at a realizable minimum the
 * loss is the square of rounding-level residuals, and another summation
 * order of Ax changes it in the 8th digit).  sv->gt is free here as the
 * per-problem gradient (callers pass sv->g or sv->gt as g only when the
 * other is not needed). */
static int eval_probs(smr_solver *sv, const double *y, double *loss,
                      double *g, bool exact)
{
    int64_t m = sv->nprobs, d = sv->d;
    double *gj = (g == sv->gt) ? sv->xt : sv->gt;
    double F = 0.0;
    for (int64_t j = 0; j < d; ++j)
        g[j] = 0.0;
    int rc = SMR_OK;
    for (int64_t q = 0; q < m && rc == SMR_OK; ++q) {
        const smr_problem *p = &sv->probs[q];
        smr_ws_bind(&sv->ws, p);
        sv->loss_evals++;
        sv->grad_evals++;
        if (exact) {
            rc = smr_obj_forward(p, y, &sv->ws);
            if (rc == SMR_OK)
                rc = smr_obj_gradient(p, y, &sv->ws, gj);
        } else {
            rc = smr_obj_loss_grad(p, y, &sv->ws, gj);
        }
        F += sv->ws.loss / (double)m;
        for (int64_t j = 0; j < d && rc == SMR_OK; ++j)
            g[j] += gj[j] / (double)m;
    }
    *loss = F;
    return rc;
}

void smr_sv_accept(smr_solver *sv, double loss, double step)
{
    double *t = sv->x;
    sv->x = sv->xt;
    sv->xt = t;
    t = sv->g;
    sv->g = sv->gt;
    sv->gt = t;
    sv->loss = loss;
    sv->step = step;
    sv->have_grad = true;
}

bool smr_ls_no_gain(const smr_solver *sv, double t, double gp, double l)
{
    double r = 256.0 * DBL_EPSILON * fabs(sv->loss);
    return t * fabs(gp) <= r && l >= sv->loss - r;
}

/* the next trial after t was refused at loss l: the minimizer of
 *     q(s) = l0 + gp s + c s^2,  c = (l - l0 - gp t) / t^2,
 * s = -gp t^2 / (2 (l - l0 - gp t)), kept within [t/10, t/2]; c > 0
 * whenever t failed Armijo (l > l0 + c1 t gp with c1 < 1) or the strict
 * decrease, so the quadratic has its minimum; halving if not (NaN) */
static double ls_shorter(double t, double l0, double gp, double l)
{
    double curv = l - l0 - gp * t;
    double s = -gp * t * t / (2.0 * curv);
    if (!(curv > 0.0) || !isfinite(s))
        return 0.5 * t;
    return fmin(fmax(s, 0.1 * t), 0.5 * t);
}

/* Where the loss can no longer tell (the step's decrease is below its
 * rounding), the gradient still can: a step is taken if the loss is equal
 * within keep_best's tie (SMR_LOSS_TIE_ULPS, so the driver keeps the new
 * point) and the gradient norm at least halves -- but only once the solve
 * has made real progress, |g| <= 1e-3 |g0|, so that a start on a
 * saturated plateau (|g| ~ 1e-22 and shrinking along the way out) is still
 * reported as no progress (test_plateau_not_converged).  A method converging linearly
 * (the sketched Newton method, rate ~0.1-0.2) otherwise stopped with its
 * loss at the minimum to rounding and |g| just above the driver's
 * roundoff gate sqrt(gtol_rel) |g0|: "line search failed", not converged,
 * for 2-3 seeds of 20 (test_solve_sketch's weighted case, d = 10).  The
 * gradient at the trial point is there already (the one pass); minibatch
 * losses (sv->probs) are not compared. */
static bool slope_accepts(const smr_solver *sv, double l)
{
    if (sv->probs || !(sv->gnorm <= 1e-3 * sv->gnorm0))
        return false;
    if (!(l <= sv->loss + SMR_LOSS_TIE_ULPS * DBL_EPSILON * fabs(sv->loss)))
        return false;
    return smr_norm2(sv->d, sv->gt) <= 0.5 * sv->gnorm;
}

smr_status smr_line_search(smr_solver *sv, const double *p, double gp,
                           double lref, bool interp, double *t, double *lt)
{
    int64_t d = sv->d;
    double c1 = sv->opt.armijo_c1, step = *t;
    if (!(gp < 0.0))
        return SMR_STATUS_LINE_SEARCH; /* not a descent direction */
    for (int k = 0; k < sv->opt.max_backtracks; ++k) {
        for (int64_t j = 0; j < d; ++j)
            sv->xt[j] = sv->x[j] + step * p[j];
        /* loss and gradient in one pass: when the step is accepted (the
         * usual case) the gradient is already there; when it is refused
         * the gradient cost only cache-resident flops */
        double l;
        int rc = sv->probs ? smr_sv_loss(sv, sv->xt, &l)
                           : smr_sv_eval(sv, sv->xt, &l, sv->gt);
        if (rc == SMR_ERR_OVERFLOW) {
            step *= 0.5;
            continue;
        }
        if (rc != SMR_OK)
            return SMR_STATUS_NONFINITE;
        /* Armijo, and a strict decrease: where c1 t g.p is below the
         * rounding of L an equal loss would otherwise pass and the method
         * would step along a flat plateau forever */
        if (l <= lref + c1 * step * gp && l < lref) {
            if (sv->probs && smr_sv_grad(sv, sv->xt, sv->gt) != SMR_OK)
                return SMR_STATUS_NONFINITE;
            *t = step;
            *lt = l;
            return SMR_STATUS_NONE;
        }
        /* the decrease this step could give is below the loss's rounding */
        if (smr_ls_no_gain(sv, step, gp, l)) {
            if (slope_accepts(sv, l)) {
                *t = step;
                *lt = l;
                return SMR_STATUS_NONE;
            }
            return SMR_STATUS_ROUNDOFF;
        }
        step = interp ? ls_shorter(step, sv->loss, gp, l) : 0.5 * step;
    }
    return *t * fabs(gp) <= 1e3 * DBL_EPSILON * fabs(sv->loss)
               ? SMR_STATUS_ROUNDOFF
               : SMR_STATUS_LINE_SEARCH;
}
