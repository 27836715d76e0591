/*
 * fused_rows.h -- the one-pass loss+gradient's row-major inner loop
 * (fused_rows.c), its column-major twin (fused_cols.c) and the accumulator rescaling fused.c shares with it.
 * Internal to the objective layer.
 */
#ifndef SMR_FUSED_ROWS_H
#define SMR_FUSED_ROWS_H

#include "../kernels/kernels.h"

#include <stdbool.h>
#include <stdint.h>

#define SMR_FUSED_RESCALE 64.0 /* u <= e^64 before the shift is raised */

/* One thread's running state over its blocks. */
typedef struct smr_fused_acc {
    double mu;        /* the shift in force                         */
    bool have_mu;     /* false until the first panel sets mu        */
    double alpha;     /* sum of u at shift mu                       */
    double zmax;      /* largest logit seen                         */
    double fin;       /* 0, or NaN when a logit was NaN or infinite */
    double err1;      /* rounding bound of G1 from rescales, / eps   */
    int64_t raises;   /* shifts raised after the first (fused.c)   */
    double lean[4];   /* the lean pass's S1..S4 (fused_lanes.h)     */
    double *G;        /* d x 4, column-major: G1..G4 at shift mu    */
    double *Gb;       /* d x 4 scratch (one block's sums, rows)     */
    double *Gl;       /* d x 4 x 8 scratch (one block's lane sums,
                         columns: fused_cols.c)                     */
} smr_fused_acc;

/* Rows [i0, i0 + m) of row-major A: z (m) = the logits, u (m) = exp(z -
 * mu) at the block's final shift st->mu, and G += A_blk^T [u o (u - b -
 * s0), u o u, u, w o w o z] (4th column only when w), alpha += sum u.  b
 * and w point at the block's first row; w may be NULL.  m >= 1.  z and u
 * both NULL (the lean pass): nothing stored, st->lean += S1..S4 instead
 * (fused_lanes.h; meaningful only if no shift is raised). */
void smr_fused_rows(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                    const double *b, const double *w, double s0, double *z,
                    double *u, smr_fused_acc *st);

/* The logits alone (the forward pass, forward.c): z (m) = rows [i0, i0 +
 * m) of A times x, by the same dots as smr_fused_rows (the same bits);
 * st->zmax raised to their largest, st->fin NaN when one is NaN or
 * infinite.  st->G, Gb, Gl: scratch as for smr_fused_rows. */
void smr_fused_rows_z(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                      double *z, smr_fused_acc *st);

/* The gradient's product (gradient.c): st->G[0 .. d) += rows [i0, i0 + m)
 * of A, transposed, times r (m; the block's weights), by the one-pass
 * kernel's update with one column.  st->Gb, Gl: scratch. */
void smr_fused_rows_g(const smr_mat *A, int64_t i0, int64_t m, const double *r,
                      smr_fused_acc *st);

/* The same for column-major A (fused_cols.c). */
void smr_fused_cols(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                    const double *b, const double *w, double s0, double *z,
                    double *u, smr_fused_acc *st);

/* The logits alone for column-major A (forward.c): the same dots as
 * smr_fused_cols, so the same bits; st->zmax and st->fin as for
 * smr_fused_rows_z.  st's other fields are not touched. */
void smr_fused_cols_z(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                      double *z, smr_fused_acc *st);

/* One block's finishing sweep: f (m) *= sc in place, and out = [sum (f -
 * b)^2, sum (w o z)^2 (0 when w is NULL), sum f o (f - b)]. */
void smr_fused_finish_rows(int64_t m, double sc, double *f, const double *b,
                           const double *w, const double *z, double out[3]);

/* Accumulators taken at shift mu moved to shift mu' (rho = e^(mu - mu')):
 * G (d x 4 as above) and alpha.  Returns this rescale's rounding bound on
 * G1 over eps: rho |G1| + rho |rho - 1| |G2|; an earlier bound e becomes
 * rho e. */
double smr_fused_rescale(int64_t d, double rho, double *G, double *alpha);

/* The same with G's columns ldg apart (G1 at G, G2 at G + ldg, ...). */
double smr_fused_rescale_ld(int64_t d, int64_t ldg, double rho, double *G,
                            double *alpha);

#endif
