/*
 * sketch.c -- the randomized pieces of the leverage-score sparsifier.
 *
 * CountSketch (Clarkson-Woodruff): row i of M = diag(s) A goes, with a random
 * sign, into one random row h(i) of an m x d sketch:  SM[h(i), :] += sgn_i s_i a_i.
 * One streaming pass over A, O(nnz(A)).  Hash and sign come from splitmix64
 * of (seed, row) (cheaper than a Philox call per row, which cost a third of
 * the sketch), so a sketch is a pure function of the seed.
 * Gaussian matrices for the Johnson-Lindenstrauss projection come from
 * smr_k_direction (stream 0/1) under a derived seed.
 *
 * Threads (parallel.c), two fork-joins: the hashes by row ranges, then the
 * sums by ranges of the output.  Column-major A: thread t owns columns
 * [d t/T, d (t+1)/T).  Every entry of SM is then the same sum over
 * i = 0..n-1 in row order as on one thread: the sketch is the same bits
 * at any thread count, with no partial sketches to allocate or add
 * (/tmp driver, two threads against one: 0.19 s against 0.23-0.31 at
 * d = 400, n = 800 000; 0.0085 against 0.0158 at d = 10, n = 10^6).
 * Row-major A stays on one thread: owning buckets instead (thread t adds
 * the rows hashed into [m t/T, m (t+1)/T), each row read by one thread)
 * was slower than one thread (0.19-0.27 s against 0.13-0.25 at d = 400;
 * 0.017-0.021 against 0.014 at d = 10): the rows of the two threads
 * interleave at random, and each thread's prefetches pull in the other's
 * rows too.  Partial sketches per thread (m d doubles each, added in
 * thread order) are the way left untried.
 */
#include "kernels.h"

#include <string.h>

/* n d below which one thread does it all (as blas.c's products) */
#define SMR_SKETCH_MIN_WORK (1 << 20)

typedef struct {
    const smr_mat *A;
    const double *scale;
    uint64_t seed;
    int64_t m;
    int64_t *bucket;
    double *sgnscale, *SM;
} cs_ctx;

static void span(int64_t n, int t, int T, int64_t *lo, int64_t *hi)
{
    *lo = n * t / T;
    *hi = n * (t + 1) / T;
}

static void hash_part(void *v, int t, int T)
{
    cs_ctx *c = v;
    int64_t i0, i1;
    span(c->A->n, t, T, &i0, &i1);
    /* hash and sign of row i: splitmix64 of (seed, i), a fast mixer whose
     * outputs pass BigCrush; a CountSketch needs only a well-spread hash */
    uint64_t base = c->seed * 0x9E3779B97F4A7C15ull, m = (uint64_t)c->m;
    for (int64_t i = i0; i < i1; ++i) {
        uint64_t z = base + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        c->bucket[i] = (int64_t)(((unsigned __int128)z * m) >> 64);
        c->sgnscale[i] = (z & 1u) ? c->scale[i] : -c->scale[i];
    }
}

/* SM is stored in A's layout: row-major m x d (ld d) or col-major (ld m) */
static void add_part(void *v, int t, int T)
{
    cs_ctx *c = v;
    const smr_mat *A = c->A;
    int64_t n = A->n, d = A->d, m = c->m;
    const int64_t *bucket = c->bucket;
    const double *sgnscale = c->sgnscale;
    if (A->row_major) { /* one part (above) */
        (void)t;
        (void)T;
        memset(c->SM, 0, (size_t)(m * d) * sizeof(double));
        for (int64_t i = 0; i < n; ++i) {
            double s = sgnscale[i];
            if (s == 0.0)
                continue;
            const double *a = A->a + i * A->ld;
            double *dst = c->SM + bucket[i] * d;
            for (int64_t j = 0; j < d; ++j)
                dst[j] += s * a[j];
        }
    } else {
        int64_t lo, hi;
        span(d, t, T, &lo, &hi);
        memset(c->SM + lo * m, 0, (size_t)((hi - lo) * m) * sizeof(double));
        for (int64_t j = lo; j < hi; ++j) {
            const double *col = A->a + j * A->ld;
            double *dst = c->SM + j * m;
            for (int64_t i = 0; i < n; ++i)
                dst[bucket[i]] += sgnscale[i] * col[i];
        }
    }
}

void smr_k_countsketch(const smr_mat *A, const double *scale, uint64_t seed,
                       int64_t m, int64_t *bucket, double *sgnscale, double *SM)
{
    cs_ctx c = {.A = A, .scale = scale, .seed = seed, .m = m,
                .bucket = bucket, .sgnscale = sgnscale, .SM = SM};
    int T = (double)A->n * (double)A->d < SMR_SKETCH_MIN_WORK ? 1 : smr_k_threads();
    smr_k_parallel(T, hash_part, &c);
    smr_k_parallel(A->row_major || A->d < T ? 1 : T, add_part, &c);
}
