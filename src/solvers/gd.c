/*
 * gd.c -- gradient descent, x <- x - t g, with three step rules:
 *
 *  fixed   t = gd_step_size, no line search.  A loss that rises for 10
 *          iterations in a row stops with SMR_STATUS_DIVERGED; a non-finite
 *          loss with SMR_STATUS_NONFINITE (x: the best iterate).
 *  Armijo  backtracking from twice the last accepted step.
 *  BB      Barzilai-Borwein steps, alternating BB1 = s.s / s.y and
 *          BB2 = s.y / y.y (s = x_k - x_{k-1}, y = g_k - g_{k-1}), safeguarded
 *          by a non-monotone Armijo test against the largest of the last 10
 *          losses (Grippo-Lampariello-Lucidi), and by falling back to twice
 *          the last step when s.y <= 0 (negative curvature).
 *
 * The first trial step is gd_step_size when given, else 1/|g|: a move of unit
 * length, which the line search then shortens.  Scale-free, so it works at
 * the tiny gradients of softmax regression.
 */
#include "solver.h"

#include <math.h>
#include <stdlib.h>

#define GD_MEMORY 10   /* non-monotone window of the BB safeguard */

typedef struct {
    double *p;                 /* direction, d */
    double t;                  /* last accepted step */
    double recent[GD_MEMORY];  /* last losses (BB) */
    int rises;
} gd_state;

static int gd_init(smr_solver *sv)
{
    gd_state *st = calloc(1, sizeof *st);
    if (!st)
        return SMR_ERR_NO_MEMORY;
    st->p = malloc((size_t)sv->d * sizeof(double));
    if (!st->p) {
        free(st);
        return SMR_ERR_NO_MEMORY;
    }
    sv->state = st;
    sv->ws.lean = true; /* no f or z read after an evaluation (fused.c) */
    return SMR_OK;
}

static void gd_free(smr_solver *sv)
{
    gd_state *st = sv->state;
    free(st->p);
    free(st);
    sv->state = NULL;
}

static smr_status fixed_step(smr_solver *sv, gd_state *st)
{
    double t = sv->opt.gd_step_size, lt;
    for (int64_t j = 0; j < sv->d; ++j)
        sv->xt[j] = sv->x[j] + t * st->p[j];
    if (smr_sv_eval(sv, sv->xt, &lt, sv->gt) != SMR_OK)
        return SMR_STATUS_NONFINITE;
    st->rises = lt > sv->loss ? st->rises + 1 : 0;
    if (st->rises >= SMR_SV_RISES)
        return SMR_STATUS_DIVERGED;
    smr_sv_accept(sv, lt, t * smr_norm2(sv->d, st->p));
    return SMR_STATUS_NONE;
}

static smr_status gd_iterate(smr_solver *sv)
{
    gd_state *st = sv->state;
    int64_t d = sv->d;
    for (int64_t j = 0; j < d; ++j)
        st->p[j] = -sv->g[j];
    if (sv->opt.gd_step == SMR_GD_FIXED)
        return fixed_step(sv, st);

    double gg = smr_k_dot(d, sv->g, sv->g);
    double t0, lref = sv->loss;
    if (sv->iter == 0) {
        t0 = sv->opt.gd_step_size > 0 ? sv->opt.gd_step_size : 1.0 / sqrt(gg);
        for (int k = 0; k < GD_MEMORY; ++k)
            st->recent[k] = sv->loss;
    } else if (sv->opt.gd_step == SMR_GD_ARMIJO) {
        t0 = 2.0 * st->t;
    } else {
        /* after smr_sv_accept, xt/gt hold the previous iterate */
        double sy = 0, ss = 0, yy = 0;
        for (int64_t j = 0; j < d; ++j) {
            double s = sv->x[j] - sv->xt[j], y = sv->g[j] - sv->gt[j];
            sy += s * y;
            ss += s * s;
            yy += y * y;
        }
        if (sy > 0 && yy > 0)
            t0 = (sv->iter % 2) ? ss / sy : sy / yy;
        else
            t0 = 2.0 * st->t;
        for (int k = 0; k < GD_MEMORY; ++k)
            lref = fmax(lref, st->recent[k]);
    }
    double t = t0, lt;
    smr_status s = smr_line_search(sv, st->p, -gg, lref, true, &t, &lt);
    if (s != SMR_STATUS_NONE)
        return s;
    st->t = t;
    st->recent[sv->iter % GD_MEMORY] = lt;
    smr_sv_accept(sv, lt, t * sqrt(gg));
    return SMR_STATUS_NONE;
}

const smr_method_ops smr_gd_ops = {
    .name = "gd",
    .needs_hessian_blocks = false,
    .init = gd_init,
    .iterate = gd_iterate,
    .free = gd_free,
};
