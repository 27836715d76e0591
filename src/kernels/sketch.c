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
 * sums.  Column-major A: thread t owns columns [d t/T, d (t+1)/T); every
 * entry of SM is then the same sum over i = 0..n-1 in row order as on one
 * thread -- the same bits at any thread count, nothing extra to allocate
 * (/tmp driver, two threads against one: 0.19 s against 0.23-0.31 at
 * d = 400, n = 800 000; 0.0085 against 0.0158 at d = 10, n = 10^6).
 * Row-major A: thread t adds rows [n t/T, n (t+1)/T) into a sketch of its
 * own (thread 0 into SM, the others into the caller's partial sketches,
 * m d doubles each), which are then added to SM in thread order: the
 * result depends on the thread count, as the library's other threaded
 * sums do.  /tmp driver, two threads against one: 0.097-0.10 s against
 * 0.14-0.15 at d = 50 (n = 3.2 10^6), 0.069-0.074 against 0.12-0.14 at
 * d = 100, 0.039-0.046 against 0.078-0.090 at d = 200 (n = 8 10^5),
 * 0.006 against 0.012 at d = 10 (n = 10^6); but at d = 400 0.21-0.22
 * against 0.17-0.26: the sketches (10 MB each, rows hit at random) no
 * longer stay in the 32 MB cache beside A's stream.  So partials only
 * while m d <= 2^19 (4 MB, d <= 256 at m = 8d); above that one thread.
 * Tried, slower: owning buckets (thread t adds the rows hashed into
 * [m t/T, m (t+1)/T); 0.19-0.27 s at d = 400, the two threads' rows
 * interleave and each one's prefetches pull in the other's), and owning
 * panels of 64 columns (0.41-1.08 s at d = 400: a panel's 512 bytes per
 * row read at a stride cost far more than whole rows).
 */
#include "kernels.h"

#include <string.h>

/* the largest partial sketch (doubles) row-major threads may use */
#define SMR_SKETCH_PART_MAX (1 << 19)

typedef struct {
    const smr_mat *A;
    const double *scale;
    uint64_t seed;
    int64_t m;
    int64_t *bucket;
    double *sgnscale, *SM, *part;
} cs_ctx;

static void hash_part(void *v, int t, int T)
{
    cs_ctx *c = v;
    int64_t i0, i1;
    smr_k_part_blocks(c->A->n, 1, t, T, &i0, &i1);
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
    if (A->row_major) {
        int64_t i0, i1;
        smr_k_part_blocks(n, 1, t, T, &i0, &i1);
        double *S = t == 0 ? c->SM : c->part + (int64_t)(t - 1) * m * d;
        memset(S, 0, (size_t)(m * d) * sizeof(double));
        for (int64_t i = i0; i < i1; ++i) {
            double s = sgnscale[i];
            if (s == 0.0)
                continue;
            const double *a = A->a + i * A->ld;
            double *dst = S + bucket[i] * d;
            for (int64_t j = 0; j < d; ++j)
                dst[j] += s * a[j];
        }
    } else {
        int64_t lo, hi;
        smr_k_part_blocks(d, 1, t, T, &lo, &hi);
        memset(c->SM + lo * m, 0, (size_t)((hi - lo) * m) * sizeof(double));
        for (int64_t j = lo; j < hi; ++j) {
            const double *col = A->a + j * A->ld;
            double *dst = c->SM + j * m;
            for (int64_t i = 0; i < n; ++i)
                dst[bucket[i]] += sgnscale[i] * col[i];
        }
    }
}

static int threads_for(const smr_mat *A)
{
    return (double)A->n * (double)A->d < SMR_SPLIT_MIN_WORK ? 1 : smr_k_threads();
}

int smr_k_countsketch_parts(const smr_mat *A, int64_t m)
{
    int T = threads_for(A);
    return A->row_major && T > 1 && (double)m * (double)A->d <= SMR_SKETCH_PART_MAX ? T - 1 : 0;
}

void smr_k_countsketch(const smr_mat *A, const double *scale, uint64_t seed,
                       int64_t m, int64_t *bucket, double *sgnscale, double *SM,
                       double *part, int nparts)
{
    cs_ctx c = {.A = A, .scale = scale, .seed = seed, .m = m, .bucket = bucket,
                .sgnscale = sgnscale, .SM = SM, .part = part};
    int T = threads_for(A);
    smr_k_parallel(T, hash_part, &c);
    if (A->row_major) {
        int want = smr_k_countsketch_parts(A, m), P = want < nparts ? want : nparts;
        smr_k_parallel(1 + P, add_part, &c);
        int64_t md = m * A->d;
        for (int t = 0; t < P; ++t) /* in thread order */
            for (int64_t q = 0; q < md; ++q)
                SM[q] += part[t * md + q];
        return;
    }
    smr_k_parallel(A->d < T ? (int)A->d : T, add_part, &c);
}
