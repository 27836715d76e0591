/*
 * fused_lanes.h -- the per-row step both one-pass kernels share
 * (fused_rows.c, fused_cols.c; internal, vector code: include only from
 * files compiled as simd.h says): from SMR_VL logits, u and the weights
 * (docs/math.md, section 2)
 *
 *     u = exp(z - mu),  W = [ u (u - b - s~),  u^2,  u,  w^2 z ]
 *
 * and z, u stored for the rows -- or, in the lean pass (no outputs,
 * fused.c), the four sums that give the loss without them:
 *
 *     S1 = sum (u - b)^2,  S2 = sum u (u - b),  S3 = sum u^2,  S4 = sum (w z)^2
 *
 * (smr_lean_add; docs/math.md, "The lean pass").  Lanes past cnt (a
 * partial last group) repeat row cnt - 1 for reading and get u, weights
 * and the lean terms zero.
 */
#ifndef SMR_FUSED_LANES_H
#define SMR_FUSED_LANES_H

#include "../kernels/simd.h"
#include "fused_rows.h"

#include <math.h>
#include <stdint.h>

typedef struct {
    vd u, w1, w2, w4;
    vd r, wz2; /* u - b and (w z)^2, zero past cnt (the lean sums) */
} smr_lanes;

/* rows i .. i + cnt - 1 (cnt <= SMR_VL): z the logits; b, w (NULL: no w) and
 * zo, uo (the outputs, both NULL in the lean pass: nothing stored) indexed
 * by row */
static inline __attribute__((always_inline)) smr_lanes
smr_fused_lanes(int simd, vd z, int cnt, int64_t i, const double *b,
                const double *w, double mu, double s0, double *zo, double *uo)
{
    vd keep, bv, wv = {0};
    for (int r = 0; r < SMR_VL; ++r) {
        int64_t q = i + (r < cnt ? r : cnt - 1);
        keep[r] = r < cnt ? 1.0 : 0.0;
        bv[r] = b[q];
        if (w)
            wv[r] = w[q];
    }
    vd u = simd ? expv(z - mu) : z;
    if (!simd)
        for (int r = 0; r < SMR_VL; ++r)
            u[r] = exp(z[r] - mu);
    u *= keep;
    if (!uo) {
    } else if (cnt == SMR_VL) {
        stv(zo + i, z);
        stv(uo + i, u);
    } else {
        for (int r = 0; r < cnt; ++r) {
            zo[i + r] = z[r];
            uo[i + r] = u[r];
        }
    }
    vd w4 = (wv * wv) * (z * keep);
    return (smr_lanes){.u = u, .w1 = u * ((u - bv) - s0), .w2 = u * u,
                       .w4 = w4, .r = (u - bv) * keep, .wz2 = w4 * z};
}

/* the lean pass's four lane sums (above) += the lanes of L */
static inline __attribute__((always_inline)) void
smr_lean_add(vd acc[4], vd r, vd u, vd w2, vd wz2)
{
    acc[0] += r * r;
    acc[1] += u * r;
    acc[2] += w2;
    acc[3] += wz2;
}

/* A group of rows r0 .. whose largest logit is pm: record it; without a
 * shift yet take first (the caller's choice of a logit that does not
 * depend on where A lies: fused_rows.c passes pm, its panels being cut by
 * row index; fused_cols.c its first row's, its chunks following A's
 * lines); and when pm exceeds the shift mu by more than SMR_FUSED_RESCALE
 * raise mu to it,
 * rescaling what was summed at the old shift -- the thread's G and alpha,
 * the block's sums Gblk (nb entries per column, columns ldb apart; their
 * rounding bound counted fac times), its lane sums of u (ablk) and the u
 * already written for the block's rows 0 .. r0 - 1 (none in the lean pass,
 * u NULL, whose sums a raise spoils: fused.c counts raises). */
static inline __attribute__((always_inline)) void
smr_fused_raise(smr_fused_acc *st, double pm, double first, double *mu,
                vd *ablk, double *u, int64_t r0, int64_t d, double *Gblk,
                int64_t nb, int64_t ldb, double fac)
{
    st->zmax = pm > st->zmax ? pm : st->zmax;
    if (!st->have_mu) {
        *mu = first;
        st->have_mu = true;
    }
    if (pm > *mu + SMR_FUSED_RESCALE) {
        double rho = exp(*mu - pm), ab = 0.0;
        st->err1 = rho * st->err1 + smr_fused_rescale(d, rho, st->G, &st->alpha) +
                   fac * smr_fused_rescale_ld(nb, ldb, rho, Gblk, &ab);
        *ablk *= rho;
        for (int64_t i = 0; u && i < r0; ++i)
            u[i] *= rho;
        *mu = pm;
        st->raises++;
    }
}

#endif
