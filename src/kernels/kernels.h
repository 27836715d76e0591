/*
 * kernels.h -- the vector-kernel layer (internal).
 *
 * Stable softmax, the reductions it needs, finiteness scans, and thin,
 * range-checked wrappers over CBLAS and LAPACKE.  Nothing here knows about
 * the objective or the solvers.  Matrices are described BLAS-style by
 * smr_mat and are never copied.
 */
#ifndef SMR_KERNELS_H
#define SMR_KERNELS_H

#include <stdint.h>
#include <stdbool.h>

/* A borrowed dense matrix: n x d, row- or column-major, leading dim ld. */
typedef struct smr_mat {
    int64_t n, d, ld;
    bool row_major;
    const double *a;
} smr_mat;

/* Largest value a BLAS/LAPACK integer argument may take here (32-bit). */
#define SMR_BLAS_INT_MAX INT32_MAX

/* ---- reductions and elementwise kernels (softmax.c, reduce.c) ---- */

/* true iff all n entries v[0], v[inc], ... are finite. */
bool smr_k_all_finite(int64_t n, const double *v);
/* true iff every entry of the n x d matrix is finite (padding not read). */
bool smr_k_mat_all_finite(const smr_mat *m);
/* max_i v[i]; n >= 1. */
double smr_k_max(int64_t n, const double *v);
/* sum_i v[i] and sum_i v[i]^2, pairwise summation for accuracy. */
double smr_k_sum(int64_t n, const double *v);
double smr_k_sumsq(int64_t n, const double *v);
/* <u, v> via BLAS ddot (n must fit the BLAS integer). */
double smr_k_dot(int64_t n, const double *u, const double *v);

/* out_i = exp(z_i - shift), vectorized (vexp.c; < 1.5 ulp on AVX2/AVX-512,
 * glibc's exp elsewhere).  out may alias z.  NaN -> NaN, -inf -> 0. */
void smr_k_exp_shift(int64_t n, const double *z, double shift, double *out);
/* The vector ISA level the hand-vectorized kernels (vexp.c, syrk_small.c,
 * fused_rows.c, fused_cols.c, perturbed_rows.c, rownorms.c, and sketch.c's
 * row-major loop; the AVX2 level's in their
 * *_avx2.c twins, simd.h) run at here: 2 x86-64-v4 (AVX-512), 1 x86-64-v3 (AVX2+FMA), 0 portable.
 * The CPU's level, capped by SOFTMAXREG_SIMD; decided at the first call and
 * fixed for the process (smr_simd in softmaxreg.h). */
int smr_k_simd_level(void);
/* where the per-level code exists at all: GCC on x86-64 (its vector types
 * and target attributes; clang, the fuzz build, takes the portable code) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SMR_SIMD_X86 1
#endif

/* Numerically stable softmax:  m = max z, u = exp(z - m), f = u / sum(u).
 * f may alias z.  Finite for any finite z (the largest entry gives
 * exp(0) = 1, so the normaliser is in [1, n]).  Returns the normaliser
 * sum(u) (>= 1), and log sum exp(z) = m + log(alpha) in *lse unless lse
 * is NULL.  z must be finite. */
double smr_k_softmax(int64_t n, const double *z, double *f, double *lse);

/* ---- BLAS wrappers (blas.c); all matrices of the "multi-vector" kind
 * (X, Z, F, C) are column-major with the given leading dimension. ---- */

/* g (d) += rows [i0, i0 + m) of A, transposed, times r[i0 .. i0 + m): one
 * dgemv on the caller's thread. */
void smr_k_mul_t_rows_add(const smr_mat *A, int64_t i0, int64_t m,
                          const double *r, double *g);
/* Z (n x k) = A X,   X is d x k.   k == 1 uses dgemv. */
void smr_k_mul(const smr_mat *A, int64_t k, const double *X, int64_t ldx,
               double *Z, int64_t ldz);
/* C (d x k) = A^T F, F is n x k.   k == 1 uses dgemv. */
void smr_k_mul_t(const smr_mat *A, int64_t k, const double *F, int64_t ldf,
                 double *C, int64_t ldc);
/* Upper triangle of column-major H (d x d, ldh) += alpha * B^T B, where B
 * is an m x d row block stored row-major (ldb >= d) when row_major, else
 * column-major (ldb >= m).  dsyrk. */
void smr_k_syrk_rows(int64_t d, int64_t m, double alpha, const double *B,
                     int64_t ldb, bool row_major, double *H, int64_t ldh);
/* Upper triangle of H += alpha (x y^T + y x^T).  dsyr2. */
void smr_k_syr2(int64_t d, double alpha, const double *x, const double *y,
                double *H, int64_t ldh);
/* Copy the upper triangle of column-major H into the lower one. */
void smr_k_symmetrize(int64_t d, double *H, int64_t ldh);

/* ---- randomness (random.c) ---- */

/* Direction j of iteration iter under seed: d standard normals, or d signs
 * +-1 when rademacher.  A pure function of its arguments (Philox4x64). */
void smr_k_direction(uint64_t seed, uint64_t iter, uint64_t j, int rademacher,
                     int64_t d, double *out);

/* four uniforms in (0, 1), a pure function of (seed, t) */
void smr_k_uniform4(uint64_t seed, uint64_t t, double u[4]);
/* B indices uniform in [0, m), with replacement, a pure function of
 * (seed, iter) (minibatch sampling). */
void smr_k_pick(uint64_t seed, uint64_t iter, int64_t m, int64_t B,
                int64_t *out);

/* ---- sketching (sketch.c) ---- */

/* CountSketch of diag(scale) A into SM (m x d, in A's layout: row-major
 * ld d, column-major ld m).  bucket (n) and sgnscale (n) are work arrays
 * (they receive h(i) and +-scale_i).  work holds nwork doubles of scratch
 * for the threads: smr_k_countsketch_work(A, m, part_max) of them let every
 * thread run (0 where none is needed), fewer run one thread.  Row-major A
 * is split by rows into partial sketches (m d doubles for each thread past
 * the first, added in thread order: the bits depend on the thread count)
 * while m d <= part_max, above that by whole cache lines of columns;
 * column-major A by columns.  Split by columns, the bits are the same at
 * any thread count.  A pure function of the seed and of that plan
 * (sketch.c). */
#define SMR_SKETCH_PART_MAX (1 << 23) /* doubles: 64 MB, d <= 1024 at m = 8d */
int64_t smr_k_countsketch_work(const smr_mat *A, int64_t m, int64_t part_max);
void smr_k_countsketch(const smr_mat *A, const double *scale, uint64_t seed,
                       int64_t m, int64_t part_max, int64_t *bucket, double *sgnscale,
                       double *SM, double *work, int64_t nwork);

/* ---- direction lanes (moves.h: the SPSA losses, the leverage scores) ----
 * k directions are held padded to kp = smr_k_padded(k), whole vectors at
 * either width (8 and 4 doubles), columns past k zero. */
#define SMR_KALIGN 8
static inline int64_t smr_k_padded(int64_t k)
{
    return (k + SMR_KALIGN - 1) / SMR_KALIGN * SMR_KALIGN;
}
/* The most rows in a block of the direction-lane loops. */
#define SMR_LANE_MAX_ROWS 2048
/* Rows per block there: the block's rows of A in at most 128 KB (they are
 * read again from cache per group of directions), between 64 and
 * SMR_LANE_MAX_ROWS, a multiple of 64. */
static inline int64_t smr_k_lane_block_rows(int64_t d)
{
    int64_t r = (16384 / d) / 64 * 64;
    return r < 64 ? 64 : r > SMR_LANE_MAX_ROWS ? SMR_LANE_MAX_ROWS : r;
}

/* out[i] = |A_i W|^2 (i < n), the squared row norms of the thin product
 * A W, without storing A W (rownorms.c).  W is given as Wr: d x kp,
 * row-major, kp = smr_k_padded(k), columns past W's k zero.
 * Threaded by row blocks; the same bits at any thread count. */
void smr_k_rownorms2(const smr_mat *A, const double *Wr, int64_t kp,
                     double *out);

/* ---- environment (system.c) ---- */

/* Seconds on a monotonic clock. */
double smr_k_now(void);

/* ---- LAPACK (lapack.c) ---- */

/* ---- row blocks of A, rows [i0, i0 + m) (syrk_small.c) ---- */

/* Upper triangle of column-major H (ldh) += sum_i e_i a_i a_i^T over rows
 * [i0, i0 + m) of A (either layout) with d <= 16 (SMR_SYRK_SMALL_D), e (m)
 * the weights of those rows, either sign; when f is not NULL also pq (2d)
 * += [A_blk^T f, A_blk^T v] (f, v: m values each).  Hand-written
 * (syrk_small.c): OpenBLAS's dsyrk is slow on such short rows. */
#define SMR_SYRK_SMALL_D 16
void smr_k_block_syrk_small(const smr_mat *A, int64_t i0, int64_t m,
                            const double *e, const double *f, const double *v,
                            double *H, int64_t ldh, double *pq);

/* ---- threads (parallel.c) ---- */

/* n d k (work of a pass over A) below which the kernels' passes run on
 * one thread (blas.c, sketch.c, rownorms.c) */
#define SMR_SPLIT_MIN_WORK (1 << 20)
/* Part t of T's blocks [*b0, *b1) of n rows in blocks of nb: contiguous
 * ranges, the same for a given T whichever thread runs the part. */
static inline void smr_k_part_blocks(int64_t n, int64_t nb, int t, int T,
                                     int64_t *b0, int64_t *b1)
{
    int64_t nblk = (n + nb - 1) / nb;
    *b0 = nblk * t / T;
    *b1 = nblk * (t + 1) / T;
}

/* The same parts as rows [*i0, *i1): whole blocks of nb, the last part
 * ending at n. */
static inline void smr_k_part_range(int64_t n, int64_t nb, int t, int T,
                                    int64_t *i0, int64_t *i1)
{
    smr_k_part_blocks(n, nb, t, T, i0, i1);
    *i0 *= nb;
    *i1 = *i1 * nb < n ? *i1 * nb : n;
}

#define SMR_MAX_THREADS 64
/* The thread count in force: OpenBLAS's (set by the solver's threads
 * option), clamped to [1, SMR_MAX_THREADS]; while the library holds
 * OpenBLAS at one thread, the count it saved. */
int smr_k_threads(void);
/* Set the thread count (OpenBLAS's) when threads > 0; returns the previous
 * one.  Process-wide, like OpenBLAS's own. */
int smr_k_set_threads(int threads);
/* Run fn(ctx, t, T) for t = 0..T-1, in T threads (the caller is one), with
 * OpenBLAS held to one thread meanwhile.  The parts must be independent. */
void smr_k_parallel(int T, void (*fn)(void *ctx, int t, int T), void *ctx);
/* Hold OpenBLAS to one thread around a BLAS/LAPACK call of the library,
 * until the matching release (holds nest and may come from several program
 * threads; the last release restores the count): the library's threads are
 * its own, so OpenBLAS's workers never start, and never spin beside ours
 * afterwards. */
void smr_k_blas_hold(void);
void smr_k_blas_release(void);

/* ---- the sketch's R (qr.c) ----
 * R of the m x d matrix SM (m >= d; layout row_major, leading dim ld) by
 * a tall-skinny QR: smr_k_qr_parts(m, d) blocks of rows (at least 2d
 * each, at most 4) factored by dgeqrf, their triangles merged in pairs up
 * a tree (dtpqrt), blocks and merges in the library's threads.  The parts
 * depend on m and d only: the same bits at any thread count.  R (d x d,
 * upper, diagonal >= 0: unique where SM has full rank) ends in SM's top d
 * rows in SM's layout, zeros below its diagonal; the rest of SM is
 * overwritten.
 * work: smr_k_qr_work(row_major, m, d) doubles.  Returns 0, the first
 * nonzero LAPACK info, or -1 for m < d, d < 1 or too little work. */
int smr_k_qr_parts(int64_t m, int64_t d);
int64_t smr_k_qr_work(bool row_major, int64_t m, int64_t d);
int smr_k_qr_r(bool row_major, int64_t m, int64_t d, double *SM, int64_t ld,
               double *work, int64_t nwork);
/* out_i = |(M R^{-1})_i|^2 for the n x d column-major M (ldm) and an
 * upper triangular R (d x d, column-major, ldr): M is overwritten by
 * M R^{-1} (dtrsm on row blocks in the library's threads: the bits are
 * fixed for a fixed thread count). */
void smr_k_qr_rownorms(int64_t n, int64_t d, double *M, int64_t ldm, const double *R,
                       int64_t ldr, double *out);
/* The exact leverage scores of the n x d column-major matrix M (ld n):
 * out_i = |Q_r(i, :)|^2 for M P = Q R by column-pivoted QR (LAPACK dgeqp3,
 * dorgqr; O(n d min(n, d))), r the pivots above max(n, d) eps |R_00|: the
 * diagonal of M M^+, which sums to rank M; all zero for M = 0.  M is
 * destroyed, tau (min(n, d)) is work.  Returns 0, LAPACK's info, or
 * SMR_K_NO_MEMORY (its d pivot indices). */
#define SMR_K_NO_MEMORY (-100000)
int smr_k_exact_leverage(int64_t n, int64_t d, double *M, double *tau, double *out);
/* W (d x k, column-major) <- R^{-1} W with R the d x d upper triangle of
 * smr_k_qr_r's R (dtrsm). */
void smr_k_rsolve(bool row_major, int64_t d, const double *R, int64_t ld,
                  int64_t k, double *W);

/* Cholesky solve of M X = B in place (upper triangle of column-major M).
 * Returns 0, or k > 0 when the leading minor of order k is not positive
 * definite, or < 0 for an argument error reported by LAPACK. */
int smr_k_cholesky_solve(int64_t d, double *M, int64_t ldm, int64_t nrhs,
                         double *B, int64_t ldb);

#endif
