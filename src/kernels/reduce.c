/*
 * reduce.c -- reductions and finiteness scans used by the objective.
 *
 * Sums use pairwise (cascade) summation: error O(log n * eps) instead of
 * O(n * eps), which matters for the loss near the minimizer where it is a
 * sum of many tiny squares.  Every loop keeps 8 independent lanes (entry i
 * goes to lane i mod 8), combined in a fixed order at the end: the
 * compiler turns the lanes into vector registers without -ffast-math (no
 * reassociation is asked of it), and the result is the same on every run.
 * (The leaves were plain running sums before; GCC left them scalar, one
 * 4-cycle dependent add per entry -- ~1 ns per entry.)
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>

#define SMR_PAIRWISE_LEAF 128

#define SMR_LANES 8

/* the 8 lanes added in a fixed order */
static double lanes_sum(const double s[SMR_LANES])
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

bool smr_k_all_finite(int64_t n, const double *v)
{
    /* Accumulate v*0: it is 0 for finite entries and NaN for NaN/Inf, so a
     * single test at the end replaces a branch per entry. */
    double acc[SMR_LANES] = {0};
    int64_t i = 0;
    for (; i + SMR_LANES <= n; i += SMR_LANES)
        for (int r = 0; r < SMR_LANES; ++r)
            acc[r] += v[i + r] * 0.0;
    double a = lanes_sum(acc);
    for (; i < n; ++i)
        a += v[i] * 0.0;
    return a == 0.0;
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
    /* NaN entries are skipped (the comparison is false), except v[0],
     * which every lane starts from */
    double m[SMR_LANES];
    for (int r = 0; r < SMR_LANES; ++r)
        m[r] = v[0];
    int64_t i = 1;
    for (; i + SMR_LANES <= n; i += SMR_LANES)
        for (int r = 0; r < SMR_LANES; ++r)
            m[r] = v[i + r] > m[r] ? v[i + r] : m[r];
    double mx = m[0];
    for (int r = 1; r < SMR_LANES; ++r)
        mx = m[r] > mx ? m[r] : mx;
    for (; i < n; ++i)
        mx = v[i] > mx ? v[i] : mx;
    return mx;
}

double smr_k_sum(int64_t n, const double *v)
{
    if (n <= SMR_PAIRWISE_LEAF) {
        double s[SMR_LANES] = {0};
        int64_t i = 0;
        for (; i + SMR_LANES <= n; i += SMR_LANES)
            for (int r = 0; r < SMR_LANES; ++r)
                s[r] += v[i + r];
        double t = lanes_sum(s);
        for (; i < n; ++i)
            t += v[i];
        return t;
    }
    int64_t h = n / 2;
    return smr_k_sum(h, v) + smr_k_sum(n - h, v + h);
}

double smr_k_sumsq(int64_t n, const double *v)
{
    if (n <= SMR_PAIRWISE_LEAF) {
        double s[SMR_LANES] = {0};
        int64_t i = 0;
        for (; i + SMR_LANES <= n; i += SMR_LANES)
            for (int r = 0; r < SMR_LANES; ++r)
                s[r] += v[i + r] * v[i + r];
        double t = lanes_sum(s);
        for (; i < n; ++i)
            t += v[i] * v[i];
        return t;
    }
    int64_t h = n / 2;
    return smr_k_sumsq(h, v) + smr_k_sumsq(n - h, v + h);
}

double smr_k_dot(int64_t n, const double *u, const double *v)
{
    return cblas_ddot((blasint)n, u, 1, v, 1);
}
