/*
 * test_evaluator.c -- the public reusable evaluator (smr_evaluator_*,
 * src/objective/evaluator.c): its loss and gradient against the long-double
 * reference along chains of points (the first call without a shift, the
 * later ones in the lean one pass), on the kernel paths of both layouts and
 * the two-pass path of wide column-major A; bad input refused with the
 * outputs untouched; the evaluator borrows the caller's data and leaves it
 * as it was.
 */
#include "testutil.h"
#include "objective/objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* relative errors of (L, g) against the long-double reference */
static void rel_errs(const smr_problem *p, const double *x, double L,
                     const double *g, double *el, double *eg)
{
    long double *gr = malloc((size_t)p->d * sizeof(long double));
    long double Lr = tu_ref_loss_grad(p, x, gr, NULL), num = 0, den = 0;
    for (int64_t j = 0; j < p->d; ++j) {
        num += ((long double)g[j] - gr[j]) * ((long double)g[j] - gr[j]);
        den += gr[j] * gr[j];
    }
    *el = (double)(fabsl((long double)L - Lr) / Lr);
    *eg = (double)sqrtl(num / den);
    free(gr);
}

static void test_chain_accuracy(void **state)
{
    (void)state;
    typedef struct { int64_t n, d; smr_layout lay; bool w; double lambda; } cfg;
    const cfg cs[] = {
        {20000, 16, SMR_ROW_MAJOR, false, 0.0},  /* short-row groups      */
        {5000, 37, SMR_ROW_MAJOR, true, 0.01},   /* panels, w, ridge      */
        {20000, 12, SMR_COL_MAJOR, true, 0.0},   /* column-major chunks   */
        {150, SMR_FUSED_COL_MAX_D + 100, SMR_COL_MAJOR, false, 0.0},
                                                 /* above the column cap:
                                                    two passes            */
        {300, 1100, SMR_COL_MAJOR, false, 0.0},  /* wide column-major
                                                    rows, one pass        */
    };
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; ++c) {
        tu_spec spec = {.n = cs[c].n, .d = cs[c].d, .layout = cs[c].lay,
                        .with_w = cs[c].w, .w_scale = 0.2, .lambda = cs[c].lambda,
                        .a_scale = 1.0, .seed = 700 + c};
        tu_problem tp;
        tu_problem_make(&tp, &spec);
        int64_t d = spec.d;
        size_t abytes = tp.a_len * sizeof(double);
        double *A0 = malloc(abytes);
        memcpy(A0, tp.A, abytes);
        smr_evaluator *ev = NULL;
        assert_int_equal(smr_evaluator_new(&tp.p, &ev), SMR_OK);
        assert_non_null(ev);
        double *x = calloc((size_t)d, sizeof(double));
        double *g = malloc((size_t)d * sizeof(double));
        tu_rng r;
        tu_seed(&r, 3 + c);
        double worst_l = 0, worst_g = 0;
        for (int it = 0; it < 12; ++it) {
            /* steps of shrinking length, as an optimizer takes them */
            double step = (it < 4 ? 0.3 : it < 8 ? 1e-2 : 1e-4) / sqrt((double)d);
            for (int64_t j = 0; j < d; ++j)
                x[j] += step * tu_normal(&r);
            double L = NAN;
            assert_int_equal(smr_evaluator_loss_gradient(ev, x, &L, g), SMR_OK);
            double el, eg;
            rel_errs(&tp.p, x, L, g, &el, &eg);
            worst_l = fmax(worst_l, el);
            worst_g = fmax(worst_g, eg);
        }
        print_message("cfg %zu: max rel err L %.2e g %.2e\n", c, worst_l, worst_g);
        TU_CHECK(worst_l <= 1e-12 && worst_g <= 1e-12, "cfg %zu: L %.3g g %.3g", c,
                 worst_l, worst_g);
        assert_memory_equal(tp.A, A0, abytes); /* borrowed, left intact */
        smr_evaluator_free(ev);
        free(A0);
        free(x);
        free(g);
        tu_problem_free(&tp);
    }
}

/* Bad input: NULL pointers, a bad problem and a non-finite A refused at
 * creation with *ev untouched; NULL or non-finite arguments and an
 * overflowing logit refused per call with the outputs untouched, and the
 * evaluator still right afterwards. */
static void test_bad_input(void **state)
{
    (void)state;
    tu_spec spec = {.n = 500, .d = 6, .a_scale = 1.0, .seed = 9};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    smr_evaluator *ev = (smr_evaluator *)&spec; /* must stay untouched */
    smr_evaluator *keep = ev;
    assert_int_equal(smr_evaluator_new(NULL, &ev), SMR_ERR_NULL_POINTER);
    assert_int_equal(smr_evaluator_new(&tp.p, NULL), SMR_ERR_NULL_POINTER);
    smr_problem bad = tp.p;
    bad.n = 0;
    assert_int_equal(smr_evaluator_new(&bad, &ev), SMR_ERR_BAD_SIZE);
    double keepA = tp.A[7];
    tp.A[7] = NAN; /* A is checked at creation */
    assert_int_equal(smr_evaluator_new(&tp.p, &ev), SMR_ERR_NONFINITE_A);
    tp.A[7] = keepA;
    assert_ptr_equal(ev, keep);
    assert_int_equal(smr_evaluator_new(&tp.p, &ev), SMR_OK);
    double x[6] = {0.1, -0.2, 0.3, 0.0, 0.5, -0.1}, g[6], L = 42.0;
    for (int j = 0; j < 6; ++j)
        g[j] = 7.0;
    assert_int_equal(smr_evaluator_loss_gradient(NULL, x, &L, g), SMR_ERR_NULL_POINTER);
    assert_int_equal(smr_evaluator_loss_gradient(ev, NULL, &L, g), SMR_ERR_NULL_POINTER);
    assert_int_equal(smr_evaluator_loss_gradient(ev, x, NULL, g), SMR_ERR_NULL_POINTER);
    assert_int_equal(smr_evaluator_loss_gradient(ev, x, &L, NULL), SMR_ERR_NULL_POINTER);
    x[2] = INFINITY;
    assert_int_equal(smr_evaluator_loss_gradient(ev, x, &L, g), SMR_ERR_NONFINITE_X);
    x[2] = NAN;
    assert_int_equal(smr_evaluator_loss_gradient(ev, x, &L, g), SMR_ERR_NONFINITE_X);
    assert_true(L == 42.0);
    for (int j = 0; j < 6; ++j)
        assert_true(g[j] == 7.0);
    /* a logit beyond the double range: reported, outputs untouched */
    x[2] = 1e308;
    assert_int_equal(smr_evaluator_loss_gradient(ev, x, &L, g), SMR_ERR_OVERFLOW);
    assert_true(L == 42.0);
    for (int j = 0; j < 6; ++j)
        assert_true(g[j] == 7.0);
    /* and it goes on working at a good point afterwards */
    x[2] = 0.3;
    assert_int_equal(smr_evaluator_loss_gradient(ev, x, &L, g), SMR_OK);
    double Lp, gp[6];
    assert_int_equal(smr_loss_gradient(&tp.p, x, &Lp, gp), SMR_OK);
    assert_true(fabs(L - Lp) <= 1e-13 * Lp);
    smr_evaluator_free(ev);
    smr_evaluator_free(NULL);
    tu_problem_free(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_accuracy),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
