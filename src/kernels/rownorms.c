/*
 * rownorms.c -- the squared row norms of a thin product, out_i = |A_i W|^2,
 * without forming A W (the leverage scores' step 3, objective/sparsify.c).
 *
 * W has k columns (k = 16 there), held as Wr: d x kp row-major,
 * kp = smr_k_padded(k), zero columns past k.  Row i's k products come
 * from moves.h (lanes hold directions, one chain per row over c in order),
 * are squared and summed across the lanes at once; A W (n x k) is never
 * stored.  Rows go in blocks whose rows of A take at most 128 KB, so a
 * second group of directions (k > 16 at the AVX-512 level, > 8 at the
 * AVX2 level) reads the block again from cache; the groups' sums are added
 * to out_i in group order.  Each out_i is formed by one thread in a fixed
 * order: the same bits at any thread count (not across SIMD levels, whose
 * lanes differ).
 *
 * Why not dgemm: OpenBLAS packs A for this shape (n x d times d x 16) --
 * dgemm_incopy took as much time as its kernel (perf, d = 400,
 * n = 800 000), and the product ran at 11 GB/s on two threads (/tmp
 * driver); the same loop in perturbed_rows.c replaced a dgemm per block
 * for the SPSA losses for the same reason.  Figures: docs/sketch.md.
 *
 * Compiled twice like perturbed_rows.c: here at SMR_VL = 8 (AVX-512 and
 * portable) and through rownorms_avx2.c at SMR_VL = 4.
 */
#include "kernels.h"
#include "simd.h"
#include "moves.h"

#define NV SMR_MOVES_NV
/* rows formed together: 8 for row-major A (its rows are separate
 * streams; 8 chains per vector of directions ran 0.19-0.20 s against
 * 0.24-0.28 for 4 on one thread, d = 400, n = 800 000), 4 for
 * column-major (its 4 rows share a cache line per column; 8 was slower,
 * 0.23-0.27 s against 0.19-0.21 on two threads) */
#define RB_ROW 8
#define RB_COL 4

/* the AVX2 level's block, in rownorms_avx2.c (this file at SMR_VL = 4) */
void smr_k_rownorms_block_v3(int64_t m, int64_t d, const double *A, int64_t rs,
                             int64_t cs, const double *Wr, int64_t kp,
                             double *out);

/* rows 0..m-1 of one block (A at its first row), directions j .. j + nv
 * SMR_VL - 1 of Wr; first: the first group (out_i set, else added to) */
static inline __attribute__((always_inline)) void
group_body(int rb, int nv, int first, int64_t m, int64_t d, const double *A,
           int64_t rs, int64_t cs, const double *Wr, int64_t kp, double *out)
{
    vd a[RB_ROW][NV];
    int64_t i = 0;
    for (; i + rb <= m; i += rb) {
        smr_moves(rb, nv, i, d, A, rs, cs, Wr, kp, a);
        for (int r = 0; r < rb; ++r) {
            vd q = a[r][0] * a[r][0];
            for (int v = 1; v < nv; ++v)
                q += a[r][v] * a[r][v];
            double s = hsum_lanes(q);
            out[i + r] = first ? s : out[i + r] + s;
        }
    }
    for (; i < m; ++i) {
        smr_moves(1, nv, i, d, A, rs, cs, Wr, kp, a);
        vd q = a[0][0] * a[0][0];
        for (int v = 1; v < nv; ++v)
            q += a[0][v] * a[0][v];
        double s = hsum_lanes(q);
        out[i] = first ? s : out[i] + s;
    }
}

static inline __attribute__((always_inline)) void
groups(int rb, int64_t m, int64_t d, const double *A, int64_t rs, int64_t cs,
       const double *Wr, int64_t kp, double *out)
{
    int64_t j = 0;
    for (; j + NV * SMR_VL <= kp; j += NV * SMR_VL)
        group_body(rb, NV, j == 0, m, d, A, rs, cs, Wr + j, kp, out);
    for (; j < kp; j += SMR_VL)
        group_body(rb, 1, j == 0, m, d, A, rs, cs, Wr + j, kp, out);
}

/*
 * Column-major A: lanes hold SMR_VL rows instead, and 2 SMR_VL directions
 * go at once (16 accumulators: all of AVX2's registers but one, half of
 * AVX-512's): per column j, one load of the rows' stretch and a
 * multiply-add per direction with Wr[j, c] broadcast; the squares are
 * summed over the directions lane by lane, so no sum across lanes.  The
 * stretch is a contiguous run of A (one cache line at AVX-512), where the
 * direction lanes above read one scalar per row and column.
 */
#define CG (2 * SMR_VL) /* directions per group, column-major */
#define PF 16 /* rows ahead that a chunk prefetches (chosen at d = 400,
               * n = 800 000, before the d limit below: 16: 0.28 s;
               * 32: 0.34; 64: 0.46; one run each) */
/* Chunks up to this d.  The whole smr_leverage_scores with chunks over
 * the same with direction lanes (paired, medians of 7-9): 1.14 at d = 400,
 * n = 800 000 (a chunk's d stretches lie a page or more apart), 0.52 at
 * d = 30, 0.59 at 60, 0.96 at 200, 1.00 at 10 and 100 (n d = 4 10^7) */
#define SMR_RN_CHUNK_MAX_D 256

static inline __attribute__((always_inline)) void
col_chunk(int nc, int first, int64_t d, const double *A, int64_t ld,
          const double *Wr, int64_t kp, double *out, int64_t pf)
{
    vd acc[CG];
    for (int c = 0; c < nc; ++c)
        acc[c] = (vd){0};
    for (int64_t j = 0; j < d; ++j) {
        if (pf)
            __builtin_prefetch(A + j * ld + pf);
        vd av = ldv(A + j * ld);
        for (int c = 0; c < nc; ++c)
            acc[c] += av * splatv(Wr[j * kp + c]);
    }
    vd q = acc[0] * acc[0];
    for (int c = 1; c < nc; ++c)
        q += acc[c] * acc[c];
    if (!first)
        q += ldv(out);
    stv(out, q);
}

static inline __attribute__((always_inline)) void
block_body(int64_t m, int64_t d, const double *A, int64_t rs, int64_t cs,
           const double *Wr, int64_t kp, double *out)
{
    if (cs == 1) {
        groups(RB_ROW, m, d, A, rs, cs, Wr, kp, out);
        return;
    }
    if (d > SMR_RN_CHUNK_MAX_D) {
        groups(RB_COL, m, d, A, rs, cs, Wr, kp, out);
        return;
    }
    int64_t mv = m / SMR_VL * SMR_VL;
    for (int64_t i = 0; i < mv; i += SMR_VL) {
        /* the stretches PF rows on, while inside the block */
        int64_t pf = i + PF < m ? PF : 0, j = 0;
        for (; j + CG <= kp; j += CG)
            col_chunk(CG, j == 0, d, A + i, cs, Wr + j, kp, out + i, j == 0 ? pf : 0);
        for (; j < kp; j += SMR_VL)
            col_chunk(SMR_VL, j == 0, d, A + i, cs, Wr + j, kp, out + i, j == 0 ? pf : 0);
    }
    if (mv < m) /* the last rows (fewer than a vector) by direction lanes */
        groups(RB_COL, m - mv, d, A + mv, rs, cs, Wr, kp, out + mv);
}

#ifdef SMR_SIMD_X86
#if SMR_VL == 4
__attribute__((target("arch=x86-64-v3"))) void
smr_k_rownorms_block_v3(int64_t m, int64_t d, const double *A, int64_t rs,
                        int64_t cs, const double *Wr, int64_t kp, double *out)
{
    block_body(m, d, A, rs, cs, Wr, kp, out);
}
#else
__attribute__((target("arch=x86-64-v4"))) static void
block_v4(int64_t m, int64_t d, const double *A, int64_t rs, int64_t cs,
         const double *Wr, int64_t kp, double *out)
{
    block_body(m, d, A, rs, cs, Wr, kp, out);
}
#endif
#endif

#if SMR_VL == 8 /* the dispatch, the threads (and the portable loop) once */
static void block(int64_t m, int64_t d, const double *A, int64_t rs,
                  int64_t cs, const double *Wr, int64_t kp, double *out)
{
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        block_v4(m, d, A, rs, cs, Wr, kp, out);
        return;
    }
    if (path == 1) {
        smr_k_rownorms_block_v3(m, d, A, rs, cs, Wr, kp, out);
        return;
    }
#endif
    block_body(m, d, A, rs, cs, Wr, kp, out);
}

typedef struct {
    const smr_mat *A;
    const double *Wr;
    int64_t kp, R;
    double *out;
} rn_ctx;

static void part(void *v, int t, int T)
{
    rn_ctx *c = v;
    const smr_mat *A = c->A;
    int64_t n = A->n, R = c->R, b0, b1;
    int64_t rs = A->row_major ? A->ld : 1, cs = A->row_major ? 1 : A->ld;
    smr_k_part_blocks(n, R, t, T, &b0, &b1);
    for (int64_t blk = b0; blk < b1; ++blk) {
        int64_t i0 = blk * R, m = n - i0 < R ? n - i0 : R;
        block(m, A->d, A->a + i0 * rs, rs, cs, c->Wr, c->kp, c->out + i0);
    }
}

void smr_k_rownorms2(const smr_mat *A, const double *Wr, int64_t kp,
                     double *out)
{
    rn_ctx c = {.A = A, .Wr = Wr, .kp = kp, .R = smr_k_lane_block_rows(A->d), .out = out};
    int64_t nblk = (A->n + c.R - 1) / c.R;
    int T = (double)A->n * (double)A->d * (double)kp < SMR_SPLIT_MIN_WORK ? 1 : smr_k_threads();
    smr_k_parallel(nblk < T ? (int)(nblk > 0 ? nblk : 1) : T, part, &c);
}
#endif
