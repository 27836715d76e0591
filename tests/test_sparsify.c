/*
 * test_sparsify.c -- the leverage-score sparsifier: the spectral bound
 * (1 - eps) H <= H~ <= (1 + eps) H in at least (1 - delta) of 100 seeded
 * trials for eps in {0.5, 0.25, 0.1}; approximate leverage scores summing
 * to about d and within a constant factor of the exact ones; the exact path
 * when s >= n; determinism; bad input.
 */
#include "testutil.h"
#include "objective/objective.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* H = sum_t w_t a a^T over the given rows of a column-major A (n x d) */
static void gram(const double *A, int64_t n, int64_t d, const int64_t *rows, const double *w,
                 int64_t cnt, double *H)
{
    double *B = malloc((size_t)(cnt * d) * sizeof(double)); /* cnt x d, col-major */
    memset(H, 0, (size_t)(d * d) * sizeof(double));
    int np = 0;
    for (int64_t t = 0; t < cnt; ++t)
        if (w[t] > 0) {
            for (int64_t j = 0; j < d; ++j)
                B[np + j * cnt] = sqrt(w[t]) * A[rows ? rows[t] + j * n : t + j * n];
            ++np;
        }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)d, np, 1.0, B, (int)cnt, 0.0, H, (int)d);
    free(B);
}

/* extreme eigenvalues of H^{-1/2} Ht H^{-1/2}: the pencil (Ht, H) */
static void pencil(int64_t d, const double *H, const double *Ht, double *lo, double *hi)
{
    double *a = malloc((size_t)(d * d) * sizeof(double)), *b = malloc((size_t)(d * d) * sizeof(double));
    double *ev = malloc((size_t)d * sizeof(double));
    memcpy(a, Ht, (size_t)(d * d) * sizeof(double));
    memcpy(b, H, (size_t)(d * d) * sizeof(double));
    assert_int_equal(LAPACKE_dsygv(LAPACK_COL_MAJOR, 1, 'N', 'U', (int)d, a, (int)d, b, (int)d, ev), 0);
    *lo = ev[0];
    *hi = ev[d - 1];
    free(a);
    free(b);
    free(ev);
}

typedef struct { tu_problem tp; double *D, *H; int64_t *all; } fixture;

static void make(fixture *f, int64_t n, int64_t d, bool heavy)
{
    tu_spec spec = {.n = n, .d = d, .layout = SMR_COL_MAJOR, .seed = 5};
    tu_problem_make(&f->tp, &spec);
    tu_rng r;
    tu_seed(&r, 8);
    if (heavy) /* rows of very different norms: non-uniform leverage */
        for (int64_t i = 0; i < n; ++i) {
            double sc = 1.0 / (fabs(tu_normal(&r)) + 0.05);
            for (int64_t j = 0; j < d; ++j)
                f->tp.A[i + j * n] *= sc;
        }
    f->D = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; ++i)
        f->D[i] = tu_uniform(&r) + 0.01;
    f->H = malloc((size_t)(d * d) * sizeof(double));
    gram(f->tp.A, n, d, NULL, f->D, n, f->H);
}

static void unmake(fixture *f)
{
    tu_problem_free(&f->tp);
    free(f->D);
    free(f->H);
}

static void test_spectral_bound_100_trials(void **state)
{
    (void)state;
    fixture f;
    int64_t n = 100000, d = 8;
    make(&f, n, d, true);
    double *Ht = malloc((size_t)(d * d) * sizeof(double));
    const double eps[] = {0.5, 0.25, 0.1}, delta = 0.1;
    for (int e = 0; e < 3; ++e) {
        int within = 0;
        double lo_all = 1e300, hi_all = 0;
        TU_CHECK(smr_sparsify_sample_size(d, eps[e], delta) < n, "eps %g: s >= n", eps[e]);
        for (int t = 0; t < 100; ++t) {
            smr_sparsifier sp;
            assert_int_equal(smr_sparsify(&f.tp.p, f.D, eps[e], delta, 0, 1000 + (uint64_t)t, &sp), SMR_OK);
            assert_true(sp.count > 0 && sp.count <= sp.samples && sp.samples < n);
            gram(f.tp.A, n, d, sp.rows, sp.weights, sp.count, Ht);
            double lo, hi;
            pencil(d, f.H, Ht, &lo, &hi);
            within += lo >= 1 - eps[e] && hi <= 1 + eps[e];
            lo_all = fmin(lo_all, lo);
            hi_all = fmax(hi_all, hi);
            smr_sparsifier_free(&sp);
        }
        print_message("eps %.2f: %d/100 within [1-eps, 1+eps]; spectra in [%.3f, %.3f]\n", eps[e],
                      within, lo_all, hi_all);
        TU_CHECK(within >= 90, "eps %g: only %d of 100 trials within the bound", eps[e], within);
    }
    /* the check can fail: with far too few samples the bound breaks */
    int within = 0;
    for (int t = 0; t < 20; ++t) {
        smr_sparsifier sp;
        assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.1, delta, 3 * d, 7 + (uint64_t)t, &sp), SMR_OK);
        gram(f.tp.A, n, d, sp.rows, sp.weights, sp.count, Ht);
        double lo, hi;
        pencil(d, f.H, Ht, &lo, &hi);
        within += lo >= 0.9 && hi <= 1.1;
        smr_sparsifier_free(&sp);
    }
    TU_CHECK(within < 5, "3d samples met eps = 0.1 in %d of 20 trials", within);
    free(Ht);
    unmake(&f);
}

static void test_leverage_scores(void **state)
{
    (void)state;
    fixture f;
    int64_t n = 20000, d = 20;
    make(&f, n, d, true);
    for (int64_t i = 0; i < n; i += 97)
        f.D[i] = 0.0; /* rows that do not count */
    /* exact scores: squared row norms of Q from the QR of diag(sqrt D) A */
    double *M = malloc((size_t)(n * d) * sizeof(double)), *tau = malloc((size_t)d * sizeof(double));
    for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < n; ++i)
            M[i + j * n] = sqrt(f.D[i]) * f.tp.A[i + j * n];
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (int)n, (int)d, M, (int)n, tau), 0);
    assert_int_equal(LAPACKE_dorgqr(LAPACK_COL_MAJOR, (int)n, (int)d, (int)d, M, (int)n, tau), 0);
    double *sc = malloc((size_t)n * sizeof(double));
    assert_int_equal(smr_leverage_scores(&f.tp.p, f.D, 3, sc), SMR_OK);
    double sum = 0, lo = 1e300, hi = 0;
    for (int64_t i = 0; i < n; ++i) {
        double ex = 0;
        for (int64_t j = 0; j < d; ++j)
            ex += M[i + j * n] * M[i + j * n];
        sum += sc[i];
        if (f.D[i] == 0) {
            assert_true(sc[i] == 0.0);
            continue;
        }
        lo = fmin(lo, sc[i] / ex);
        hi = fmax(hi, sc[i] / ex);
    }
    print_message("leverage: sum %.3f (d = %lld), approx/exact in [%.3f, %.3f]\n", sum, (long long)d, lo, hi);
    TU_CHECK(fabs(sum - (double)d) <= 0.25 * (double)d, "sum %g, d %lld", sum, (long long)d);
    TU_CHECK(lo >= 1.0 / 8 && hi <= 4.0, "ratios in [%g, %g]", lo, hi);
    /* deterministic in the seed, different across seeds */
    double *sc2 = malloc((size_t)n * sizeof(double));
    assert_int_equal(smr_leverage_scores(&f.tp.p, f.D, 3, sc2), SMR_OK);
    assert_memory_equal(sc, sc2, (size_t)n * sizeof(double));
    assert_int_equal(smr_leverage_scores(&f.tp.p, f.D, 4, sc2), SMR_OK);
    assert_true(memcmp(sc, sc2, (size_t)n * sizeof(double)) != 0);
    free(sc2);
    free(M);
    free(tau);
    free(sc);
    unmake(&f);
}

/* n <= 8d: exact scores (the sketch would have n rows).  For n <= d a
 * random M of full row rank scores 1 on every row; a repeated row shares
 * its 1 with its twin (1/2 each, their D alike), a row with D = 0 scores 0,
 * and the scores sum to the rank.  For d < n <= 8d, the squared row norms
 * of Q from the test's own QR of diag(sqrt D) A (n - 2 >= d there, so
 * that M keeps full column rank with its twins).  Before the exact path:
 * scores up to 1e26 at n <= 1.2 d, above 1 at n = 2d, and a heap overflow
 * when n + 33 < d.  Both layouts, padded ld, n = 1, d - 1, d, 8d, sizes
 * where the QR and the row norms run in threads, and a dependent column
 * (rank d - 1 for n > d: the reference drops it; the pivoted QR's way,
 * by R's tiny pivot or by Q = M R^{-1}'s trace -- without both tests the
 * fast way's scores are wrong here: 0.168 against 0.149 at n = 120). */
static void check_exact(int64_t n, int64_t d, smr_layout layout, int64_t pad, bool twins,
                        bool dup)
{
    bool row = layout == SMR_ROW_MAJOR;
    int64_t ld = (row ? d : n) + pad;
    double *A = malloc((size_t)(ld * (row ? n : d)) * sizeof(double));
    double *D = malloc((size_t)n * sizeof(double)), *sc = malloc((size_t)n * sizeof(double));
    double *b = calloc((size_t)n, sizeof(double)), *want = malloc((size_t)n * sizeof(double));
    tu_rng r;
    tu_seed(&r, (uint64_t)(n * 13 + d));
    for (int64_t t = 0; t < ld * (row ? n : d); ++t)
        A[t] = tu_normal(&r);
    for (int64_t i = 0; i < n; ++i)
        D[i] = 0.5 + (double)(i % 3);
    if (twins) { /* row n-1 = row n-2 (D alike), row 0 out */
        for (int64_t j = 0; j < d; ++j)
            A[row ? (n - 1) * ld + j : n - 1 + j * ld] = A[row ? (n - 2) * ld + j : n - 2 + j * ld];
        D[n - 1] = D[n - 2];
        D[0] = 0;
    }
    if (dup) /* column d-1 = column 0 + column 1 / 3: rank d - 1 (n > d
              * only), the dependence inexact in floating point */
        for (int64_t i = 0; i < n; ++i)
            A[row ? i * ld + d - 1 : i + (d - 1) * ld] =
                A[row ? i * ld : i] + A[row ? i * ld + 1 : i + ld] / 3.0;
    int64_t dr = dup ? d - 1 : d; /* the reference's columns */
    double rank = (double)(n <= d ? n - (twins ? 2 : 0) : dr);
    if (n <= d) {
        for (int64_t i = 0; i < n; ++i)
            want[i] = !twins ? 1.0 : i == 0 ? 0.0 : i >= n - 2 ? 0.5 : 1.0;
    } else {
        double *M = malloc((size_t)(n * d) * sizeof(double)), *tau = malloc((size_t)d * sizeof(double));
        for (int64_t j = 0; j < dr; ++j)
            for (int64_t i = 0; i < n; ++i)
                M[i + j * n] = sqrt(D[i]) * A[row ? i * ld + j : i + j * ld];
        assert_int_equal(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (int)n, (int)dr, M, (int)n, tau), 0);
        assert_int_equal(LAPACKE_dorgqr(LAPACK_COL_MAJOR, (int)n, (int)dr, (int)dr, M, (int)n, tau), 0);
        for (int64_t i = 0; i < n; ++i) {
            want[i] = 0;
            for (int64_t j = 0; j < dr; ++j)
                want[i] += M[i + j * n] * M[i + j * n];
        }
        free(M);
        free(tau);
    }
    smr_problem p = {.n = n, .d = d, .A = A, .b = b, .layout = layout, .lda = ld};
    for (int64_t i = 0; i < n; ++i)
        sc[i] = NAN;
    assert_int_equal(smr_leverage_scores(&p, D, 7, sc), SMR_OK);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        TU_CHECK(fabs(sc[i] - want[i]) <= 1e-12, "n %lld d %lld row %lld: %.17g, want %.17g",
                 (long long)n, (long long)d, (long long)i, sc[i], want[i]);
        sum += sc[i];
    }
    TU_CHECK(fabs(sum - rank) <= 1e-11, "sum %.17g, rank %g", sum, rank);
    free(A);
    free(D);
    free(sc);
    free(b);
    free(want);
}

static void test_leverage_exact(void **state)
{
    (void)state;
    check_exact(10, 100, SMR_ROW_MAJOR, 0, false, false);
    check_exact(10, 100, SMR_COL_MAJOR, 3, false, false);
    check_exact(1, 5, SMR_ROW_MAJOR, 0, false, false);
    check_exact(49, 50, SMR_COL_MAJOR, 0, false, false);
    check_exact(8, 40, SMR_ROW_MAJOR, 2, true, false);
    check_exact(30, 31, SMR_COL_MAJOR, 0, true, false);
    check_exact(50, 50, SMR_ROW_MAJOR, 0, false, false);
    check_exact(53, 50, SMR_COL_MAJOR, 1, true, false);
    check_exact(100, 50, SMR_ROW_MAJOR, 0, false, false);
    check_exact(400, 50, SMR_COL_MAJOR, 0, true, false);
    /* threads in the QR and the row norms (n d^2 >= 2^22) */
    check_exact(1600, 200, SMR_ROW_MAJOR, 0, false, false);
    check_exact(1003, 150, SMR_COL_MAJOR, 2, true, false);
    /* rank-deficient n > d: the pivoted QR's way (R's zero pivot) */
    check_exact(120, 40, SMR_ROW_MAJOR, 0, false, true);
    check_exact(290, 37, SMR_COL_MAJOR, 1, false, true);
    /* M = 0: all zero */
    double A[12] = {0}, D[3] = {1, 1, 1}, b[3] = {0}, sc[3] = {1, 1, 1};
    smr_problem p = {.n = 3, .d = 4, .A = A, .b = b, .layout = SMR_ROW_MAJOR};
    assert_int_equal(smr_leverage_scores(&p, D, 1, sc), SMR_OK);
    for (int i = 0; i < 3; ++i)
        assert_true(sc[i] == 0.0);
}

/* smr_spz_sample's draws (sorted uniforms walked against the cumulative
 * scores; s < n, else every row is kept exactly): over s = 10^5 draws from
 * n = 200 003 rows in five classes of score 1 ... 5 (i mod 5), each
 * class's draws within 5 sigma of s P(class), and a row's count as
 * dispersed as a binomial's; rows of zero score (every 7th, the first, the
 * last three) never drawn; the weights D_i count_i / (s p_i) with the
 * counts summing to s; the same draws from the same seed.  (A target
 * rounded up to the total, which the walk's stop at the last row of
 * positive score guards against, needs a uniform within 1e-11 of 1: not
 * reached here.) */
static void test_sample_counts(void **state)
{
    (void)state;
    const int64_t n = 200003, s = 100000;
    double *sc = malloc((size_t)n * sizeof(double)), *D = malloc((size_t)n * sizeof(double));
    double total = 0, pc[5] = {0};
    for (int64_t i = 0; i < n; ++i) {
        sc[i] = (i % 7 == 0 || i >= n - 3) ? 0.0 : 1.0 + (double)(i % 5);
        D[i] = 0.5 + (double)(i % 3);
        total += sc[i];
        pc[i % 5] += sc[i];
    }
    smr_spz z;
    assert_int_equal(smr_spz_init(&z, n, 2, s), SMR_OK);
    assert_int_equal(smr_spz_sample(&z, n, D, sc, s, 17), SMR_OK);
    int64_t drawn = 0, cnt[5] = {0};
    int64_t *per = calloc((size_t)n, sizeof(int64_t));
    for (int64_t t = 0; t < z.kept; ++t) {
        int64_t i = z.rows[t];
        TU_CHECK(i >= 0 && i < n && sc[i] > 0, "row %lld drawn (score %g)", (long long)i,
                 i >= 0 && i < n ? sc[i] : NAN);
        double c = z.weights[t] * (double)s * (sc[i] / total) / D[i];
        TU_CHECK(fabs(c - round(c)) <= 1e-6 && llround(c) >= 1, "row %lld: count %.9g", (long long)i, c);
        cnt[i % 5] += (int64_t)llround(c);
        drawn += (int64_t)llround(c);
        per[i] = (int64_t)llround(c);
    }
    assert_int_equal(drawn, s);
    for (int k = 0; k < 5; ++k) {
        double p = pc[k] / total, mean = (double)s * p, sd = sqrt((double)s * p * (1 - p));
        TU_CHECK(fabs((double)cnt[k] - mean) <= 5 * sd, "class %d: %lld draws, expected %.1f +- %.1f", k,
                 (long long)cnt[k], mean, sd);
        /* a row's count is binomial(s, p_i), nearly Poisson: variance /
         * mean over the class's ~34 000 rows near 1 (sd of the ratio
         * ~0.01); evenly spaced draws (no exponential spacings) gave
         * 0.81 */
        double m1 = 0, m2 = 0, rows_k = 0;
        for (int64_t i = k; i < n; i += 5)
            if (sc[i] > 0) {
                m1 += (double)per[i];
                m2 += (double)per[i] * (double)per[i];
                rows_k += 1;
            }
        m1 /= rows_k;
        double disp = (m2 / rows_k - m1 * m1) / m1;
        TU_CHECK(disp > 0.9 && disp < 1.1, "class %d: variance / mean of a row's count %.3f", k, disp);
    }
    free(per);
    /* the same seed, the same draws; another seed, others */
    int64_t kept = z.kept;
    int64_t *rows = malloc((size_t)kept * sizeof(int64_t));
    double *w = malloc((size_t)kept * sizeof(double));
    memcpy(rows, z.rows, (size_t)kept * sizeof(int64_t));
    memcpy(w, z.weights, (size_t)kept * sizeof(double));
    assert_int_equal(smr_spz_sample(&z, n, D, sc, s, 17), SMR_OK);
    assert_int_equal(z.kept, kept);
    assert_memory_equal(z.rows, rows, (size_t)kept * sizeof(int64_t));
    assert_memory_equal(z.weights, w, (size_t)kept * sizeof(double));
    assert_int_equal(smr_spz_sample(&z, n, D, sc, s, 18), SMR_OK);
    assert_true(z.kept != kept || memcmp(z.rows, rows, (size_t)kept * sizeof(int64_t)) != 0);
    free(rows);
    free(w);
    free(sc);
    free(D);
    smr_spz_free(&z);
}

static void test_rule_exact_path_and_bad_input(void **state)
{
    (void)state;
    assert_int_equal(smr_sparsify_sample_size(10, 0.5, 0.1), (int64_t)ceil(4.0 * 10 * log(200.0) / 0.25));
    assert_true(smr_sparsify_sample_size(10, 0.25, 0.1) > smr_sparsify_sample_size(10, 0.5, 0.1));
    assert_true(smr_sparsify_sample_size(10, 0.5, 0.01) > smr_sparsify_sample_size(10, 0.5, 0.1));
    assert_int_equal(smr_sparsify_sample_size(10, 0.0, 0.1), -1);
    assert_int_equal(smr_sparsify_sample_size(10, 0.5, 1.0), -1);
    assert_int_equal(smr_sparsify_sample_size(0, 0.5, 0.1), -1);
    fixture f;
    int64_t n = 300, d = 4;
    make(&f, n, d, false);
    f.D[5] = 0;
    /* s >= n: every row with D != 0, exact weights */
    smr_sparsifier sp;
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.1, 0.1, 0, 1, &sp), SMR_OK);
    assert_int_equal(sp.count, n - 1);
    assert_int_equal(sp.samples, n);
    for (int64_t t = 0, i = 0; t < sp.count; ++t, ++i) {
        if (i == 5)
            ++i;
        assert_int_equal(sp.rows[t], i);
        assert_true(sp.weights[t] == f.D[i]);
    }
    smr_sparsifier_free(&sp);
    assert_null(sp.rows);
    /* the override, and determinism */
    smr_sparsifier s1, s2;
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, 50, 9, &s1), SMR_OK);
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, 50, 9, &s2), SMR_OK);
    assert_int_equal(s1.samples, 50);
    assert_int_equal(s1.count, s2.count);
    assert_memory_equal(s1.rows, s2.rows, (size_t)s1.count * sizeof(int64_t));
    assert_memory_equal(s1.weights, s2.weights, (size_t)s1.count * sizeof(double));
    smr_sparsifier_free(&s1);
    smr_sparsifier_free(&s2);
    /* bad input: own code, output untouched */
    smr_sparsifier keep = {.count = 77};
    f.D[3] = -1;
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, 0, 1, &keep), SMR_ERR_BAD_ARGUMENT);
    f.D[3] = NAN;
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, 0, 1, &keep), SMR_ERR_NONFINITE_X);
    f.D[3] = 1;
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 1.5, 0.1, 0, 1, &keep), SMR_ERR_BAD_ARGUMENT);
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, -2, 1, &keep), SMR_ERR_BAD_ARGUMENT);
    assert_int_equal(smr_sparsify(&f.tp.p, NULL, 0.5, 0.1, 0, 1, &keep), SMR_ERR_NULL_POINTER);
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, 0, 1, NULL), SMR_ERR_NULL_POINTER);
    f.tp.A[17] = INFINITY;
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, 0, 1, &keep), SMR_ERR_NONFINITE_A);
    double sc[300];
    assert_int_equal(smr_leverage_scores(&f.tp.p, f.D, 1, sc), SMR_ERR_NONFINITE_A);
    f.tp.p.lda = 2;
    assert_int_equal(smr_sparsify(&f.tp.p, f.D, 0.5, 0.1, 0, 1, &keep), SMR_ERR_BAD_LD);
    assert_int_equal(keep.count, 77);
    unmake(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spectral_bound_100_trials),
        cmocka_unit_test(test_leverage_scores),
        cmocka_unit_test(test_leverage_exact),
        cmocka_unit_test(test_sample_counts),
        cmocka_unit_test(test_rule_exact_path_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
