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
 *   e^r = sum_{j<=13} r^j / j!    -- truncation < 0.35^14/14! = 4e-18;
 *                                    evaluated as 1 + r (1 + r Q(r)) with
 *                                    Q by Estrin's scheme (simd.h): ~6
 *                                    multiply-adds in sequence, not 13
 *   exp(x) = e^r * 2^k1 * 2^k2,   k1 = floor(k/2), k2 = k - k1,
 *                                    both in the normal exponent range for
 *                                    every clamped x, so 2^k never needs a
 *                                    subnormal scale factor and results
 *                                    underflow gradually, like libm's;
 *                                    k1 and k2 come from kd's bits by
 *                                    integer subtraction and logical
 *                                    shifts (simd.h), which AVX2 has.
 *
 * Throughput (one thread, 4096 values in cache, best of 200, /tmp driver
 * calling smr_k_exp_shift): 0.60 ns per value at the AVX-512 level and
 * 1.12 at AVX2 when k1 and k2 were formed by arithmetic shifts (GCC
 * emulates the 64-bit one at AVX2 with three instructions), 0.585 and
 * 1.03-1.04 now; the same bits at all three levels over 3 10^6 arguments
 * (a ramp over [-760, 720], random doubles, NaN, +-Inf, the extremes).
 *
 * Accuracy (tests/test_kernels.c, against expl over [-708, 709]): < 1.5 ulp
 * in the AVX2/AVX-512 versions (measured max 0.85 ulp at -O3, 1.13 ulp in
 * the unoptimized sanitizer build, which rounds in a different order).  The vectorized
 * versions are compiled for x86-64-v3 (AVX2 + FMA) and x86-64-v4
 * (AVX-512) and picked at run time (smr_k_simd_level, below; the
 * environment can cap it for tests); other CPUs and architectures use
 * glibc's scalar exp (faster there than the polynomial without FMA).
 * Results are deterministic on a given machine; they may differ in the
 * last bit between the vector and the libm path.
 */
#include "kernels.h"
#include "simd.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef SMR_SIMD_X86
#define SMR_VEXP_X86 1
/* the AVX2 level's loop, in vexp_avx2.c (this file at SMR_VL = 4) */
void smr_k_exp_v3(int64_t n, const double *z, double shift, double *out);

/* SMR_VL at a time (simd.h), the last n mod SMR_VL through a padded vector */
static inline __attribute__((always_inline)) void
exp_loop(int64_t n, const double *z, double shift, double *out)
{
    int64_t i = 0;
    for (; i + SMR_VL <= n; i += SMR_VL)
        stv(out + i, expv(ldv(z + i) - shift));
    if (i < n) {
        double t[SMR_VL] = {0};
        for (int64_t q = i; q < n; ++q)
            t[q - i] = z[q] - shift;
        stv(t, expv(ldv(t)));
        for (int64_t q = i; q < n; ++q)
            out[q] = t[q - i];
    }
}

/* The same loop compiled for two instruction sets; vexp.c is built with
 * -ffp-contract=fast so that a*b+c becomes one FMA in both. */
#if SMR_VL == 4
__attribute__((target("arch=x86-64-v3"))) void
smr_k_exp_v3(int64_t n, const double *z, double shift, double *out)
{
    exp_loop(n, z, shift, out);
}
#else
__attribute__((target("arch=x86-64-v4"))) static void
exp_v4(int64_t n, const double *z, double shift, double *out)
{
    exp_loop(n, z, shift, out);
}
#endif
#endif

#if SMR_VL == 8 /* the rest once, in vexp.c's own compilation */
static void exp_libm(int64_t n, const double *z, double shift, double *out)
{
    for (int64_t i = 0; i < n; ++i)
        out[i] = exp(z[i] - shift);
}

/* What the CPU can run: the whole ISA level each version was compiled
 * for, not just its vector extension, since the compiler may use BMI2,
 * MOVBE, ... anywhere in it. */
static int simd_detect(void)
{
#ifdef SMR_VEXP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        return 2;
    if (__builtin_cpu_supports("x86-64-v3"))
        return 1;
#endif
    return 0;
}

/* The cap SOFTMAXREG_SIMD sets: "portable" 0, "avx2" 1, "avx512" 2; unset,
 * empty or anything else: no cap (2).  A cap never raises the level above
 * what the CPU runs. */
static int simd_cap(void)
{
    const char *s = getenv("SOFTMAXREG_SIMD");
    if (!s)
        return 2;
    if (!strcmp(s, "portable"))
        return 0;
    if (!strcmp(s, "avx2"))
        return 1;
    return 2;
}

int smr_k_simd_level(void)
{
    /* decided once per process (the first kernel call), so the environment
     * is read once and every later call, from any thread, agrees; a race
     * on the first call only computes the same value twice */
    static _Atomic int level = -1;
    int l = atomic_load_explicit(&level, memory_order_relaxed);
    if (l < 0) {
        l = simd_detect();
        int cap = simd_cap();
        if (cap < l)
            l = cap;
        atomic_store_explicit(&level, l, memory_order_relaxed);
    }
    return l;
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
        smr_k_exp_v3(n, z, shift, out);
        return;
    }
#endif
    exp_libm(n, z, shift, out);
}
#endif
