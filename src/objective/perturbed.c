/*
 * perturbed.c -- the 2k losses of an SPSA estimate in one pass over A
 * (docs/math.md, "SPSA's 2k losses in one pass"; src/solvers/spsa.c).
 *
 * With z = Ax known, the perturbed logits are t = z + s a_j (s = +eps or
 * -eps, a_j = A z_j), and each loss needs the softmax of t.  The a_j are
 * formed here, row by row of a block (perturbed_rows.c: A_i Z in vector
 * lanes, one per direction), and used at once: A Z (n x k) is never
 * stored.  All 2k losses come from that one pass, with the shift and
 * normaliser of z itself and one exp per row and direction (e^(t - mu)
 * for t = z + eps a and z - eps a is e^(z - mu) e^(eps a) and
 * e^(z - mu) / e^(eps a)):
 *
 *     mu = max z,  at = sum exp(z - mu)          (one pass over z, or
 *                                                 the forward pass's)
 *     u  = exp(t - mu),  c = u / at - b          (per row, per perturbation)
 *     alpha = sum u,  S2 = sum c^2,  Scb = sum c b,  Sbb = sum b^2
 *
 * and, with rho = at / alpha (so f = rho u / at, f - b = rho c + (rho-1) b),
 *
 *     sum (f - b)^2 = rho^2 S2 + 2 rho (rho - 1) Scb + (rho - 1)^2 Sbb,
 *
 * exact algebra.  rho - 1 is of the order of eps |a_j|, so the correction
 * terms are small and S2 (formed from c = f~ - b directly, like the
 * two-pass residual) carries the loss even where f ~ b.  A perturbation
 * whose alpha is not finite and positive (t - mu beyond exp's range) is
 * reported as NaN and the caller recomputes it the plain way.
 *
 * Why per block: with A Z stored, the step wrote and read back n k doubles
 * (128 MB at n = 10^6, k = 16, as much as A itself at d = 16) besides the
 * dgemm's own pass, and the trial logits read it once more
 * (docs/benchmarks.md, "SPSA step").
 *
 * Threads: row blocks (their size set by d) split into T ranges, partial
 * sums per range added in order 0..T-1: the result depends on T only.
 */
#include "objective.h"
#include "perturbed_rows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* rows per block and padded directions: smr_k_lane_block_rows and
 * smr_k_padded (kernels.h), shared with the leverage scores' rownorms.c */

/* per part: 8 kp sums, then max z and at */
static int64_t part_stride(int64_t k) { return 8 * smr_k_padded(k) + 2; }

typedef struct {
    const smr_problem *p;
    const smr_mat *A;
    const double *z, *Zr;
    int64_t k, kp, R;
    double eps, mu, inv_at;
    double *part; /* T x part_stride */
} pert_ctx;

static double *part_of(const pert_ctx *c, int t)
{
    return c->part + t * part_stride(c->k);
}

/* pass 1: max z and sum exp(z - max) of part t (Sbb goes with pass 2) */
static void base_part(void *v, int t, int T)
{
    pert_ctx *c = v;
    int64_t i0, i1;
    smr_k_part_range(c->p->n, c->R, t, T, &i0, &i1);
    double *S = part_of(c, t) + 8 * c->kp;
    double mx = i1 > i0 ? smr_k_max(i1 - i0, c->z + i0) : -INFINITY, at = 0.0;
    double u[SMR_LANE_MAX_ROWS];
    for (int64_t b0 = i0; b0 < i1; b0 += c->R) {
        int64_t m = i1 - b0 < c->R ? i1 - b0 : c->R;
        smr_k_exp_shift(m, c->z + b0, mx, u);
        at += smr_k_sum(m, u);
    }
    S[0] = mx;
    S[1] = at;
}

/* pass 2: per block of rows, the sums of every perturbation
 * (perturbed_rows.c, which reads A(i, c) at i rs + c cs in either layout) */
static void pert_part(void *vc, int t, int T)
{
    pert_ctx *c = vc;
    const smr_problem *p = c->p;
    const smr_mat *A = c->A;
    int64_t n = p->n, d = p->d, i0, i1;
    smr_k_part_range(n, c->R, t, T, &i0, &i1);
    double *S = part_of(c, t);
    memset(S, 0, (size_t)(8 * c->kp) * sizeof(double));
    double ez[SMR_LANE_MAX_ROWS];
    int64_t rs = A->row_major ? A->ld : 1, cs = A->row_major ? 1 : A->ld;
    for (int64_t b0 = i0; b0 < i1; b0 += c->R) {
        int64_t m = i1 - b0 < c->R ? i1 - b0 : c->R;
        smr_k_exp_shift(m, c->z + b0, c->mu, ez);
        smr_pert_block(m, d, A->a + b0 * rs, rs, cs, c->Zr, c->kp, ez,
                       p->b + b0, p->w ? p->w + b0 : NULL, c->z + b0, c->eps,
                       c->inv_at, S);
    }
}

int smr_obj_perturbed_losses(const smr_problem *p, const smr_mat *A,
                             const double *z, const double *zs, const double *Z,
                             int64_t k, double eps, double *scratch, int tcap,
                             double *out)
{
    int64_t n = p->n, d = p->d, R = smr_k_lane_block_rows(d), kp = smr_k_padded(k);
    int T = smr_k_threads();
    if (T > tcap)
        T = tcap;
    if ((double)n * (double)(k + d) < 65536.0 || n < (int64_t)T * R)
        T = 1;
    /* the directions as rows: Zr[c kp + j] = Z(c, j), zero past k */
    double *Zr = scratch + (int64_t)tcap * part_stride(k);
    for (int64_t c = 0; c < d; ++c)
        for (int64_t j = 0; j < kp; ++j)
            Zr[c * kp + j] = j < k ? Z[j * d + c] : 0.0;
    pert_ctx c = {.p = p, .A = A, .z = z, .Zr = Zr, .k = k, .kp = kp, .R = R,
                  .eps = eps, .part = scratch};
    double mu = -INFINITY, at = 0.0;
    if (zs) { /* from the forward pass that made z: no sweep over z */
        mu = zs[0];
        at = zs[1];
    } else {
        smr_k_parallel(T, base_part, &c);
        for (int t = 0; t < T; ++t)
            mu = fmax(mu, part_of(&c, t)[8 * kp]);
        for (int t = 0; t < T; ++t) {
            const double *S = part_of(&c, t) + 8 * kp;
            if (S[1] > 0.0)
                at += S[1] * exp(S[0] - mu);
        }
    }
    if (!isfinite(mu) || !(at > 0.0) || !isfinite(at))
        return SMR_ERR_OVERFLOW;
    c.mu = mu;
    c.inv_at = 1.0 / at;
    smr_k_parallel(T, pert_part, &c);
    double sbb = smr_k_sumsq(n, p->b);
    for (int64_t q = 0; q < 2 * k; ++q) {
        int64_t j = q / 2, sg = q % 2;
        double al = 0.0, s2 = 0.0, scb = 0.0, sw = 0.0;
        for (int t = 0; t < T; ++t) {
            const double *S = part_of(&c, t);
            al += S[sg * kp + j];
            s2 += S[(2 + sg) * kp + j];
            scb += S[(4 + sg) * kp + j];
            sw += S[(6 + sg) * kp + j];
        }
        double rho = at / al, r1 = (at - al) / al; /* rho - 1 */
        double L = 0.5 * (rho * rho * s2 + 2.0 * rho * r1 * scb + r1 * r1 * sbb) + 0.5 * sw;
        out[q] = (al > 0.0 && isfinite(al) && isfinite(L)) ? L : NAN;
    }
    return SMR_OK;
}

int64_t smr_obj_perturbed_scratch(int64_t k, int64_t d, int tcap)
{
    return (int64_t)tcap * part_stride(k) + d * smr_k_padded(k);
}
