/*
 * evaluator.c -- the public reusable loss+gradient evaluator
 * (softmaxreg.h, smr_evaluator_*): a workspace kept between calls, so that
 * each call after the first is the one-pass loss+gradient in its lean form
 * (fused.c), as the library's own L-BFGS calls it.  Column-major A with
 * more than SMR_FUSED_COL_MAX_D columns takes the two passes instead, as
 * the solvers do (docs/benchmarks.md, "Where the solvers use the one
 * pass").
 */
#include "objective.h"

#include <stdlib.h>
#include <string.h>

struct smr_evaluator {
    smr_problem p; /* the caller's description; A, b, w borrowed */
    smr_ws ws;
};

int smr_evaluator_new(const smr_problem *prob, smr_evaluator **ev)
{
    if (!prob || !ev)
        return SMR_ERR_NULL_POINTER;
    int rc = smr_problem_check(prob); /* A too: a_checked below */
    if (rc != SMR_OK)
        return rc;
    smr_evaluator *e = calloc(1, sizeof *e);
    if (!e)
        return SMR_ERR_NO_MEMORY;
    e->p = *prob;
    rc = smr_ws_init(&e->ws, &e->p, false);
    if (rc == SMR_OK)
        rc = smr_ws_fused_init(&e->ws);
    if (rc != SMR_OK) {
        smr_ws_free(&e->ws);
        free(e);
        return rc;
    }
    e->ws.a_checked = true; /* x = 0 then needs no read of A */
    e->ws.lean = true;      /* the caller sees loss and gradient only */
    *ev = e;
    return SMR_OK;
}

int smr_evaluator_loss_gradient(smr_evaluator *e, const double *x, double *loss,
                                double *grad)
{
    if (!e || !x || !loss || !grad)
        return SMR_ERR_NULL_POINTER;
    const smr_problem *p = &e->p;
    if (!smr_k_all_finite(p->d, x))
        return SMR_ERR_NONFINITE_X;
    double *g = e->ws.dk; /* copied out on success */
    int rc;
    if (!e->ws.A.row_major && p->d > SMR_FUSED_COL_MAX_D) {
        rc = smr_obj_forward(p, x, &e->ws);
        if (rc == SMR_OK)
            rc = smr_obj_gradient(p, x, &e->ws, g);
    } else {
        rc = smr_obj_loss_grad(p, x, &e->ws, g);
    }
    if (rc != SMR_OK)
        return rc;
    *loss = e->ws.loss;
    memcpy(grad, g, (size_t)p->d * sizeof(double));
    return SMR_OK;
}

void smr_evaluator_free(smr_evaluator *e)
{
    if (!e)
        return;
    smr_ws_free(&e->ws);
    free(e);
}
