/*
 * bench_overlap.c -- bench_fma_stream: a read of a[0 .. len) with F
 * multiply-adds of every loaded vector into F separate accumulators
 * (bench_common.h).  This is the one pass's arithmetic in its cheapest
 * shape: per element of A one multiply-add for the dot and three for the
 * update (F = 4), each on the loaded value, none waiting on another.
 * bench_kernels' overlap probe runs it streaming and in cache: if the
 * machine hides that much arithmetic under the read, no bound of the
 * machine stops a one pass near one read; what it cannot hide is a
 * measured bound.
 *
 * At AVX-512 where the CPU has it (as bench_read.c's reference), else
 * the baseline; F a constant per instantiation, so that the accumulators
 * stay in registers (with a runtime F, GCC kept them in memory and the
 * probe measured store-to-load forwarding instead).
 */
#include "bench_common.h"
#include "kernels/kernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BO_X86 1
#endif

typedef double bo_v8 __attribute__((vector_size(64)));

/* a[0 .. len) (len a multiple of 32, a on a 64-byte line), 16 KiB at a
 * time as bench_read.c's read; returns the sum of everything */
#define BO_BODY(F)                                                              \
    {                                                                           \
        bo_v8 acc[4][F] = {{{0}}}, m[F];                                        \
        for (int f = 0; f < F; ++f)                                             \
            for (int l = 0; l < 8; ++l)                                         \
                m[f][l] = 1.0 + 0.01 * f + 0.001 * l;                           \
        for (int64_t i0 = 0; i0 < len; i0 += 2048) {                            \
            int64_t e = i0 + 2048 < len ? i0 + 2048 : len;                      \
            for (int64_t i = i0; i + 32 <= e; i += 32) {                        \
                _Pragma("GCC unroll 4") for (int q = 0; q < 4; ++q) {           \
                    bo_v8 x;                                                    \
                    memcpy(&x, a + i + 8 * q, sizeof x);                        \
                    _Pragma("GCC unroll 8") for (int f = 0; f < F; ++f)         \
                        acc[q][f] += x * m[f];                                  \
                }                                                               \
            }                                                                   \
        }                                                                       \
        double s = 0;                                                           \
        for (int q = 0; q < 4; ++q)                                             \
            for (int f = 0; f < F; ++f)                                         \
                for (int l = 0; l < 8; ++l)                                     \
                    s += acc[q][f][l];                                          \
        return s;                                                               \
    }

#ifdef BO_X86
#define BO_TARGET __attribute__((target("arch=x86-64-v4")))
#else
#define BO_TARGET
#endif
BO_TARGET static double bo_f1(const double *a, int64_t len) BO_BODY(1)
BO_TARGET static double bo_f2(const double *a, int64_t len) BO_BODY(2)
BO_TARGET static double bo_f4(const double *a, int64_t len) BO_BODY(4)
static double bo_f1_base(const double *a, int64_t len) BO_BODY(1)
static double bo_f2_base(const double *a, int64_t len) BO_BODY(2)
static double bo_f4_base(const double *a, int64_t len) BO_BODY(4)

typedef double (*bo_fn)(const double *, int64_t);

static bo_fn bo_pick(int F)
{
    bool v4 = false;
#ifdef BO_X86
    __builtin_cpu_init();
    v4 = __builtin_cpu_supports("x86-64-v4");
#endif
    if (F <= 1)
        return v4 ? bo_f1 : bo_f1_base;
    if (F == 2)
        return v4 ? bo_f2 : bo_f2_base;
    return v4 ? bo_f4 : bo_f4_base;
}

typedef struct {
    bo_fn fn;
    const double *a;
    int64_t len;
    double s[SMR_MAX_THREADS];
} bo_ctx;

static void bo_part(void *v, int t, int T)
{
    bo_ctx *c = v;
    int64_t i0 = c->len / 32 * t / T * 32, i1 = c->len / 32 * (t + 1) / T * 32;
    c->s[t] = c->fn(c->a + i0, i1 - i0);
}

double bench_fma_stream(const double *a, int64_t len, int F, int threads)
{
    bo_ctx c = {.fn = bo_pick(F), .a = a, .len = len};
    smr_k_parallel(threads, bo_part, &c);
    double s = 0;
    for (int t = 0; t < threads; ++t)
        s += c.s[t];
    return s;
}
