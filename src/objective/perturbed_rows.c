/*
 * perturbed_rows.c -- the inner loop of the SPSA losses (perturbed.c;
 * docs/math.md, "SPSA's 2k losses in one pass"): for each row of a block,
 * its logits' moves a = eps A_i Z in all k directions, then per direction
 * one e^(+-a), a product and six sums, in GCC vector types (simd.h; 8
 * doubles per vector, or 4 in the AVX2 level's compilation,
 * perturbed_rows_avx2.c).
 *
 * The lanes hold directions, not rows: row i's k moves are sum_c
 * A(i, c) Zr[c, :], a broadcast of A(i, c) times a row of Zr, and each
 * direction's sums over the rows stay in its own lane -- no transpose of
 * A, no horizontal sum, and A Z is used where it is formed.  Directions go
 * NV vectors at a time (16 at the AVX-512 level); more directions re-read
 * the block's rows of A from cache.  RB = 4 rows share each load of Zr
 * (the loop that forms the moves is kernels/moves.h, shared with the
 * leverage scores' kernels/rownorms.c).
 * A(i, c) is read as a scalar broadcast at A[i rs + c cs], so column-major
 * A needs no copy: its block's d column stretches are read in place (a
 * copy of each block into a row-major buffer first cost 20.8 ms against
 * 13.3 for this at n = 10^6, d = 16, k = 16, and 6.6 against 4.4 at
 * n = 10^4, d = 1000; row-major A: 8.3-8.6 either way).
 *
 * Measured (/tmp driver, the whole pass on 2 threads, median of 21, AMD
 * EPYC Zen 5): at n = 10^6, d = 16, k = 16 the pass took 20 ms with A Z
 * by a one-thread dgemm per block (OpenBLAS ran these shapes at ~24
 * GFLOP/s per thread, 21 ms for A Z alone on one), 11.0 / 10.1 / 8.7 ms
 * with this loop at RB = 1 / 2 / 4; at n = 10^4, d = 1000, k = 64 the
 * per-block dgemm with this loop's sums took 17.2 ms, this loop 40.3 /
 * 24.9 / 13.8.  Up to 0a9f8ce the lanes held rows and A Z was one n x k
 * dgemm, stored (docs/benchmarks.md, "SPSA step").
 *
 * Padding directions (columns of Zr past k, zero) give a = 0 and sums of
 * their own lanes, which the caller ignores.
 */
#include "perturbed_rows.h"
#include "../kernels/kernels.h"
#include "../kernels/simd.h"
#include "../kernels/moves.h"

#include <math.h>

/* the AVX2 level's loop, in perturbed_rows_avx2.c (this file at SMR_VL = 4) */
void smr_pert_block_v3(int64_t m, int64_t d, const double *A, int64_t rs,
                       int64_t cs, const double *Zr, int64_t kp, const double *ez,
                       const double *b, const double *w, const double *z,
                       double eps, double inv_at, double *S);

#define NV SMR_MOVES_NV /* vectors of directions per group */
#define RB 4 /* rows whose moves are formed together */

/*
 * e^x and e^-x for |x| <= 1/16 without a range reduction or a quotient:
 * with q = x^2,
 *     E = 1 + q/2! + q^2/4! + q^3/6! + q^4/8!,
 *     O = x (1 + q/3! + q^2/5! + q^3/7! + q^4/9!),
 *     e^x = E + O,  e^-x = E - O,
 * truncation below x^10/10! < 2.6e-19 (relative, as E - O >= 0.93).
 * SPSA's perturbations move a logit by eps a ~ 1e-4 by default (spsa.c),
 * so this path is the rule; a group of directions with any |x| above 1/16
 * in the block is redone with expv and the quotient.  Per 8 (row,
 * direction) pairs it replaced one exp and one division, most of the
 * loop's time: figures in docs/benchmarks.md, section "SPSA step".
 *
 * Where every |x| of the group is at most 2^-10 (the rule at the default
 * eps: 4.3 standard deviations of a move of 1e-4 is 4.3e-4), the same
 * series stop at q^2: truncation below x^6/6! < 1.3e-21 (relative); the
 * group is tried so first and redone at the full degree where some |x| is
 * larger (exp_pm_tiny).  The range is tracked on q = x^2, which both need
 * anyway (a compare and a blend per vector, where |x| and its maximum
 * took five operations).
 */
static inline __attribute__((always_inline)) void
exp_pm_tiny(vd x, vd q, vd *ep, vd *em)
{
    vd E = 1.0 + q * (1.0 / 2 + q * (1.0 / 24));
    vd O = x * (1.0 + q * (1.0 / 6 + q * (1.0 / 120)));
    *ep = E + O;
    *em = E - O;
}
#define SMR_PERT_TINY_Q 0x1p-20 /* |x| <= 2^-10 */
#define SMR_PERT_SMALL_Q 0x1p-8 /* |x| <= 1/16 */
static inline __attribute__((always_inline)) void
exp_pm_small(vd x, vd q, vd *ep, vd *em)
{
    vd E = 1.0 + q * (1.0 / 2 + q * (1.0 / 24 + q * (1.0 / 720 + q * (1.0 / 40320))));
    vd O = x * (1.0 + q * (1.0 / 6 + q * (1.0 / 120 + q * (1.0 / 5040 + q * (1.0 / 362880)))));
    *ep = E + O;
    *em = E - O;
}

/* the sums of one row i given its moves a = A_i Zr (nv vectors; scaled by
 * eps here); poly: 2 exp_pm_tiny, 1 exp_pm_small (both keep the largest
 * x^2 in *qmax), 0 expv or exp and a quotient */
static inline __attribute__((always_inline)) void
row_sums(int simd, int poly, int nv, int64_t i, const vd *a, const double *ez,
         const double *b, const double *w, const double *z, double eps,
         double inv_at, vd S[8][NV], vd *qmax)
{
    vd e = splatv(ez[i]), bv = splatv(b[i]);
    for (int v = 0; v < nv; ++v) {
        vd av = a[v] * eps, up, um;
        if (poly) {
            vd q = av * av, ep, em;
            *qmax = selv(q > *qmax, q, *qmax);
            if (poly == 2)
                exp_pm_tiny(av, q, &ep, &em);
            else
                exp_pm_small(av, q, &ep, &em);
            up = e * ep;
            um = e * em;
        } else {
            vd ex;
            if (simd) {
                ex = expv(av);
            } else {
                for (int r = 0; r < SMR_VL; ++r)
                    ex[r] = exp(av[r]);
            }
            up = e * ex;
            um = e / ex;
        }
        vd cp = up * inv_at - bv, cm = um * inv_at - bv;
        S[0][v] += up;
        S[1][v] += um;
        S[2][v] += cp * cp;
        S[3][v] += cm * cm;
        S[4][v] += cp * bv;
        S[5][v] += cm * bv;
        if (w) {
            vd wv = splatv(w[i]), zv = splatv(z[i]);
            vd wp = wv * (zv + av), wm = wv * (zv - av);
            S[6][v] += wp * wp;
            S[7][v] += wm * wm;
        }
    }
}

/* One group of nv vectors of directions (Zr at the group's first
 * column) over the block's rows, sums into S[8][NV]; poly 2 or 1: e^(+-a)
 * by exp_pm_tiny or exp_pm_small, returning the largest a^2 seen (NaN
 * lanes are skipped by the maximum but make the sums NaN, which the caller
 * treats as a loss to recompute); poly 0: expv (simd) or exp, and a
 * quotient. */
static inline __attribute__((always_inline)) double
group_loop(int simd, int poly, int nv, int64_t m, int64_t d, const double *A,
           int64_t rs, int64_t cs, const double *Zr, int64_t kp,
           const double *ez, const double *b, const double *w, const double *z,
           double eps, double inv_at, vd S[8][NV])
{
    vd qmax = {0}, a[RB][NV];
    int64_t i = 0;
    for (; i + RB <= m; i += RB) {
        smr_moves(RB, nv, i, d, A, rs, cs, Zr, kp, a);
        for (int r = 0; r < RB; ++r)
            row_sums(simd, poly, nv, i + r, a[r], ez, b, w, z, eps, inv_at, S,
                     &qmax);
    }
    for (; i < m; ++i) {
        smr_moves(1, nv, i, d, A, rs, cs, Zr, kp, a);
        row_sums(simd, poly, nv, i, a[0], ez, b, w, z, eps, inv_at, S, &qmax);
    }
    return poly ? max_lanes(qmax) : 0.0;
}

/* one group by the short series (SIMD levels), redone by the longer one
 * or the exponential when some |a| exceeds its range; its sums added into
 * S */
static inline __attribute__((always_inline)) void
group_body(int simd, int nv, int64_t m, int64_t d, const double *A,
           int64_t rs, int64_t cs, const double *Zr, int64_t kp,
           const double *ez, const double *b, const double *w, const double *z,
           double eps, double inv_at, double *S)
{
    vd G[8][NV];
    for (int q = 0; q < 8; ++q)
        for (int v = 0; v < NV; ++v)
            G[q][v] = (vd){0};
    double q2 = simd ? group_loop(simd, 2, nv, m, d, A, rs, cs, Zr, kp, ez, b,
                                  w, z, eps, inv_at, G)
                     : INFINITY;
    if (q2 > SMR_PERT_TINY_Q) {
        for (int q = 0; q < 8; ++q)
            for (int v = 0; v < NV; ++v)
                G[q][v] = (vd){0};
        if (q2 > SMR_PERT_SMALL_Q ||
            group_loop(simd, 1, nv, m, d, A, rs, cs, Zr, kp, ez, b, w, z, eps,
                       inv_at, G) > SMR_PERT_SMALL_Q) {
            for (int q = 0; q < 8; ++q)
                for (int v = 0; v < NV; ++v)
                    G[q][v] = (vd){0};
            group_loop(simd, 0, nv, m, d, A, rs, cs, Zr, kp, ez, b, w, z, eps,
                       inv_at, G);
        }
    }
    for (int q = 0; q < 8; ++q)
        for (int v = 0; v < nv; ++v)
            stv(S + q * kp + v * SMR_VL, ldv(S + q * kp + v * SMR_VL) + G[q][v]);
}

static inline __attribute__((always_inline)) void
block_body(int simd, int64_t m, int64_t d, const double *A, int64_t rs,
           int64_t cs, const double *Zr, int64_t kp, const double *ez,
           const double *b, const double *w, const double *z, double eps,
           double inv_at, double *S)
{
    int64_t j = 0;
    for (; j + NV * SMR_VL <= kp; j += NV * SMR_VL)
        group_body(simd, NV, m, d, A, rs, cs, Zr + j, kp, ez, b, w, z, eps,
                   inv_at, S + j);
    for (; j < kp; j += SMR_VL)
        group_body(simd, 1, m, d, A, rs, cs, Zr + j, kp, ez, b, w, z, eps,
                   inv_at, S + j);
}

#ifdef SMR_SIMD_X86
#if SMR_VL == 4
__attribute__((target("arch=x86-64-v3"))) void
smr_pert_block_v3(int64_t m, int64_t d, const double *A, int64_t rs,
                  int64_t cs, const double *Zr, int64_t kp, const double *ez,
                  const double *b, const double *w, const double *z,
                  double eps, double inv_at, double *S)
{
    block_body(1, m, d, A, rs, cs, Zr, kp, ez, b, w, z, eps, inv_at, S);
}
#else
__attribute__((target("arch=x86-64-v4"))) static void
block_v4(int64_t m, int64_t d, const double *A, int64_t rs, int64_t cs,
         const double *Zr, int64_t kp, const double *ez, const double *b,
         const double *w, const double *z, double eps, double inv_at,
         double *S)
{
    block_body(1, m, d, A, rs, cs, Zr, kp, ez, b, w, z, eps, inv_at, S);
}
#endif
#endif

#if SMR_VL == 8 /* the dispatch (and the portable loop) once */
void smr_pert_block(int64_t m, int64_t d, const double *A, int64_t rs,
                    int64_t cs, const double *Zr, int64_t kp, const double *ez,
                    const double *b, const double *w, const double *z,
                    double eps, double inv_at, double *S)
{
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        block_v4(m, d, A, rs, cs, Zr, kp, ez, b, w, z, eps, inv_at, S);
        return;
    }
    if (path == 1) {
        smr_pert_block_v3(m, d, A, rs, cs, Zr, kp, ez, b, w, z, eps, inv_at, S);
        return;
    }
#endif
    block_body(0, m, d, A, rs, cs, Zr, kp, ez, b, w, z, eps, inv_at, S);
}
#endif
