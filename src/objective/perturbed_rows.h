/*
 * perturbed_rows.h -- the per-block sums of the 2k SPSA losses
 * (perturbed_rows.c; perturbed.c forms the losses from them).  Internal to
 * the objective layer.
 */
#ifndef SMR_PERTURBED_ROWS_H
#define SMR_PERTURBED_ROWS_H

#include <stdint.h>

/* Over rows 0..m-1 (m >= 0) of one block, A(i, c) at A[i rs + c cs]
 * (row-major: rs = ld, cs = 1; column-major: rs = 1, cs = ld), and the
 * directions j < kp (kp = smr_k_padded(k), kernels.h) held as Zr (d x kp,
 * row-major: Zr[c kp + j] = Z(c, j), zero columns past k):
 *     a = eps A_i Zr,  v = e^a,  u+ = ez v,  u- = ez / v,
 *     c+- = u+- inv_at - b
 * and per direction j, S[q kp + j] +=
 *     q = 0..7: sum u+, sum u-, sum c+^2, sum c-^2, sum c+ b, sum c- b,
 *               sum (w (z + a))^2, sum (w (z - a))^2
 * (q = 6, 7 only when w is not NULL).  Each sum runs over the block's
 * rows in order in its own lane and is then added to S: the result
 * depends on the data and m only. */
void smr_pert_block(int64_t m, int64_t d, const double *A, int64_t rs,
                    int64_t cs, const double *Zr, int64_t kp, const double *ez,
                    const double *b, const double *w, const double *z,
                    double eps, double inv_at, double *S);

#endif
