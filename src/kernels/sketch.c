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
 * while m d <= 2^19 (4 MB, d <= 256 at m = 8d) until stop 39.  Stop 39
 * moved the row loop into AVX-512/AVX2 code by the vector level (element
 * by element: the same bits at every level; the baseline's SSE2 code had
 * been the larger cost), and with it the partials won at every d
 * measured: smr_leverage_scores, row-major, the partials against threads
 * owning columns (medians of 9, alternated): 0.41-0.51 s against
 * 0.49-0.54 at d = 400 (n = 800 000), 0.70-0.78 against 0.79-0.90 at
 * d = 800 (n = 400 000), 0.43-0.45 against 0.46-0.50 at d = 300.  So
 * partials while m d <= part_max (SMR_SKETCH_PART_MAX, 2^23 doubles: each
 * partial as large as the sketch, 64 MB at d = 1024); above that the
 * threads own whole cache lines of columns, [8 g t/T, 8 g (t+1)/T) of
 * g = ceil(d/8) groups, of every row: one sketch, every entry the same
 * running sum in row order as on one thread (the same bits at any thread
 * count); 0.13-0.17 s against 0.12-0.17 on one thread in AVX-512 code at
 * d = 400 (/tmp driver), 1.3x faster at d = 512 and 800.
 * Tried, slower: owning buckets (thread t adds the rows hashed into
 * [m t/T, m (t+1)/T); 0.19-0.27 s at d = 400, the two threads' rows
 * interleave and each one's prefetches pull in the other's); the rows
 * sorted by bucket (a counting sort, then each bucket summed in L1 and
 * stored once, rows read in random order with a prefetch 2-8 rows ahead:
 * 0.23-0.24 s against 0.16-0.17 owning columns); owning panels of 64
 * columns (0.41-1.08 s at d = 400: a panel's 512 bytes per row read at a
 * stride cost far more than whole rows); a prefetch of the sketch row 4-16
 * rows ahead (slower); forming the Hessian's [p q] = A^T [f v] in the same
 * pass (two more multiply-adds per entry cost as much as the separate pass
 * they would save: 0.21-0.27 s against 0.15-0.16 + 0.08-0.13; since stop
 * 39 p and q come from the one pass for loss and gradient instead,
 * fused.c).
 */
#include "kernels.h"

#include <string.h>

/* row-major, threads owning columns: whole cache lines (8 doubles) each */
#define SMR_SKETCH_COL_ALIGN 8

typedef enum {
    CS_ONE,   /* row-major, one thread                                  */
    CS_COLS,  /* column-major, threads own columns                      */
    CS_PARTS, /* row-major, threads own rows, into partial sketches     */
    CS_SPLIT  /* row-major, threads own groups of 8 columns of each row */
} cs_mode;

typedef struct {
    cs_mode mode;
    int T;
    int64_t work; /* doubles of scratch beside SM */
} cs_plan;

typedef struct {
    const smr_mat *A;
    const double *scale;
    uint64_t seed;
    int64_t m;
    int64_t *bucket;
    double *sgnscale, *SM, *work;
    cs_plan plan;
} cs_ctx;

static int threads_for(const smr_mat *A)
{
    return (double)A->n * (double)A->d < SMR_SPLIT_MIN_WORK ? 1 : smr_k_threads();
}

static cs_plan plan_for(const smr_mat *A, int64_t m, int64_t part_max)
{
    int T = threads_for(A);
    int64_t d = A->d, groups = (d + SMR_SKETCH_COL_ALIGN - 1) / SMR_SKETCH_COL_ALIGN;
    if (!A->row_major)
        return (cs_plan){CS_COLS, d < T ? (int)d : T, 0};
    if (T > 1 && (double)m * (double)d <= (double)part_max)
        return (cs_plan){CS_PARTS, T, (int64_t)(T - 1) * m * d};
    if (T > groups)
        T = (int)groups;
    return (cs_plan){T > 1 ? CS_SPLIT : CS_ONE, T, 0};
}

int64_t smr_k_countsketch_work(const smr_mat *A, int64_t m, int64_t part_max)
{
    return plan_for(A, m, part_max).work;
}

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

/* Row-major rows [i0, i1), columns [lo, hi) (len = hi - lo) of A (at
 * column lo):  S[h(i), lo:hi) += sgn_i s_i a_i[lo:hi)  (S at column lo, ld
 * d), each entry a running sum in row order.  Element by element (a
 * multiply, then an add: contraction is off in this file), so the vector
 * width changes the speed only, never the bits. */
static inline __attribute__((always_inline)) void
rows_body(int64_t i0, int64_t i1, int64_t len, const double *A, int64_t lda,
          const int64_t *bucket, const double *sgnscale, double *S, int64_t d)
{
    for (int64_t i = i0; i < i1; ++i) {
        double s = sgnscale[i];
        if (s == 0.0)
            continue;
        const double *a = A + i * lda;
        double *dst = S + bucket[i] * d;
        for (int64_t j = 0; j < len; ++j)
            dst[j] += s * a[j];
    }
}

#ifdef SMR_SIMD_X86
/* the same loop in AVX-512 / AVX2 code (-O3 vectorizes it): at d = 400,
 * n = 800 000 on two threads owning columns 0.13-0.17 s against 0.25-0.31
 * in the baseline's SSE2 code (/tmp driver, medians of 7); against the
 * stop 38 build (SSE2, one thread at d > 256) smr_leverage_scores took
 * 0.48-0.50 s against 0.50-0.65 at d = 400 and 0.70-0.81 against
 * 0.91-1.02 at d = 800 (alternated, medians of 9) */
__attribute__((target("arch=x86-64-v4"))) static void
rows_v4(int64_t i0, int64_t i1, int64_t len, const double *A, int64_t lda,
        const int64_t *bucket, const double *sgnscale, double *S, int64_t d)
{
    rows_body(i0, i1, len, A, lda, bucket, sgnscale, S, d);
}

__attribute__((target("arch=x86-64-v3"))) static void
rows_v3(int64_t i0, int64_t i1, int64_t len, const double *A, int64_t lda,
        const int64_t *bucket, const double *sgnscale, double *S, int64_t d)
{
    rows_body(i0, i1, len, A, lda, bucket, sgnscale, S, d);
}
#endif

/* rows [i0, i1), columns [lo, hi) into S (zeroed here first) */
static void add_rows(const cs_ctx *c, int64_t i0, int64_t i1, int64_t lo, int64_t hi,
                     double *S)
{
    const smr_mat *A = c->A;
    int64_t d = A->d, len = hi - lo;
    for (int64_t b = 0; b < c->m; ++b)
        memset(S + b * d + lo, 0, (size_t)len * sizeof(double));
#ifdef SMR_SIMD_X86
    int level = smr_k_simd_level();
    if (level == 2) {
        rows_v4(i0, i1, len, A->a + lo, A->ld, c->bucket, c->sgnscale, S + lo, d);
        return;
    }
    if (level == 1) {
        rows_v3(i0, i1, len, A->a + lo, A->ld, c->bucket, c->sgnscale, S + lo, d);
        return;
    }
#endif
    rows_body(i0, i1, len, A->a + lo, A->ld, c->bucket, c->sgnscale, S + lo, d);
}

/* column-major columns [lo, hi): column j scattered into SM[:, j] */
static void add_cols(const cs_ctx *c, int64_t lo, int64_t hi)
{
    const smr_mat *A = c->A;
    int64_t n = A->n, m = c->m;
    const int64_t *bucket = c->bucket;
    const double *sgnscale = c->sgnscale;
    for (int64_t j = lo; j < hi; ++j) {
        const double *col = A->a + j * A->ld;
        double *dst = c->SM + j * m;
        memset(dst, 0, (size_t)m * sizeof(double));
        for (int64_t i = 0; i < n; ++i)
            dst[bucket[i]] += sgnscale[i] * col[i];
    }
}

static void add_part(void *v, int t, int T)
{
    cs_ctx *c = v;
    int64_t n = c->A->n, d = c->A->d, lo, hi;
    switch (c->plan.mode) {
    case CS_COLS:
        smr_k_part_blocks(d, 1, t, T, &lo, &hi);
        add_cols(c, lo, hi);
        break;
    case CS_PARTS: /* thread 0 into SM, thread t > 0 into partial t - 1 */
        smr_k_part_blocks(n, 1, t, T, &lo, &hi);
        add_rows(c, lo, hi, 0, d, t == 0 ? c->SM : c->work + (int64_t)(t - 1) * c->m * d);
        break;
    case CS_SPLIT:
        smr_k_part_range(d, SMR_SKETCH_COL_ALIGN, t, T, &lo, &hi); /* whole lines */
        add_rows(c, 0, n, lo, hi, c->SM);
        break;
    case CS_ONE:
        add_rows(c, 0, n, 0, d, c->SM);
        break;
    }
}

void smr_k_countsketch(const smr_mat *A, const double *scale, uint64_t seed,
                       int64_t m, int64_t part_max, int64_t *bucket, double *sgnscale,
                       double *SM, double *work, int64_t nwork)
{
    cs_ctx c = {.A = A, .scale = scale, .seed = seed, .m = m, .bucket = bucket,
                .sgnscale = sgnscale, .SM = SM, .work = work,
                .plan = plan_for(A, m, part_max)};
    if (c.plan.work > nwork) /* no room for the partial sketches */
        c.plan = (cs_plan){CS_ONE, 1, 0};
    smr_k_parallel(threads_for(A), hash_part, &c);
    smr_k_parallel(c.plan.T, add_part, &c);
    if (c.plan.mode == CS_PARTS) { /* the partials added in thread order */
        int64_t md = m * A->d;
        for (int t = 0; t < c.plan.T - 1; ++t)
            for (int64_t q = 0; q < md; ++q)
                SM[q] += work[t * md + q];
    }
}
