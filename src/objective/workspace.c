/*
 * workspace.c -- the work memory of an evaluation, allocated at one place.
 *
 * Sizes: z, f: n each; nk: 3n (up to three n-vectors handed to one dgemm);
 * dk: 3d; and, for the Hessian, two row blocks of nb x d (positive and
 * negative part of the row scaling) where nb is chosen so that a block is
 * about SMR_HESS_BLOCK_BYTES: small enough to stay in cache between the
 * copy and the dsyrk, large enough for dsyrk to run at level-3 speed.
 */
#include "objective.h"

#include <stdlib.h>

#define SMR_HESS_BLOCK_BYTES (1 << 20)
/* one-pass blocks: small enough to stay in L2 between the dgemv that reads
 * them from memory and the dgemm that reuses them */
#define SMR_FUSED_BLOCK_BYTES (1 << 18)
#define SMR_FUSED_BLOCK_MIN_ROWS 16
#define SMR_HESS_BLOCK_MIN_ROWS 64

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
    ws->n = prob->n;
    ws->d = prob->d;
    ws->z = alloc_doubles(ws->n);
    ws->f = alloc_doubles(ws->n);
    ws->nk = alloc_doubles(3 * ws->n);
    ws->dk = alloc_doubles(3 * ws->d);
    if (want_hessian) {
        int64_t nb = SMR_HESS_BLOCK_BYTES / (int64_t)sizeof(double) / ws->d;
        if (nb < SMR_HESS_BLOCK_MIN_ROWS)
            nb = SMR_HESS_BLOCK_MIN_ROWS;
        if (nb > ws->n)
            nb = ws->n;
        ws->nb = nb;
        /* 2 blocks + per-row scale (nb) + row index (nb, stored as double) */
        ws->blk = alloc_doubles(2 * nb * ws->d + 2 * nb);
    }
    int64_t nbf = SMR_FUSED_BLOCK_BYTES / (int64_t)sizeof(double) / ws->d;
    if (nbf < SMR_FUSED_BLOCK_MIN_ROWS)
        nbf = SMR_FUSED_BLOCK_MIN_ROWS;
    if (nbf > ws->n)
        nbf = ws->n;
    ws->nbf = nbf;
    ws->nblk = (ws->n + nbf - 1) / nbf;
    ws->tcap = smr_k_threads();
    if (ws->tcap > ws->nblk)
        ws->tcap = (int)ws->nblk;
    ws->part = alloc_doubles((int64_t)ws->tcap * (4 * nbf + 4 * ws->d + 8));
    ws->bmu = alloc_doubles(ws->nblk);
    if (!ws->z || !ws->f || !ws->nk || !ws->dk || (want_hessian && !ws->blk) ||
        !ws->part || !ws->bmu) {
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
    free(ws->part);
    free(ws->bmu);
    *ws = (smr_ws){0};
}

void smr_ws_bind(smr_ws *ws, const smr_problem *prob)
{
    ws->A = smr_problem_mat(prob);
    ws->n = prob->n;
    ws->have_guess = false; /* another problem: the last lse says nothing */
}
