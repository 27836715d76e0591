/*
 * bench_common.h -- helpers shared by the benchmark binaries: timing with
 * warm-up and median of repetitions, a seeded generator, the machine line
 * written into every CSV (CPU model, cores, BLAS threads, compiler flags,
 * library version, commit).  Benchmarks measure; they do not assert.
 */
#ifndef SMR_BENCH_COMMON_H
#define SMR_BENCH_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "softmaxreg.h"

double bench_now(void);
double bench_median(double *v, int n);
/* Wait until OpenBLAS's worker threads, spinning after a threaded call,
 * have gone to sleep (call after measuring a threaded OpenBLAS routine). */
void bench_blas_idle(void);
void bench_seed(uint64_t s);
double bench_normal(void);
/* "cpu=...;cores=...;threads=...;cflags=...;version=...;commit=..." */
const char *bench_machine(void);
/* The streaming read that the memory-bound kernels are measured against:
 * the sum of a[0..len), vector sums at the widest level the CPU runs
 * (bench_read.c), split over the library's thread count
 * (smr_k_parallel).  Returns the sum (keep it, so that the read is not
 * optimised away). */
double bench_stream_sum(const double *a, int64_t len);
/* the level the reference reads run at: "avx512", "avx2" or "base" (in
 * bench_machine's line as read=) */
const char *bench_read_level(void);
/* whether the CPU runs the x86-64-v4 (AVX-512) level: the probes
 * (bench_overlap.c, bench_colread.c) run at it then, as the read does */
bool bench_cpu_avx512(void);
/* The memory traffic of a one-pass loss+gradient without its arithmetic:
 * the read above of A (n rows of d, contiguous) with, per row, b[i] read
 * and u[i] written (the pass's unnormalised softmax), then -- after all
 * threads are done, as the normaliser is known only then -- a second
 * sweep that reads u and b, writes u scaled in place and sums (u - b)^2
 * (the exact loss, fused.c's finish).  Both split over the library's
 * thread count.  A floor for any pass that returns an accurate loss and
 * the softmax: docs/benchmarks.md.  Returns a sum to keep. */
double bench_nvec_floor(const double *a, int64_t n, int64_t d, const double *b, double *u);
/* The one pass's arithmetic in its cheapest shape next to a read
 * (bench_overlap.c): a[0 .. len) read (a on a 64-byte line) with F = 1,
 * 2 or 4 multiply-adds of every loaded vector into separate accumulators,
 * split over `threads` threads.  Returns a sum to keep. */
double bench_fma_stream(const double *a, int64_t len, int F, int threads);
/* The one pass's data flow with the cheapest arithmetic (bench_overlap.c):
 * a[0 .. len) (len and blk multiples of 32, a on a 64-byte line) in
 * blocks of blk doubles, each dotted, its dot summed to three weights and
 * the block read again from cache with three multiply-adds per vector;
 * mode 0 the update after its block's dot, mode 1 interleaved with the
 * next block's dot.  Split over `threads` threads in whole blocks.
 * Returns a sum to keep. */
double bench_reread_stream(const double *a, int64_t len, int64_t blk,
                           int mode, int threads);
/* A plain read of column-major A (n x d, leading dimension ld) in the
 * order a one pass reads it (bench_colread.c): R rows at a time (R a
 * multiple of 8), the chunk's d runs of R doubles one after the other,
 * with the kernel's software prefetch; split over `threads` threads in
 * whole chunks.  Returns the sum of A (keep it). */
double bench_col_chunk_read(const double *A, int64_t n, int64_t d, int64_t ld,
                            int64_t R, int threads);
/* fill A (n x d, row-major) ~ N(0, 1/d), b = softmax(A x*), x* ~ N(0, 1) */
void bench_problem(int64_t n, int64_t d, double *A, double *b, double *xs);

#endif
