/*
 * spsa.c -- zeroth-order SPSA in the MeZO form (docs/math.md section 5):
 * only loss values are used.
 *
 *   z_j = direction(seed, iter, j), j = 1..k       (Philox; never stored
 *                                                    beyond this step)
 *   c_j = [L(x + eps z_j) - L(x - eps z_j)] / (2 eps)
 *   g^  = (1/k) sum_j c_j z_j                        E g^ = grad L + O(eps^2)
 *   x  <- x - eta g^
 *
 * Cost: A(x +- eps z_j) = Ax +- eps A z_j, so one step needs one product
 * A Z (Z = [z_1 .. z_k], one gemm: one pass over A) and 2k softmaxes of
 * n-vectors; the new logits are updated the same way,
 * A x_new = Ax - eta A Z c / k, with no further pass over A.  Ax is
 * recomputed exactly at every gradient check to stop drift.
 *
 * Step size: eta = lr * k / (tr H + (k + 1) lambda_max(H)), i.e. the gradient
 * step 1/lambda_max scaled by k / (r + k + 1) with r = tr H / lambda_max the
 * effective rank (the second paper's rule).  Both are estimated from the same
 * loss values: (L+ + L- - 2L) / eps^2 = z'Hz + O(eps^2), whose mean is tr H
 * (Gaussian or Rademacher z) and whose largest z'Hz/z'z bounds lambda_max
 * from below; both are smoothed over steps.  A step that raises the loss is
 * refused (x kept) and halves a multiplier that then recovers by 10% per
 * accepted step, so the iterates decrease monotonically.
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
    double *AZ;    /* n x k */
    double *zx;    /* n: logits A x of the current iterate */
    double *zt;    /* n: trial logits */
    double *f;     /* n: softmax scratch */
    double *c;     /* k: coefficients c_j / k */
    double *gh;    /* d: the estimate g^ */
    double eps, tr, lmax, mult;
} spsa_state;

/* buffers for n x d problems and k directions; NULL when out of memory */
static spsa_state *spsa_alloc(int64_t n, int64_t d, int64_t k)
{
    spsa_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->Z = malloc((size_t)(d * k + d) * sizeof(double));
    st->AZ = malloc((size_t)(n * k + 3 * n + k) * sizeof(double));
    if (!st->Z || !st->AZ) {
        free(st->Z);
        free(st->AZ);
        free(st);
        return NULL;
    }
    st->gh = st->Z + d * k;
    st->zx = st->AZ + n * k;
    st->zt = st->zx + n;
    st->f = st->zt + n;
    st->c = st->f + n;
    st->mult = 1.0;
    return st;
}

static int spsa_init(smr_solver *sv)
{
    int64_t n = sv->n, d = sv->d;
    spsa_state *st = spsa_alloc(n, d, sv->opt.spsa_k);
    if (!st)
        return SMR_ERR_NO_MEMORY;
    sv->state = st;
    st->eps = sv->opt.spsa_eps;
    if (st->eps == 0.0) { /* 1e-4 / rms row norm: logits move by ~1e-4 */
        double fro2 = 0.0;
        int64_t outer = sv->ws.A.row_major ? n : d;
        int64_t inner = sv->ws.A.row_major ? d : n;
        for (int64_t o = 0; o < outer; ++o)
            fro2 += smr_k_sumsq(inner, sv->ws.A.a + o * sv->ws.A.ld);
        double rms = sqrt(fro2 / (double)n);
        st->eps = 1e-4 / (rms > 0 ? rms : 1.0);
    }
    return SMR_OK;
}

static void spsa_free_state(spsa_state *st)
{
    free(st->Z);
    free(st->AZ);
    free(st);
}

static void spsa_free(smr_solver *sv)
{
    spsa_free_state(sv->state);
    sv->state = NULL;
}

/* loss at logits zx + s * AZ[:, j] and point x + s * Z[:, j] */
static double perturbed(const smr_problem *p, spsa_state *st, int64_t j,
                        double s, double xx, double xz, double zz)
{
    int64_t n = p->n;
    const double *az = st->AZ + j * n;
    for (int64_t i = 0; i < n; ++i)
        st->zt[i] = st->zx[i] + s * az[i];
    return smr_obj_loss_logits(p, st->zt, xx + 2 * s * xz + s * s * zz, st->f);
}

/*
 * The estimate at x (logits st->zx = Ax, loss L): directions into st->Z,
 * st->AZ = A Z (the one pass over A), st->c[j] = c_j / k, st->gh = g^.
 * *trace = mean z'Hz estimate, *lmax = largest z'Hz / z'z.  2k loss values.
 * Returns false if a perturbed loss is not finite.
 */
static bool estimate(const smr_problem *p, const smr_mat *A, spsa_state *st,
                     const double *x, double L, int64_t k, double eps,
                     bool rademacher, uint64_t seed, uint64_t iter,
                     double *trace, double *lmax)
{
    int64_t n = p->n, d = p->d;
    for (int64_t j = 0; j < k; ++j)
        smr_k_direction(seed, iter, (uint64_t)j, rademacher, d, st->Z + j * d);
    smr_k_mul(A, k, st->Z, d, st->AZ, n);
    double xx = p->lambda > 0 ? smr_k_dot(d, x, x) : 0.0;
    double trsum = 0.0, lm = 0.0;
    for (int64_t j = 0; j < k; ++j) {
        const double *zj = st->Z + j * d;
        double xz = p->lambda > 0 ? smr_k_dot(d, x, zj) : 0.0;
        double zz = smr_k_dot(d, zj, zj);
        double lp = perturbed(p, st, j, eps, xx, xz, zz);
        double lmi = perturbed(p, st, j, -eps, xx, xz, zz);
        if (!isfinite(lp) || !isfinite(lmi))
            return false;
        st->c[j] = (lp - lmi) / (2.0 * eps) / (double)k;
        double curv = (lp + lmi - 2.0 * L) / (eps * eps); /* z'Hz */
        trsum += curv;
        lm = fmax(lm, curv / zz);
    }
    for (int64_t i = 0; i < d; ++i)
        st->gh[i] = 0.0;
    for (int64_t j = 0; j < k; ++j)
        for (int64_t i = 0; i < d; ++i)
            st->gh[i] += st->c[j] * st->Z[i + j * d];
    *trace = trsum / (double)k;
    *lmax = lm;
    return true;
}

static smr_status spsa_iterate(smr_solver *sv)
{
    spsa_state *st = sv->state;
    const smr_options *o = &sv->opt;
    int64_t n = sv->n, d = sv->d, k = o->spsa_k;
    double eps = st->eps, L = sv->loss;
    if (sv->iter == 0) /* the driver evaluated x: its logits are in ws */
        memcpy(st->zx, sv->ws.z, (size_t)n * sizeof(double));

    double trace, lmax;
    sv->loss_evals += 2 * k;
    if (!estimate(sv->prob, &sv->ws.A, st, sv->x, L, k, eps,
                  o->spsa_dir == SMR_DIR_RADEMACHER, o->seed,
                  (uint64_t)sv->iter, &trace, &lmax))
        return SMR_STATUS_NONFINITE;
    double tr = fmax(trace, 0.0);
    st->tr = sv->iter == 0 ? tr : 0.9 * st->tr + 0.1 * tr;
    st->lmax = sv->iter == 0 ? lmax : fmax(0.9 * st->lmax, lmax);
    double denom = st->tr + (double)(k + 1) * st->lmax;
    if (!(denom > 0.0)) /* flat in every direction seen: nothing to do */
        denom = 1.0 / (eps * eps);
    double eta = st->mult * o->spsa_lr * (double)k / denom;

    /* trial x - eta g^, logits zx - eta AZ c (no pass over A) */
    for (int64_t i = 0; i < n; ++i) {
        double s = 0.0;
        for (int64_t j = 0; j < k; ++j)
            s += st->AZ[i + j * n] * st->c[j];
        st->zt[i] = st->zx[i] - eta * s;
    }
    for (int64_t i = 0; i < d; ++i)
        sv->xt[i] = sv->x[i] - eta * st->gh[i];
    sv->loss_evals++;
    double lt = smr_obj_loss_logits(sv->prob, st->zt,
                                    sv->prob->lambda > 0 ? smr_k_sumsq(d, sv->xt) : 0.0,
                                    st->f);
    sv->have_grad = false;
    if (isfinite(lt) && lt <= L) {
        double *t = sv->x;
        sv->x = sv->xt;
        sv->xt = t;
        t = st->zx;
        st->zx = st->zt;
        st->zt = t;
        sv->loss = lt;
        sv->step = eta * smr_norm2(d, st->gh);
        st->mult = fmin(1.0, st->mult * 1.1);
    } else {
        sv->step = 0.0;
        st->mult *= 0.5;
    }
    /* periodic exact check: true gradient for the stopping test, and exact
     * logits (the incremental update drifts by rounding) */
    if (o->spsa_check_every > 0 && (sv->iter + 1) % o->spsa_check_every == 0) {
        double l;
        if (smr_sv_loss(sv, sv->x, &l) != SMR_OK ||
            smr_sv_grad(sv, sv->x, sv->g) != SMR_OK)
            return SMR_STATUS_NONFINITE;
        memcpy(st->zx, sv->ws.z, (size_t)n * sizeof(double));
        sv->loss = l;
        sv->have_grad = true;
    }
    return SMR_STATUS_NONE;
}

int smr_spsa_gradient(const smr_problem *prob, const double *x, int k,
                      double eps, smr_direction dir, uint64_t seed,
                      uint64_t iter, double *ghat)
{
    int rc = smr_problem_check(prob);
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
        if (!estimate(prob, &ws.A, st, x, ws.loss, k, eps,
                      dir == SMR_DIR_RADEMACHER, seed, iter, &trace, &lmax))
            rc = SMR_ERR_OVERFLOW;
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
