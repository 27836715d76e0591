/*
 * fused_rows.c -- the one-pass loss+gradient's inner loop on row-major A:
 * one sweep over a block of rows that computes, SMR_P rows (a panel) at a
 * time, everything fused.c needs from them (docs/math.md, section 2):
 *
 *     z_i = a_i . x                     (SMR_P dots: strips of SMR_VL
 *                                        columns in SMR_P vector
 *                                        accumulators, one
 *                                        transpose-and-add tree)
 *     u_i = exp(z_i - mu)               (expv, SMR_VL lanes)
 *     W_i = [ u_i (u_i - b_i - s~),  u_i^2,  u_i,  w_i^2 z_i ]
 *     G  += sum_i a_i^T W_i             (the panel's rows again, from L1)
 *
 * Why not dgemv + exp + a thin product per block (the first version, kept
 * for column-major A in fused.c): OpenBLAS's dgemv on a block of short
 * rows costs several ns per row (d = 16: the whole pass ran at 2x the
 * time of reading A even with A in cache), and between the dgemv that
 * streamed the block in and the product that reused it no memory was in
 * flight.  Here each panel's rows are read from memory once, used at once
 * and read again from L1, so the hardware prefetcher streams A while the
 * arithmetic runs.
 *
 * The shift mu: the caller's provisional shift (the previous evaluation's
 * lse) or, without one, the first panel's largest logit.  When a panel's
 * largest logit exceeds mu by more than SMR_FUSED_RESCALE, mu is raised to
 * it and everything accumulated with the old one -- G, alpha and the u
 * already written for this block -- is rescaled (smr_fused_rescale), so u
 * never overflows; the block's final shift is what the caller records.
 * A rescale is exact algebra but not exact arithmetic (G1' is a
 * difference): its error bound goes into st->err1 and the a-posteriori test
 * (a test with logits rising by 600 along the rows returned a gradient off
 * by 10^8 relative before it did, test_fused).
 *
 * Short rows (d <= 16, no w) go eight panels at a time through three
 * phases instead (group_small, below).  Rows whose length is not whole
 * strips, where the shifted cut is off, take the masked cut (rows_body):
 * the last strip masked instead of a scalar tail.
 *
 * Lanes: SMR_P = SMR_VL rows per panel and strips of SMR_VL columns: 8 in
 * this file's own compilation (the AVX-512 level and the portable path),
 * 4 in fused_rows_avx2.c's (the AVX2 level; src/kernels/simd.h says why).
 * The figures quoted in this file were measured at 8.
 *
 * Sums: each panel's rows are added in a fixed tree (even and odd rows in
 * separate accumulators; from d = 128 without w the rows in sequence), the
 * panels of a block into a block accumulator Gb, the blocks into G: about
 * m/8 + n/m additions in sequence rather than n, and the same order for
 * any thread count and any offset of A (the shifted cut's lanes are
 * rotated back before the dots' tree, panel_dots).  A partial last panel reuses
 * its last row's address for the missing rows, with weights and u zero.
 */
#include "fused_rows.h"
#include "fused_lanes.h"

#include <math.h>
#include <string.h>

#define SMR_P SMR_VL /* rows per panel = lanes of vd        */
/* what a pass computes (rows_body's mode): everything (smr_fused_rows),
 * the logits only (smr_fused_rows_z), or G1 += A_blk^T r for a given r
 * (smr_fused_rows_g) */
#define SMR_ROWS_FULL 0
#define SMR_ROWS_Z 1
#define SMR_ROWS_GRAD 2
/*
 * How far ahead to prefetch: about 16 KiB of A, in whole panels, from 8 to
 * 64 rows (SMR_PF_BYTES / (8 ld) rows, rounded up to a multiple of 8).
 * It was 16 rows at every d: 2 KiB ahead at d = 16, 32 KiB (most of L1)
 * at d = 256.  Paired with a read (2 threads, n = 10^6, /tmp driver, five
 * alternations of the old and new builds, medians): d = 32 (64 rows)
 * 1.24 -> 1.16 times the read, d = 64 (32) 0.93 -> 0.90, d = 256 (8)
 * 1.18 -> 1.11; d = 10, 16 and (n = 10^4) 2000 unchanged (2.45, 1.73 ->
 * 1.71, 1.04).  A small gain, within this machine's noise except at
 * d = 256.  (The same rule for column-major A, fused_cols.c, gained
 * nothing at d <= 256 and lost 6 % at d = 2000: not kept.)
 */
#define SMR_PF_BYTES 16384
#define SMR_PF_MAX 64

static int64_t pf_rows(int64_t ld)
{
    int64_t r = (SMR_PF_BYTES / (8 * ld) + 7) / 8 * 8;
    return r < 8 ? 8 : r > SMR_PF_MAX ? SMR_PF_MAX : r;
}
#define SMR_FUSED_SHIFT_MIN_D 17 /* the shifted cut from this d (blk_t) */

/* the AVX2 level's kernels, in fused_rows_avx2.c (this file at SMR_VL = 4) */
void smr_fused_rows_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                       int64_t left, bool first, const double *x,
                       const double *b, const double *w, double s0, double *z,
                       double *u, smr_fused_acc *st);
void smr_fused_finish_v3(int64_t m, double sc, double *f, const double *b,
                         const double *w, const double *z, double out[3]);
void smr_fused_rows_z_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                         int64_t left, bool first, const double *x, double *z,
                         smr_fused_acc *st);
void smr_fused_rows_g_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                         int64_t left, bool first, const double *r,
                         smr_fused_acc *st);

#if SMR_VL == 8 /* once, in this file's own compilation */
double smr_fused_rescale_ld(int64_t d, int64_t ldg, double rho, double *G,
                            double *alpha)
{
    /* u' = rho u: G1' = rho G1 + rho (rho - 1) G2, G2' = rho^2 G2,
     * G3' = rho G3, alpha' = rho alpha; G4 does not involve u.  G1' is a
     * difference: its rounding error is up to eps times the returned
     * rho |G1| + rho |rho - 1| |G2| (2-norms), which the caller carries
     * into the a-posteriori test (fused.c) */
    double n1 = 0.0, n2 = 0.0;
    for (int64_t j = 0; j < d; ++j) {
        n1 += G[j] * G[j];
        n2 += G[ldg + j] * G[ldg + j];
        G[j] = rho * G[j] + rho * (rho - 1.0) * G[ldg + j];
        G[ldg + j] *= rho * rho;
        G[2 * ldg + j] *= rho;
    }
    *alpha *= rho;
    return rho * sqrt(n1) + rho * fabs(rho - 1.0) * sqrt(n2);
}

double smr_fused_rescale(int64_t d, double rho, double *G, double *alpha)
{
    return smr_fused_rescale_ld(d, d, rho, G, alpha);
}
#endif

/* what a block's panels share.  Two ways to cut a row into strips of
 * V = SMR_VL columns:
 *
 *  plain    strips start at the row's first column (rp + j, j = 0, V, ..,
 *           dv - V), a scalar tail for columns dv .. d - 1; the block's
 *           sums G_c(j) at Gb[c gs + j].
 *  shifted  (rows_body: ld a multiple of V) strips start on the V-double
 *           stretches (64-byte lines at V = 8) that hold the row: the row
 *           starts o doubles into its first, strip s covers columns
 *           V s - o .. V s - o + V - 1, S = ceil((d + o) / V) strips,
 *           every load aligned.  malloc
 *           returns A 16 bytes past a line, and then every 64-byte load
 *           of the plain cut straddles two lines: the same pass on a
 *           64-byte-aligned copy of A took 30 instead of 37 ns per row
 *           (d = 64, one thread).  Lanes outside the row read the
 *           neighbouring rows (or the padding of ld) -- inside A, in the
 *           row's own lines; for the dots they are masked to zero (they
 *           may hold anything, NaN included), in the update they only
 *           reach lanes of Gs outside 0 .. d - 1, which are dropped.  The
 *           first row of A and the last have no neighbour on one side:
 *           panels holding them take the plain cut, with their sums at
 *           Gb = Gs + o (same stride gs), so one set of sums serves both.
 */
typedef struct {
    const double *Ab, *x, *b, *w;
    int64_t ld, d, dv; /* dv: d rounded down to whole strips */
    int64_t rows_left; /* rows of A from the block's first to the last */
    int64_t pf;       /* rows ahead to prefetch (pf_rows) */
    double s0, mu;
    vd ablk, finv;    /* lane sums of u and of z * 0 over the block */
    vd zmx;           /* lane maxima of z (the z-only mode)          */
    vd lacc[4];       /* the lean pass's lane sums (u NULL)           */
    double *z, *u, *Gb;
    int64_t gs;       /* stride of Gb's columns: d (plain block) or V S;
                         shifted: Gb - o holds the sums in strip
                         coordinates (Gs below) */
    /* the shifted cut (o = S = 0 in a plain block) */
    int64_t o, S;
    const double *xs; /* xs[o + j] = x[j], zero elsewhere; V S long */
    vl mfirst, mlast; /* lanes of the first and last strip in the row */
    vp rot;           /* rotidx(o): the dots' lanes back to the plain cut's */
    smr_fused_acc *st;
} blk_t;

static inline __attribute__((always_inline)) vd andv(vd a, vl m)
{
    return (vd)((vl)a & m);
}

/* whether strip j (a multiple of SMR_VL) starts a new 64-byte stretch of
 * its row, where the kernels prefetch: every strip at 8 lanes, every
 * other one at 4 */
static inline __attribute__((always_inline)) bool pf_strip(int64_t j)
{
    return j % 8 == 0;
}

/* column j of the panel's rows, one row per lane (the plain cut's tail) */
static inline __attribute__((always_inline)) vd
col_lanes(const double *const rp[SMR_P], int64_t j)
{
    vd a;
    for (int r = 0; r < SMR_P; ++r)
        a[r] = rp[r][j];
    return a;
}

/* Where to prefetch for the panel whose first row is row r0 of the block,
 * at address `here`: the same place k->pf rows ahead (the next panels, in
 * this block or the next), or `here` itself near A's end, so that no
 * pointer goes past A's last row, even unused. */
static inline __attribute__((always_inline)) const double *
pf_ahead(const blk_t *k, int64_t r0, const double *here)
{
    return r0 + k->pf + SMR_P <= k->rows_left ? here + k->pf * k->ld : here;
}

/* The SMR_P dots of rows rp[0..SMR_P - 1]: strips j = 0, V, .. < n8 of
 * the rows and of xv, then (plain) the columns n8 .. nt - 1 one by one, or (shifted,
 * masked) the first and last strip with their masks; pp: where to
 * prefetch the rows k->pf ahead, of which this loop takes rows 0 .. pfd - 1
 * (panel_update the rest: see panel). */
static inline __attribute__((always_inline)) vd
panel_dots(bool sh, const double *const rp[SMR_P], const double *xv,
           int64_t n8, int64_t nt, const double *pp, int pfd, const blk_t *k)
{
    const int64_t ld = k->ld;
    vd acc[SMR_P] = {{0}};
    for (int64_t j = 0; j < n8; j += SMR_VL) {
        vd xj = ldv(xv + j);
        if (pf_strip(j))
            for (int r = 0; r < pfd; ++r)
                __builtin_prefetch(pp + r * ld + j, 0, 3);
        if (sh && (j == 0 || j + SMR_VL == n8)) {
            vl m = j == 0 ? k->mfirst : k->mlast;
            if (j == 0 && n8 == SMR_VL)
                m &= k->mlast;
            for (int r = 0; r < SMR_P; ++r)
                acc[r] += andv(ldv(rp[r] + j), m) * xj;
        } else {
            for (int r = 0; r < SMR_P; ++r)
                acc[r] += ldv(rp[r] + j) * xj;
        }
    }
    /* shifted: lane l holds the columns c with (c + o) % V == l, in the
     * plain cut's order; rotated back, each lane holds exactly the plain
     * cut's sum, and the tree adds them in the plain cut's order, so z
     * does not depend on A's offset (test_placement_independent).  Cost
     * in cache, one thread (/tmp driver, best of 6 alternations, A 16
     * bytes past a line): d = 24 7.30 -> 7.46 ns per row, d = 64 12.83 ->
     * 13.15.  The rotation folded into the tree as constant shuffles (a
     * switch on o) measured no faster (7.50, 13.94 against 7.38, 13.99).
     * None when A is on a line. */
    if (sh && k->o)
        for (int r = 0; r < SMR_P; ++r)
            acc[r] = permv(acc[r], k->rot);
    vd zv = hsumv(acc);
    for (int64_t j = n8; j < nt; ++j)
        zv += col_lanes(rp, j) * xv[j];
    return zv;
}

/* whether panel_update takes its two-strip loop (rows of d >= 128
 * columns, no w): panel picks the prefetch split by it.  By d, not by the
 * strips of the cut: each column's sum must take the same steps at every
 * offset of A */
static inline __attribute__((always_inline)) bool two_strip(int64_t d, bool four)
{
    return d >= 128 && !four;
}

/* Gb += rows^T W over strips j < n8 and columns n8 .. nt - 1 (column c of
 * the sums at Gb + c gs; nc columns: 3, 4 with w, 1 in the gradient-only
 * mode): per strip, even and odd rows in two sets (rows
 * of d >= 128 without w: the rows in sequence, two strips at a time, and
 * a strip left over the same way); the
 * weights are read from memory as scalars, so that each multiply-add
 * broadcasts its operand from L1 ({1to8}) instead of a shuffle port.
 * Strip by strip it prefetches rows pfd .. 7 of the panel k->pf rows
 * ahead (pp, ld), where panel_dots prefetched rows 0 .. pfd - 1. */
static inline __attribute__((always_inline)) void
panel_update(int simd, const double *const rp[SMR_P], const double W[4][SMR_P],
             vd w1, vd w2, vd u, vd w4, int64_t n8, int64_t nt,
             double *Gb, int64_t gs, int nc, const double *pp, int64_t ld,
             int pfd, int64_t d)
{
    const bool four = nc == 4, three = nc >= 3;
    int64_t j0 = 0;
    /* wide rows: two strips at a time share each row's three broadcasts
     * (d = 256 in cache: 81 -> 65 ns per row; for d <= 64 the even/odd
     * chains below measured as fast or faster) */
    const int64_t V = SMR_VL;
    const bool two = two_strip(d, four);
    /* the strips from the row's end backwards: the dots read the
     * panel's rows forwards, so where a panel is wider than L1 (8 rows
     * of d > 768 at 48 KiB) its last columns are still there when the
     * update starts, and fewer of its lines come again from L2.  One
     * thread, A in cache, paired with the forward order (/tmp/x/abdl,
     * medians of 21-31): d = 1024 0.90-0.95 of the time, d = 1536
     * 0.92-0.95, d = 2000 0.94-0.98; streaming, n = 10^4 and 2 10^4:
     * one thread 0.94-1.05, two 0.97-1.05 (median 1.00).  Each column's sum takes the
     * same steps in either order (the same bits).  The odd strip left
     * over (which one depends on where A's lines cut the row) first. */
    if (two) {
        const int64_t np = n8 / (2 * V);
        if (2 * V * np < n8) {
            j0 = 2 * V * np;
            for (int r = pfd; r < SMR_P; ++r)
                if (pf_strip(j0))
                    __builtin_prefetch(pp + r * ld + j0, 0, 3);
            vd e1 = {0}, e2 = {0}, e3 = {0};
            for (int r = 0; r < SMR_P; ++r) {
                vd a = ldv(rp[r] + j0);
                SMR_IN_REG(simd, a);
                e1 += W[0][r] * a;
                if (three) {
                    e2 += W[1][r] * a;
                    e3 += W[2][r] * a;
                }
            }
            stv(Gb + j0, ldv(Gb + j0) + e1);
            if (three) {
                stv(Gb + gs + j0, ldv(Gb + gs + j0) + e2);
                stv(Gb + 2 * gs + j0, ldv(Gb + 2 * gs + j0) + e3);
            }
        }
        for (int64_t i = np - 1; i >= 0; --i) {
            j0 = 2 * V * i;
            for (int r = pfd; r < SMR_P; ++r)
                for (int64_t q = j0; q < j0 + 2 * V; q += V)
                    if (pf_strip(q))
                        __builtin_prefetch(pp + r * ld + q, 0, 3);
            vd e1 = {0}, e2 = {0}, e3 = {0}, f1 = {0}, f2 = {0}, f3 = {0};
            for (int r = 0; r < SMR_P; ++r) {
                vd a = ldv(rp[r] + j0), c = ldv(rp[r] + j0 + V);
                SMR_IN_REG(simd, a);
                SMR_IN_REG(simd, c);
                double q1 = W[0][r];
                e1 += q1 * a;
                f1 += q1 * c;
                if (three) {
                    double q2 = W[1][r], q3 = W[2][r];
                    e2 += q2 * a;
                    e3 += q3 * a;
                    f2 += q2 * c;
                    f3 += q3 * c;
                }
            }
            stv(Gb + j0, ldv(Gb + j0) + e1);
            stv(Gb + j0 + V, ldv(Gb + j0 + V) + f1);
            if (three) {
                stv(Gb + gs + j0, ldv(Gb + gs + j0) + e2);
                stv(Gb + 2 * gs + j0, ldv(Gb + 2 * gs + j0) + e3);
                stv(Gb + gs + j0 + V, ldv(Gb + gs + j0 + V) + f2);
                stv(Gb + 2 * gs + j0 + V, ldv(Gb + 2 * gs + j0 + V) + f3);
            }
        }
        j0 = n8;
    }
    for (int64_t j = j0; j < n8; j += V) {
        if (pf_strip(j))
            for (int r = pfd; r < SMR_P; ++r)
                __builtin_prefetch(pp + r * ld + j, 0, 3);
        vd e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0};
        vd o1 = {0}, o2 = {0}, o3 = {0}, o4 = {0};
        for (int r = 0; r < SMR_P; r += 2) {
            vd a = ldv(rp[r] + j), c = ldv(rp[r + 1] + j);
            SMR_IN_REG(simd, a);
            SMR_IN_REG(simd, c);
            e1 += W[0][r] * a;
            o1 += W[0][r + 1] * c;
            if (three) {
                e2 += W[1][r] * a;
                e3 += W[2][r] * a;
                o2 += W[1][r + 1] * c;
                o3 += W[2][r + 1] * c;
            }
            if (four) {
                e4 += W[3][r] * a;
                o4 += W[3][r + 1] * c;
            }
        }
        stv(Gb + j, ldv(Gb + j) + (e1 + o1));
        if (three) {
            stv(Gb + gs + j, ldv(Gb + gs + j) + (e2 + o2));
            stv(Gb + 2 * gs + j, ldv(Gb + 2 * gs + j) + (e3 + o3));
        }
        if (four)
            stv(Gb + 3 * gs + j, ldv(Gb + 3 * gs + j) + (e4 + o4));
    }
    for (int64_t j = n8; j < nt; ++j) {
        vd a = col_lanes(rp, j);
        Gb[j] += hsum_lanes(w1 * a);
        if (three) {
            Gb[gs + j] += hsum_lanes(w2 * a);
            Gb[2 * gs + j] += hsum_lanes(u * a);
        }
        if (four)
            Gb[3 * gs + j] += hsum_lanes(w4 * a);
    }
}

/* The z-only mode (smr_fused_rows_z): the logits of rows r0 .. r0 + cnt - 1
 * stored, their lane maxima and finiteness kept (lanes past cnt repeat row
 * cnt - 1). */
static inline __attribute__((always_inline)) void
store_z(vd zv, int cnt, int64_t r0, blk_t *k)
{
    if (cnt == SMR_P)
        stv(k->z + r0, zv);
    else
        for (int r = 0; r < cnt; ++r)
            k->z[r0 + r] = zv[r];
    k->zmx = selv(zv > k->zmx, zv, k->zmx);
    k->finv += zv * 0.0;
}

/* Rows r0 .. r0 + cnt - 1 of the block, cut plain or shifted (sh); cnt
 * is a constant (8) for every panel but the last, so the conditions on
 * it fold away.  Lanes past cnt repeat row cnt - 1 (same z, so max and
 * finiteness need no mask); their u and weights are zeroed. */
static inline __attribute__((always_inline)) void
panel(int simd, int mode, bool sh, int cnt, int64_t r0, blk_t *k)
{
    const int64_t d = k->d, ld = k->ld, back = sh ? k->o : 0;
    const double *rp[SMR_P];
    for (int r = 0; r < SMR_P; ++r)
        rp[r] = k->Ab + (r0 + (r < cnt ? r : cnt - 1)) * ld - back;
    const int64_t n8 = sh ? SMR_VL * k->S : k->dv, nt = sh ? n8 : d;

    /* software prefetch of the rows k->pf ahead (pf_rows, pf_ahead):
     * without it the
     * arithmetic and the memory stream took turns (d = 256, one thread:
     * 136 ns per row streaming against 57 in cache).  The prefetches are
     * spread over the panel's work in proportion to it: the dots take
     * rows 0 .. pfd - 1, the update (three multiply-adds per load where
     * the dots have one) the rest.  Issued all in the dots (before this
     * was measured), they came in a burst and the stream idled while the
     * update ran: paired with a read (2 threads, n = 10^6, /tmp driver)
     * d = 64 took 1.41 -> 0.80-0.86 times the read with pfd = 2, and
     * d = 256 (the update's two-strip loop) 1.20-1.30 -> 1.10-1.18 with
     * pfd = 0 (pfd = 2 there: 1.25-1.29) */
    const double *pp = pf_ahead(k, r0, rp[0]);
    if (mode == SMR_ROWS_GRAD) { /* Gb += rows^T r, r given (k->u) */
        double W[4][SMR_P] __attribute__((aligned(64))); /* W[0] only */
        for (int r = 0; r < SMR_P; ++r)
            W[0][r] = r < cnt ? k->u[r0 + r] : 0.0;
        vd rv = ldv(W[0]);
        panel_update(simd, rp, (const double(*)[SMR_P])W, rv, rv, rv, rv, n8, nt,
                     sh ? k->Gb - k->o : k->Gb, k->gs, 1, pp, ld, 0, d);
        return;
    }
    const bool zonly = mode == SMR_ROWS_Z;
    const int pfd = zonly ? SMR_P : two_strip(d, k->w != NULL) ? 0 : 2;
    vd zv = panel_dots(sh, rp, sh ? k->xs : k->x, n8, nt, pp, pfd, k);
    if (zonly) { /* the logits, their maxima and finiteness only */
        store_z(zv, cnt, r0, k);
        return;
    }

    /* shift: the panel's largest logit (pairwise maxima); finiteness */
    double pm = max_lanes(zv);
    k->finv += zv * 0.0; /* NaN for any NaN/Inf */
    smr_fused_raise(k->st, pm, pm, &k->mu, &k->ablk, k->u, r0, d, k->Gb, d,
                    k->gs,
                    1.0);

    /* u and the weights; lanes past cnt are zero */
    smr_lanes L = smr_fused_lanes(simd, zv, cnt, r0, k->b, k->w, k->mu, k->s0,
                                  k->z, k->u);
    k->ablk += L.u;
    if (!k->u)
        smr_lean_add(k->lacc, L.r, L.u, L.w2, L.wz2);
    double W[4][SMR_P] __attribute__((aligned(64)));
    stv(W[0], L.w1);
    stv(W[1], L.w2);
    stv(W[2], L.u);
    stv(W[3], L.w4);
    panel_update(simd, rp, (const double(*)[SMR_P])W, L.w1, L.w2, L.u, L.w4, n8, nt,
                 sh ? k->Gb - k->o : k->Gb, k->gs, k->w ? 4 : 3, pp, ld, pfd,
                 d);
}

/*
 * Short rows (d = 8 or 16, no w, plain cut; d < 16 under the masked cut,
 * rows_body): SMR_GS panels at a time in
 * three phases -- the dots of every panel, then one shift test for the
 * group and u and the weights of every panel, then every panel's update
 * -- with the row addresses computed from one base and the update's sums
 * in registers until the group ends (then added to Gb).  At these d the
 * cost is the per-panel chain (dots, lane sums, exp, weights, update:
 * ~130 cycles in sequence): panel by panel (panel above) the core did not
 * overlap one panel's chain with the next one's.  The phases give it
 * independent work.  One thread, 2048 rows in cache (/tmp driver, best of
 * 7, with the exp of ff0b69f): d = 16 5.95 -> 4.65 ns per row, d = 8
 * 4.4 -> 3.0 (SMR_GS = 2: 5.0 and 2.9; 4: 4.9-5.9 and 3.1).  Paired with
 * a read at n = 10^6, d = 16, 2 threads (bench_kernels --case, five
 * alternations with the build of 72a2975): 1.89 -> 1.54 times the read.
 * Tried then: the prefetches in the update phase instead (1.55-1.64) or
 * split between the phases (1.48-1.57, against 1.43-1.55 for these: but
 * see SMR_GS_PFD, which splits them now), and 32,
 * 128 or 256 rows ahead instead of k->pf = 64 (1.61-1.81).  The same
 * three phases for every d (panel's general code, 4 panels) gained 2-5 %
 * at d = 16 to 64 and lost 50 % at d = 256 (the group's rows no longer
 * fit in L1 for the update), so only d = 8 and 16 take them.
 */
#define SMR_GS 8 /* panels per group in group_small */
/* rows of each panel k->pf ahead that the dots phase prefetches; the
 * update phase takes the others.  All in the dots phase (the measure
 * above), the requests came in one burst per group and the stream idled
 * through the update: with the update's loads fixed (SMR_IN_REG), half
 * and half ran the lean pass at n = 10^6, d = 16 in 0.84-0.89 of the
 * time at 2 threads (/tmp/x/abdl, two builds alternated in one process,
 * medians of 15, four runs; 3 or 5 of 8 rows gave the same, 2 or 6 about
 * nothing) -- in minutes when the pass ran at 3.3-4.6 ns a row; an hour
 * later, at 3.4-3.8, the two were even (1.00-1.01, three runs).  Kept:
 * never slower.  In the z-only mode (no update) the dots take them all, and
 * so do rows shorter than 16, where a group's work is shorter and the
 * split lost (d = 10: 1.14 times the time, d = 8: 1.03; at the AVX2
 * level d = 16 0.99). */
#define SMR_GS_PFD (SMR_P / 2)
#define SMR_NS_MAX (16 / SMR_VL) /* strips per row at d = 16 */
static inline __attribute__((always_inline)) void
group_small(int simd, int mode, int NS, int64_t r0, blk_t *k)
{
    const int64_t ld = k->ld;
    const double *A0 = k->Ab + r0 * ld;
    const bool zonly = mode == SMR_ROWS_Z;
    if (mode == SMR_ROWS_GRAD) { /* Gb += rows^T r (k->u), one column */
        vd G1[SMR_NS_MAX] = {{0}};
        for (int g = 0; g < SMR_GS; ++g) {
            const double *P = A0 + g * SMR_P * ld;
            const double *pp = pf_ahead(k, r0 + g * SMR_P, P);
            const double *rg = k->u + r0 + g * SMR_P;
            vd e[SMR_NS_MAX] = {{0}};
            for (int r = 0; r < SMR_P; ++r)
                for (int s = 0; s < NS; ++s) {
                    if (pf_strip(SMR_VL * s))
                        __builtin_prefetch(pp + r * ld + SMR_VL * s, 0, 3);
                    e[s] += rg[r] * ldv(P + r * ld + SMR_VL * s);
                }
            for (int s = 0; s < NS; ++s)
                G1[s] += e[s];
        }
        for (int s = 0; s < NS; ++s)
            stv(k->Gb + SMR_VL * s, ldv(k->Gb + SMR_VL * s) + G1[s]);
        return;
    }
    /* d not whole strips (the masked cut, rows_body): x zero-padded, the
     * last strip's lanes past the row masked in the dots (they hold the
     * next row, NaN allowed) and summed into dropped lanes of Gb */
    const bool mk = k->d % SMR_VL != 0;
    const vl mlast = mk ? k->mlast : (vl){0} - 1;
    vd xs[SMR_NS_MAX];
    for (int s = 0; s < NS; ++s)
        xs[s] = ldv((mk ? k->xs : k->x) + SMR_VL * s);
    vd zv[SMR_GS];
    const int pfd = zonly || k->d < 16 ? SMR_P : SMR_GS_PFD;
    for (int g = 0; g < SMR_GS; ++g) {
        const double *P = A0 + g * SMR_P * ld;
        /* the panel k->pf rows ahead, one prefetch per row and 64 bytes */
        const double *pp = pf_ahead(k, r0 + g * SMR_P, P);
        vd acc[SMR_P];
        for (int r = 0; r < SMR_P; ++r) {
            for (int s = 0; s < NS; ++s)
                if (pf_strip(SMR_VL * s) && r < pfd)
                    __builtin_prefetch(pp + r * ld + SMR_VL * s, 0, 3);
            /* from zero, as panel_dots: every add then has one product
             * to contract with, so the dots have panel_dots' bits (a0 x0
             * + a1 x1 may contract either product) and the z-only mode,
             * which takes these groups also where w sends the full pass
             * through panels, gives the full pass's z */
            acc[r] = (vd){0} + (NS == 1 ? andv(ldv(P + r * ld), mlast)
                                        : ldv(P + r * ld)) * xs[0];
            for (int s = 1; s < NS; ++s)
                acc[r] += (s == NS - 1 ? andv(ldv(P + r * ld + SMR_VL * s), mlast)
                                       : ldv(P + r * ld + SMR_VL * s)) * xs[s];
        }
        zv[g] = hsumv(acc);
        if (zonly)
            store_z(zv[g], SMR_P, r0 + g * SMR_P, k);
    }
    if (zonly)
        return;
    vd mx = zv[0];
    for (int g = 0; g < SMR_GS; ++g) {
        mx = selv(zv[g] > mx, zv[g], mx);
        k->finv += zv[g] * 0.0;
    }
    double pm = max_lanes(mx);
    smr_fused_raise(k->st, pm, pm, &k->mu, &k->ablk, k->u, r0, k->d,
                    k->Gb, k->d, k->gs, 1.0);
    double W[SMR_GS][3][SMR_P] __attribute__((aligned(64)));
    for (int g = 0; g < SMR_GS; ++g) {
        smr_lanes L = smr_fused_lanes(simd, zv[g], SMR_P, r0 + g * SMR_P,
                                      k->b, NULL, k->mu, k->s0, k->z, k->u);
        k->ablk += L.u;
        if (!k->u)
            smr_lean_add(k->lacc, L.r, L.u, L.w2, L.wz2);
        stv(W[g][0], L.w1);
        stv(W[g][1], L.w2);
        stv(W[g][2], L.u);
    }
    vd G[3][SMR_NS_MAX] = {{{0}}};
    for (int g = 0; g < SMR_GS; ++g) {
        const double *P = A0 + g * SMR_P * ld;
        const double *pp = pf_ahead(k, r0 + g * SMR_P, P);
        vd e[3][SMR_NS_MAX] = {{{0}}};
        for (int r = 0; r < SMR_P; ++r)
            for (int s = 0; s < NS; ++s) {
                if (r >= pfd && pf_strip(SMR_VL * s))
                    __builtin_prefetch(pp + r * ld + SMR_VL * s, 0, 3);
                vd a = ldv(P + r * ld + SMR_VL * s);
                SMR_IN_REG(simd, a);
                for (int c = 0; c < 3; ++c)
                    e[c][s] += W[g][c][r] * a;
            }
        for (int c = 0; c < 3; ++c)
            for (int s = 0; s < NS; ++s)
                G[c][s] += e[c][s];
    }
    for (int c = 0; c < 3; ++c)
        for (int s = 0; s < NS; ++s)
            stv(k->Gb + c * k->gs + SMR_VL * s,
                ldv(k->Gb + c * k->gs + SMR_VL * s) + G[c][s]);
}

static inline __attribute__((always_inline)) void
rows_body(int simd, int mode, int small, const double *Ab, int64_t ld, int64_t d,
          int64_t m, int64_t rows_left, bool first_row,
          const double *x, const double *b, const double *w, double s0,
          double *z, double *u, smr_fused_acc *st)
{
    blk_t k = {.Ab = Ab, .x = x, .b = b, .w = w, .ld = ld, .d = d,
               .dv = d - d % SMR_VL, .rows_left = rows_left, .pf = pf_rows(ld), .s0 = s0, .mu = st->mu, .ablk = {0}, .finv = {0},
               .zmx = (vd){0} - INFINITY, .z = z, .u = u, .Gb = st->Gb,
               .gs = d, .st = st};
    int64_t ncol = w ? 4 : 3, r0 = 0;
    int64_t o = (int64_t)((uintptr_t)Ab % (8 * SMR_VL)) / 8;
    /* the shifted cut: when every row starts at the same place in its
     * strip (ld % V == 0, A's address a multiple of 8 bytes) and the plain
     * cut has straddling loads or a scalar tail; from d = 17: at d = 16
     * the plain cut's two strips become three, and that cost more than
     * the straddles (1.78 against 1.55-1.69 times a read, /tmp driver) */
    bool sh = ld % SMR_VL == 0 && (uintptr_t)Ab % 8 == 0 &&
              (o != 0 || d % SMR_VL != 0) &&
              d >= SMR_FUSED_SHIFT_MIN_D;
    /* the masked cut: where the shifted cut is off and d is not whole
     * strips, the same code at o = 0 -- strips from each row's first
     * column (loads off the lines where the row is), the last strip
     * masked -- instead of the plain cut's scalar tail, which gathers
     * each tail column lane by lane and sums it across the lanes three
     * times per panel; d < 16 without w also takes the short-row groups
     * (group_small, 1 or 2 strips).  One thread in cache (/tmp driver,
     * ld = d, 256 KiB of A, builds alternated twice): d = 5 8.0-9.1 ->
     * 2.9 ns per row, d = 10 7.0-7.5 -> 4.5, d = 13 10.1-10.2 -> 4.7-4.9,
     * d = 20 9.8-11.8 -> 6.8-6.9 (panels), d = 100 26.2-31.7 -> 22.8-23.8
     * (d = 8: 2.3, 16: 3.5, 96: 20.6, 104: 21.0).  Streaming, paired with
     * a read (bench_kernels --case 1000000 D, three alternations): d = 10
     * 2.78-2.92 -> 2.17-2.19 times the read, d = 20 2.13-2.24 ->
     * 1.94-2.18, d = 100 1.60-2.01 -> 1.57-2.00.  The last strip reads up
     * to V S - d <= V - 1 doubles past the row: inside A's next row when
     * ld >= V S - d (the panel holding A's last row keeps the plain cut,
     * as under the shifted cut, and so does a group holding it); d >= 2
     * for the strip space below.  Not on the portable path (simd = 0),
     * where a vector of 8 is 4 SSE2 operations and the masked strip's
     * extra lanes cost more than the tail saved: d = 10 5.8-6.2 -> 7.3-7.7
     * times the read, d = 13 5.6-6.1 -> 6.2-6.5 (two alternations). */
    bool mk = simd && !sh && d % SMR_VL != 0 && d >= 2 &&
              ld >= SMR_VL * ((d + SMR_VL - 1) / SMR_VL) - d;
    if (sh || mk) {
        /* strip space after Gb (the column-major lane sums' room, 32 d):
         * Gs, 4 columns of V S, on a 64-byte boundary, then xs */
        if (!sh)
            o = 0;
        k.o = o;
        k.S = (d + o + SMR_VL - 1) / SMR_VL;
        k.gs = SMR_VL * k.S;
        uintptr_t base = (uintptr_t)(st->Gb + 4 * d);
        double *Gs = (double *)((base + 63) / 64 * 64);
        double *xs = Gs + 4 * k.gs;
        if (mode != SMR_ROWS_GRAD) { /* (the gradient has no dots) */
            memset(xs, 0, (size_t)k.gs * sizeof(double));
            memcpy(xs + o, x, (size_t)d * sizeof(double));
        }
        k.xs = xs;
        k.Gb = Gs + o;
        k.rot = rotidx(o);
        for (int l = 0; l < SMR_VL; ++l) {
            k.mfirst[l] = l >= o ? -1 : 0;
            k.mlast[l] = l < d + o - SMR_VL * (k.S - 1) ? -1 : 0;
        }
    }
    if (mode == SMR_ROWS_GRAD)
        ncol = 1;
    /* only the columns this mode sums into (the fourth is w's alone) */
    if (mode != SMR_ROWS_Z)
        memset(k.Gb - k.o, 0, (size_t)(ncol * k.gs) * sizeof(double));
    /* the panels holding A's first or last row take the plain cut (they
     * have no neighbour row on one side; see blk_t) */
    int64_t full = m - m % SMR_P;
    /* d <= 16, no w: whole groups first (group_small); under the masked
     * cut not the group holding A's last row (its last strip would read
     * past A) */
    if (small && (d % SMR_VL == 0 || mk))
        for (; r0 + SMR_GS * SMR_P <= full &&
               (!mk || r0 + SMR_GS * SMR_P < rows_left);
             r0 += SMR_GS * SMR_P)
            group_small(simd, mode, small, r0, &k);
    for (; r0 < full; r0 += SMR_P) {
        bool edge = !(sh || mk) || (first_row && r0 == 0) ||
                    (r0 + SMR_P >= rows_left);
        if (edge)
            panel(simd, mode, false, SMR_P, r0, &k);
        else
            panel(simd, mode, true, SMR_P, r0, &k);
    }
    if (r0 < m)
        panel(simd, mode, false, (int)(m - r0), r0, &k);
    st->fin += hsum_lanes(k.finv);
    if (mode == SMR_ROWS_Z) {
        double zm = max_lanes(k.zmx);
        st->zmax = zm > st->zmax ? zm : st->zmax;
        return;
    }
    for (int64_t c = 0; c < ncol; ++c)
        for (int64_t j = 0; j < d; ++j)
            st->G[c * d + j] += k.Gb[c * k.gs + j];
    if (mode == SMR_ROWS_GRAD)
        return;
    st->alpha += hsum_lanes(k.ablk);
    st->mu = k.mu;
    if (!u)
        for (int c = 0; c < 4; ++c)
            st->lean[c] += hsum_lanes(k.lacc[c]);
}

/* The finishing sweep over one block's n-vectors (fused.c): f = sc u in
 * place, and the block's sums of (f - b)^2, (w z)^2 and f (f - b), each in
 * SMR_VL lane sums added in a fixed order (a scalar running sum was a
 * 4-cycle dependency per row: ~1 ns per row, a quarter of the pass at
 * d = 16). */
static inline __attribute__((always_inline)) void
finish_body(int64_t m, double sc, double *f, const double *b, const double *w,
            const double *z, double out[3])
{
    vd s1 = {0}, s2 = {0}, s3 = {0};
    int64_t i = 0;
    for (; i + SMR_VL <= m; i += SMR_VL) {
        vd fv = ldv(f + i) * sc, r = fv - ldv(b + i);
        stv(f + i, fv);
        s1 += r * r;
        s3 += fv * r;
        if (w) {
            vd q = ldv(w + i) * ldv(z + i);
            s2 += q * q;
        }
    }
    double t1 = 0.0, t2 = 0.0, t3 = 0.0;
    for (; i < m; ++i) {
        f[i] *= sc;
        double r = f[i] - b[i];
        t1 += r * r;
        t3 += f[i] * r;
        if (w)
            t2 += (w[i] * z[i]) * (w[i] * z[i]);
    }
    out[0] = hsum_lanes(s1) + t1;
    out[1] = hsum_lanes(s2) + t2;
    out[2] = hsum_lanes(s3) + t3;
}

#ifdef SMR_SIMD_X86
/* d = 8 and 16 without w: rows_body with d a constant, group_small (one
 * or two strips per row at 8 lanes, two or four at 4).  Other d < 16
 * without w: rows_body with the strips a constant, which takes
 * group_small for whole strips (d = 4, 12 at 4 lanes: 4.43-4.87 -> 3.00-
 * 3.11 and 2.58-2.75 -> 1.64-1.85 times a read, bench_kernels --case
 * 1000000 D --layout row at SOFTMAXREG_SIMD=avx2, against the panels of
 * af31177, two alternations) or under the masked cut, panels otherwise.
 * Other rows: rows_body.  At 4 lanes (AVX2 level)
 * d = 16 through group_small took 1.77-1.84 times a read against
 * 2.41-2.54 through panel (bench_kernels --case 1000000 16, paired, three
 * rounds). */
static inline __attribute__((always_inline)) void
rows_any(int mode, const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
         bool first, const double *x, const double *b, const double *w,
         double s0, double *z, double *u, smr_fused_acc *st)
{
    if (!w && d == 8)
        rows_body(1, mode, 8 / SMR_VL, Ab, ld, 8, m, left, first, x, b, NULL, s0, z,
                  u, st);
    else if (!w && d == 16)
        rows_body(1, mode, 16 / SMR_VL, Ab, ld, 16, m, left, first, x, b, NULL, s0,
                  z, u, st);
    else if (!w && d < 16 && (d + SMR_VL - 1) / SMR_VL == 1)
        rows_body(1, mode, 1, Ab, ld, d, m, left, first, x, b, NULL, s0, z, u, st);
    else if (!w && d < 16 && (d + SMR_VL - 1) / SMR_VL == 2)
        rows_body(1, mode, 2, Ab, ld, d, m, left, first, x, b, NULL, s0, z, u, st);
#if SMR_VL == 4
    else if (!w && d < 16 && (d + SMR_VL - 1) / SMR_VL == 3)
        rows_body(1, mode, 3, Ab, ld, d, m, left, first, x, b, NULL, s0, z, u, st);
    else if (!w && d < 16 && (d + SMR_VL - 1) / SMR_VL == 4)
        rows_body(1, mode, 4, Ab, ld, d, m, left, first, x, b, NULL, s0, z, u, st);
#endif
    else
        rows_body(1, mode, 0, Ab, ld, d, m, left, first, x, b, w, s0, z, u, st);
}

#if SMR_VL == 4
__attribute__((target("arch=x86-64-v3"))) void
smr_fused_rows_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                  int64_t left, bool first, const double *x, const double *b,
                  const double *w, double s0, double *z, double *u,
                  smr_fused_acc *st)
{
    rows_any(0, Ab, ld, d, m, left, first, x, b, w, s0, z, u, st);
}
__attribute__((target("arch=x86-64-v3"))) void
smr_fused_rows_z_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                    int64_t left, bool first, const double *x, double *z,
                    smr_fused_acc *st)
{
    rows_any(1, Ab, ld, d, m, left, first, x, NULL, NULL, 0.0, z, NULL, st);
}
__attribute__((target("arch=x86-64-v3"))) void
smr_fused_rows_g_v3(const double *Ab, int64_t ld, int64_t d, int64_t m,
                    int64_t left, bool first, const double *r,
                    smr_fused_acc *st)
{
    rows_any(2, Ab, ld, d, m, left, first, NULL, NULL, NULL, 0.0, NULL,
             (double *)r, st);
}
__attribute__((target("arch=x86-64-v3"))) void
smr_fused_finish_v3(int64_t m, double sc, double *f, const double *b,
                    const double *w, const double *z, double out[3])
{
    finish_body(m, sc, f, b, w, z, out);
}
#else
__attribute__((target("arch=x86-64-v4"))) static void
rows_v4(const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
        bool first, const double *x, const double *b, const double *w,
        double s0, double *z, double *u, smr_fused_acc *st)
{
    rows_any(0, Ab, ld, d, m, left, first, x, b, w, s0, z, u, st);
}
__attribute__((target("arch=x86-64-v4"))) static void
rows_z_v4(const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
          bool first, const double *x, double *z, smr_fused_acc *st)
{
    rows_any(1, Ab, ld, d, m, left, first, x, NULL, NULL, 0.0, z, NULL, st);
}
__attribute__((target("arch=x86-64-v4"))) static void
rows_g_v4(const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
          bool first, const double *r, smr_fused_acc *st)
{
    rows_any(2, Ab, ld, d, m, left, first, NULL, NULL, NULL, 0.0, NULL,
             (double *)r, st);
}
__attribute__((target("arch=x86-64-v4"))) static void
finish_v4(int64_t m, double sc, double *f, const double *b, const double *w,
          const double *z, double out[3])
{
    finish_body(m, sc, f, b, w, z, out);
}
#endif
#endif

#if SMR_VL == 8 /* the dispatch (and the portable loops) once */
void smr_fused_rows(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                    const double *b, const double *w, double s0, double *z,
                    double *u, smr_fused_acc *st)
{
    const double *Ab = A->a + i0 * A->ld;
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        rows_v4(Ab, A->ld, A->d, m, A->n - i0, i0 == 0, x, b, w, s0, z, u, st);
        return;
    }
    if (path == 1) {
        smr_fused_rows_v3(Ab, A->ld, A->d, m, A->n - i0, i0 == 0, x, b, w, s0,
                          z, u, st);
        return;
    }
#endif
    rows_body(0, 0, 0, Ab, A->ld, A->d, m, A->n - i0, i0 == 0, x, b, w, s0,
              z, u, st);
}

void smr_fused_rows_z(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                      double *z, smr_fused_acc *st)
{
    const double *Ab = A->a + i0 * A->ld;
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        rows_z_v4(Ab, A->ld, A->d, m, A->n - i0, i0 == 0, x, z, st);
        return;
    }
    if (path == 1) {
        smr_fused_rows_z_v3(Ab, A->ld, A->d, m, A->n - i0, i0 == 0, x, z, st);
        return;
    }
#endif
    rows_body(0, 1, 0, Ab, A->ld, A->d, m, A->n - i0, i0 == 0, x, NULL, NULL,
              0.0, z, NULL, st);
}

void smr_fused_rows_g(const smr_mat *A, int64_t i0, int64_t m, const double *r,
                      smr_fused_acc *st)
{
    const double *Ab = A->a + i0 * A->ld;
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        rows_g_v4(Ab, A->ld, A->d, m, A->n - i0, i0 == 0, r, st);
        return;
    }
    if (path == 1) {
        smr_fused_rows_g_v3(Ab, A->ld, A->d, m, A->n - i0, i0 == 0, r, st);
        return;
    }
#endif
    rows_body(0, 2, 0, Ab, A->ld, A->d, m, A->n - i0, i0 == 0, NULL, NULL,
              NULL, 0.0, NULL, (double *)r, st);
}

void smr_fused_finish_rows(int64_t m, double sc, double *f, const double *b,
                           const double *w, const double *z, double out[3])
{
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        finish_v4(m, sc, f, b, w, z, out);
        return;
    }
    if (path == 1) {
        smr_fused_finish_v3(m, sc, f, b, w, z, out);
        return;
    }
#endif
    finish_body(m, sc, f, b, w, z, out);
}
#endif
