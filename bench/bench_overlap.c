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
#include "kernels/simd.h"

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
    bool v4 = bench_cpu_avx512();
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

/*
 * bench_reread_stream: the one pass's data flow with the cheapest
 * arithmetic.  a[0 .. len) in blocks of blk doubles; per block a dot
 * (one multiply-add per loaded vector, into four accumulators as the
 * reference read), its lanes summed to one z, three weights from z, and
 * the block read again (from cache) with three multiply-adds per vector
 * -- as the pass reads a panel (row-major) or a chunk (column-major) for
 * the logits, and again, once its exp is known, for the gradient's
 * update.  The update cannot start before its block's dot has ended:
 *
 *   mode 0 (in sequence): dot of block k, then the update of block k;
 *   mode 1 (interleaved): the update of block k - 1 in the same loop as
 *          the dot of block k (each step loads one vector of each), the
 *          last block's update alone.
 *
 * Each element is loaded from memory once; what this costs beyond the
 * read is what the pass's shape costs before any exp, transpose or
 * weight.  The update's loads are kept as loads at the AVX-512 level
 * (the library's SMR_IN_REG, src/kernels/simd.h).
 */
#define BO_REREAD_BODY(KEEP)                                                    \
    {                                                                           \
        const bo_v8 xv = {1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07};      \
        bo_v8 g[3][2] = {{{0}}}, zs = {0};                                      \
        double w[3] = {0, 0, 0};                                                \
        for (int64_t b0 = 0; b0 < len; b0 += blk) {                             \
            int64_t e = b0 + blk < len ? b0 + blk : len;                        \
            const double *p = a + b0 - blk; /* the previous block */           \
            bool pipe = mode == 1 && b0 > 0;                                    \
            bo_v8 d[4] = {{0}};                                                 \
            for (int64_t i = b0; i + 32 <= e; i += 32) {                        \
                _Pragma("GCC unroll 4") for (int q = 0; q < 4; ++q) {           \
                    bo_v8 x;                                                    \
                    memcpy(&x, a + i + 8 * q, sizeof x);                        \
                    d[q] += x * xv;                                             \
                }                                                               \
                if (pipe)                                                       \
                    _Pragma("GCC unroll 4") for (int q = 0; q < 4; ++q) {       \
                        bo_v8 y;                                                \
                        memcpy(&y, p + (i - b0) + 8 * q, sizeof y);             \
                        SMR_IN_REG(KEEP, y);                                       \
                        for (int c = 0; c < 3; ++c)                             \
                            g[c][q & 1] += w[c] * y;                            \
                    }                                                           \
            }                                                                   \
            bo_v8 s = (d[0] + d[1]) + (d[2] + d[3]);                            \
            zs += s;                                                            \
            double z = 0;                                                       \
            for (int l = 0; l < 8; ++l)                                         \
                z += s[l];                                                      \
            w[0] = 1e-9 * z + 1.0;                                              \
            w[1] = w[0] * w[0];                                                 \
            w[2] = 0.5 * w[0];                                                  \
            if (mode == 1 && e < len)                                           \
                continue; /* this block's update in the next one's loop */      \
            for (int64_t i = b0; i + 32 <= e; i += 32)                          \
                _Pragma("GCC unroll 4") for (int q = 0; q < 4; ++q) {           \
                    bo_v8 y;                                                    \
                    memcpy(&y, a + i + 8 * q, sizeof y);                        \
                    SMR_IN_REG(KEEP, y);                                           \
                    for (int c = 0; c < 3; ++c)                                 \
                        g[c][q & 1] += w[c] * y;                                \
                }                                                               \
        }                                                                       \
        bo_v8 t = zs;                                                           \
        for (int c = 0; c < 3; ++c)                                             \
            t += g[c][0] + g[c][1];                                             \
        double r = 0;                                                           \
        for (int l = 0; l < 8; ++l)                                             \
            r += t[l];                                                          \
        return r;                                                               \
    }

BO_TARGET static double bo_reread(const double *a, int64_t len, int64_t blk,
                                  int mode) BO_REREAD_BODY(1)
static double bo_reread_base(const double *a, int64_t len, int64_t blk,
                             int mode) BO_REREAD_BODY(0)

typedef struct {
    double (*fn)(const double *, int64_t, int64_t, int);
    const double *a;
    int64_t len, blk;
    int mode;
    double s[SMR_MAX_THREADS];
} bo_rr_ctx;

static void bo_rr_part(void *v, int t, int T)
{
    bo_rr_ctx *c = v;
    /* whole blocks per thread (the last thread takes the rest) */
    int64_t nb = (c->len + c->blk - 1) / c->blk;
    int64_t i0 = nb * t / T * c->blk, i1 = nb * (t + 1) / T * c->blk;
    if (i1 > c->len)
        i1 = c->len;
    c->s[t] = c->fn(c->a + i0, i1 - i0, c->blk, c->mode);
}

double bench_reread_stream(const double *a, int64_t len, int64_t blk,
                           int mode, int threads)
{
    bool v4 = bench_cpu_avx512();
    bo_rr_ctx c = {.fn = v4 ? bo_reread : bo_reread_base, .a = a,
                   .len = len, .blk = blk, .mode = mode};
    smr_k_parallel(threads, bo_rr_part, &c);
    double s = 0;
    for (int t = 0; t < threads; ++t)
        s += c.s[t];
    return s;
}
