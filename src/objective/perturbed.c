/*
 * perturbed.c -- the 2k losses of an SPSA estimate in one pass over the
 * logits (docs/math.md, section 6; src/solvers/spsa.c).
 *
 * With z = Ax known and the columns of AZ, the perturbed logits are
 * t = z + s a_j (s = +eps or -eps, a_j = A z_j), and each loss needs the
 * softmax of t.  Computing them one after the other costs ~8 passes over
 * n-vectors per loss (t, the finite check, max, exp, sum, scale, residual,
 * sum of squares), which for small d cost as much as reading A.  Here all
 * 2k losses are formed in one blocked pass, with the shift and normaliser
 * of z itself and one exp per row and direction (e^(t - mu) for t = z +
 * eps a and z - eps a is e^(z - mu) e^(eps a) and e^(z - mu) / e^(eps a)):
 *
 *     mu = max z,  at = sum exp(z - mu)          (one pass over z)
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
 * Threads: row blocks split into T ranges, partial sums per range added in
 * order 0..T-1: the result depends on T only.
 */
#include "objective.h"
#include "perturbed_rows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SMR_PERT_BLOCK 256
#define SMR_PERT_SUMS 4 /* alpha, S2, Scb, (w t)^2 per perturbation */

typedef struct {
    const smr_problem *p;
    const double *z, *AZ;
    int64_t k;
    double eps, mu, inv_at;
    double *part; /* T x (2k x 4 + 2): sums, then max z and at per part */
} pert_ctx;

static void ranges(int64_t n, int t, int T, int64_t *i0, int64_t *i1)
{
    int64_t nblk = (n + SMR_PERT_BLOCK - 1) / SMR_PERT_BLOCK;
    *i0 = nblk * t / T * SMR_PERT_BLOCK;
    *i1 = nblk * (t + 1) / T * SMR_PERT_BLOCK;
    if (*i1 > n)
        *i1 = n;
}

static int64_t part_len(int64_t k) { return 2 * k * SMR_PERT_SUMS + 2; }

/* pass 1: max z and sum exp(z - max) of part t (Sbb goes with pass 2) */
static void base_part(void *v, int t, int T)
{
    pert_ctx *c = v;
    int64_t i0, i1;
    ranges(c->p->n, t, T, &i0, &i1);
    double *S = c->part + t * part_len(c->k) + 2 * c->k * SMR_PERT_SUMS;
    double mx = i1 > i0 ? smr_k_max(i1 - i0, c->z + i0) : -INFINITY, at = 0.0;
    double u[SMR_PERT_BLOCK];
    for (int64_t b0 = i0; b0 < i1; b0 += SMR_PERT_BLOCK) {
        int64_t m = i1 - b0 < SMR_PERT_BLOCK ? i1 - b0 : SMR_PERT_BLOCK;
        smr_k_exp_shift(m, c->z + b0, mx, u);
        at += smr_k_sum(m, u);
    }
    S[0] = mx;
    S[1] = at;
}

/* pass 2: the four sums of every perturbation over part t's rows */
static void pert_part(void *vc, int t, int T)
{
    pert_ctx *c = vc;
    const smr_problem *p = c->p;
    int64_t n = p->n, k = c->k, i0, i1;
    ranges(n, t, T, &i0, &i1);
    double *S = c->part + t * part_len(k);
    memset(S, 0, (size_t)(2 * k * SMR_PERT_SUMS) * sizeof(double));
    double ez[SMR_PERT_BLOCK];
    for (int64_t b0 = i0; b0 < i1; b0 += SMR_PERT_BLOCK) {
        int64_t m = i1 - b0 < SMR_PERT_BLOCK ? i1 - b0 : SMR_PERT_BLOCK;
        const double *z = c->z + b0;
        smr_k_exp_shift(m, z, c->mu, ez);
        for (int64_t j = 0; j < k; ++j) {
            /* e^(eps a) per row: u+ = ez v, u- = ez / v (perturbed_rows.c) */
            double o[8] = {0};
            smr_pert_sums(m, ez, c->AZ + j * n + b0, p->b + b0,
                          p->w ? p->w + b0 : NULL, z, c->eps, c->inv_at, o);
            for (int sg = 0; sg < 2; ++sg) {
                double *Sq = S + (2 * j + sg) * SMR_PERT_SUMS;
                Sq[0] += o[sg];
                Sq[1] += o[2 + sg];
                Sq[2] += o[4 + sg];
                Sq[3] += o[6 + sg];
            }
        }
    }
}

int smr_obj_perturbed_losses(const smr_problem *p, const double *z,
                             const double *AZ, int64_t k, double eps,
                             double *scratch, int tcap, double *out)
{
    int64_t n = p->n;
    int T = smr_k_threads();
    if (T > tcap)
        T = tcap;
    if ((double)n * (double)k < 65536.0 || n < (int64_t)T * SMR_PERT_BLOCK)
        T = 1;
    pert_ctx c = {.p = p, .z = z, .AZ = AZ, .k = k, .eps = eps, .part = scratch};
    smr_k_parallel(T, base_part, &c);
    double mu = -INFINITY, at = 0.0;
    for (int t = 0; t < T; ++t)
        mu = fmax(mu, scratch[t * part_len(k) + 2 * k * SMR_PERT_SUMS]);
    for (int t = 0; t < T; ++t) {
        const double *S = scratch + t * part_len(k) + 2 * k * SMR_PERT_SUMS;
        if (S[1] > 0.0)
            at += S[1] * exp(S[0] - mu);
    }
    if (!isfinite(mu) || !(at > 0.0) || !isfinite(at))
        return SMR_ERR_OVERFLOW;
    c.mu = mu;
    c.inv_at = 1.0 / at;
    smr_k_parallel(T, pert_part, &c);
    double sbb = smr_k_sumsq(n, p->b);
    for (int64_t q = 0; q < 2 * k; ++q) {
        double al = 0.0, s2 = 0.0, scb = 0.0, sw = 0.0;
        for (int t = 0; t < T; ++t) {
            const double *Sq = scratch + t * part_len(k) + q * SMR_PERT_SUMS;
            al += Sq[0];
            s2 += Sq[1];
            scb += Sq[2];
            sw += Sq[3];
        }
        double rho = at / al, r1 = (at - al) / al; /* rho - 1 */
        double L = 0.5 * (rho * rho * s2 + 2.0 * rho * r1 * scb + r1 * r1 * sbb) + 0.5 * sw;
        out[q] = (al > 0.0 && isfinite(al) && isfinite(L)) ? L : NAN;
    }
    return SMR_OK;
}

int64_t smr_obj_perturbed_scratch(int64_t k, int tcap)
{
    return (int64_t)tcap * part_len(k);
}
