/*
 * spsa.c -- zeroth-order SPSA in the MeZO form (docs/solvers.md, "spsa"):
 * only loss values are used.
 *
 *   z_j = direction(seed, iter, j), j = 1..k       (Philox; never stored
 *                                                    beyond this step)
 *   c_j = [L(x + eps z_j) - L(x - eps z_j)] / (2 eps)
 *   g^  = (1/k) sum_j c_j z_j                        E g^ = grad L + O(eps^2)
 *   x  <- x - eta g^
 *
 * Cost: A(x +- eps z_j) = Ax +- eps A z_j, so one step needs the product
 * A Z (Z = [z_1 .. z_k]) and 2k softmaxes of n-vectors, formed together in
 * one pass over A, a block of rows at a time (perturbed.c: A Z is never
 * stored), and one forward pass at the trial point, which gives its loss
 * and its exact logits A x_new.  (Up to 0a9f8ce A Z was one n x k dgemm
 * and the trial logits Ax - eta A Z c / k, no pass over A but two over
 * A Z, which is as large as A at k = d, and drift that a periodic
 * recomputation of Ax had to stop.)
 *
 * Step size: eta = lr * k / (tr H + (k + 1) lambda_max(H)), i.e. the gradient
 * step 1/lambda_max scaled by k / (r + k + 1) with r = tr H / lambda_max the
 * effective rank (the second paper's rule).  Both are estimated from the same
 * loss values: (L+ + L- - 2L) / eps^2 = z'Hz + O(eps^2), whose mean is tr H
 * (Gaussian or Rademacher z) and whose largest z'Hz/z'z bounds lambda_max
 * from below; both are smoothed over steps.  A step that raises the loss is
 * refused (x kept) and halves a multiplier that then recovers by 10% per
 * accepted step, so the iterates decrease monotonically.  With
 * opt.spsa_step > 0 the step is that fixed eta and every step is taken (the
 * papers' algorithm, for experiments with their step rule); 10 rises of the
 * loss in a row stop with SMR_STATUS_DIVERGED.
 *
 * Counts: each step counts 2k + 1 loss evaluations (the perturbed pairs and
 * the new point); the gradient checks count one loss and one gradient.
 */
#include "solver.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double *Z;     /* d x k directions */
    double *zx;    /* n: logits A x of the current iterate; its own
                      allocation of n doubles, like the workspace's z,
                      with which spsa_iterate swaps it (NULL in
                      minibatch mode) */
    double zs[2];  /* max zx and sum exp(zx - max), when zs_ok: they go
                      with zx (swap_logits), from the forward pass that
                      made it, and spare the losses' pass a sweep */
    bool zs_ok;
    double *c;     /* k: coefficients c_j / k */
    double *gh;    /* d: the estimate g^ */
    double *xp;    /* d: a perturbed point (losses recomputed in full) */
    double *pl;    /* 2k: the perturbed losses */
    double *ps;    /* the scratch of smr_obj_perturbed_losses */
    int tcap;      /* threads ps is sized for */
    double eps, tr, lmax, mult;
    int rises;     /* fixed step: consecutive rises of the loss */
    /* minibatch mode */
    double *lpm;   /* 2k: batch-mean perturbed losses, as pl */
    int64_t *pick; /* B: the sampled problems */
} spsa_state;

/* buffers for n x d problems and k directions (n = 0: no logits kept,
 * minibatch mode); NULL when out of memory */
static void spsa_free_state(spsa_state *st);

static spsa_state *spsa_alloc(int64_t n, int64_t d, int64_t k)
{
    spsa_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->Z = malloc((size_t)(d * k + 2 * d + k) * sizeof(double));
    st->zx = n > 0 ? malloc((size_t)n * sizeof(double)) : NULL;
    if (!st->Z || (n > 0 && !st->zx)) {
        free(st->Z);
        free(st->zx);
        free(st);
        return NULL;
    }
    st->gh = st->Z + d * k;
    st->xp = st->gh + d;
    st->c = st->xp + d;
    st->mult = 1.0;
    st->tcap = smr_k_threads();
    st->pl = malloc((size_t)(2 * k + smr_obj_perturbed_scratch(k, d, st->tcap)) * sizeof(double));
    if (!st->pl) {
        spsa_free_state(st);
        return NULL;
    }
    st->ps = st->pl + 2 * k;
    return st;
}

static int spsa_init(smr_solver *sv)
{
    spsa_state *st = spsa_alloc(sv->probs ? 0 : sv->n, sv->d, sv->opt.spsa_k);
    if (!st)
        return SMR_ERR_NO_MEMORY;
    sv->state = st;
    if (sv->probs) {
        st->lpm = malloc((size_t)(2 * sv->opt.spsa_k) * sizeof(double));
        st->pick = malloc((size_t)sv->opt.spsa_batch_size * sizeof(int64_t));
        if (!st->lpm || !st->pick)
            return SMR_ERR_NO_MEMORY; /* the driver frees the state */
    }
    st->eps = sv->opt.spsa_eps;
    if (st->eps == 0.0) { /* 1e-4 / rms row norm: logits move by ~1e-4 */
        /* of the (first) problem's own A: in minibatch mode sv->n is the
         * largest n, not this one's */
        const smr_mat *A = &sv->ws.A;
        double fro2 = 0.0;
        int64_t outer = A->row_major ? A->n : A->d;
        int64_t inner = A->row_major ? A->d : A->n;
        for (int64_t o = 0; o < outer; ++o)
            fro2 += smr_k_sumsq(inner, A->a + o * A->ld);
        double rms = sqrt(fro2 / (double)A->n);
        st->eps = 1e-4 / (rms > 0 ? rms : 1.0);
    }
    return SMR_OK;
}

static void spsa_free_state(spsa_state *st)
{
    free(st->lpm);
    free(st->pick);
    free(st->pl);
    free(st->Z);
    free(st->zx);
    free(st);
}

static void spsa_free(smr_solver *sv)
{
    spsa_free_state(sv->state);
    sv->state = NULL;
}

/* the loss at x + s Z[:, j] by a forward pass (ws's z and f are
 * overwritten; st->zx is not ws's); NaN if it cannot be formed */
static double perturbed(const smr_problem *p, smr_ws *ws, spsa_state *st,
                        const double *x, int64_t j, double s)
{
    int64_t d = p->d;
    for (int64_t i = 0; i < d; ++i)
        st->xp[i] = x[i] + s * st->Z[j * d + i];
    return smr_obj_forward(p, st->xp, ws) == SMR_OK ? ws->loss : NAN;
}

/*
 * st->pl[2j], st->pl[2j + 1] = L(x + eps z_j), L(x - eps z_j) of problem p
 * (z = Ax; ws bound to p): all 2k in one pass over A and z (perturbed.c),
 * plus the ridge terms; any the pass cannot form, by a forward pass at the
 * perturbed point (which overwrites ws's z: z must not be ws->z unless the
 * caller is done with it -- the pass has read it by then).  False if a
 * loss is not finite.
 */
static bool pair_losses(const smr_problem *p, smr_ws *ws, spsa_state *st,
                        const double *z, const double *zs, const double *x,
                        int64_t k, double eps)
{
    int64_t d = p->d;
    if (smr_obj_perturbed_losses(p, &ws->A, z, zs, st->Z, k, eps, st->ps,
                                 st->tcap, st->pl) != SMR_OK)
        return false;
    double xx = p->lambda > 0 ? smr_k_dot(d, x, x) : 0.0;
    for (int64_t j = 0; j < k; ++j) {
        const double *zj = st->Z + j * d;
        double xz = p->lambda > 0 ? smr_k_dot(d, x, zj) : 0.0;
        double zz = smr_k_dot(d, zj, zj);
        double reg = 0.5 * p->lambda * (xx + eps * eps * zz);
        double lp = st->pl[2 * j] + reg + p->lambda * eps * xz;
        double lm = st->pl[2 * j + 1] + reg - p->lambda * eps * xz;
        if (!isfinite(lp))
            lp = perturbed(p, ws, st, x, j, eps);
        if (!isfinite(lm))
            lm = perturbed(p, ws, st, x, j, -eps);
        if (!isfinite(lp) || !isfinite(lm))
            return false;
        st->pl[2 * j] = lp;
        st->pl[2 * j + 1] = lm;
    }
    return true;
}

/*
 * From the loss L at x and the 2k losses pl (L(x + eps z_j) at 2j,
 * L(x - eps z_j) at 2j + 1; directions in st->Z): st->c[j] = c_j / k,
 * st->gh = g^, *trace = mean z'Hz estimate, *lmax = largest z'Hz / z'z.
 */
static void combine(spsa_state *st, int64_t d, int64_t k, double eps,
                    double L, const double *pl, double *trace, double *lmax)
{
    double trsum = 0.0, lm = 0.0;
    for (int64_t j = 0; j < k; ++j) {
        const double *zj = st->Z + j * d;
        st->c[j] = (pl[2 * j] - pl[2 * j + 1]) / (2.0 * eps) / (double)k;
        double curv = (pl[2 * j] + pl[2 * j + 1] - 2.0 * L) / (eps * eps); /* z'Hz */
        trsum += curv;
        lm = fmax(lm, curv / smr_k_dot(d, zj, zj));
    }
    for (int64_t i = 0; i < d; ++i)
        st->gh[i] = 0.0;
    for (int64_t j = 0; j < k; ++j)
        for (int64_t i = 0; i < d; ++i)
            st->gh[i] += st->c[j] * st->Z[i + j * d];
    *trace = trsum / (double)k;
    *lmax = lm;
}

static void directions(spsa_state *st, int64_t d, int64_t k, bool rademacher,
                       uint64_t seed, uint64_t iter)
{
    for (int64_t j = 0; j < k; ++j)
        smr_k_direction(seed, iter, (uint64_t)j, rademacher, d, st->Z + j * d);
}

/*
 * The estimate at x (logits st->zx = Ax, loss L): directions into st->Z,
 * the 2k losses, then combine.  Returns false if a perturbed loss is not
 * finite.
 */
static bool estimate(const smr_problem *p, smr_ws *ws, spsa_state *st,
                     const double *x, double L, int64_t k, double eps,
                     bool rademacher, uint64_t seed, uint64_t iter,
                     double *trace, double *lmax)
{
    directions(st, p->d, k, rademacher, seed, iter);
    if (!pair_losses(p, ws, st, st->zx, st->zs_ok ? st->zs : NULL, x, k, eps))
        return false;
    combine(st, p->d, k, eps, L, st->pl, trace, lmax);
    return true;
}

/* step-size rule shared by both modes (see the top of the file) */
static double step_size(smr_solver *sv, spsa_state *st, double trace,
                        double lmax)
{
    int64_t k = sv->opt.spsa_k;
    double tr = fmax(trace, 0.0);
    st->tr = sv->iter == 0 ? tr : 0.9 * st->tr + 0.1 * tr;
    st->lmax = sv->iter == 0 ? lmax : fmax(0.9 * st->lmax, lmax);
    if (sv->opt.spsa_step > 0.0)
        return sv->opt.spsa_step;
    double denom = st->tr + (double)(k + 1) * st->lmax;
    if (!(denom > 0.0)) /* flat in every direction seen: nothing to do */
        denom = 1.0 / (st->eps * st->eps);
    return st->mult * sv->opt.spsa_lr * (double)k / denom;
}

/* Automatic step: x <- xt when the trial loss lt is no worse than L, else
 * keep x.  Fixed step: always x <- xt (a non-finite lt stops the solve),
 * counting consecutive rises.  Returns true when x moved to xt. */
static bool accept_or_refuse(smr_solver *sv, spsa_state *st, double L,
                             double lt, double eta)
{
    bool fixed = sv->opt.spsa_step > 0.0;
    if (fixed && isfinite(lt))
        st->rises = lt > L ? st->rises + 1 : 0;
    if (isfinite(lt) && (fixed || lt <= L)) {
        double *t = sv->x;
        sv->x = sv->xt;
        sv->xt = t;
        sv->loss = lt;
        sv->step = eta * smr_norm2(sv->d, st->gh);
        st->mult = fmin(1.0, st->mult * 1.1);
        return true;
    }
    sv->step = 0.0;
    if (!fixed)
        st->mult *= 0.5;
    return false;
}

/* how a step ended, for the fixed step's stops */
static smr_status step_status(const smr_solver *sv, const spsa_state *st, double lt)
{
    if (sv->opt.spsa_step > 0.0) {
        if (!isfinite(lt))
            return SMR_STATUS_NONFINITE;
        if (st->rises >= SMR_SV_RISES)
            return SMR_STATUS_DIVERGED;
    }
    return SMR_STATUS_NONE;
}

/*
 * Minibatch step.  The batch B_t (B problems, uniform with replacement,
 * Philox stream 2 of (seed, iteration)) defines L_B = mean of L_j over B_t;
 * all of the step's losses are L_B's.  Per member, with the workspace
 * bound to it: a forward pass at x (L_j and A_j x), the 2k losses in one
 * more pass (pair_losses), and a forward pass at the trial point.  (Up to
 * 71d3e5b one gemm A_j [x, Z] per member, all B of them kept, B n (k + 1)
 * doubles, and every loss a separate softmax over its logits.)
 */
static smr_status spsa_batch_iterate(smr_solver *sv)
{
    spsa_state *st = sv->state;
    const smr_options *o = &sv->opt;
    int64_t d = sv->d, k = o->spsa_k, B = o->spsa_batch_size;
    double eps = st->eps, *pm = st->lpm, Lx = 0.0;
    smr_k_pick(o->seed, (uint64_t)sv->iter, sv->nprobs, B, st->pick);
    directions(st, d, k, o->spsa_dir == SMR_DIR_RADEMACHER, o->seed, (uint64_t)sv->iter);
    for (int64_t q = 0; q < 2 * k; ++q)
        pm[q] = 0.0;
    sv->loss_evals += B * (2 * k + 2);
    for (int64_t b = 0; b < B; ++b) {
        const smr_problem *p = &sv->probs[st->pick[b]];
        smr_ws_bind(&sv->ws, p);
        if (smr_obj_forward(p, sv->x, &sv->ws) != SMR_OK)
            return SMR_STATUS_NONFINITE;
        /* L_j before pair_losses: a loss it recomputes overwrites ws */
        Lx += sv->ws.loss / (double)B;
        double zs[2] = {sv->ws.zmu, sv->ws.zalpha}; /* the pass just done */
        if (!pair_losses(p, &sv->ws, st, sv->ws.z, sv->ws.zsum_ok ? zs : NULL,
                         sv->x, k, eps))
            return SMR_STATUS_NONFINITE;
        for (int64_t q = 0; q < 2 * k; ++q)
            pm[q] += st->pl[q] / (double)B;
    }
    double trace, lmax;
    combine(st, d, k, eps, Lx, pm, &trace, &lmax);
    double eta = step_size(sv, st, trace, lmax);
    for (int64_t i = 0; i < d; ++i)
        sv->xt[i] = sv->x[i] - eta * st->gh[i];
    double lt = 0.0;
    for (int64_t b = 0; b < B; ++b) {
        const smr_problem *p = &sv->probs[st->pick[b]];
        smr_ws_bind(&sv->ws, p);
        lt += (smr_obj_forward(p, sv->xt, &sv->ws) == SMR_OK ? sv->ws.loss : NAN) / (double)B;
    }
    sv->loss = Lx;
    accept_or_refuse(sv, st, Lx, lt, eta);
    sv->have_grad = false;
    sv->loss_exact = false;
    smr_status stop = step_status(sv, st, lt);
    if (stop != SMR_STATUS_NONE)
        return stop;
    if (o->spsa_check_every > 0 && (sv->iter + 1) % o->spsa_check_every == 0) {
        /* the points kept as the result are evaluated as smr_loss does */
        if (smr_sv_eval_exact(sv, sv->x, &sv->loss, sv->g) != SMR_OK)
            return SMR_STATUS_NONFINITE;
        sv->have_grad = sv->loss_exact = true;
    }
    return SMR_STATUS_NONE;
}

/* st->zx <- the workspace's logits (the last forward pass's) by swapping
 * the two n-vectors, both allocations of n doubles that each owner frees:
 * no copy of n doubles per step */
static void swap_logits(smr_solver *sv, spsa_state *st)
{
    double *t = st->zx;
    st->zx = sv->ws.z;
    sv->ws.z = t;
    double mu = st->zs[0], al = st->zs[1];
    bool ok = st->zs_ok;
    st->zs[0] = sv->ws.zmu;
    st->zs[1] = sv->ws.zalpha;
    st->zs_ok = sv->ws.zsum_ok;
    sv->ws.zmu = mu;
    sv->ws.zalpha = al;
    sv->ws.zsum_ok = ok;
}

static smr_status spsa_iterate(smr_solver *sv)
{
    if (sv->probs)
        return spsa_batch_iterate(sv);
    spsa_state *st = sv->state;
    const smr_options *o = &sv->opt;
    int64_t d = sv->d, k = o->spsa_k;
    double eps = st->eps, L = sv->loss;
    if (sv->iter == 0) /* the driver evaluated x: its logits are in ws */
        swap_logits(sv, st);

    double trace, lmax;
    sv->loss_evals += 2 * k;
    if (!estimate(sv->prob, &sv->ws, st, sv->x, L, k, eps,
                  o->spsa_dir == SMR_DIR_RADEMACHER, o->seed,
                  (uint64_t)sv->iter, &trace, &lmax))
        return SMR_STATUS_NONFINITE;
    double eta = step_size(sv, st, trace, lmax);

    /* trial x - eta g^: its loss and logits by a forward pass (as
     * smr_loss computes them) */
    for (int64_t i = 0; i < d; ++i)
        sv->xt[i] = sv->x[i] - eta * st->gh[i];
    sv->loss_evals++;
    double lt = smr_obj_forward(sv->prob, sv->xt, &sv->ws) == SMR_OK ? sv->ws.loss : NAN;
    sv->have_grad = false;
    if (accept_or_refuse(sv, st, L, lt, eta))
        swap_logits(sv, st); /* the logits follow x */
    smr_status stop = step_status(sv, st, lt);
    if (stop != SMR_STATUS_NONE)
        return stop;
    /* periodic exact check: the true gradient for the stopping test */
    if (o->spsa_check_every > 0 && (sv->iter + 1) % o->spsa_check_every == 0) {
        if (smr_sv_eval(sv, sv->x, &sv->loss, sv->g) != SMR_OK)
            return SMR_STATUS_NONFINITE;
        swap_logits(sv, st);
        sv->have_grad = true;
    }
    return SMR_STATUS_NONE;
}

int smr_spsa_gradient(const smr_problem *prob, const double *x, int k,
                      double eps, smr_direction dir, uint64_t seed,
                      uint64_t iter, double *ghat)
{
    /* like smr_loss: A's entries are checked lazily (a NaN in A shows as
     * non-finite logits, which names A) -- an eager scan would cost a pass */
    int rc = smr_check_problem_basic(prob);
    if (rc != SMR_OK)
        return rc;
    if (!x || !ghat)
        return SMR_ERR_NULL_POINTER;
    if (!smr_k_all_finite(prob->d, x))
        return SMR_ERR_NONFINITE_X;
    if (k < 1 || k > 1024 || !(eps > 0.0) || !isfinite(eps) ||
        (dir != SMR_DIR_GAUSSIAN && dir != SMR_DIR_RADEMACHER))
        return SMR_ERR_BAD_ARGUMENT;
    smr_ws ws;
    if ((rc = smr_ws_init(&ws, prob, false)) != SMR_OK)
        return rc;
    spsa_state *st = spsa_alloc(prob->n, prob->d, k);
    if (!st) {
        smr_ws_free(&ws);
        return SMR_ERR_NO_MEMORY;
    }
    rc = smr_obj_forward(prob, x, &ws);
    double trace, lmax;
    if (rc == SMR_OK) {
        memcpy(st->zx, ws.z, (size_t)prob->n * sizeof(double));
        st->zs[0] = ws.zmu;
        st->zs[1] = ws.zalpha;
        st->zs_ok = ws.zsum_ok;
        if (!estimate(prob, &ws, st, x, ws.loss, k, eps,
                      dir == SMR_DIR_RADEMACHER, seed, iter, &trace, &lmax))
            rc = smr_classify_nonfinite(prob);
    }
    if (rc == SMR_OK)
        memcpy(ghat, st->gh, (size_t)prob->d * sizeof(double));
    spsa_free_state(st);
    smr_ws_free(&ws);
    return rc;
}

const smr_method_ops smr_spsa_ops = {
    .name = "spsa",
    .needs_hessian_blocks = false,
    .init = spsa_init,
    .iterate = spsa_iterate,
    .free = spsa_free,
};
