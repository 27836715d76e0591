/*
 * perturbed_rows.h -- the per-row sums of the 2k SPSA losses
 * (perturbed_rows.c, 8 rows at a time; perturbed.c forms the losses from
 * them).  Internal to the objective layer.
 */
#ifndef SMR_PERTURBED_ROWS_H
#define SMR_PERTURBED_ROWS_H

#include <stdint.h>

/* Over rows 0..m-1 (m >= 0) of one block and one direction, with ez =
 * e^(z - mu), a = the direction's logits A z_j, v = e^(eps a):
 *     u+ = ez v,  u- = ez / v,  c+- = u+- inv_at - b
 * out += [sum u+, sum u-, sum c+^2, sum c-^2, sum c+ b, sum c- b,
 *         sum (w (z + eps a))^2, sum (w (z - eps a))^2]
 * (the last two only when w is not NULL).  Each sum is kept in 8 lane
 * sums added in a fixed order: the result depends on m and the data only. */
void smr_pert_sums(int64_t m, const double *ez, const double *a,
                   const double *b, const double *w, const double *z,
                   double eps, double inv_at, double out[8]);

#endif
