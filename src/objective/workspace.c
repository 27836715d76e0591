/*
 * workspace.c -- the work memory of an evaluation, allocated at one place.
 *
 * Sizes: z, f: n each; nk: 3n (up to three n-vectors handed to one dgemm);
 * dk: 3d; and, for the Hessian, two row blocks of nb x d (positive and
 * negative part of the row scaling) where nb is chosen so that a block is
 * about SMR_HESS_BLOCK_BYTES: small enough to stay in cache between the
 * copy and the dsyrk, large enough for dsyrk to run at level-3 speed.
 * The one-pass path's per-thread scratch is allocated by fused.c on its
 * first use (public one-shot calls never need it).
 */
#include "objective.h"

#include <stdlib.h>

#define SMR_HESS_BLOCK_BYTES (1 << 18)
#define SMR_HESS_BLOCK_MIN_ROWS 64

int64_t smr_ws_block_rows(int64_t bytes, int64_t d, int64_t min_rows, int64_t n)
{
    int64_t nb = bytes / (int64_t)sizeof(double) / d;
    if (nb < min_rows)
        nb = min_rows;
    return nb > n ? n : nb;
}

static double *alloc_doubles(int64_t count)
{
    if (count <= 0 || (uint64_t)count > SIZE_MAX / sizeof(double))
        return NULL;
    return malloc((size_t)count * sizeof(double));
}

int smr_ws_init(smr_ws *ws, const smr_problem *prob, bool want_hessian)
{
    *ws = (smr_ws){0};
    ws->A = smr_problem_mat(prob);
    ws->n = ws->ncap = prob->n;
    ws->d = prob->d;
    ws->z = alloc_doubles(ws->n);
    ws->f = alloc_doubles(ws->n);
    ws->nk = alloc_doubles(3 * ws->n);
    ws->dk = alloc_doubles(3 * ws->d);
    if (want_hessian) {
        int64_t nb = smr_ws_block_rows(SMR_HESS_BLOCK_BYTES, ws->d,
                                       SMR_HESS_BLOCK_MIN_ROWS, ws->n);
        ws->nb = nb;
        /* 2 blocks + per-row scale (nb) + row index (nb, stored as double) */
        ws->blk = alloc_doubles(2 * nb * ws->d + 2 * nb);
    }
    ws->hcap = 1;
    if (!ws->z || !ws->f || !ws->nk || !ws->dk || (want_hessian && !ws->blk) ||
        (want_hessian && smr_ws_hessian_parts(ws, smr_k_threads()) != SMR_OK)) {
        smr_ws_free(ws);
        return SMR_ERR_NO_MEMORY;
    }
    return SMR_OK;
}

void smr_ws_free(smr_ws *ws)
{
    free(ws->z);
    free(ws->f);
    free(ws->nk);
    free(ws->dk);
    free(ws->blk);
    free(ws->hpart);
    free(ws->part);
    free(ws->bmu);
    free(ws->pred);
    *ws = (smr_ws){0};
}

void smr_ws_bind(smr_ws *ws, const smr_problem *prob)
{
    ws->A = smr_problem_mat(prob);
    ws->n = prob->n;
    ws->have_guess = false; /* another problem: the last lse says nothing */
    ws->have_pred = false;
    ws->fwd_valid = ws->pq_valid = false;
}
