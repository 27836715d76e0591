/*
 * test_sketch_kernels.c -- the two passes over A behind the leverage
 * scores (kernels/sketch.c, kernels/rownorms.c): the squared row norms of
 * A W against a long-double reference, for both layouts, ragged n (rows
 * past the last vector and row group), several groups of directions, d on
 * both sides of the column-major chunk limit, ld > the minimum; and both
 * kernels' bits at 1, 2 and 3 threads; and the sketch's R by TSQR
 * (kernels/qr.c) against LAPACK's, its bits at 1, 2 and 3 threads.  Each
 * suite runs at every SIMD level (tests/CMakeLists.txt).
 */
#include "testutil.h"
#include "kernels/kernels.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t n, d, ld;
    bool row_major;
    double *a;
    smr_mat m;
} mat;

static void mat_make(mat *M, int64_t n, int64_t d, bool row_major, int64_t pad,
                     uint64_t seed)
{
    M->n = n;
    M->d = d;
    M->row_major = row_major;
    M->ld = (row_major ? d : n) + pad;
    int64_t len = M->ld * (row_major ? n : d);
    M->a = malloc((size_t)len * sizeof(double));
    tu_rng r;
    tu_seed(&r, seed);
    for (int64_t t = 0; t < len; ++t)
        M->a[t] = tu_normal(&r);
    M->m = (smr_mat){.n = n, .d = d, .ld = M->ld, .row_major = row_major, .a = M->a};
}

static double at(const mat *M, int64_t i, int64_t j)
{
    return M->row_major ? M->a[i * M->ld + j] : M->a[i + j * M->ld];
}

static void check_rownorms(int64_t n, int64_t d, int64_t k, bool row_major, int64_t pad)
{
    int64_t kp = smr_k_padded(k);
    mat M;
    mat_make(&M, n, d, row_major, pad, (uint64_t)(n * 31 + d * 7 + k));
    double *Wr = malloc((size_t)(d * kp) * sizeof(double));
    tu_rng r;
    tu_seed(&r, (uint64_t)(d + 3 * k));
    for (int64_t j = 0; j < d; ++j)
        for (int64_t c = 0; c < kp; ++c)
            Wr[j * kp + c] = c < k ? tu_normal(&r) : 0.0;
    double *out[3];
    const int counts[3] = {1, 2, 3};
    for (int t = 0; t < 3; ++t) {
        out[t] = malloc((size_t)n * sizeof(double));
        int old = smr_k_set_threads(counts[t]);
        smr_k_rownorms2(&M.m, Wr, kp, out[t]);
        smr_k_set_threads(old);
    }
    /* reference in long double; the bound is relative to the sum of
     * |terms|, which no summation order can beat by much */
    for (int64_t i = 0; i < n; ++i) {
        long double s = 0, sabs = 0;
        for (int64_t c = 0; c < k; ++c) {
            long double p = 0, pa = 0;
            for (int64_t j = 0; j < d; ++j) {
                p += (long double)at(&M, i, j) * Wr[j * kp + c];
                pa += fabsl((long double)at(&M, i, j) * Wr[j * kp + c]);
            }
            s += p * p;
            sabs += pa * pa;
        }
        double err = fabs(out[0][i] - (double)s);
        if (!(err <= 1e-14 * (double)sabs * (double)(d + k)))
            fail_msg("n %lld d %lld k %lld %s row %lld: %.17g against %.17Lg",
                     (long long)n, (long long)d, (long long)k,
                     row_major ? "row" : "col", (long long)i, out[0][i], s);
    }
    /* the same bits at every thread count */
    assert_memory_equal(out[0], out[1], (size_t)n * sizeof(double));
    assert_memory_equal(out[0], out[2], (size_t)n * sizeof(double));
    for (int t = 0; t < 3; ++t)
        free(out[t]);
    free(Wr);
    free(M.a);
}

static void test_rownorms(void **state)
{
    (void)state;
    /* n, d, k: one row; rows past a vector and a row group; k over one
     * group (24: a group of 16 and one of 8 at AVX-512, three of 8 at
     * AVX2) and not a multiple of 8; d past the column-major chunk limit
     * (300) so both column-major paths run; blocks of 64 rows and more */
    const int64_t cfg[][3] = {{1, 1, 1},     {7, 3, 16},    {67, 5, 16},
                              {301, 17, 24}, {1029, 300, 16}, {2053, 40, 33},
                              {4099, 2, 8},  {515, 257, 3}};
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; ++c)
        for (int lay = 0; lay < 2; ++lay)
            for (int64_t pad = 0; pad <= 3; pad += 3)
                check_rownorms(cfg[c][0], cfg[c][1], cfg[c][2], lay == 0, pad);
}

/* CountSketch: each row lands in one bucket in [0, m) with sign +-scale,
 * SM is the sum of its rows (against a plain loop); at 1, 2, 3 threads, and
 * with too little scratch (one thread then): a pure function of the seed
 * and the threads, and where threads own columns (column-major; row-major
 * with m d > part_max) the same bits at any thread count */
static void check_countsketch(int64_t n, int64_t d, int64_t m, bool row_major, int64_t pad,
                              int64_t part_max)
{
    mat M;
    mat_make(&M, n, d, row_major, pad, (uint64_t)(n + d));
    double *scale = malloc((size_t)n * sizeof(double));
    tu_rng r;
    tu_seed(&r, 9);
    for (int64_t i = 0; i < n; ++i)
        scale[i] = i % 7 == 3 ? 0.0 : tu_uniform(&r) + 0.1;
    int64_t *bucket = malloc((size_t)n * sizeof(int64_t));
    double *sg = malloc((size_t)n * sizeof(double));
    double *SM[4], *ref = calloc((size_t)(m * d), sizeof(double));
    double *again = malloc((size_t)(m * d) * sizeof(double));
    const int counts[4] = {1, 2, 3, 3};
    for (int t = 0; t < 4; ++t) {
        SM[t] = malloc((size_t)(m * d) * sizeof(double));
        for (int64_t q = 0; q < m * d; ++q)
            SM[t][q] = NAN; /* every entry must be written */
        int old = smr_k_set_threads(counts[t]);
        int64_t nw = smr_k_countsketch_work(&M.m, m, part_max);
        assert_true(nw >= 0 && nw < counts[t] * m * d);
        if (!row_major)
            assert_int_equal(nw, 0);
        if (t == 3 && nw > 0)
            nw -= 1; /* too little scratch: one thread */
        double *work = nw ? malloc((size_t)nw * sizeof(double)) : NULL;
        for (int rep = 0; rep < 2; ++rep)
            smr_k_countsketch(&M.m, scale, 42, m, part_max, bucket, sg, rep ? again : SM[t],
                              work, nw);
        assert_memory_equal(SM[t], again, (size_t)(m * d) * sizeof(double));
        free(work);
        smr_k_set_threads(old);
    }
    for (int64_t i = 0; i < n; ++i) {
        assert_true(bucket[i] >= 0 && bucket[i] < m);
        assert_true(fabs(sg[i]) == scale[i]);
        if (sg[i] == 0.0)
            continue;
        for (int64_t j = 0; j < d; ++j) {
            double *dst = row_major ? ref + bucket[i] * d + j : ref + bucket[i] + j * m;
            *dst += sg[i] * at(&M, i, j);
        }
    }
    for (int t = 0; t < 4; ++t)
        for (int64_t q = 0; q < m * d; ++q)
            if (!(fabs(SM[t][q] - ref[q]) <= 1e-13 * (1.0 + fabs(ref[q]))))
                fail_msg("n %lld d %lld m %lld (%s, run %d) entry %lld: %.17g against %.17g",
                         (long long)n, (long long)d, (long long)m,
                         row_major ? "row" : "col", t, (long long)q, SM[t][q], ref[q]);
    /* too little scratch: the one-thread sketch */
    assert_memory_equal(SM[0], SM[3], (size_t)(m * d) * sizeof(double));
    if (!row_major || (double)m * (double)d > (double)part_max)
        for (int t = 1; t < 3; ++t)
            assert_memory_equal(SM[0], SM[t], (size_t)(m * d) * sizeof(double));
    /* another seed, another sketch */
    smr_k_countsketch(&M.m, scale, 43, m, part_max, bucket, sg, SM[1], NULL, 0);
    assert_true(memcmp(SM[0], SM[1], (size_t)(m * d) * sizeof(double)) != 0);
    for (int t = 0; t < 4; ++t)
        free(SM[t]);
    free(again);
    free(ref);
    free(sg);
    free(bucket);
    free(scale);
    free(M.a);
}

static void test_countsketch(void **state)
{
    (void)state;
    /* n d above the one-thread limit (2^20) in the last three, so threads
     * run; each row-major case with the library's limit on partial sketches
     * (split by rows here) and with a limit of 256 doubles (split by
     * columns: {200000, 9} has two groups of 8 columns for three threads) */
    const int64_t cfg[][3] = {{1, 1, 1},         {50, 3, 24},       {3000, 9, 72},
                              {70001, 16, 128},  {5003, 260, 2080}, {200000, 9, 60000}};
    const int64_t caps[2] = {SMR_SKETCH_PART_MAX, 256};
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; ++c)
        for (int lay = 0; lay < 2; ++lay)
            for (int k = 0; k < 2; ++k)
                check_countsketch(cfg[c][0], cfg[c][1], cfg[c][2], lay == 0, lay ? 2 : 1,
                                  caps[k]);
}

/* smr_k_qr_r: R upper with a non-negative diagonal and zeros below it, in
 * SM's layout; against LAPACK's dgeqrf of the whole SM (rows' signs made
 * the same) within 1e-13 of |SM|, R^T R = SM^T SM; the same bits at 1, 2
 * and 3 threads; m not a multiple of the parts, P = 1, 2, 3 (a tree with
 * an odd block) and 4; a zero column (rank-deficient: R is not unique
 * there, so only R^T R = SM^T SM and R's zero column are checked); too
 * little work and m < d refused. */
static void check_qr(int64_t m, int64_t d, bool row_major, int64_t pad, bool zero_col)
{
    int64_t ld = (row_major ? d : m) + pad, len = ld * (row_major ? m : d);
    double *S0 = malloc((size_t)len * sizeof(double));
    tu_rng r;
    tu_seed(&r, (uint64_t)(m * 7 + d));
    for (int64_t t = 0; t < len; ++t)
        S0[t] = tu_normal(&r);
#define AT(S, i, j) (S)[row_major ? (i) * ld + (j) : (i) + (j) * ld]
    if (zero_col)
        for (int64_t i = 0; i < m; ++i)
            AT(S0, i, d / 2) = 0.0;
    /* reference: dgeqrf of a column-major copy */
    double *ref = malloc((size_t)(m * d) * sizeof(double)), *tau = malloc((size_t)d * sizeof(double));
    double norm = 0;
    for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < m; ++i) {
            ref[i + j * m] = AT(S0, i, j);
            norm = fmax(norm, fabs(ref[i + j * m]));
        }
    norm *= sqrt((double)m);
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (int)m, (int)d, ref, (int)m, tau), 0);
    int64_t nwork = smr_k_qr_work(row_major, m, d);
    double *work = malloc((size_t)nwork * sizeof(double)), *S[3];
    const int counts[3] = {1, 2, 3};
    for (int t = 0; t < 3; ++t) {
        S[t] = malloc((size_t)len * sizeof(double));
        memcpy(S[t], S0, (size_t)len * sizeof(double));
        int old = smr_k_set_threads(counts[t]);
        assert_int_equal(smr_k_qr_r(row_major, m, d, S[t], ld, work, nwork), 0);
        smr_k_set_threads(old);
    }
    double err = 0, gram = 0;
    for (int64_t i = 0; i < d; ++i) {
        double sg = ref[i + i * m] < 0 ? -1.0 : 1.0;
        TU_CHECK(AT(S[0], i, i) >= 0, "m %lld d %lld: R[%lld][%lld] = %g", (long long)m,
                 (long long)d, (long long)i, (long long)i, AT(S[0], i, i));
        for (int64_t j = 0; j < d; ++j) {
            double want = j >= i ? sg * ref[i + j * m] : 0.0;
            if (j < i || (zero_col && j == d / 2))
                TU_CHECK(AT(S[0], i, j) == 0.0, "R[%lld][%lld] = %g", (long long)i, (long long)j,
                         AT(S[0], i, j));
            if (!zero_col) /* R is unique only where SM has full rank */
                err = fmax(err, fabs(AT(S[0], i, j) - want));
            /* (R^T R)_ij against (SM^T SM)_ij */
            double g = 0, h = 0;
            for (int64_t q = 0; q <= (i < j ? i : j); ++q)
                g += AT(S[0], q, i) * AT(S[0], q, j);
            for (int64_t q = 0; q < m; ++q)
                h += AT(S0, q, i) * AT(S0, q, j);
            gram = fmax(gram, fabs(g - h));
        }
    }
    TU_CHECK(err <= 1e-13 * norm, "m %lld d %lld %s: |R - R_lapack| %.3g, |SM| %.3g", (long long)m,
             (long long)d, row_major ? "row" : "col", err, norm);
    TU_CHECK(gram <= 1e-13 * norm * norm, "m %lld d %lld: |R^T R - SM^T SM| %.3g", (long long)m,
             (long long)d, gram);
    for (int t = 1; t < 3; ++t)
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j = i; j < d; ++j)
                TU_CHECK(AT(S[t], i, j) == AT(S[0], i, j), "%d threads: R[%lld][%lld] differs",
                         counts[t], (long long)i, (long long)j);
#undef AT
    assert_int_equal(smr_k_qr_r(row_major, m, d, S[0], ld, work, nwork - 1), -1);
    for (int t = 0; t < 3; ++t)
        free(S[t]);
    free(work);
    free(ref);
    free(tau);
    free(S0);
}

static void test_qr(void **state)
{
    (void)state;
    /* {m, d}: parts 4 (m = 8d, 8d + 3, and m d^2 above the one-thread
     * limit at d = 100), 3 (7d), 2 (5d), 1 (2d - 1, d) */
    const int64_t cfg[][2] = {{8, 1},   {24, 3},   {139, 17}, {800, 100},
                              {350, 50}, {165, 33}, {39, 20},  {12, 12}};
    assert_int_equal(smr_k_qr_parts(800, 100), 4);
    assert_int_equal(smr_k_qr_parts(350, 50), 3);
    assert_int_equal(smr_k_qr_parts(165, 33), 2);
    assert_int_equal(smr_k_qr_parts(39, 20), 1);
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; ++c)
        for (int lay = 0; lay < 2; ++lay)
            check_qr(cfg[c][0], cfg[c][1], lay == 0, lay ? 3 : 1, false);
    check_qr(800, 100, true, 0, true);
    check_qr(350, 50, false, 0, true);
    double one = 1, w[64];
    assert_int_equal(smr_k_qr_r(true, 1, 2, &one, 2, w, 64), -1); /* m < d */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rownorms),
        cmocka_unit_test(test_countsketch),
        cmocka_unit_test(test_qr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
