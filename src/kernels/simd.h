/*
 * simd.h -- inline pieces shared by the hand-vectorized kernels (internal):
 * GCC's generic 8-double vector and the polynomial exp of vexp.c on it.
 *
 * Only for files compiled with -ffp-contract=fast (a*b+c -> FMA, see
 * src/CMakeLists.txt) and only inside functions given an x86-64-v3/v4
 * target attribute, where the vector loops become AVX2/AVX-512 code.  The
 * accuracy of exp8 is documented with vexp.c and tested through it.
 */
#ifndef SMR_SIMD_H
#define SMR_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SMR_SIMD_X86 1
#endif

typedef double v8d __attribute__((vector_size(64))); /* GCC generic vector */

static inline __attribute__((always_inline)) v8d ld8(const double *p)
{
    v8d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void st8(double *p, v8d v)
{
    memcpy(p, &v, sizeof v);
}

typedef int64_t v8l __attribute__((vector_size(64)));
typedef uint64_t v8u __attribute__((vector_size(64)));

/* m ? a : b lane by lane, m from a vector comparison (all ones or zero) */
static inline __attribute__((always_inline)) v8d sel8(v8l m, v8d a, v8d b)
{
    return (v8d)((m & (v8l)a) | (~m & (v8l)b));
}

/* exp of 8 doubles (vexp.c describes the method and its accuracy):
 *   x clamped to [-746, 710] (NaN stays NaN: both comparisons are false)
 *   k = round(x / ln 2) by adding 1.5 * 2^52, r = x - k ln2_hi - k ln2_lo,
 *   e^r by its degree-13 Taylor polynomial, times 2^k1 2^k2 (k1 = k >> 1). */
static inline __attribute__((always_inline)) v8d exp8(v8d x)
{
    const v8d lo = {-746, -746, -746, -746, -746, -746, -746, -746};
    const v8d hi = {710, 710, 710, 710, 710, 710, 710, 710};
    const double log2e = 0x1.71547652b82fep0;
    const double ln2hi = 0x1.62e42fefa3800p-1; /* 43 bits: k ln2hi exact */
    const double ln2lo = 0x1.ef35793c76730p-45;
    const double shifter = 0x1.8p52;
    x = sel8(x < lo, lo, x);
    x = sel8(x > hi, hi, x);
    v8d kd = x * log2e + shifter;
    v8d k = kd - shifter;
    v8d r = x - k * ln2hi;
    r = r - k * ln2lo;
    v8d p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0; /* 1/13!, 1/12! */
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* k sits in the low 52 bits of kd's significand, two's complement */
    v8l ki = ((v8l)kd << 12) >> 12;
    v8l k1 = ki >> 1, k2 = ki - k1;
    v8d s1 = (v8d)((v8u)(k1 + 1023) << 52), s2 = (v8d)((v8u)(k2 + 1023) << 52);
    return p * s1 * s2;
}

#endif
