/*
 * sparsify.c -- leverage-score sparsification of A^T D A (docs/sketch.md;
 * MATH.md section 4; Drineas, Magdon-Ismail, Mahoney, Woodruff 2012).
 *
 * Leverage scores of M = diag(sqrt|D|) A, approximately, in O(nnz(A) k + m d^2):
 *   1. SM = CountSketch of M, m rows                       (one pass over A)
 *   2. SM = QR, keep R                           (TSQR in threads, m d^2: qr.c)
 *   3. W = R^{-1} G, G a d x k Gaussian                     (triangular solve)
 *   4. sigma_i = |D_i| |(A W)_i|^2 / k                      (one pass over A,
 *      A W never stored: smr_k_rownorms2)                   (sum ~ rank M <= d)
 * Where n <= 8d (m = n) the scores are exact instead (exact_scores below).
 * Sampling: s rows i.i.d. with p_i = sigma_i / sum sigma; kept row i gets
 * weight D~_i = D_i count_i / (s p_i), so E[A^T D~ A] = A^T D A.
 * With s = smr_sparsify_sample_size(d, eps, delta) rows,
 *   (1 - eps) A^T D A <= A^T D~ A <= (1 + eps) A^T D A   w.p. >= 1 - delta
 * for D >= 0 (matrix Chernoff; tests check it over 100 seeded trials).  For
 * signed D the same sampling of |D| gives |A^T (D~ - D) A| <= eps A^T |D| A:
 * the solver's use, documented in docs/sketch.md.
 */
#include "objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t smr_sparsify_sample_size(int64_t d, double eps, double delta)
{
    if (d <= 0 || !(eps > 0 && eps < 1) || !(delta > 0 && delta < 1))
        return -1;
    /* Tropp's matrix Chernoff bound for sampling by leverage scores that
     * may underestimate by a factor beta: s >= beta (8/3) d ln(2d/delta) /
     * eps^2; we take beta = 1.5 for the sketched scores, i.e. C = 4. */
    double s = ceil(SMR_SPARSIFY_C * (double)d * log(2.0 * (double)d / delta) / (eps * eps));
    return s > 1e15 ? (int64_t)1e15 : (int64_t)s;
}

/* sizes of the sketch: m rows of CountSketch, k columns of the JL map */
static void sketch_sizes(int64_t n, int64_t d, int64_t *m, int64_t *k)
{
    int64_t mm = SMR_SKETCH_ROWS_PER_COL * d;
    *m = mm < n ? mm : n;
    *k = SMR_JL_COLS;
}

int smr_spz_init(smr_spz *z, int64_t n, int64_t d, int64_t s_max)
{
    *z = (smr_spz){0};
    int64_t m, k;
    sketch_sizes(n, d, &m, &k);
    z->m = m;
    z->k = k;
    int64_t cap = s_max < n ? s_max : n;
    int64_t kp = z->kp = smr_k_padded(k);
    z->SM = malloc((size_t)(m * d + d + d * k + d * kp) * sizeof(double));
    z->cum = malloc((size_t)(2 * n) * sizeof(double));
    z->idx = malloc((size_t)(2 * n) * sizeof(int64_t));
    z->rows = malloc((size_t)cap * sizeof(int64_t));
    z->weights = malloc((size_t)cap * sizeof(double));
    if (!z->SM || !z->cum || !z->idx || !z->rows || !z->weights) {
        smr_spz_free(z);
        return SMR_ERR_NO_MEMORY;
    }
    z->tau = z->SM + m * d;
    z->W = z->tau + d;
    z->Wr = z->W + d * k;
    z->scale = z->cum + n;
    z->count = z->idx + n;
    return SMR_OK;
}

void smr_spz_free(smr_spz *z)
{
    free(z->SM);
    free(z->cum);
    free(z->idx);
    free(z->rows);
    free(z->weights);
    free(z->work);
    *z = (smr_spz){0};
}

/* n <= 8d, where the sketch would have as many rows as M (m = n): no
 * saving, and a poor embedding -- hashing n rows into n buckets leaves
 * about n/e of them empty, so SM lost rank and its lifted pivots gave
 * scores up to 1e26 at n <= 1.2 d and above 1 at n = 2d; for n < d the
 * d x d triangle read past the sketch (a heap overflow at n + 33 < d).
 * Here M = diag(scale) A (it fits the sketch's m d doubles) gets its exact
 * scores, the diagonal of M M^+:
 *   - n >= d: R of M by the threaded TSQR (kernels/qr.c) on a copy, then
 *     the squared row norms of Q = M R^{-1} (threaded dtrsm), O(n d^2)
 *     at level 3 -- kept where R's diagonal spans less than 1e8 and Q
 *     is orthonormal to 1e-8 in trace (sum |q_i|^2 = d): M of full rank
 *     and well enough conditioned;
 *   - otherwise (n < d, rank-deficient or ill-conditioned M): a
 *     column-pivoted QR (dgeqp3 + dorgqr), rank from the pivots, half of
 *     whose flops are level 2 and on one thread.
 * smr_leverage_scores, the pivoted way only (939b213) against both
 * (/tmp driver, random A, alternated twice): n = 8d, d = 1000 1.52-1.57
 * -> 0.38-0.40 s (the sketch's way at n = 8d + 1: 0.31 s), d = 500
 * 0.150-0.157 -> 0.098-0.104 s; n = 2d, d = 1000 0.24-0.25 -> 0.13 s. */
static int exact_scores(smr_spz *z, const smr_mat *A, double *scores)
{
    int64_t n = A->n, d = A->d;
    for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < n; ++i)
            z->SM[i + j * n] = z->scale[i] * (A->row_major ? A->a[i * A->ld + j]
                                                           : A->a[i + j * A->ld]);
    if (n >= d) {
        int rc = smr_spz_reserve(z, A);
        if (rc != SMR_OK)
            return rc;
        int64_t nd = n * d;
        double *W = z->work, *R = z->work + nd;
        memcpy(W, z->SM, (size_t)nd * sizeof(double));
        if (smr_k_qr_r(false, n, d, W, n, R, z->nwork - nd) != 0)
            return SMR_ERR_LAPACK;
        /* a dependent column leaves a pivot at rounding level (1.7e-15
         * and 1.1e-14 against 16 and 22 in test_leverage_exact), and
         * Q = M R^{-1} is then no orthonormal basis (its trace off by 0.75
         * and 1.7 there): either test sends such an M the pivoted way,
         * as an R whose diagonal spans more than 1e8 */
        double rmin = INFINITY, rmax = 0;
        for (int64_t j = 0; j < d; ++j) {
            rmin = fmin(rmin, fabs(W[j + j * n]));
            rmax = fmax(rmax, fabs(W[j + j * n]));
        }
        if (rmin > 1e-8 * rmax) {
            for (int64_t j = 0; j < d; ++j)
                for (int64_t i = 0; i < d; ++i)
                    R[i + j * d] = i <= j ? W[i + j * n] : 0.0;
            memcpy(W, z->SM, (size_t)nd * sizeof(double));
            smr_k_qr_rownorms(n, d, W, n, R, d, scores);
            double tr = 0;
            for (int64_t i = 0; i < n; ++i)
                tr += scores[i];
            if (fabs(tr - (double)d) <= 1e-8 * (double)d)
                return SMR_OK;
        }
    }
    int info = smr_k_exact_leverage(n, d, z->SM, z->tau, scores);
    return info == 0 ? SMR_OK : info == SMR_K_NO_MEMORY ? SMR_ERR_NO_MEMORY : SMR_ERR_LAPACK;
}

/* the scratch scores of A need: the sketch's way, the row-major partial
 * sketches, then the QR's blocks; the exact way (m = n >= d), a copy of M
 * (n d), then the QR's scratch or R (d d); nothing for n < d */
static int64_t work_need(const smr_spz *z, const smr_mat *A)
{
    int64_t n = A->n, d = A->d;
    if (z->m == n) {
        int64_t qw = smr_k_qr_work(false, n, d);
        return n < d ? 0 : n * d + (qw > d * d ? qw : d * d);
    }
    int64_t need = smr_k_countsketch_work(A, z->m, SMR_SKETCH_PART_MAX);
    int64_t need_qr = smr_k_qr_work(A->row_major, z->m, d);
    return need_qr > need ? need_qr : need;
}

int smr_spz_reserve(smr_spz *z, const smr_mat *A)
{
    int64_t need = work_need(z, A);
    if (need <= z->nwork)
        return SMR_OK;
    free(z->work);
    z->work = malloc((size_t)need * sizeof(double));
    z->nwork = z->work ? need : 0;
    return z->work ? SMR_OK : SMR_ERR_NO_MEMORY;
}

int smr_spz_scores(smr_spz *z, const smr_mat *A, const double *D, uint64_t seed,
                   double *scores)
{
    int64_t n = A->n, d = A->d, m = z->m, k = z->k, kp = z->kp;
    for (int64_t i = 0; i < n; ++i)
        z->scale[i] = sqrt(fabs(D[i]));
    if (m == n)
        return exact_scores(z, A, scores);
    int rc = smr_spz_reserve(z, A);
    if (rc != SMR_OK)
        return rc;
    smr_k_countsketch(A, z->scale, seed, m, SMR_SKETCH_PART_MAX, z->idx, z->cum, z->SM,
                      z->work, z->nwork);
    int64_t ld = A->row_major ? d : m;
    if (smr_k_qr_r(A->row_major, m, d, z->SM, ld, z->work, z->nwork) != 0)
        return SMR_ERR_LAPACK;
    /* a rank-deficient M (zero weights, dependent columns) gives zero
     * pivots: lift them to a tiny fraction of the largest, so R^{-1} stays
     * finite; those directions then get (correctly) tiny scores */
    double rmax = 0;
    for (int64_t j = 0; j < d; ++j)
        rmax = fmax(rmax, fabs(z->SM[j * ld + j]));
    if (!(rmax > 0)) {
        memset(scores, 0, (size_t)n * sizeof(double));
        return SMR_OK;
    }
    for (int64_t j = 0; j < d; ++j)
        if (fabs(z->SM[j * ld + j]) < 1e-12 * rmax)
            z->SM[j * ld + j] = 1e-12 * rmax;
    for (int64_t c = 0; c < k; ++c)
        smr_k_direction(seed ^ 0x4a4cull, 0, (uint64_t)c, 0, d, z->W + c * d);
    smr_k_rsolve(A->row_major, d, z->SM, ld, k, z->W);
    /* W (d x k, column-major) as rows of kp lanes, zero past k */
    for (int64_t j = 0; j < d; ++j)
        for (int64_t c = 0; c < kp; ++c)
            z->Wr[j * kp + c] = c < k ? z->W[c * d + j] : 0.0;
    /* |A_i W|^2 in one pass over A.  Was: A W by dgemm (n x k, stored),
     * then its squares summed column by column -- OpenBLAS packed A for
     * that shape, and the n x k product was as large as A at d = 16 */
    smr_k_rownorms2(A, z->Wr, kp, scores);
    for (int64_t i = 0; i < n; ++i)
        scores[i] = fabs(D[i]) * scores[i] / (double)k;
    return SMR_OK;
}

int smr_spz_sample(smr_spz *z, int64_t n, const double *D, const double *scores,
                   int64_t s, uint64_t seed)
{
    z->samples = s;
    z->kept = 0;
    if (s >= n) { /* as many samples as rows: keep every row exactly */
        for (int64_t i = 0; i < n; ++i)
            if (D[i] != 0) {
                z->rows[z->kept] = i;
                z->weights[z->kept++] = D[i];
            }
        z->samples = n;
        return SMR_OK;
    }
    double total = 0;
    for (int64_t i = 0; i < n; ++i)
        z->cum[i] = (total += scores[i]);
    if (!(total > 0) || !isfinite(total))
        return SMR_ERR_OVERFLOW;
    /* s uniforms in increasing order, walked once against cum: row i
     * takes the draws in [cum[i-1], cum[i]).  The order statistics of s
     * uniforms are, exactly in distribution, U_(k) = (E_1 + ... + E_k) /
     * (E_1 + ... + E_{s+1}) for s + 1 standard exponentials (Devroye 1986,
     * V.2), drawn from Philox by index: once for their sum, once for the
     * walk.  O(n + s), where s binary searches over the n sums (a cache
     * miss for most of their log2 n steps) took most of this function's
     * time: s = 57 519 draws (d = 400), medians of 9, /tmp driver, both
     * builds alternated: n = 4*10^5 0.012-0.014 -> 0.0035-0.0039 s,
     * n = 8*10^5 0.016-0.022 -> 0.0065-0.0076 s. */
    memset(z->count, 0, (size_t)n * sizeof(int64_t));
    double u[4], esum = 0;
    for (int64_t t = 0; t <= s; t += 4) {
        smr_k_uniform4(seed, (uint64_t)t, u);
        for (int h = 0; h < 4 && t + h <= s; ++h)
            esum -= log(u[h]);
    }
    /* the walk stops at the first row whose sum reaches the total: a
     * target rounded up to the total must not land on a zero-score row
     * after it (its weight would divide by p = 0) */
    int64_t last = n - 1;
    while (last > 0 && z->cum[last - 1] >= total)
        --last;
    double part = 0, scale = total / esum;
    int64_t row = 0;
    for (int64_t t = 0; t < s; t += 4) {
        smr_k_uniform4(seed, (uint64_t)t, u);
        for (int h = 0; h < 4 && t + h < s; ++h) {
            part -= log(u[h]);
            double target = part * scale;
            while (row < last && !(z->cum[row] > target))
                ++row;
            z->count[row]++;
        }
    }
    for (int64_t i = 0; i < n; ++i)
        if (z->count[i]) {
            double p = scores[i] / total;
            z->rows[z->kept] = i;
            z->weights[z->kept++] = D[i] * (double)z->count[i] / ((double)s * p);
        }
    return SMR_OK;
}

/* ---- public ---- */

/* A's description (b, w, lambda are not used), every entry of A, and D:
 * finite, and non-negative unless signed_ok */
static int check_matrix(const smr_problem *p, const double *D, bool signed_ok)
{
    int rc = smr_check_matrix(p);
    if (rc != SMR_OK)
        return rc;
    if (!D)
        return SMR_ERR_NULL_POINTER;
    smr_mat m = smr_problem_mat(p);
    if (!smr_k_mat_all_finite(&m))
        return SMR_ERR_NONFINITE_A;
    if (!smr_k_all_finite(p->n, D))
        return SMR_ERR_NONFINITE_X;
    if (!signed_ok)
        for (int64_t i = 0; i < p->n; ++i)
            if (D[i] < 0)
                return SMR_ERR_BAD_ARGUMENT;
    return SMR_OK;
}

int smr_leverage_scores(const smr_problem *prob, const double *D, uint64_t seed,
                        double *scores)
{
    int rc = check_matrix(prob, D, false);
    if (rc != SMR_OK)
        return rc;
    if (!scores)
        return SMR_ERR_NULL_POINTER;
    smr_spz z;
    if ((rc = smr_spz_init(&z, prob->n, prob->d, 1)) != SMR_OK)
        return rc;
    smr_mat m = smr_problem_mat(prob);
    double *tmp = malloc((size_t)prob->n * sizeof(double));
    if (!tmp)
        rc = SMR_ERR_NO_MEMORY;
    if (rc == SMR_OK)
        rc = smr_spz_scores(&z, &m, D, seed, tmp);
    if (rc == SMR_OK)
        memcpy(scores, tmp, (size_t)prob->n * sizeof(double));
    free(tmp);
    smr_spz_free(&z);
    return rc;
}

int smr_sparsify(const smr_problem *prob, const double *D, double eps, double delta,
                 int64_t samples, uint64_t seed, smr_sparsifier *out)
{
    int rc = check_matrix(prob, D, false);
    if (rc != SMR_OK)
        return rc;
    if (!out)
        return SMR_ERR_NULL_POINTER;
    if (samples < 0 || (samples == 0 && smr_sparsify_sample_size(prob->d, eps, delta) < 0))
        return SMR_ERR_BAD_ARGUMENT;
    int64_t s = samples ? samples : smr_sparsify_sample_size(prob->d, eps, delta);
    int64_t n = prob->n;
    smr_spz z;
    if ((rc = smr_spz_init(&z, n, prob->d, s)) != SMR_OK)
        return rc;
    double *scores = malloc((size_t)n * sizeof(double));
    smr_mat m = smr_problem_mat(prob);
    rc = scores ? SMR_OK : SMR_ERR_NO_MEMORY;
    if (rc == SMR_OK && s < n)
        rc = smr_spz_scores(&z, &m, D, seed, scores);
    if (rc == SMR_OK)
        rc = smr_spz_sample(&z, n, D, scores, s, seed ^ 0x73616d70ull);
    free(scores);
    if (rc == SMR_OK) {
        *out = (smr_sparsifier){.count = z.kept, .samples = z.samples, .rows = z.rows,
                                .weights = z.weights};
        z.rows = NULL; /* handed over */
        z.weights = NULL;
    }
    smr_spz_free(&z);
    return rc;
}

void smr_sparsifier_free(smr_sparsifier *s)
{
    if (!s)
        return;
    free(s->rows);
    free(s->weights);
    *s = (smr_sparsifier){0};
}
