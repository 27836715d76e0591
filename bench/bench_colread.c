/*
 * bench_colread.c -- bench_col_chunk_read: a plain read (a sum) of a
 * column-major A in the order a one pass must read it.
 *
 * A row's update (G += a_i^T W_i) needs the row's exp, so all d entries of
 * the row have been read before its update can start, and the update must
 * find them in cache again: on column-major A any one pass reads A a
 * chunk of R rows at a time, d runs of R doubles, one per column, ld
 * doubles apart (fused_cols.c: R = 32 below d = 48, 128 up to d = 255, 64
 * from d = 256, at the AVX-512 level), with the
 * chunk (8 R d bytes) small enough to stay in cache until its update.
 * The contiguous read (bench_stream_sum) reads the same bytes in one
 * stream per thread.  This reads them in chunk order with the kernel's
 * software prefetch (each column's run max(R, 64) rows ahead, every
 * 64-byte line) and nothing else: no exp, no second read -- what the
 * order alone costs.  bench_kernels --targets / --case time it against the
 * contiguous read for several R (docs/benchmarks.md, "The column-major
 * read order").
 *
 * Loads aligned as in the kernel: when ld is a multiple of 8 the rows up
 * to A's next 64-byte line go first (scalar), then every chunk's runs
 * start on a line.  At AVX-512 where the CPU has it (as bench_read.c's
 * reference), else the baseline.
 */
#include "bench_common.h"
#include "kernels/kernels.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CR_TARGET __attribute__((target("arch=x86-64-v4")))
#else
#define CR_TARGET
#endif

typedef double cr_v8 __attribute__((vector_size(64)));

/* rows [r0, r1) of every column, R (a multiple of 8) at a time; rows
 * left over summed one by one.  rows_all: A's rows, for the prefetch's
 * bound (no prefetch past A's last row) */
#define CR_BODY                                                                 \
    {                                                                           \
        cr_v8 acc[8] = {{0}};                                                   \
        double s = 0;                                                           \
        const int64_t pf = R > 64 ? R : 64;                                     \
        int64_t r = r0;                                                         \
        for (; r + R <= r1; r += R) {                                           \
            const bool ahead = r + R + pf <= rows_all;                          \
            for (int64_t j = 0; j < d; ++j) {                                   \
                const double *col = A + j * ld + r;                             \
                if (ahead)                                                      \
                    for (int64_t l = 0; l < R; l += 8)                          \
                        __builtin_prefetch(col + pf + l, 0, 3);                 \
                for (int64_t v = 0; v < R; v += 8) {                            \
                    cr_v8 x;                                                    \
                    memcpy(&x, col + v, sizeof x);                              \
                    acc[(v / 8) & 7] += x;                                      \
                }                                                               \
            }                                                                   \
        }                                                                       \
        for (; r < r1; ++r)                                                     \
            for (int64_t j = 0; j < d; ++j)                                     \
                s += A[j * ld + r];                                             \
        cr_v8 t = {0};                                                          \
        for (int q = 0; q < 8; ++q)                                             \
            t += acc[q];                                                        \
        for (int l = 0; l < 8; ++l)                                             \
            s += t[l];                                                          \
        return s;                                                               \
    }

typedef double (*cr_fn)(const double *, int64_t, int64_t, int64_t, int64_t,
                        int64_t, int64_t);
CR_TARGET static double cr_v4(const double *A, int64_t ld, int64_t d,
                              int64_t r0, int64_t r1, int64_t R,
                              int64_t rows_all) CR_BODY
static double cr_base(const double *A, int64_t ld, int64_t d, int64_t r0,
                      int64_t r1, int64_t R, int64_t rows_all) CR_BODY

typedef struct {
    cr_fn fn;
    const double *A;
    int64_t n, d, ld, R, h; /* h: the head rows before the first line */
    double s[SMR_MAX_THREADS];
} cr_ctx;

/* thread t: whole chunks from row h on, the last thread the rest; the
 * first thread also the head rows [0, h) */
static void cr_part(void *v, int t, int T)
{
    cr_ctx *c = v;
    int64_t nc = (c->n - c->h) / c->R;
    int64_t r0 = c->h + nc * t / T * c->R;
    int64_t r1 = t == T - 1 ? c->n : c->h + nc * (t + 1) / T * c->R;
    double s = t == 0 && c->h ? c->fn(c->A, c->ld, c->d, 0, c->h, c->R, c->n) : 0.0;
    c->s[t] = s + c->fn(c->A, c->ld, c->d, r0, r1, c->R, c->n);
}

double bench_col_chunk_read(const double *A, int64_t n, int64_t d, int64_t ld,
                            int64_t R, int threads)
{
    bool v4 = bench_cpu_avx512();
    int64_t o = (int64_t)((uintptr_t)A % 64) / 8, h = 0;
    if (ld % 8 == 0 && (uintptr_t)A % 8 == 0 && o != 0)
        h = 8 - o < n ? 8 - o : n;
    cr_ctx c = {.fn = v4 ? cr_v4 : cr_base, .A = A, .n = n, .d = d, .ld = ld,
                .R = R, .h = h};
    smr_k_parallel(threads, cr_part, &c);
    double s = 0;
    for (int t = 0; t < threads; ++t)
        s += c.s[t];
    return s;
}
