/*
 * simd.h -- inline pieces shared by the hand-vectorized kernels (internal):
 * GCC's generic vector of SMR_VL doubles (vd), lane sums and maxima, and
 * the polynomial exp of vexp.c on it.
 *
 * Only for files compiled with -ffp-contract=fast (a*b+c -> FMA, see
 * src/CMakeLists.txt) and only inside functions given an x86-64-v3/v4
 * target attribute, where the vector loops become AVX2/AVX-512 code.  The
 * accuracy of expv is documented with vexp.c and tested through it.
 *
 * The width is one per translation unit: SMR_VL = 8 (64-byte vectors, the
 * AVX-512 level and the portable path) unless the file defines it as 4
 * first.  Each kernel file X.c is compiled twice: as itself, and at
 * SMR_VL = 4 through X_avx2.c (which defines SMR_VL and includes X.c) for
 * the AVX2 level.  Why: GCC 12 has no register mode for a 64-byte vector
 * in an x86-64-v3 function; it kept every such vector in memory and moved
 * lanes through general registers (in fused_rows.c's AVX2 code ~2700
 * element moves against ~400 in the AVX-512 code), and the AVX2 level ran
 * the one-pass loss+gradient at 2.2 to 12 times the time of reading A
 * (docs/benchmarks.md, "The AVX2 level").  32-byte vectors are AVX2's own.
 */
#ifndef SMR_SIMD_H
#define SMR_SIMD_H

#include "kernels.h" /* SMR_SIMD_X86 */

#include <stdint.h>
#include <string.h>

#ifndef SMR_VL
#define SMR_VL 8
#endif
#if SMR_VL != 8 && SMR_VL != 4
#error "SMR_VL: 8 or 4 doubles per vector"
#endif

typedef double vd __attribute__((vector_size(8 * SMR_VL))); /* GCC generic vector */
typedef int64_t vl __attribute__((vector_size(8 * SMR_VL)));
typedef uint64_t vu __attribute__((vector_size(8 * SMR_VL)));

static inline __attribute__((always_inline)) vd ldv(const double *p)
{
    vd v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void stv(double *p, vd v)
{
    memcpy(p, &v, sizeof v);
}

/* SMR_IN_REG(simd, a): a vector just loaded stays in a register for the
 * multiply-adds that use it.  An update that multiplies one strip of A by
 * three weights (G_c += W_c a) otherwise becomes, in GCC 12's code, three
 * FMAs that each load the strip again from memory (a memory operand):
 * 48 64-byte loads and 24 broadcasts per panel of 8 rows at d = 16, and
 * the load ports, not the FMAs, set the pace.  An empty asm that takes a
 * in a vector register ("+v") and so hides its origin keeps it to one
 * load and three FMAs on the register: the update loop alone (/tmp
 * driver, 64 rows of d = 16 in L1, AMD EPYC at AVX-512) ran at 9.1
 * cycles per row with the memory operands, 4.2 with the register.  The
 * values are the same; only where an operand is read from changes.
 *
 * Only where the vector is a register type: inside the x86-64-v3/v4
 * functions (simd != 0), which the optimizer's constant folding leaves as
 * the only code holding the asm.  Without optimization (-O0: the Debug
 * and sanitizer builds) the portable instantiation would still hold it,
 * and a 64-byte operand in an SSE2 function cannot take a register, so
 * there it is left out; clang (the fuzz build) takes no SIMD path. */
#if defined(SMR_SIMD_X86) && defined(__OPTIMIZE__)
#define SMR_IN_REG(simd, a)              \
    do {                                 \
        if (simd)                        \
            __asm__("" : "+v"(a));       \
    } while (0)
#else
#define SMR_IN_REG(simd, a) ((void)(simd))
#endif

/* m ? a : b lane by lane, m from a vector comparison (all ones or zero) */
static inline __attribute__((always_inline)) vd selv(vl m, vd a, vd b)
{
    return (vd)((m & (vl)a) | (~m & (vl)b));
}

/* SMR_VL vectors' lane sums by a transpose-and-add tree: lane r of the
 * result is the sum of a[r]'s lanes (fused_rows.c: a panel's dots;
 * fused_cols.c: SMR_VL columns' sums).  Pairs of neighbouring lanes are
 * added first, then pairs of pairs, ... (the same order at either width
 * for the first two levels). */
static inline __attribute__((always_inline)) vd hsumv(const vd a[SMR_VL])
{
    /* __builtin_shufflevector: GCC >= 12 and clang (the fuzz build) */
#if SMR_VL == 8
#define SMR_LO1(x, y) __builtin_shufflevector(x, y, 0, 8, 2, 10, 4, 12, 6, 14)
#define SMR_HI1(x, y) __builtin_shufflevector(x, y, 1, 9, 3, 11, 5, 13, 7, 15)
#define SMR_LO2(x, y) __builtin_shufflevector(x, y, 0, 1, 8, 9, 4, 5, 12, 13)
#define SMR_HI2(x, y) __builtin_shufflevector(x, y, 2, 3, 10, 11, 6, 7, 14, 15)
#define SMR_LO3(x, y) __builtin_shufflevector(x, y, 0, 1, 2, 3, 8, 9, 10, 11)
#define SMR_HI3(x, y) __builtin_shufflevector(x, y, 4, 5, 6, 7, 12, 13, 14, 15)
    vd t[4], q[2];
    for (int r = 0; r < 4; ++r) /* t[r] = [a2r a2r+1] pairs summed */
        t[r] = SMR_LO1(a[2 * r], a[2 * r + 1]) + SMR_HI1(a[2 * r], a[2 * r + 1]);
    for (int r = 0; r < 2; ++r)
        q[r] = SMR_LO2(t[2 * r], t[2 * r + 1]) + SMR_HI2(t[2 * r], t[2 * r + 1]);
    /* q0 = [r0 r1 r2 r3 | r0 r1 r2 r3] halves, q1 the same for rows 4..7 */
    return SMR_LO3(q[0], q[1]) + SMR_HI3(q[0], q[1]);
#else
    /* t0 = [a0 01, a1 01, a0 23, a1 23] (pair sums), t1 the same for a2, a3 */
    vd t0 = __builtin_shufflevector(a[0], a[1], 0, 4, 2, 6) +
            __builtin_shufflevector(a[0], a[1], 1, 5, 3, 7);
    vd t1 = __builtin_shufflevector(a[2], a[3], 0, 4, 2, 6) +
            __builtin_shufflevector(a[2], a[3], 1, 5, 3, 7);
    return __builtin_shufflevector(t0, t1, 0, 1, 4, 5) +
           __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
#endif
}

/* A lane permutation known at run time only, as 2 SMR_VL 32-bit indices
 * (each double's two halves): one vpermd at either width.  As a vector of
 * doubles with a 64-bit index GCC 12 rebuilt the 32-bit index at every
 * use at the AVX2 level (4 instructions per permutation). */
typedef int32_t vp __attribute__((vector_size(8 * SMR_VL)));

/* lane l of the result is lane s(l) of a, for idx = rotidx(..): the
 * one-pass kernels rotate lane sums that followed A's cache lines back to
 * the lanes of an aligned A (fused_rows.c, fused_cols.c) */
static inline __attribute__((always_inline)) vd permv(vd a, vp idx)
{
#if defined(__GNUC__) && !defined(__clang__)
    return (vd)__builtin_shuffle((vp)a, idx);
#else
    vp v = (vp)a, r;
    for (int l = 0; l < 2 * SMR_VL; ++l)
        r[l] = v[idx[l] & (2 * SMR_VL - 1)];
    return (vd)r;
#endif
}

/* the permv index that rotates by s (0 <= s < SMR_VL): lane l of the
 * result is lane (l + s) mod SMR_VL */
static inline __attribute__((always_inline)) vp rotidx(int64_t s)
{
    vp idx;
    for (int l = 0; l < SMR_VL; ++l) {
        int32_t src = (int32_t)((l + s) % SMR_VL);
        idx[2 * l] = 2 * src;
        idx[2 * l + 1] = 2 * src + 1;
    }
    return idx;
}

/* the lanes summed in a fixed order (pairs, then pairs of pairs) */
static inline __attribute__((always_inline)) double hsum_lanes(vd v)
{
#if SMR_VL == 8
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
#else
    return (v[0] + v[1]) + (v[2] + v[3]);
#endif
}

/* the largest lane (pairwise maxima; NaN lanes may be skipped, callers
 * test finiteness separately) */
static inline __attribute__((always_inline)) double max_lanes(vd mx)
{
    vd t;
#if SMR_VL == 8
    t = __builtin_shufflevector(mx, mx, 4, 5, 6, 7, 0, 1, 2, 3);
    mx = selv(t > mx, t, mx);
    t = __builtin_shufflevector(mx, mx, 2, 3, 0, 1, 6, 7, 4, 5);
    mx = selv(t > mx, t, mx);
    t = __builtin_shufflevector(mx, mx, 1, 0, 3, 2, 5, 4, 7, 6);
#else
    t = __builtin_shufflevector(mx, mx, 2, 3, 0, 1);
    mx = selv(t > mx, t, mx);
    t = __builtin_shufflevector(mx, mx, 1, 0, 3, 2);
#endif
    mx = selv(t > mx, t, mx);
    return mx[0];
}

/* a vector with every lane c */
static inline __attribute__((always_inline)) vd splatv(double c)
{
    vd v = {0};
    return v + c;
}

/* exp of SMR_VL doubles (vexp.c describes the method and its accuracy):
 *   x clamped to [-746, 710] (NaN stays NaN: both comparisons are false)
 *   k = round(x / ln 2) by adding 1.5 * 2^52, r = x - k ln2_hi - k ln2_lo,
 *   e^r by its degree-13 Taylor polynomial, times 2^k1 2^k2 (k1 = k >> 1).
 * The polynomial's evaluation order was Horner's (13 multiply-adds in
 * sequence, ~52 cycles); in the one-pass kernels the exp sits on each
 * panel's chain (dots -> exp -> weights -> update), and the shorter
 * chain below took one thread in cache from 5.0 to 4.3 ns per row at
 * d = 8, 6.4 to 5.8 at d = 16 and 8.9 to 7.9 at d = 32 (/tmp driver, 2048
 * rows, best of 7); max error unchanged (0.85 ulp, test_kernels). */
static inline __attribute__((always_inline)) vd expv(vd x)
{
    const vd lo = splatv(-746), hi = splatv(710);
    const double log2e = 0x1.71547652b82fep0;
    const double ln2hi = 0x1.62e42fefa3800p-1; /* 43 bits: k ln2hi exact */
    const double ln2lo = 0x1.ef35793c76730p-45;
    const double shifter = 0x1.8p52;
    x = selv(x < lo, lo, x);
    x = selv(x > hi, hi, x);
    vd kd = x * log2e + shifter;
    vd k = kd - shifter;
    vd r = x - k * ln2hi;
    r = r - k * ln2lo;
    /* e^r = 1 + r (1 + r Q(r)), Q = 1/2! + r/3! + .. + r^11/13!: the last
     * two steps Horner's (each one rounding, as in plain Horner), Q by
     * Estrin's scheme (pairs, then r^2 and r^4), whose extra roundings Q
     * carries into the result scaled by r^2 <= 0.12.  Latency: ~6 FMAs
     * in sequence instead of Horner's 13 */
    vd r2 = r * r, r4 = r2 * r2;
    vd q1 = r * (1.0 / 6.0) + 0.5, q2 = r * (1.0 / 120.0) + 1.0 / 24.0;
    vd q3 = r * (1.0 / 5040.0) + 1.0 / 720.0;
    vd q4 = r * (1.0 / 362880.0) + 1.0 / 40320.0;
    vd q5 = r * (1.0 / 39916800.0) + 1.0 / 3628800.0;
    vd q6 = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
    vd e0 = q2 * r2 + q1, e1 = q4 * r2 + q3, e2 = q6 * r2 + q5;
    vd p = (e2 * r4 + e1) * r4 + e0;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* 2^k as 2^k1 2^k2, k1 = floor(k / 2), k2 = k - k1 (each factor a
     * normal double for every k of the clamped range, -1077 .. 1025).
     * kd = 1.5 2^52 + k exactly, in one binade, so kd's bits are those of
     * 1.5 2^52 plus k; t = k + 2048 > 0 from them by one integer
     * subtraction, and with h = t / 2 = k1 + 1024 (a logical shift, t > 0):
     * k1 + 1023 = h - 1, k2 + 1023 = t - h - 1.  Only logical shifts: AVX2
     * has no 64-bit arithmetic shift, and GCC emulated the two that
     * sign-extending k took (3 instructions each).  The same k1 and k2,
     * so the same bits (vexp.c has the timings). */
    const vu t = (vu)kd - (0x4338000000000000ull - 2048);
    const vu h = t >> 1;
    vd s1 = (vd)((h - 1) << 52), s2 = (vd)((t - h - 1) << 52);
    return p * s1 * s2;
}

#endif
