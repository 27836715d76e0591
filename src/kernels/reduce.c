/*
 * reduce.c -- reductions and finiteness scans used by the objective.
 *
 * Sums use pairwise (cascade) summation: error O(log n * eps) instead of
 * O(n * eps), which matters for the loss near the minimizer where it is a
 * sum of many tiny squares.  The leaf loops are plain loops the compiler
 * vectorises at -O2/-O3 without -ffast-math (no reassociation is needed
 * because the leaf order is fixed and deterministic).
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>

#define SMR_PAIRWISE_LEAF 128

bool smr_k_all_finite(int64_t n, const double *v)
{
    /* Accumulate v*0: it is 0 for finite entries and NaN for NaN/Inf, so a
     * single test at the end replaces a branch per entry. */
    double acc = 0.0;
    for (int64_t i = 0; i < n; ++i)
        acc += v[i] * 0.0;
    return acc == 0.0;
}

bool smr_k_mat_all_finite(const smr_mat *m)
{
    int64_t outer = m->row_major ? m->n : m->d;
    int64_t inner = m->row_major ? m->d : m->n;
    for (int64_t o = 0; o < outer; ++o)
        if (!smr_k_all_finite(inner, m->a + o * m->ld))
            return false;
    return true;
}

double smr_k_max(int64_t n, const double *v)
{
    double m = v[0];
    for (int64_t i = 1; i < n; ++i)
        m = v[i] > m ? v[i] : m;
    return m;
}

double smr_k_sum(int64_t n, const double *v)
{
    if (n <= SMR_PAIRWISE_LEAF) {
        double s = 0.0;
        for (int64_t i = 0; i < n; ++i)
            s += v[i];
        return s;
    }
    int64_t h = n / 2;
    return smr_k_sum(h, v) + smr_k_sum(n - h, v + h);
}

double smr_k_sumsq(int64_t n, const double *v)
{
    if (n <= SMR_PAIRWISE_LEAF) {
        double s = 0.0;
        for (int64_t i = 0; i < n; ++i)
            s += v[i] * v[i];
        return s;
    }
    int64_t h = n / 2;
    return smr_k_sumsq(h, v) + smr_k_sumsq(n - h, v + h);
}

double smr_k_dot(int64_t n, const double *u, const double *v)
{
    return cblas_ddot((blasint)n, u, 1, v, 1);
}
