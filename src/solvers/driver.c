/*
 * driver.c -- smr_solve(): the one entry point of the solver layer.
 *
 * Order of work: check the problem (completely, A included), x and the
 * options; resolve auto; allocate everything (objective workspace, iterate
 * buffers, the method's state); then iterate with no allocation; free all at
 * one exit.  The driver keeps the best iterate (lowest loss), so x on return
 * is the best valid point whatever the method did.
 *
 * Stopping tests after each iteration, in this order: the method's own
 * status (line search failure, non-finite, ...), the callback, gradient
 * (|g| <= max(gtol_abs, gtol_rel |g0|)), loss change, step, time limit;
 * the iteration limit is checked before each iteration, so it is exact.
 */
#include "solver.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SMR_GTOL_STEP_GUARD 1e-2

static smr_method resolve_method(const smr_problem *p, smr_method m)
{
    if (m != SMR_METHOD_AUTO)
        return m;
    /* above the switch: SMR_METHOD_AUTO itself, L-BFGS handing over to
     * Newton (smr_auto_ops, lbfgs.c) */
    return p->d <= SMR_AUTO_NEWTON_MAX_D ? SMR_METHOD_NEWTON : SMR_METHOD_AUTO;
}

typedef struct {
    double t0;
    double *xbest;
    double lbest, gbest; /* gbest: |g| at xbest, NaN if not known */
} driver_state;

static void report(smr_solver *sv, const driver_state *ds, smr_iter_info *info)
{
    *info = (smr_iter_info){.iter = sv->iter,
                            .loss = sv->loss,
                            .grad_norm = sv->have_grad ? sv->gnorm : NAN,
                            .step = sv->step,
                            .loss_evals = sv->loss_evals,
                            .grad_evals = sv->grad_evals,
                            .hess_evals = sv->hess_evals,
                            .elapsed = smr_k_now() - ds->t0,
                            .samples = sv->iter > 0 ? sv->samples : 0};
    const smr_options *o = &sv->opt;
    if (o->history && sv->iter < o->history_len)
        o->history[sv->iter] = *info;
    if (o->verbose) {
        if (sv->iter == 0)
            fprintf(o->verbose, "%6s %22s %12s %12s %8s %8s %8s %10s\n",
                    "iter", "loss", "|grad|", "step", "f-evals", "g-evals",
                    "h-evals", "seconds");
        fprintf(o->verbose, "%6lld %22.15e %12.5e %12.5e %8lld %8lld %8lld %10.4f\n",
                (long long)info->iter, info->loss, info->grad_norm, info->step,
                (long long)info->loss_evals, (long long)info->grad_evals,
                (long long)info->hess_evals, info->elapsed);
    }
}

/* Keep the best iterate: lower loss, or -- since near a minimizer losses
 * agree to rounding and stop being informative -- a loss equal within a few
 * ulps and a smaller gradient norm. */
static void keep_best(smr_solver *sv, driver_state *ds)
{
    if (!sv->loss_exact) /* a minibatch loss: not comparable */
        return;
    double tol = SMR_LOSS_TIE_ULPS * DBL_EPSILON * fabs(ds->lbest);
    bool tie_better = sv->loss <= ds->lbest + tol && sv->have_grad &&
                      !(sv->gnorm >= ds->gbest); /* gbest NaN: unknown */
    if (sv->loss < ds->lbest - tol || tie_better || !isfinite(ds->lbest)) {
        ds->lbest = sv->loss;
        ds->gbest = sv->have_grad ? sv->gnorm : NAN;
        memcpy(ds->xbest, sv->x, (size_t)sv->d * sizeof(double));
    }
}

/* the convergence tests after an iteration; SMR_STATUS_NONE to go on */
static smr_status tests(const smr_solver *sv, double gthresh, double lprev,
                        double t0)
{
    const smr_options *o = &sv->opt;
    /* The gradient test also asks for a short last step: from a far start
     * the first step can land where |g| <= gtol_rel |g0| already (|g0| is
     * large there) but L is not yet accurate; one more step fixes that. */
    if (sv->have_grad && sv->gnorm <= gthresh &&
        sv->step <= SMR_GTOL_STEP_GUARD * (1.0 + smr_norm2(sv->d, sv->x)))
        return SMR_STATUS_GTOL;
    if (o->ftol > 0 && sv->loss_exact &&
        fabs(sv->loss - lprev) <= o->ftol * fmax(fabs(sv->loss), fabs(lprev)))
        return SMR_STATUS_FTOL;
    if (o->xtol > 0 && sv->step <= o->xtol * (o->xtol + smr_norm2(sv->d, sv->x)))
        return SMR_STATUS_XTOL;
    if (o->max_time > 0 && smr_k_now() - t0 >= o->max_time)
        return SMR_STATUS_MAX_TIME;
    return SMR_STATUS_NONE;
}

static smr_status run(smr_solver *sv, const smr_method_ops *ops,
                      driver_state *ds)
{
    const smr_options *o = &sv->opt;
    smr_iter_info info;
    /* the start by the two-pass path, so initial_loss is what smr_loss
     * gives at x0 and a solve that cannot move returns exactly it */
    if (smr_sv_eval_exact(sv, sv->x, &sv->loss, sv->g) != SMR_OK)
        return SMR_STATUS_NONFINITE;
    sv->have_grad = true;
    sv->gnorm = smr_norm2(sv->d, sv->g);
    sv->loss0 = sv->loss;
    sv->gnorm0 = sv->gnorm;
    double gthresh = fmax(o->gtol_abs, o->gtol_rel * sv->gnorm);
    keep_best(sv, ds);
    report(sv, ds, &info);
    if (o->callback && o->callback(&info, sv->x, o->callback_data) != 0)
        return SMR_STATUS_CALLBACK;
    if (sv->gnorm <= gthresh)
        return SMR_STATUS_GTOL;
    for (;;) {
        if (sv->iter >= o->max_iter)
            return SMR_STATUS_MAX_ITER;
        double lprev = sv->loss;
        smr_status st = ops->iterate(sv);
        /* "no measurable decrease" is convergence only where the gradient
         * did fall; on a plateau (saturated softmax, |g| ~ 1e-22 far from
         * the minimizer) it is a failure, not a minimizer */
        if (st == SMR_STATUS_ROUNDOFF &&
            !(sv->gnorm <= fmax(o->gtol_abs, sqrt(o->gtol_rel) * sv->gnorm0)))
            st = SMR_STATUS_LINE_SEARCH;
        if (st != SMR_STATUS_NONE)
            return st;
        sv->iter++;
        if (sv->have_grad)
            sv->gnorm = smr_norm2(sv->d, sv->g);
        keep_best(sv, ds);
        report(sv, ds, &info);
        if (o->callback && o->callback(&info, sv->x, o->callback_data) != 0)
            return SMR_STATUS_CALLBACK;
        if ((st = tests(sv, gthresh, lprev, ds->t0)) != SMR_STATUS_NONE)
            return st;
    }
}

static void solver_free(smr_solver *sv, const smr_method_ops *ops)
{
    if (ops && sv->state)
        ops->free(sv);
    smr_ws_free(&sv->ws);
    free(sv->x);
    free(sv->g);
    free(sv->xt);
    free(sv->gt);
}

/* every problem of a minibatch checked, equal d; *big: the most rows */
static int check_problems(const smr_problem *probs, int64_t m,
                          const smr_problem **big)
{
    *big = probs;
    for (int64_t q = 0; q < m; ++q) {
        int rc = smr_problem_check(&probs[q]);
        if (rc != SMR_OK)
            return rc;
        if (probs[q].d != probs[0].d)
            return SMR_ERR_BAD_SIZE;
        if (probs[q].n > (*big)->n)
            *big = &probs[q];
    }
    return SMR_OK;
}

int smr_solve(const smr_problem *prob, const smr_options *opt, double *x,
              smr_result *res)
{
    smr_solver sv = {.prob = prob, .loss0 = NAN, .gnorm0 = NAN,
                     .loss_exact = true, .nprobs = 1};
    if (opt)
        sv.opt = *opt;
    else
        smr_options_init(&sv.opt);
    /* the options say how many problems prob points to: check them first
     * (a bad count must not make us read past the caller's array) */
    int rc = smr_options_check(&sv.opt, NULL);
    const smr_problem *big = prob;
    if (rc == SMR_OK && sv.opt.spsa_batch_count > 0) {
        rc = prob ? check_problems(prob, sv.opt.spsa_batch_count, &big)
                  : SMR_ERR_NULL_POINTER;
        sv.probs = prob;
        sv.nprobs = sv.opt.spsa_batch_count;
    } else if (rc == SMR_OK) {
        rc = smr_problem_check(prob);
    }
    if (rc == SMR_OK && (!x || !res))
        rc = SMR_ERR_NULL_POINTER;
    if (rc == SMR_OK && !smr_k_all_finite(prob->d, x))
        rc = SMR_ERR_NONFINITE_X;
    if (rc != SMR_OK)
        return rc;
    sv.n = big->n;
    sv.d = prob->d;
    smr_method method = resolve_method(prob, sv.opt.method);
    const smr_method_ops *ops = smr_method_table(method);

    size_t dbytes = (size_t)sv.d * sizeof(double);
    driver_state ds = {.lbest = INFINITY, .gbest = NAN};
    /* the thread count first: the one-pass scratch is sized for it */
    int old_threads = smr_k_set_threads(sv.opt.threads);
    rc = smr_ws_init(&sv.ws, big, ops->needs_hessian_blocks);
    if (rc == SMR_OK)
        rc = smr_ws_fused_init(&sv.ws);
    smr_ws_bind(&sv.ws, prob);
    sv.ws.a_checked = true; /* every problem was checked above */
    if (rc == SMR_OK) {
        sv.x = malloc(dbytes);
        sv.g = malloc(dbytes);
        sv.xt = malloc(dbytes);
        sv.gt = malloc(dbytes);
        ds.xbest = malloc(dbytes);
        if (!sv.x || !sv.g || !sv.xt || !sv.gt || !ds.xbest)
            rc = SMR_ERR_NO_MEMORY;
    }
    if (rc == SMR_OK)
        rc = ops->init(&sv);
    if (rc != SMR_OK) {
        solver_free(&sv, ops);
        free(ds.xbest);
        if (sv.opt.threads > 0)
            smr_k_set_threads(old_threads);
        return rc;
    }

    ds.t0 = smr_k_now();
    memcpy(sv.x, x, dbytes);
    smr_status st = run(&sv, ops, &ds);
    /* minibatch: the last iterate's loss was a batch loss; weigh it fully */
    if (!sv.loss_exact && isfinite(ds.lbest) &&
        smr_sv_eval_exact(&sv, sv.x, &sv.loss, sv.g) == SMR_OK) {
        sv.loss_exact = sv.have_grad = true;
        sv.gnorm = smr_norm2(sv.d, sv.g);
        keep_best(&sv, &ds);
    }
    if (isfinite(ds.lbest)) {
        memcpy(x, ds.xbest, dbytes);
        /* the result describes the returned x exactly as smr_loss and
         * smr_gradient see it (two passes, counted): the one-pass path's
         * loss can differ from theirs in the last bits.  Minibatch: the
         * start and the end, the only points kept, were evaluated so. */
        double l;
        if ((!sv.probs || !isfinite(ds.gbest)) &&
            smr_sv_eval_exact(&sv, x, &l, sv.gt) == SMR_OK) {
            ds.lbest = l;
            ds.gbest = smr_norm2(sv.d, sv.gt);
        }
    }
    double seconds = smr_k_now() - ds.t0;
    if (sv.opt.threads > 0)
        smr_k_set_threads(old_threads);

    *res = (smr_result){.status = st,
                        .converged = smr_status_converged(st),
                        .method = method,
                        .iterations = sv.iter,
                        .loss = isfinite(ds.lbest) ? ds.lbest : NAN,
                        .grad_norm = ds.gbest,
                        .initial_loss = sv.loss0,
                        .initial_grad_norm = sv.gnorm0,
                        .loss_evals = sv.loss_evals,
                        .grad_evals = sv.grad_evals,
                        .hess_evals = sv.hess_evals,
                        .seconds = seconds,
                        .message = smr_status_string(st)};
    solver_free(&sv, ops);
    free(ds.xbest);
    return SMR_OK;
}
