/* test_kernels.c -- the vector-kernel layer: stable softmax, reductions,
 * finiteness scans, against long-double references. */
#include "testutil.h"
#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static void ref_softmax(int64_t n, const double *z, long double *f)
{
    long double m = z[0], s = 0;
    for (int64_t i = 1; i < n; ++i)
        m = z[i] > m ? z[i] : m;
    for (int64_t i = 0; i < n; ++i)
        s += (f[i] = expl((long double)z[i] - m));
    for (int64_t i = 0; i < n; ++i)
        f[i] /= s;
}

static void test_softmax_extreme(void **state)
{
    (void)state;
    const double scales[] = {1.0, 1e3, 1e4, 1e8, 1e150, 1e300};
    tu_rng r;
    tu_seed(&r, 11);
    for (size_t k = 0; k < sizeof scales / sizeof *scales; ++k)
        for (int64_t n = 1; n <= 1000; n = n * 3 + 1) {
            double *z = malloc((size_t)n * sizeof(double));
            double *f = malloc((size_t)n * sizeof(double));
            long double *fr = malloc((size_t)n * sizeof(long double));
            for (int64_t i = 0; i < n; ++i)
                z[i] = scales[k] * (2 * tu_uniform(&r) - 1);
            if (n > 2)
                z[1] = z[0]; /* ties */
            double lse, alpha = smr_k_softmax(n, z, f, &lse);
            ref_softmax(n, z, fr);
            TU_CHECK(alpha >= 1.0 && alpha <= (double)n, "alpha %g", alpha);
            /* log-sum-exp: max z + log alpha, within rounding of its size */
            double zm = smr_k_max(n, z);
            TU_NEAR(lse, zm + log(alpha), 4 * DBL_EPSILON * (fabs(zm) + log(alpha)) + 1e-300);
            TU_CHECK(lse >= zm && lse <= zm + log((double)n) * (1 + 1e-15), "lse %g, max %g", lse, zm);
            double sum = 0;
            for (int64_t i = 0; i < n; ++i) {
                TU_CHECK(isfinite(f[i]) && f[i] >= 0, "f[%lld] = %g", (long long)i, f[i]);
                /* exp is conditioned by its argument: rounding z_i - m
                 * (exact in the reference) costs |z_i - m| ulps */
                double cond = 4.0 + fabs(z[i] - smr_k_max(n, z));
                TU_NEAR(f[i], (double)fr[i], cond * DBL_EPSILON * (double)fr[i] + 1e-300);
                sum += f[i];
            }
            TU_NEAR(sum, 1.0, 1e-13);
            /* in place */
            smr_k_softmax(n, z, z, NULL);
            for (int64_t i = 0; i < n; ++i)
                assert_true(z[i] == f[i]);
            free(z);
            free(f);
            free(fr);
        }
}

/* The vector exp: < 1 ulp (vector paths) or libm's accuracy, against expl,
 * over the whole range where the result is normal; gradual underflow and
 * the special values like libm.  A wrong polynomial coefficient, a wrong
 * ln 2 split or a wrong 2^k scaling each fail the ulp bound. */
static double ulps(double got, long double want)
{
    double w = (double)want;
    double ulp = nextafter(fabs(w), INFINITY) - fabs(w);
    return (double)(fabsl((long double)got - want) / (long double)ulp);
}

static void test_exp_vector(void **state)
{
    (void)state;
    enum { N = 200003 }; /* odd: exercises the loops' remainders */
    double *z = malloc(N * sizeof(double)), *e = malloc(N * sizeof(double));
    assert_non_null(z);
    assert_non_null(e);
    uint64_t s = 12345;
    for (int i = 0; i < N; ++i) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        z[i] = -708.0 + 1417.0 * (double)(s >> 11) / 9007199254740992.0;
    }
    for (int i = 0; i < 1000; ++i) /* many small arguments, as in softmax */
        z[i] = -1.0 + 2e-3 * i;
    z[1000] = 0.0;
    double shift = 0.5;
    smr_k_exp_shift(N, z, shift, e);
    double worst = 0.0;
    for (int i = 0; i < N; ++i) {
        double x = z[i] - shift;
        double u = ulps(e[i], expl((long double)x));
        worst = u > worst ? u : worst;
    }
    print_message("exp path %d, max error %.3f ulp over [-708, 709]\n",
                  smr_k_simd_level(), worst);
    assert_true(worst < (smr_k_simd_level() ? 1.5 : 2.0));
    assert_true(e[1000] == exp(-0.5));

    /* specials and the subnormal range, in place (out aliases z) */
    double sp[] = {NAN, -INFINITY, INFINITY, 710.0, 709.7, -745.2, -744.0,
                   -720.0, -1e300, 1e300, -0.0, 5e-324};
    int m = (int)(sizeof sp / sizeof sp[0]);
    double out[sizeof sp / sizeof sp[0]];
    smr_k_exp_shift(m, sp, 0.0, out);
    assert_true(isnan(out[0]));
    assert_true(out[1] == 0.0);
    assert_true(isinf(out[2]) && out[2] > 0);
    assert_true(isinf(out[3]));
    assert_true(ulps(out[4], expl((long double)sp[4])) < 2.0);
    assert_true(out[5] == 0.0);                       /* below half the least subnormal */
    for (int i = 6; i <= 7; ++i) {                    /* subnormal results */
        double want = (double)expl((long double)sp[i]);
        assert_true(fabs(out[i] - want) <= 4.9406564584124654e-324);
        assert_true(out[i] > 0.0);
    }
    assert_true(out[8] == 0.0);
    assert_true(isinf(out[9]));
    assert_true(out[10] == 1.0 && out[11] == 1.0);
    smr_k_exp_shift(m, sp, 0.0, sp);                  /* aliasing */
    for (int i = 0; i < m; ++i)
        assert_memory_equal(&sp[i], &out[i], sizeof(double));
    free(z);
    free(e);
}

static void test_sums(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 12);
    int64_t n = 100003;
    double *v = malloc((size_t)n * sizeof(double));
    long double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) {
        v[i] = tu_uniform(&r) * 1e-3 + 1.0;
        s += v[i];
        s2 += (long double)v[i] * v[i];
    }
    TU_NEAR(smr_k_sum(n, v), (double)s, 1e-14 * (double)s);
    TU_NEAR(smr_k_sumsq(n, v), (double)s2, 1e-14 * (double)s2);
    double mx = v[0];
    for (int64_t i = 1; i < n; ++i)
        mx = v[i] > mx ? v[i] : mx;
    assert_true(smr_k_max(n, v) == mx);
    v[n / 2] = 5.0;
    assert_true(smr_k_max(n, v) == 5.0);
    free(v);
}

static void test_all_finite(void **state)
{
    (void)state;
    const double bad[] = {NAN, INFINITY, -INFINITY};
    double v[37];
    for (int64_t n = 1; n <= 37; ++n)
        for (int64_t pos = 0; pos < n; ++pos)
            for (int k = 0; k < 3; ++k) {
                for (int64_t i = 0; i < n; ++i)
                    v[i] = DBL_MAX * (i % 2 ? -1 : 1);
                assert_true(smr_k_all_finite(n, v));
                v[pos] = bad[k];
                assert_false(smr_k_all_finite(n, v));
            }
    /* matrix scan reads the n x d block, never the padding */
    double a[5 * 4];
    for (int k = 0; k < 20; ++k)
        a[k] = (k % 5 < 3) ? 1.0 : NAN; /* col-major 3 x 4, ld 5 */
    smr_mat m = {.n = 3, .d = 4, .ld = 5, .row_major = false, .a = a};
    assert_true(smr_k_mat_all_finite(&m));
    a[5 * 3 + 2] = INFINITY;
    assert_false(smr_k_mat_all_finite(&m));
    smr_mat rm = {.n = 4, .d = 3, .ld = 5, .row_major = true, .a = a};
    a[5 * 3 + 2] = 1.0;
    assert_true(smr_k_mat_all_finite(&rm));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_extreme),
        cmocka_unit_test(test_exp_vector),
        cmocka_unit_test(test_sums),
        cmocka_unit_test(test_all_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
