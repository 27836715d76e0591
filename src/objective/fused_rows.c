/*
 * fused_rows.c -- the one-pass loss+gradient's inner loop on row-major A:
 * one sweep over a block of rows that computes, eight rows (a panel) at a
 * time, everything fused.c needs from them (docs/math.md, section 2):
 *
 *     z_i = a_i . x                     (8 dots: strips of 8 columns in
 *                                        8 vector accumulators, one
 *                                        transpose-and-add tree)
 *     u_i = exp(z_i - mu)               (exp_poly, 8 lanes)
 *     W_i = [ u_i (u_i - b_i - s~),  u_i^2,  u_i,  w_i^2 z_i ]
 *     G  += sum_i a_i^T W_i             (the 8 rows again, from L1)
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
 * Sums: each panel's 8 rows are added in a fixed tree (even and odd rows in
 * separate accumulators), the panels of a block into a block accumulator
 * Gb, the blocks into G: about m/8 + n/m additions in sequence rather than
 * n, and the same order for any thread count.  A partial last panel reuses
 * its last row's address for the missing rows, with weights and u zero.
 */
#include "fused_rows.h"
#include "fused_lanes.h"

#include <math.h>
#include <string.h>

#define SMR_P 8   /* rows per panel = lanes of v8d          */
#define SMR_PF 16 /* rows ahead to prefetch (two panels)     */

double smr_fused_rescale(int64_t d, double rho, double *G, double *alpha)
{
    /* u' = rho u: G1' = rho G1 + rho (rho - 1) G2, G2' = rho^2 G2,
     * G3' = rho G3, alpha' = rho alpha; G4 does not involve u.  G1' is a
     * difference: its rounding error is up to eps times the returned
     * rho |G1| + rho |rho - 1| |G2| (2-norms), which the caller carries
     * into the a-posteriori test (fused.c) */
    double n1 = 0.0, n2 = 0.0;
    for (int64_t j = 0; j < d; ++j) {
        n1 += G[j] * G[j];
        n2 += G[d + j] * G[d + j];
        G[j] = rho * G[j] + rho * (rho - 1.0) * G[d + j];
        G[d + j] *= rho * rho;
        G[2 * d + j] *= rho;
    }
    *alpha *= rho;
    return rho * sqrt(n1) + rho * fabs(rho - 1.0) * sqrt(n2);
}

/* what a block's panels share */
typedef struct {
    const double *Ab, *x, *b, *w;
    int64_t ld, d, d8;
    int64_t rows_left; /* rows of A from the block's first to the last */
    double s0, mu;
    v8d ablk, finv;   /* lane sums of u and of z * 0 over the block */
    double *z, *u, *Gb;
    smr_fused_acc *st;
} blk_t;

/* Rows r0 .. r0 + cnt - 1 of the block; cnt is a constant (8) for every
 * panel but the last, so the conditions on it fold away.  Lanes past cnt
 * repeat row cnt - 1 (same z, so max and finiteness need no mask); their
 * u and weights are zeroed. */
static inline __attribute__((always_inline)) void
panel(int simd, int cnt, int64_t r0, blk_t *k)
{
    const int64_t d = k->d, d8 = k->d8, ld = k->ld;
    const double *x = k->x;
    const double *rp[SMR_P];
    for (int r = 0; r < SMR_P; ++r)
        rp[r] = k->Ab + (r0 + (r < cnt ? r : cnt - 1)) * ld;

    /* z = the 8 dots */
    v8d acc[SMR_P] = {{0}};
    /* software prefetch of the rows SMR_PF ahead (the next panels, in
     * this block or the next; never past A's last row): without it the
     * arithmetic and the memory stream took turns (d = 256, one thread:
     * 136 ns per row streaming against 57 in cache) */
    const double *pp = r0 + SMR_PF + SMR_P <= k->rows_left
                           ? k->Ab + (r0 + SMR_PF) * ld
                           : rp[0]; /* no pointer past A, even unused */
    for (int64_t j = 0; j < d8; j += 8) {
        v8d xv = ld8(x + j);
        for (int r = 0; r < SMR_P; ++r)
            __builtin_prefetch(pp + r * ld + j, 0, 3);
        for (int r = 0; r < SMR_P; ++r)
            acc[r] += ld8(rp[r] + j) * xv;
    }
    v8d zv = hsum8(acc);
    for (int64_t j = d8; j < d; ++j) {
        v8d a = {rp[0][j], rp[1][j], rp[2][j], rp[3][j],
                 rp[4][j], rp[5][j], rp[6][j], rp[7][j]};
        zv += a * x[j];
    }

    /* shift: the panel's largest logit (pairwise maxima); finiteness */
    double pm = max_lanes(zv);
    k->finv += zv * 0.0; /* NaN for any NaN/Inf */
    smr_fused_acc *st = k->st;
    st->zmax = pm > st->zmax ? pm : st->zmax;
    if (!st->have_mu) {
        k->mu = pm;
        st->have_mu = true;
    } else if (pm > k->mu + SMR_FUSED_RESCALE) {
        double rho = exp(k->mu - pm);
        double ab = 0.0;
        st->err1 = rho * st->err1 + smr_fused_rescale(d, rho, st->G, &st->alpha) +
                   smr_fused_rescale(d, rho, k->Gb, &ab);
        k->ablk *= rho;
        for (int64_t i = 0; i < r0; ++i)
            k->u[i] *= rho;
        k->mu = pm;
    }

    /* u and the weights; lanes past cnt are zero */
    smr_lanes L = smr_fused_lanes(simd, zv, cnt, r0, k->b, k->w, k->mu, k->s0,
                                  k->z, k->u);
    v8d u = L.u, w1 = L.w1, w2 = L.w2, w4 = L.w4;
    k->ablk += u;

    /* Gb += rows^T W: per strip, even and odd rows in two sets; the
     * weights are read from memory as scalars, so that each multiply-add
     * broadcasts its operand from L1 ({1to8}) instead of a shuffle port */
    double W[4][SMR_P] __attribute__((aligned(64)));
    st8(W[0], w1);
    st8(W[1], w2);
    st8(W[2], u);
    st8(W[3], w4);
    double *Gb = k->Gb;
    const bool four = k->w != NULL;
    int64_t j0 = 0;
    /* wide rows: two strips at a time share each row's three broadcasts
     * (d = 256 in cache: 81 -> 65 ns per row; for d <= 64 the even/odd
     * chains below measured as fast or faster) */
    for (; d8 >= 128 && j0 + 16 <= d8 && !four; j0 += 16) {
        v8d e1 = {0}, e2 = {0}, e3 = {0}, f1 = {0}, f2 = {0}, f3 = {0};
        for (int r = 0; r < SMR_P; ++r) {
            v8d a = ld8(rp[r] + j0), c = ld8(rp[r] + j0 + 8);
            double q1 = W[0][r], q2 = W[1][r], q3 = W[2][r];
            e1 += q1 * a;
            e2 += q2 * a;
            e3 += q3 * a;
            f1 += q1 * c;
            f2 += q2 * c;
            f3 += q3 * c;
        }
        st8(Gb + j0, ld8(Gb + j0) + e1);
        st8(Gb + d + j0, ld8(Gb + d + j0) + e2);
        st8(Gb + 2 * d + j0, ld8(Gb + 2 * d + j0) + e3);
        st8(Gb + j0 + 8, ld8(Gb + j0 + 8) + f1);
        st8(Gb + d + j0 + 8, ld8(Gb + d + j0 + 8) + f2);
        st8(Gb + 2 * d + j0 + 8, ld8(Gb + 2 * d + j0 + 8) + f3);
    }
    for (int64_t j = j0; j < d8; j += 8) {
        v8d e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0};
        v8d o1 = {0}, o2 = {0}, o3 = {0}, o4 = {0};
        for (int r = 0; r < SMR_P; r += 2) {
            v8d a = ld8(rp[r] + j), c = ld8(rp[r + 1] + j);
            e1 += W[0][r] * a;
            e2 += W[1][r] * a;
            e3 += W[2][r] * a;
            o1 += W[0][r + 1] * c;
            o2 += W[1][r + 1] * c;
            o3 += W[2][r + 1] * c;
            if (four) {
                e4 += W[3][r] * a;
                o4 += W[3][r + 1] * c;
            }
        }
        st8(Gb + j, ld8(Gb + j) + (e1 + o1));
        st8(Gb + d + j, ld8(Gb + d + j) + (e2 + o2));
        st8(Gb + 2 * d + j, ld8(Gb + 2 * d + j) + (e3 + o3));
        if (four)
            st8(Gb + 3 * d + j, ld8(Gb + 3 * d + j) + (e4 + o4));
    }
    for (int64_t j = d8; j < d; ++j) {
        v8d a = {rp[0][j], rp[1][j], rp[2][j], rp[3][j],
                 rp[4][j], rp[5][j], rp[6][j], rp[7][j]};
        Gb[j] += hsum_lanes(w1 * a);
        Gb[d + j] += hsum_lanes(w2 * a);
        Gb[2 * d + j] += hsum_lanes(u * a);
        if (four)
            Gb[3 * d + j] += hsum_lanes(w4 * a);
    }
}

static inline __attribute__((always_inline)) void
rows_body(int simd, const double *Ab, int64_t ld, int64_t d, int64_t m,
          int64_t rows_left,
          const double *x, const double *b, const double *w, double s0,
          double *z, double *u, smr_fused_acc *st)
{
    blk_t k = {.Ab = Ab, .x = x, .b = b, .w = w, .ld = ld, .d = d,
               .d8 = d - d % 8, .rows_left = rows_left, .s0 = s0, .mu = st->mu, .ablk = {0}, .finv = {0},
               .z = z, .u = u, .Gb = st->Gb, .st = st};
    int64_t ncol = w ? 4 : 3, r0 = 0;
    memset(k.Gb, 0, (size_t)(4 * d) * sizeof(double));
    for (; r0 + SMR_P <= m; r0 += SMR_P)
        panel(simd, SMR_P, r0, &k);
    if (r0 < m)
        panel(simd, (int)(m - r0), r0, &k);
    for (int64_t j = 0; j < ncol * d; ++j)
        st->G[j] += k.Gb[j];
    st->alpha += hsum_lanes(k.ablk);
    st->fin += hsum_lanes(k.finv);
    st->mu = k.mu;
}

#ifdef SMR_SIMD_X86
__attribute__((target("arch=x86-64-v4"))) static void
rows_v4(const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
        const double *x,
        const double *b, const double *w, double s0, double *z, double *u,
        smr_fused_acc *st)
{
    rows_body(1, Ab, ld, d, m, left, x, b, w, s0, z, u, st);
}
__attribute__((target("arch=x86-64-v3"))) static void
rows_v3(const double *Ab, int64_t ld, int64_t d, int64_t m, int64_t left,
        const double *x,
        const double *b, const double *w, double s0, double *z, double *u,
        smr_fused_acc *st)
{
    rows_body(1, Ab, ld, d, m, left, x, b, w, s0, z, u, st);
}
#endif

void smr_fused_rows(const smr_mat *A, int64_t i0, int64_t m, const double *x,
                    const double *b, const double *w, double s0, double *z,
                    double *u, smr_fused_acc *st)
{
    const double *Ab = A->a + i0 * A->ld;
#ifdef SMR_SIMD_X86
    int path = smr_k_simd_level();
    if (path == 2) {
        rows_v4(Ab, A->ld, A->d, m, A->n - i0, x, b, w, s0, z, u, st);
        return;
    }
    if (path == 1) {
        rows_v3(Ab, A->ld, A->d, m, A->n - i0, x, b, w, s0, z, u, st);
        return;
    }
#endif
    rows_body(0, Ab, A->ld, A->d, m, A->n - i0, x, b, w, s0, z, u, st);
}

/* The finishing sweep over one block's n-vectors (fused.c): f = sc u in
 * place, and the block's sums of (f - b)^2, (w z)^2 and f (f - b), each in
 * 8 lane sums added in a fixed order (a scalar running sum was a 4-cycle
 * dependency per row: ~1 ns per row, a quarter of the pass at d = 16). */
static inline __attribute__((always_inline)) void
finish_body(int64_t m, double sc, double *f, const double *b, const double *w,
            const double *z, double out[3])
{
    v8d s1 = {0}, s2 = {0}, s3 = {0};
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
        v8d fv = ld8(f + i) * sc, r = fv - ld8(b + i);
        st8(f + i, fv);
        s1 += r * r;
        s3 += fv * r;
        if (w) {
            v8d q = ld8(w + i) * ld8(z + i);
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
__attribute__((target("arch=x86-64-v4"))) static void
finish_v4(int64_t m, double sc, double *f, const double *b, const double *w,
          const double *z, double out[3])
{
    finish_body(m, sc, f, b, w, z, out);
}
__attribute__((target("arch=x86-64-v3"))) static void
finish_v3(int64_t m, double sc, double *f, const double *b, const double *w,
          const double *z, double out[3])
{
    finish_body(m, sc, f, b, w, z, out);
}
#endif

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
        finish_v3(m, sc, f, b, w, z, out);
        return;
    }
#endif
    finish_body(m, sc, f, b, w, z, out);
}
