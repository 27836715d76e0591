/*
 * fused_cols.c -- the one-pass loss+gradient's inner loop on column-major
 * A: the same quantities as fused_rows.c (docs/math.md, section 2),
 *
 *     z_i = a_i . x,   u_i = exp(z_i - mu),
 *     W_i = [ u_i (u_i - b_i - s~),  u_i^2,  u_i,  w_i^2 z_i ],
 *     G  += sum_i a_i^T W_i,
 *
 * computed a chunk of rows at a time: SMR_CV_SHORT vectors of SMR_VL rows
 * below d = SMR_CV_MIN_D, SMR_CV_MID up to SMR_CV_MID_MAX_D, SMR_CV above
 * (32, 128 and 64 rows at the AVX-512 level's 8 lanes; the AVX2 level
 * compiles this file at 4 lanes through fused_cols_avx2.c, simd.h, with
 * 32 rows from SMR_CV_MIN_D).  In column-major A a chunk's rows of one
 * column are contiguous, so the lanes are rows:
 *
 *     z[v]      += x_j * A[chunk v, j]            over the columns j
 *     Gl[c][j]  += W_c[v] * A[chunk v, j]         the chunk again, from cache
 *
 * No horizontal sums per row (the row kernel's transpose tree); instead Gl
 * keeps SMR_VL lane sums per column and weight, 4 SMR_VL d doubles per
 * thread, added
 * across the lanes once per block.  The chunk's d columns are d streams 256
 * or 512 bytes apart in each: each column's lines SMR_CPF rows ahead are
 * prefetched (the hardware prefetcher follows a few streams, not d of
 * them).  Why 64 rows from d = 48 (8 lanes; now 128 up to d = 255,
 * SMR_CV_MID below, and 64 from d = 256): the update's lane sums Gl (3 x 8 x d
 * doubles, read and written once per chunk) then cost half as much per
 * row, and each column visit reads 8 lines instead of 4.  Measured with
 * bench_kernels --case (2 threads, column-major, paired with a read,
 * alternating builds): n = 10^4, d = 2000: 1.74-1.92 against 2.25-2.59
 * times the read (five rounds); n = 10^6, d = 256: 1.22-1.37 against
 * 1.47-1.52; d = 64: 1.40-1.62 against 1.59-1.61; but d = 16: 1.68-1.76
 * against 1.32-1.44 (two rounds), so short rows keep 32.  Tried at
 * d = 2000 and not kept (docs/benchmarks.md, "Column-major chunks"): the
 * update of one chunk in the dots loop of the next, the column sums
 * reduced per 8 columns (hsumv) instead of lane sums, prefetch into L2 or
 * further ahead -- none beat this order; the update's second read of the
 * chunk from cache costs about as much as the first from memory.
 *
 * The forward pass takes its logits from the same dots (smr_fused_cols_z:
 * chunk's z-only mode, nothing but z, its maximum and finiteness), so
 * the two passes see the same z; until stop 37 it had a one-thread dgemv
 * per block, 1.1-1.8 times slower (forward.c).
 *
 * Why not the first version (per block: OpenBLAS dgemv, exp, a thin
 * product, kept until this file): it ran at 0.4-0.9 times the speed of
 * OpenBLAS's two plain calls (dgemv + transposed dgemv) on column-major A
 * (docs/benchmarks.md), so the solvers did not use it there.
 *
 * The shift, its rescaling, the sums' order and the partial last vector
 * follow fused_rows.c, except that without a provisional shift the first
 * is the range's first row's logit, not the first chunk's largest: the
 * chunks' rows depend on A's offset (the head, cols_body), the first row
 * does not.  A shift raised mid-pass is raised at a chunk, so for A at
 * another offset modulo 64 bytes at another row and to another value (the
 * chunk's largest logit): fused.c then redoes the pass from the largest
 * logit of all, under which nothing is raised (smr_fused_acc.raises).
 *
 * Gl's rescale bound: smr_fused_rescale bounds the rounding of each lane
 * entry; the lane sums of a column add at most
 * sqrt(SMR_VL) <= sqrt(8) times their 2-norm, hence the factor 3 on that
 * bound.
 */
#include "fused_rows.h"
#include "fused_lanes.h"

#include <math.h>
#include <string.h>

#if SMR_VL == 8
#define SMR_CV 8       /* vectors (of 8 rows) per chunk from SMR_CV_MID_MAX_D
                          (and for the rows that 128-row chunks leave) */
#define SMR_CV_SHORT 4 /* vectors per chunk below it                     */
/* 128-row chunks from SMR_CV_MIN_D up to SMR_CV_MID_MAX_D: A read in that
 * order costs less than in runs of 64 rows (bench_kernels' col_read_rR
 * rows, docs/benchmarks.md "The column-major read order": the order alone,
 * no arithmetic, 1.3-1.8 times a contiguous read), and the pass follows,
 * by how much depending on the minute: n d = 1.28e8 or 6.4e7, 2 threads,
 * the two builds alternated in both orders (/tmp driver), the time
 * against 64-row chunks: d = 48 0.83-0.85 in a fast minute, 0.92-0.97 in
 * slower ones (one thread 0.90-0.93); d = 64 0.91-0.94, then 0.95-0.99
 * (one thread 1.01-1.03); d = 96 0.88-0.93, then 0.98-0.99; d = 128
 * 0.91-0.93, then 0.97-1.00 (one thread 0.95-0.96); d = 160 0.96-0.97,
 * d = 192 0.94, d = 224 0.95; but d = 256 0.98-1.01 and d = 512
 * 1.05-1.06; d = 2000 (n = 10^4) 1.00.  256 rows (32
 * vectors): 1.12-1.14 at d = 64, 1.44-1.54 at d = 256 (the chunk's z
 * and weights no longer fit in registers).  Same bits: every lane sum
 * adds its rows in row order whatever the chunk (see cols_body) */
#define SMR_CV_MID 16
#define SMR_CV_MID_MAX_D 256
#else
/* 4 lanes: 32 and 16 rows.  16 vectors (64 rows, as at 8 lanes) measured
 * worse (AVX2 level, bench_kernels --case, paired with a read, 2-3
 * rounds against this): d = 64 1.59-2.12 / 1.75-1.85 times the read,
 * d = 256 1.85-1.97 / 1.60-1.73, d = 2000 1.80-2.20 / 1.60-1.99; with 16
 * vector registers the chunk's z and weights no longer fit */
#define SMR_CV 8
#define SMR_CV_SHORT 4
#define SMR_CV_MID SMR_CV /* (no 128-row chunks: 16 registers) */
#define SMR_CV_MID_MAX_D 0
#endif
#define SMR_CV_MIN_D 48 /* (header comment: measured at d = 16, 64, 256, 2000) */
/* below this d the chunk's dots sum even and odd columns apart (chunk):
 * 8 chains of multiply-adds instead of the SMR_CV_SHORT = 4 vectors'
 * (FMA latency 4 cycles, two issued a cycle).  The pass at n = 10^6,
 * 2 threads, the two builds alternated in both orders (/tmp driver),
 * against the sums in one chain: d = 10 0.89-0.93 of the time, d = 16
 * 0.91-0.98 (five runs), d = 24 0.97, d = 28 0.97-1.01, d = 32 0.99-1.23,
 * d = 40 1.05-1.16; AVX2 level d = 16 0.94-0.96 */
#ifndef SMR_ZSPLIT_D
#define SMR_ZSPLIT_D 32
#endif
#define SMR_CPF 64 /* rows ahead to prefetch                */
/* Below this d the chunk's prefetches are spread over its two loops,
 * from it all are issued in the dots loop.  Measured (2 threads, n = 10^6,
 * paired with a read, /tmp driver, three alternations): spread against
 * all in the dots, d = 16: 1.21-1.22 against 1.41-1.45 times the read;
 * d = 24: 1.02-1.18 / 1.41-1.53; d = 32: 1.09-1.11 / 1.30-1.49; d = 40:
 * 1.24-1.29 / 1.27-1.32; but d = 64: 1.32-1.35 / 1.18-1.26 and d = 256:
 * 1.31-1.47 / 1.15-1.18. */
#define SMR_CPF_SPREAD_D 48

typedef struct {
    const double *Ab, *x, *b, *w;
    int64_t ld, d;
    int64_t rows_left; /* rows of A from the block's first to the last */
    double s0, mu;
    vd ablk, finv;
    vd zmx;     /* the z-only mode's lane maxima */
    vd lacc[4]; /* the lean pass's lane sums (u NULL; fused_lanes.h) */
    double *z, *u, *Gl;
    smr_fused_acc *st;
} cblk_t;

/* the AVX2 level's kernels, in fused_cols_avx2.c (this file at SMR_VL = 4) */
void smr_fused_cols_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                       int64_t left, const double *x, const double *b,
                       const double *w, double s0, double *z, double *u,
                       smr_fused_acc *st);
void smr_fused_cols_z_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                         int64_t left, const double *x, double *z,
                         smr_fused_acc *st);

/* element (r, j) of the block for lane r of a partial vector whose valid
 * rows are r0 .. r0 + cnt - 1: rows past cnt repeat the last one */
static inline __attribute__((always_inline)) vd
ld_part(const cblk_t *k, int64_t r0, int cnt, int64_t j)
{
    vd a;
    for (int r = 0; r < SMR_VL; ++r)
        a[r] = k->Ab[r0 + (r < cnt ? r : cnt - 1) + j * k->ld];
    return a;
}

/* vector v (of V) of the chunk's column j, col = A + j ld: a load, or
 * for the partial last vector (cnt < SMR_VL) ld_part */
static inline __attribute__((always_inline)) vd
col_vec(const cblk_t *k, const double *col, int64_t r0, int v, int V, int cnt,
        int64_t j)
{
    return v == V - 1 && cnt < SMR_VL ? ld_part(k, r0 + SMR_VL * v, cnt, j)
                                      : ldv(col + SMR_VL * v);
}

/* V vectors of SMR_VL rows from r0; the last has cnt valid rows (SMR_VL
 * for all but the block's last vector).  V and cnt == SMR_VL are
 * constants after inlining.  lo (the head, V = 1): the rows' weights and
 * entries go to lanes lo .. lo + cnt - 1 of the update, the lanes the
 * aligned chunks after it give rows of these residues (see cols_body).
 * zonly (smr_fused_cols_z): the logits stored, their maxima and
 * finiteness kept, nothing else -- the same dots, so the same bits. */
static inline __attribute__((always_inline)) void
chunk(int simd, bool zonly, int V, int cnt, int64_t r0, int lo, cblk_t *k)
{
    const int64_t d = k->d, ld = k->ld;
    const double *A = k->Ab + r0;
    const vp up = rotidx(SMR_VL - lo); /* lane l to lane l + lo */
    vd zv[SMR_CV_MID] = {{0}};
    /* each column's L lines cpf rows ahead are prefetched: cpf = SMR_CPF,
     * or the chunk's own length for 128-row chunks (the next chunk; 64
     * ahead measured the same, 0.93 against 0.91-0.93 of the 64-row
     * chunks' time at d = 64).  For d < SMR_CPF_SPREAD_D they are spread
     * over the chunk's work as in fused_rows.c (panel): this loop takes
     * the first of the L lines, the update below (three multiply-adds per
     * load where this loop has one) the others; from that d this loop
     * takes all L (see the constant) */
    const int64_t cpf = SMR_VL * V > SMR_CPF ? SMR_VL * V : SMR_CPF;
    const bool pf = r0 + cpf + SMR_VL * V <= k->rows_left;
    const int L = (SMR_VL * V + 7) / 8; /* 64-byte lines per column */
    const int pfl = L > 1 && d < SMR_CPF_SPREAD_D && !zonly ? 1 : L;
    /* below SMR_ZSPLIT_D (chunks of SMR_CV_SHORT vectors), even and odd
     * columns in separate sums: V chains of multiply-adds alone wait on
     * each other's latency.  By d, not V: a row's z must take the same
     * steps in the head and in a full chunk (test_placement_independent);
     * and in a loop of its own: one loop with a branch between the sums
     * was if-converted, its products no longer contracted the same way */
    const bool two = d < SMR_ZSPLIT_D;
    vd zo[SMR_CV_MID] = {{0}};
    int64_t jz = 0;
    for (; two && jz + 1 < d; jz += 2) {
        const double *col = A + jz * ld;
        double xj = k->x[jz], xo = k->x[jz + 1];
        if (pf)
            for (int l = 0; l < pfl; ++l) {
                __builtin_prefetch(col + cpf + 8 * l, 0, 3);
                __builtin_prefetch(col + ld + cpf + 8 * l, 0, 3);
            }
        for (int v = 0; v < V; ++v) {
            zv[v] += xj * col_vec(k, col, r0, v, V, cnt, jz);
            zo[v] += xo * col_vec(k, col + ld, r0, v, V, cnt, jz + 1);
        }
    }
    for (; jz < d; ++jz) {
        const double *col = A + jz * ld;
        double xj = k->x[jz];
        if (pf)
            for (int l = 0; l < pfl; ++l)
                __builtin_prefetch(col + cpf + 8 * l, 0, 3);
        for (int v = 0; v < V; ++v)
            zv[v] += xj * col_vec(k, col, r0, v, V, cnt, jz);
    }
    if (two)
        for (int v = 0; v < V; ++v)
            zv[v] += zo[v];
    if (zonly) { /* lanes past cnt repeat row cnt - 1: no mask needed */
        for (int v = 0; v < V; ++v) {
            int c = v == V - 1 ? cnt : SMR_VL;
            if (c == SMR_VL)
                stv(k->z + r0 + SMR_VL * v, zv[v]);
            else
                for (int r = 0; r < c; ++r)
                    k->z[r0 + SMR_VL * v + r] = zv[v][r];
            k->zmx = selv(zv[v] > k->zmx, zv[v], k->zmx);
            k->finv += zv[v] * 0.0;
        }
        return;
    }

    /* shift (largest logit of the chunk), finiteness */
    vd mx = zv[0];
    for (int v = 1; v < V; ++v)
        mx = selv(zv[v] > mx, zv[v], mx);
    double pm = max_lanes(mx);
    for (int v = 0; v < V; ++v)
        k->finv += zv[v] * 0.0;
    /* Gl: SMR_VL d lane sums per column; without a provisional shift the
     * first from the range's first row (lane 0 of the first vector: the
     * chunks' rows depend on A's offset, the first row does not) */
    smr_fused_raise(k->st, pm, zv[0][0], &k->mu, &k->ablk, k->u, r0, d, k->Gl,
                    SMR_VL * d, SMR_VL * d, 3.0);

    /* u and the weights, lanes past cnt zero */
    vd W[4][SMR_CV_MID];
    for (int v = 0; v < V; ++v) {
        smr_lanes Lw = smr_fused_lanes(simd, zv[v], v == V - 1 ? cnt : SMR_VL,
                                       r0 + SMR_VL * v, k->b, k->w, k->mu,
                                       k->s0, k->z, k->u);
        W[0][v] = Lw.w1;
        W[1][v] = Lw.w2;
        W[2][v] = Lw.u;
        W[3][v] = Lw.w4;
        if (lo)
            for (int c = 0; c < 4; ++c)
                W[c][v] = permv(W[c][v], up);
        k->ablk += W[2][v];
        if (!k->u) /* the lean pass: in the lanes of ablk (rotated) */
            smr_lean_add(k->lacc, lo ? permv(Lw.r, up) : Lw.r, W[2][v], W[1][v],
                         lo ? permv(Lw.wz2, up) : Lw.wz2);
    }

    const bool four = k->w != NULL;
    /* Gl[c][j] += sum_v W_c[v] A[chunk v, j] (the chunk from cache), the
     * columns backwards: the dots above read the chunk's last columns
     * last, so where a chunk exceeds L1 (from d = 48 at 128 rows) those
     * are still there (as fused_rows.c's update).  Paired with the forward
     * order (/tmp/x/abdl, 2 threads, n = 10^6 at d = 16 ... 256, 2 10^4 at
     * d = 1000, two offsets of A, twice): median of the runs' ratios 0.98
     * (0.83-1.02); one thread in cache 0.95-1.01.  Same bits: each
     * column's lane sums take the same steps in either order. */
    double *Gl = k->Gl;
    for (int64_t j = d - 1; j >= 0; --j) {
        const double *col = A + j * ld;
        double *g = Gl + SMR_VL * j; /* column j's lane sums, weights d apart */
        const int64_t gd = SMR_VL * d;
        vd e1 = ldv(g), e2 = ldv(g + gd), e3 = ldv(g + 2 * gd);
        vd e4 = four ? ldv(g + 3 * gd) : e1;
        if (pf)
            for (int l = pfl; l < L; ++l)
                __builtin_prefetch(col + cpf + 8 * l, 0, 3);
        for (int v = 0; v < V; ++v) {
            vd a = col_vec(k, col, r0, v, V, cnt, j);
            SMR_IN_REG(simd, a); /* one load, three FMAs (simd.h) */
            if (lo)
                a = permv(a, up);
            e1 += W[0][v] * a;
            e2 += W[1][v] * a;
            e3 += W[2][v] * a;
            if (four)
                e4 += W[3][v] * a;
        }
        stv(g, e1);
        stv(g + gd, e2);
        stv(g + 2 * gd, e3);
        if (four)
            stv(g + 3 * gd, e4);
    }
}

static inline __attribute__((always_inline)) void
cols_body(int simd, bool zonly, const double *Ab, int64_t ld, int64_t d,
          int64_t m, int64_t rows_left, const double *x, const double *b,
          const double *w, double s0, double *z, double *u, smr_fused_acc *st)
{
    cblk_t k = {.Ab = Ab, .x = x, .b = b, .w = w, .ld = ld, .d = d,
                .rows_left = rows_left, .s0 = s0, .mu = st->mu, .ablk = {0},
                .finv = {0}, .z = z, .u = u, .Gl = st->Gl, .st = st};
    k.zmx = k.finv - INFINITY;
    int ncol = w ? 4 : 3;
    if (!zonly) /* the columns summed */
        memset(k.Gl, 0, (size_t)(ncol * SMR_VL * d) * sizeof(double));
    int64_t r0 = 0;
    /* when every column starts at the same place in its vector-sized
     * stretch of memory (ld % SMR_VL == 0) but not at its start, first the
     * rows up to the next one as one partial vector: then every chunk's
     * loads are aligned (malloc puts A 16 bytes past a line, and then each
     * 64-byte load straddled two lines) */
    int64_t o = (int64_t)((uintptr_t)Ab % (8 * SMR_VL)) / 8;
    if (!(ld % SMR_VL == 0 && (uintptr_t)Ab % 8 == 0))
        o = 0;
    /* Lanes: row r of the block (its first row 0) sits in lane
     * (r + o) % SMR_VL -- the head's rows in lanes o .. (chunk's lo), every
     * later vector on a line -- and every lane sum adds its rows in row
     * order from zero.  With o = 0 (A on a line, or no head) it is lane
     * r % SMR_VL.  So the lane sums are those of o = 0 rotated by o, and
     * rotated back before the lanes are added (rot) they give the same
     * bits at every offset of A (test_placement_independent). */
    if (o != 0) {
        int64_t h = SMR_VL - o < m ? SMR_VL - o : m;
        chunk(simd, zonly, 1, (int)h, 0, (int)o, &k);
        r0 = h;
    }
    if (d >= SMR_CV_MIN_D && d < SMR_CV_MID_MAX_D) /* (never at 4 lanes) */
        for (; r0 + SMR_VL * SMR_CV_MID <= m; r0 += SMR_VL * SMR_CV_MID)
            chunk(simd, zonly, SMR_CV_MID, SMR_VL, r0, 0, &k);
    if (d >= SMR_CV_MIN_D)
        for (; r0 + SMR_VL * SMR_CV <= m; r0 += SMR_VL * SMR_CV)
            chunk(simd, zonly, SMR_CV, SMR_VL, r0, 0, &k);
    for (; r0 + SMR_VL * SMR_CV_SHORT <= m; r0 += SMR_VL * SMR_CV_SHORT)
        chunk(simd, zonly, SMR_CV_SHORT, SMR_VL, r0, 0, &k);
    for (; r0 + SMR_VL <= m; r0 += SMR_VL)
        chunk(simd, zonly, 1, SMR_VL, r0, 0, &k);
    if (r0 < m)
        chunk(simd, zonly, 1, (int)(m - r0), r0, 0, &k);
    if (zonly) {
        double zm = max_lanes(k.zmx);
        st->zmax = zm > st->zmax ? zm : st->zmax;
        st->fin += hsum_lanes(k.finv);
        return;
    }
    const vp rot = rotidx(o);
    for (int c = 0; c < ncol; ++c)
        for (int64_t j = 0; j < d; ++j)
            st->G[c * d + j] +=
                hsum_lanes(permv(ldv(k.Gl + SMR_VL * (c * d + j)), rot));
    st->alpha += hsum_lanes(permv(k.ablk, rot));
    st->fin += hsum_lanes(k.finv);
    st->mu = k.mu;
    if (!u)
        for (int c = 0; c < 4; ++c)
            st->lean[c] += hsum_lanes(permv(k.lacc[c], rot));
}

#ifdef SMR_SIMD_X86
#if SMR_VL == 4
__attribute__((target("arch=x86-64-v3"))) void
smr_fused_cols_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                  int64_t left, const double *x, const double *b,
                  const double *w, double s0, double *z, double *u,
                  smr_fused_acc *st)
{
    cols_body(1, false, Ab, ld, d, m, left, x, b, w, s0, z, u, st);
}
__attribute__((target("arch=x86-64-v3"))) void
smr_fused_cols_z_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                    int64_t left, const double *x, double *z, smr_fused_acc *st)
{
    cols_body(1, true, Ab, ld, d, m, left, x, NULL, NULL, 0.0, z, NULL, st);
}
#else
__attribute__((target("arch=x86-64-v4"))) static void
cols_v4(const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
        const double *x, const double *b, const double *w, double s0, double *z,
        double *u, smr_fused_acc *st)
{
    cols_body(1, false, Ab, ld, d, m, left, x, b, w, s0, z, u, st);
}
__attribute__((target("arch=x86-64-v4"))) static void
cols_z_v4(const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
          const double *x, double *z, smr_fused_acc *st)
{
    cols_body(1, true, Ab, ld, d, m, left, x, NULL, NULL, 0.0, z, NULL, st);
}
#endif
#endif

#if SMR_VL == 8 /* the dispatch (and the portable loop) once */
void smr_fused_cols(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                    const double *b, const double *w, double s0, double *z,
                    double *u, smr_fused_acc *st)
{
    const double *Ab = A->a + i0;
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        cols_v4(Ab, A->ld, A->d, m, A->n - i0, x, b, w, s0, z, u, st);
        return;
    }
    if (path == 1) {
        smr_fused_cols_v3(Ab, A->ld, A->d, m, A->n - i0, x, b, w, s0, z, u, st);
        return;
    }
#endif
    cols_body(0, false, Ab, A->ld, A->d, m, A->n - i0, x, b, w, s0, z, u, st);
}

void smr_fused_cols_z(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                      double *z, smr_fused_acc *st)
{
    const double *Ab = A->a + i0;
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        cols_z_v4(Ab, A->ld, A->d, m, A->n - i0, x, z, st);
        return;
    }
    if (path == 1) {
        smr_fused_cols_z_v3(Ab, A->ld, A->d, m, A->n - i0, x, z, st);
        return;
    }
#endif
    cols_body(0, true, Ab, A->ld, A->d, m, A->n - i0, x, NULL, NULL, 0.0, z,
              NULL, st);
}
#endif
