/*
 * sketch_newton.c -- Newton's method with a leverage-score sparsified
 * Hessian: the first paper's algorithm (docs/sketch.md, MATH.md section 4).
 *
 * Each iteration, at x:
 *   e = delta + w o w (the diagonal middle matrix), p = A^T f, q = A^T v
 *   rows ~ leverage scores of diag(sqrt|e|) A, s of them, resampled from
 *          (seed, iteration)                       (objective/sparsify.c)
 *   H~ = A^T diag(e~) A  - p q^T - q p^T + kappa p p^T + lambda I
 *        (sampled part with weights e_i count_i / (s p_i); the rank-2 part
 *         and the ridge exact)
 *   then the shifted Newton step shared with exact Newton: Cholesky of
 *   H~ + mu I (mu raised until it succeeds), Armijo backtracking, mu
 *   lowered after full steps.
 *
 * Signs.  Where the regularization is weak e has negative entries.  The
 * rows are then drawn by the scores of diag(sqrt|e|) A and keep their signed
 * weights, which gives  |A^T (e~ - e) A| <= eps A^T |e| A  -- relative to
 * A^T|e|A rather than to H.  When e >= 0 this is the paper's
 * (1 +- eps) H bound; otherwise the Levenberg shift guards definiteness and
 * the line search guards descent.  The approximation is never silently
 * wrong: what it is relative to is stated here and in docs/sketch.md.
 *
 * Cost per iteration: the gradient's two passes, one pass for p and q, one
 * CountSketch pass, a QR of 8d x d, one gemm pass with 16 columns, and a
 * sampled dsyrk of s x d -- against exact Newton's O(n d^2) dsyrk.
 */
#include "solver.h"

#include <stdlib.h>

typedef struct {
    smr_newton_core core;
    smr_spz spz;
    double *scores; /* n */
    int64_t s;      /* rows per iteration */
} sketch_state;

static int sketch_init(smr_solver *sv)
{
    sketch_state *st = calloc(1, sizeof *st);
    if (!st)
        return SMR_ERR_NO_MEMORY;
    sv->state = st;
    const smr_options *o = &sv->opt;
    st->s = o->sketch_samples ? o->sketch_samples
                              : smr_sparsify_sample_size(sv->d, o->sketch_eps, o->sketch_delta);
    int rc = smr_newton_core_init(&st->core, sv->d, o->newton_mu0);
    if (rc == SMR_OK)
        rc = smr_spz_init(&st->spz, sv->n, sv->d, st->s);
    if (rc == SMR_OK && !(st->scores = malloc((size_t)sv->n * sizeof(double))))
        rc = SMR_ERR_NO_MEMORY;
    /* the scores' scratch now (threads are set, ws is bound): out of
     * memory is the solve's error, not an iteration's failure */
    if (rc == SMR_OK && st->s < sv->n)
        rc = smr_spz_reserve(&st->spz, &sv->ws.A);
    return rc; /* on error the driver frees the state */
}

static void sketch_free(smr_solver *sv)
{
    sketch_state *st = sv->state;
    smr_newton_core_free(&st->core);
    smr_spz_free(&st->spz);
    free(st->scores);
    free(st);
    sv->state = NULL;
}

/* a different, reproducible seed for each iteration's sketch and sample */
static uint64_t iteration_seed(uint64_t seed, int64_t iter)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)(iter + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static smr_status sketch_iterate(smr_solver *sv)
{
    sketch_state *st = sv->state;
    const smr_problem *p = sv->prob;
    smr_ws *ws = &sv->ws;
    /* ws holds the forward pass at x (the last point evaluated) */
    double kappa = smr_obj_hessian_parts(p, ws);
    const double *e = ws->nk + 2 * p->n;
    uint64_t seed = iteration_seed(sv->opt.seed, sv->iter);
    int rc = SMR_OK;
    if (st->s < p->n)
        rc = smr_spz_scores(&st->spz, &ws->A, e, seed, st->scores);
    if (rc == SMR_OK)
        rc = smr_spz_sample(&st->spz, p->n, e, st->scores, st->s, seed ^ 0x73616d70ull);
    sv->hess_evals++;
    sv->samples = st->spz.samples;
    if (rc == SMR_OK)
        rc = smr_obj_hessian_assemble(p, ws, kappa, st->spz.rows, st->spz.weights,
                                      st->spz.kept, 0.0, st->core.H, sv->d);
    if (rc != SMR_OK)
        return SMR_STATUS_NONFINITE;
    return smr_newton_core_step(sv, &st->core);
}

const smr_method_ops smr_sketch_ops = {
    .name = "sketch",
    .needs_hessian_blocks = true,
    .init = sketch_init,
    .iterate = sketch_iterate,
    .free = sketch_free,
};
