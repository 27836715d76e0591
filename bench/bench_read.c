/*
 * bench_read.c -- the reference reads the memory-bound kernels are
 * measured against (bench_common.h): bench_stream_sum, the streaming read
 * of A, and bench_nvec_floor, the one pass's memory traffic without its
 * arithmetic.
 *
 * Each runs at the widest vector level the CPU has (AVX-512, AVX2, else
 * the baseline), whatever SOFTMAXREG_SIMD caps the library at: the read
 * is a property of the machine, and a slower reference would flatter
 * every ratio taken against it.  Until this file the loops were compiled
 * for the baseline ISA with 64-byte generic vectors, which GCC lowered to
 * SSE2 with the accumulators spilled to the stack on every add; that read
 * took 1.14-1.48 times the time of an aligned AVX-512 read at 2 threads and 1.32-1.44 at
 * one (n d = 1.6e7 and 6.4e7 doubles, a /tmp driver, paired medians of
 * 15; docs/benchmarks.md, "The reference read").
 */
#include "bench_common.h"
#include "kernels/kernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BR_X86 1
#endif

#ifdef BR_X86
#define BR_W 8
#define BR_SUF v4
#define BR_TARGET __attribute__((target("arch=x86-64-v4")))
#include "bench_read_impl.h"
#undef BR_W
#undef BR_SUF
#undef BR_TARGET
#define BR_W 4
#define BR_SUF v3
#define BR_TARGET __attribute__((target("arch=x86-64-v3")))
#include "bench_read_impl.h"
#undef BR_W
#undef BR_SUF
#undef BR_TARGET
#endif
#define BR_W 2
#define BR_SUF base
#define BR_TARGET
#include "bench_read_impl.h"
#undef BR_W
#undef BR_SUF
#undef BR_TARGET

typedef struct {
    const char *name;
    double (*sum)(const double *, int64_t);
    double (*floor_rows)(const double *, int64_t, int64_t, int64_t, const double *, double *);
    double (*floor_finish)(int64_t, int64_t, const double *, double *);
} br_level;

static const br_level *br_pick(void)
{
    static const br_level base = {"base", br_sum_base, br_floor_rows_base,
                                  br_floor_finish_base};
#ifdef BR_X86
    static const br_level v4 = {"avx512", br_sum_v4, br_floor_rows_v4, br_floor_finish_v4};
    static const br_level v3 = {"avx2", br_sum_v3, br_floor_rows_v3, br_floor_finish_v3};
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        return &v4;
    if (__builtin_cpu_supports("x86-64-v3"))
        return &v3;
#endif
    return &base;
}

const char *bench_read_level(void)
{
    return br_pick()->name;
}

bool bench_cpu_avx512(void)
{
    return strcmp(br_pick()->name, "avx512") == 0;
}

/* thread t of T takes a contiguous, 8-aligned share of a[0 .. len) */
typedef struct {
    const br_level *lv;
    const double *a, *b;
    double *u;
    int64_t len, n, d;
    double s[SMR_MAX_THREADS];
} br_ctx;

static void sum_part(void *v, int t, int T)
{
    br_ctx *c = v;
    int64_t i0 = c->len / 8 * t / T * 8, i1 = t == T - 1 ? c->len : c->len / 8 * (t + 1) / T * 8;
    c->s[t] = c->lv->sum(c->a + i0, i1 - i0);
}

double bench_stream_sum(const double *a, int64_t len)
{
    br_ctx c = {.lv = br_pick(), .a = a, .len = len};
    int T = smr_k_threads();
    smr_k_parallel(T, sum_part, &c);
    double s = 0;
    for (int t = 0; t < T; ++t)
        s += c.s[t];
    return s;
}

/* bench_nvec_floor: thread t takes rows [n t / T, n (t + 1) / T) */
static void floor_read(void *v, int t, int T)
{
    br_ctx *c = v;
    c->s[t] = c->lv->floor_rows(c->a, c->n * t / T, c->n * (t + 1) / T, c->d, c->b, c->u);
}

static void floor_finish(void *v, int t, int T)
{
    br_ctx *c = v;
    c->s[t] += c->lv->floor_finish(c->n * t / T, c->n * (t + 1) / T, c->b, c->u);
}

double bench_nvec_floor(const double *a, int64_t n, int64_t d, const double *b, double *u)
{
    br_ctx c = {.lv = br_pick(), .a = a, .b = b, .u = u, .n = n, .d = d};
    int T = smr_k_threads();
    smr_k_parallel(T, floor_read, &c);
    smr_k_parallel(T, floor_finish, &c);
    double s = 0;
    for (int t = 0; t < T; ++t)
        s += c.s[t];
    return s;
}
