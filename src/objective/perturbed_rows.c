/*
 * perturbed_rows.c -- the inner loop of the SPSA losses (perturbed.c,
 * docs/math.md section 6): per row and direction one exp, a product, a
 * quotient and six sums, SMR_VL rows at a time in GCC vector types
 * (simd.h; 8, or 4 in the AVX2 level's compilation, perturbed_rows_avx2.c).
 *
 * Written as a plain loop the six running sums are scalar dependency
 * chains (the compiler may not reassociate them without -ffast-math) and
 * the quotient is scalar: at d = 10 that loop was a third of an SPSA step
 * (perf, n = 10^5, k = 16).  Here every sum has SMR_VL lane sums, added in a
 * fixed order at the end, so results are reproducible.
 *
 * A partial last group is read into zeroed lanes: ez = 0, a = 0 and b = 0
 * there give u+ = u- = 0 and c+- = 0, so those lanes add nothing (w = 0
 * likewise for the weighted sums).
 */
#include "perturbed_rows.h"
#include "../kernels/kernels.h"
#include "../kernels/simd.h"

#include <math.h>

/* the AVX2 level's loop, in perturbed_rows_avx2.c (this file at SMR_VL = 4) */
void smr_pert_sums_v3(int64_t m, const double *ez, const double *a,
                      const double *b, const double *w, const double *z,
                      double eps, double inv_at, double out[8]);

/* SMR_VL values from p, or cnt of them and zeros */
static inline __attribute__((always_inline)) vd ld_part(const double *p, int cnt)
{
    if (cnt == SMR_VL)
        return ldv(p);
    vd v = {0};
    for (int r = 0; r < cnt; ++r)
        v[r] = p[r];
    return v;
}

/*
 * e^x and e^-x for |x| <= 1/16 without a range reduction or a quotient:
 * with q = x^2,
 *     E = 1 + q/2! + q^2/4! + q^3/6! + q^4/8!,
 *     O = x (1 + q/3! + q^2/5! + q^3/7! + q^4/9!),
 *     e^x = E + O,  e^-x = E - O,
 * truncation below x^10/10! < 2.6e-19 (relative, as E - O >= 0.93).
 * SPSA's perturbations move a logit by eps a ~ 1e-4 by default (spsa.c),
 * so this path is the rule; a block (of one direction) with any |x|
 * above 1/16 is redone with expv and the quotient, as before.  Per 8 (row, direction) pairs
 * it replaced one exp and one division, most of the loop's time: figures
 * in docs/benchmarks.md, section "SPSA step".
 */
static inline __attribute__((always_inline)) void
exp_pm_small(vd x, vd *ep, vd *em)
{
    vd q = x * x;
    vd E = 1.0 + q * (1.0 / 2 + q * (1.0 / 24 + q * (1.0 / 720 + q * (1.0 / 40320))));
    vd O = x * (1.0 + q * (1.0 / 6 + q * (1.0 / 120 + q * (1.0 / 5040 + q * (1.0 / 362880)))));
    *ep = E + O;
    *em = E - O;
}

/* The sums over rows 0 .. m - 1 into S; poly: e^(+-eps a) by exp_pm_small
 * for every vector, returning the largest |eps a| seen (NaN lanes are
 * skipped by the maximum, but make the sums NaN, which the caller treats
 * as a loss to recompute); otherwise expv (simd) or exp, and a quotient */
static inline __attribute__((always_inline)) double
sums_loop(int simd, int poly, int64_t m, const double *ez, const double *a,
          const double *b, const double *w, const double *z, double eps,
          double inv_at, vd S[8])
{
    vd amax = {0};
    for (int64_t i = 0; i < m; i += SMR_VL) {
        int cnt = m - i < SMR_VL ? (int)(m - i) : SMR_VL;
        vd e = ld_part(ez + i, cnt), av = ld_part(a + i, cnt) * eps;
        vd bv = ld_part(b + i, cnt), v, up, um;
        if (poly) {
            vd ax = selv(av < 0.0, -av, av), ep, em;
            amax = selv(ax > amax, ax, amax);
            exp_pm_small(av, &ep, &em);
            up = e * ep;
            um = e * em;
        } else {
            if (simd) {
                v = expv(av);
            } else {
                for (int r = 0; r < SMR_VL; ++r)
                    v[r] = exp(av[r]);
            }
            up = e * v;
            um = e / v;
        }
        vd cp = up * inv_at - bv, cm = um * inv_at - bv;
        S[0] += up;
        S[1] += um;
        S[2] += cp * cp;
        S[3] += cm * cm;
        S[4] += cp * bv;
        S[5] += cm * bv;
        if (w) {
            vd wv = ld_part(w + i, cnt), zv = ld_part(z + i, cnt);
            vd wp = wv * (zv + av), wm = wv * (zv - av);
            S[6] += wp * wp;
            S[7] += wm * wm;
        }
    }
    return poly ? max_lanes(amax) : 0.0;
}

/* the block by the polynomial (SIMD levels), redone with the exponential
 * when some |eps a| exceeds its range */
static inline __attribute__((always_inline)) void
sums_body(int simd, int64_t m, const double *ez, const double *a,
          const double *b, const double *w, const double *z, double eps,
          double inv_at, double out[8])
{
    vd S[8] = {{0}};
    if (!simd || sums_loop(simd, 1, m, ez, a, b, w, z, eps, inv_at, S) > 0.0625) {
        for (int q = 0; q < 8; ++q)
            S[q] = (vd){0};
        sums_loop(simd, 0, m, ez, a, b, w, z, eps, inv_at, S);
    }
    for (int q = 0; q < 8; ++q)
        out[q] += hsum_lanes(S[q]);
}

#ifdef SMR_SIMD_X86
#if SMR_VL == 4
__attribute__((target("arch=x86-64-v3"))) void
smr_pert_sums_v3(int64_t m, const double *ez, const double *a, const double *b,
                 const double *w, const double *z, double eps, double inv_at,
                 double out[8])
{
    sums_body(1, m, ez, a, b, w, z, eps, inv_at, out);
}
#else
__attribute__((target("arch=x86-64-v4"))) static void
sums_v4(int64_t m, const double *ez, const double *a, const double *b,
        const double *w, const double *z, double eps, double inv_at, double out[8])
{
    sums_body(1, m, ez, a, b, w, z, eps, inv_at, out);
}
#endif
#endif

#if SMR_VL == 8 /* the dispatch (and the portable loop) once */
void smr_pert_sums(int64_t m, const double *ez, const double *a,
                   const double *b, const double *w, const double *z,
                   double eps, double inv_at, double out[8])
{
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        sums_v4(m, ez, a, b, w, z, eps, inv_at, out);
        return;
    }
    if (path == 1) {
        smr_pert_sums_v3(m, ez, a, b, w, z, eps, inv_at, out);
        return;
    }
#endif
    sums_body(0, m, ez, a, b, w, z, eps, inv_at, out);
}
#endif
