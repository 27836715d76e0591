/*
 * softmax.c -- the numerically stable softmax.
 *
 *     m = max_i z_i,   u_i = exp(z_i - m),   alpha = sum_i u_i,   f = u / alpha
 *
 * Because the largest u_i is exp(0) = 1 and every u_i is in [0, 1],
 * 1 <= alpha <= n: nothing overflows, and f is finite for any finite z,
 * however large (|z| of 1e4 or 1e300).  z_i - m may round to -inf when z
 * spans more than the double range; exp(-inf) = 0 is then the right limit.
 */
#include "kernels.h"

#include <math.h>

double smr_k_softmax(int64_t n, const double *z, double *f, double *lse)
{
    double m = smr_k_max(n, z);
    smr_k_exp_shift(n, z, m, f);
    double alpha = smr_k_sum(n, f);
    double inv = 1.0 / alpha;
    for (int64_t i = 0; i < n; ++i)
        f[i] *= inv;
    if (lse)
        *lse = m + log(alpha);
    return alpha;
}
