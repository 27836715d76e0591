/*
 * vexp.c -- exp over a vector, vectorized:  out_i = exp(z_i - shift).
 *
 * The softmax of n logits costs one exp per row; for small d that is more
 * than reading the row of A (glibc's scalar exp: ~6 ns, against ~4 ns to
 * stream a 16-double row on two cores).  glibc's vector exp (libmvec) is
 * reachable from C only through -ffast-math declarations, which this
 * project forbids, or through its x86-only mangled vector-ABI names, so
 * the kernel is written here, in plain C that GCC vectorizes:
 *
 *   x = z - shift, clamped to [-746, 710] (NaN passes through the clamps)
 *   k = round(x / ln 2)           -- by adding 1.5 * 2^52 (no conversion,
 *                                    so no undefined behaviour on NaN)
 *   r = x - k ln2_hi - k ln2_lo   -- Cody-Waite: k ln2_hi is exact,
 *                                    |r| <= ln 2 / 2
 *   e^r = sum_{j<=13} r^j / j!    -- truncation < 0.35^14/14! = 4e-18
 *   exp(x) = e^r * 2^k1 * 2^k2,   k1 = floor(k/2), k2 = k - k1,
 *                                    both in the normal exponent range for
 *                                    every clamped x, so 2^k never needs a
 *                                    subnormal scale factor and results
 *                                    underflow gradually, like libm's.
 *
 * Accuracy (tests/test_kernels.c, against expl over [-708, 709]): < 1.5 ulp
 * in the AVX2/AVX-512 versions (measured max 0.85 ulp at -O3, 1.13 ulp in
 * the unoptimized sanitizer build, which rounds in a different order).  The vectorized
 * versions are compiled for x86-64-v3 (AVX2 + FMA) and x86-64-v4
 * (AVX-512) and picked at run time; other CPUs and architectures use
 * glibc's scalar exp (faster there than the polynomial without FMA).
 * Results are deterministic on a given machine; they may differ in the
 * last bit between the vector and the libm path.
 */
#include "kernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SMR_VEXP_X86 1
static inline __attribute__((always_inline)) double exp_poly(double x)
{
    const double log2e = 0x1.71547652b82fep0;
    const double ln2hi = 0x1.62e42fefa3800p-1; /* 43 bits: k ln2hi exact */
    const double ln2lo = 0x1.ef35793c76730p-45;
    const double shifter = 0x1.8p52;
    x = x < -746.0 ? -746.0 : x;
    x = x > 710.0 ? 710.0 : x;
    double kd = x * log2e + shifter;
    double k = kd - shifter;
    double r = x - k * ln2hi;
    r = r - k * ln2lo;
    double p = 1.0 / 6227020800.0; /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
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
    uint64_t kb;
    memcpy(&kb, &kd, sizeof kb);
    int64_t ki = (int64_t)(kb << 12) >> 12;
    int64_t k1 = ki >> 1, k2 = ki - k1;
    uint64_t b1 = (uint64_t)(k1 + 1023) << 52, b2 = (uint64_t)(k2 + 1023) << 52;
    double s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return p * s1 * s2;
}

/* The same loop compiled for two instruction sets; vexp.c is built with
 * -ffp-contract=fast so that a*b+c becomes one FMA in both. */
__attribute__((target("arch=x86-64-v4"))) static void
exp_v4(int64_t n, const double *z, double shift, double *out)
{
    for (int64_t i = 0; i < n; ++i)
        out[i] = exp_poly(z[i] - shift);
}

__attribute__((target("arch=x86-64-v3"))) static void
exp_v3(int64_t n, const double *z, double shift, double *out)
{
    for (int64_t i = 0; i < n; ++i)
        out[i] = exp_poly(z[i] - shift);
}
#endif

static void exp_libm(int64_t n, const double *z, double shift, double *out)
{
    for (int64_t i = 0; i < n; ++i)
        out[i] = exp(z[i] - shift);
}

int smr_k_simd_level(void)
{
#ifdef SMR_VEXP_X86
    /* the whole ISA level each version was compiled for, not just its
     * vector extension: the compiler may use BMI2, MOVBE, ... anywhere */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        return 2;
    if (__builtin_cpu_supports("x86-64-v3"))
        return 1;
#endif
    return 0;
}

void smr_k_exp_shift(int64_t n, const double *z, double shift, double *out)
{
#ifdef SMR_VEXP_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        exp_v4(n, z, shift, out);
        return;
    }
    if (path == 1) {
        exp_v3(n, z, shift, out);
        return;
    }
#endif
    exp_libm(n, z, shift, out);
}
