/*
 * test_forward.c -- the forward pass (src/objective/forward.c): z = Ax,
 * f = softmax(z), <f, f - b> and the loss, in blocks with a shift each;
 * and the gradient pass after it (src/objective/gradient.c: row-major A
 * through the one-pass kernel's update, fused_rows.c).
 * Against the long-double reference at random points and where the
 * blocks' largest logits lie thousands apart; the logits bit for bit
 * those of the one-pass kernel (both layouts); the same bits at any thread count, at
 * any offset of A, in a workspace bound to a smaller problem of the other
 * layout, and at x = 0 whether A is read or not; NaN or Inf in A reported
 * wherever it is.
 */
#include "testutil.h"
#include "objective/objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int64_t n, d; smr_layout lay; bool w; double lambda; int64_t pad; int off; } cfg;

/* the kernel paths of fused_rows.c's z-only mode (short-row groups, the
 * masked cut, panels, the shifted cut, wide rows) and column-major A,
 * over several blocks and with partial last blocks */
static const cfg cfgs[] = {
    {20003, 10, SMR_ROW_MAJOR, false, 0.0, 0, 0},   /* masked groups, blocks */
    {20003, 16, SMR_ROW_MAJOR, false, 0.05, 0, 2},  /* groups of 2 strips */
    {5001, 8, SMR_ROW_MAJOR, true, 0.0, 3, 0},      /* ld 11, w */
    {640, 5, SMR_ROW_MAJOR, false, 0.0, 0, 2},      /* whole groups */
    {1001, 3, SMR_ROW_MAJOR, false, 0.0, 0, 1},     /* the plain cut */
    {3001, 20, SMR_ROW_MAJOR, true, 0.0, 1, 4},     /* shifted cut, w */
    {2001, 100, SMR_ROW_MAJOR, false, 0.0, 3, 5},   /* NaN padding */
    {1003, 264, SMR_ROW_MAJOR, true, 0.02, 0, 0},   /* wide rows */
    {50, 7, SMR_ROW_MAJOR, false, 0.0, 0, 0},       /* one block */
    {20003, 10, SMR_COL_MAJOR, true, 0.0, 3, 0},    /* blocks of 4096 */
    {3000, 300, SMR_COL_MAJOR, false, 0.05, 0, 0},
    {5, 3, SMR_COL_MAJOR, false, 0.0, 3, 4},
    {4099, 100, SMR_COL_MAJOR, false, 0.0, 0, 3},   /* 128-row chunks, head */
    {997, 40, SMR_COL_MAJOR, true, 0.0, 0, 6},      /* short chunks, w, head */
};

static tu_problem make(const cfg *k, uint64_t seed)
{
    tu_spec spec = {.n = k->n, .d = k->d, .layout = k->lay, .lda_pad = k->pad,
                    .with_w = k->w, .w_scale = 0.3, .lambda = k->lambda,
                    .a_scale = 1.0, .seed = seed, .a_off = k->off};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    return tp;
}

static double *point(int64_t d, double scale, uint64_t seed)
{
    double *x = malloc((size_t)d * sizeof(double));
    tu_rng r;
    tu_seed(&r, seed);
    for (int64_t j = 0; j < d; ++j)
        x[j] = scale * tu_normal(&r) / sqrt((double)d);
    return x;
}

/* The workspace's loss, f and <f, f - b> against long double: the largest
 * relative errors of L, of any f_i (f_i above 1e-290) and of <f, f - b>
 * (relative to sum f |f - b|). */
static void check_ref(const smr_problem *p, const double *x, const smr_ws *ws,
                      const char *what)
{
    int64_t n = p->n, d = p->d;
    long double Lr = tu_ref_loss_grad(p, x, NULL, NULL);
    long double *z = malloc((size_t)n * sizeof(long double)), zm = -INFINITY, s = 0;
    for (int64_t i = 0; i < n; ++i) {
        z[i] = 0;
        for (int64_t j = 0; j < d; ++j)
            z[i] += (long double)tu_a(p, i, j) * x[j];
        zm = z[i] > zm ? z[i] : zm;
    }
    for (int64_t i = 0; i < n; ++i)
        s += expl(z[i] - zm);
    double ferr = 0;
    long double fc = 0, fca = 0;
    for (int64_t i = 0; i < n; ++i) {
        long double f = expl(z[i] - zm) / s;
        fc += f * (f - p->b[i]);
        fca += f * fabsl(f - p->b[i]);
        if (f > 1e-290L)
            ferr = fmax(ferr, (double)(fabsl(ws->f[i] - f) / f));
        else
            TU_CHECK(ws->f[i] <= 1e-280, "%s: f[%lld] = %g, reference %Lg", what,
                     (long long)i, ws->f[i], f);
    }
    double lerr = (double)(fabsl(ws->loss - Lr) / Lr);
    double cerr = (double)(fabsl(ws->fc - fc) / fca);
    TU_CHECK(lerr <= 1e-13 && ferr <= 1e-12 && cerr <= 1e-13,
             "%s: rel err L %.3g f %.3g <f,c> %.3g", what, lerr, ferr, cerr);
    free(z);
}

static void test_reference(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; ++c) {
        const cfg *k = &cfgs[c];
        tu_problem tp = make(k, 31 + c);
        smr_ws ws;
        assert_int_equal(smr_ws_init(&ws, &tp.p, false), SMR_OK);
        for (int it = 0; it < 3; ++it) {
            double *x = point(k->d, it == 2 ? 8.0 : 1.0, 7 + 3 * c + (uint64_t)it);
            assert_int_equal(smr_obj_forward(&tp.p, x, &ws), SMR_OK);
            char what[64];
            snprintf(what, sizeof what, "cfg %zu point %d", c, it);
            check_ref(&tp.p, x, &ws, what);
            free(x);
        }
        smr_ws_free(&ws);
        tu_problem_free(&tp);
    }
}

/* Logits rising (or falling, or peaking in the middle) by 0.25 per row
 * over 20003 rows: the blocks' largest logits lie ~800 apart, so most
 * blocks' scale e^(m_k - M) underflows to 0, and f spans the whole
 * double range.  A pass that took one shift for all blocks (the first
 * block's) would overflow; one that mixed the blocks' shifts up would be
 * off by factors e^800. */
static void test_block_shifts(void **state)
{
    (void)state;
    for (int c = 0; c < 6; ++c) {
        cfg k = {20003, c < 3 ? 10 : 24, c % 2 ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                 c == 4, 0.0, 0, 0};
        tu_problem tp = make(&k, 600 + (uint64_t)c);
        int64_t ld = k.lay == SMR_ROW_MAJOR ? k.d : k.n;
        for (int64_t i = 0; i < k.n; ++i) {
            double t = 0.25 * (double)i;
            double v = c % 3 == 0 ? t : c % 3 == 1 ? -t : -fabs(t - 2500.0);
            tp.A[k.lay == SMR_ROW_MAJOR ? i * ld : i] = v;
        }
        smr_ws ws;
        assert_int_equal(smr_ws_init(&ws, &tp.p, false), SMR_OK);
        double *x = calloc((size_t)k.d, sizeof(double));
        x[0] = 1.0; /* exact logits, so the reference's are the pass's */
        assert_int_equal(smr_obj_forward(&tp.p, x, &ws), SMR_OK);
        char what[64];
        snprintf(what, sizeof what, "shape %d", c);
        check_ref(&tp.p, x, &ws, what);
        free(x);
        smr_ws_free(&ws);
        tu_problem_free(&tp);
    }
}

/* The forward pass's logits are the one-pass kernel's, bit for bit (the
 * same dots: fused_rows.c's and fused_cols.c's z-only modes), so the two
 * passes see the same z, on either layout. */
static void test_logits_match_one_pass(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; ++c) {
        const cfg *k = &cfgs[c];
        tu_problem tp = make(k, 31 + c);
        smr_ws ws;
        assert_int_equal(smr_ws_init(&ws, &tp.p, false), SMR_OK);
        double *x = point(k->d, 1.0, 90 + c), *g = malloc((size_t)k->d * sizeof(double));
        double *z = malloc((size_t)k->n * sizeof(double));
        assert_int_equal(smr_obj_loss_grad(&tp.p, x, &ws, g), SMR_OK);
        memcpy(z, ws.z, (size_t)k->n * sizeof(double));
        assert_int_equal(smr_obj_forward(&tp.p, x, &ws), SMR_OK);
        TU_CHECK(memcmp(z, ws.z, (size_t)k->n * sizeof(double)) == 0,
                 "cfg %zu: logits differ from the one pass's", c);
        free(x);
        free(g);
        free(z);
        smr_ws_free(&ws);
        tu_problem_free(&tp);
    }
}

typedef struct {
    double loss, fc;
    double *f;
} fwd_out;

static fwd_out run_forward(const smr_problem *p, const double *x, smr_ws *ws)
{
    assert_int_equal(smr_obj_forward(p, x, ws), SMR_OK);
    fwd_out o = {ws->loss, ws->fc, malloc((size_t)p->n * sizeof(double))};
    memcpy(o.f, ws->f, (size_t)p->n * sizeof(double));
    return o;
}

static void same_bits(const fwd_out *a, const fwd_out *b, int64_t n, const char *what)
{
    TU_CHECK(memcmp(&a->loss, &b->loss, sizeof a->loss) == 0 &&
                 memcmp(&a->fc, &b->fc, sizeof a->fc) == 0 &&
                 memcmp(a->f, b->f, (size_t)n * sizeof(double)) == 0,
             "%s: L %.17g against %.17g", what, a->loss, b->loss);
}

/* The same bits with 1 and 2 threads (n d above SMR_FUSED_MIN_WORK, so 2
 * threads are 2 ranges of blocks), and through smr_loss; at every offset
 * of A from a 64-byte line; and in a workspace allocated for a larger
 * problem of the other layout and bound to this one (SPSA's minibatches). */
static void test_same_bits(void **state)
{
    (void)state;
    const cfg big[] = {{50001, 24, SMR_ROW_MAJOR, true, 0.01, 0, 0},
                       {50001, 13, SMR_ROW_MAJOR, false, 0.0, 3, 0},
                       {50001, 24, SMR_COL_MAJOR, true, 0.0, 0, 0}};
    int old = smr_k_set_threads(2);
    for (size_t c = 0; c < sizeof big / sizeof big[0]; ++c) {
        tu_problem tp = make(&big[c], 44 + c);
        int64_t n = big[c].n;
        double *x = point(big[c].d, 1.0, 5 + c);
        fwd_out ref = {0};
        for (int T = 2; T >= 1; --T) {
            smr_k_set_threads(T);
            smr_ws ws;
            assert_int_equal(smr_ws_init(&ws, &tp.p, false), SMR_OK);
            fwd_out o = run_forward(&tp.p, x, &ws);
            if (T == 2)
                ref = o;
            else {
                same_bits(&ref, &o, n, "1 thread against 2");
                free(o.f);
            }
            smr_ws_free(&ws);
        }
        double L;
        assert_int_equal(smr_loss(&tp.p, x, &L), SMR_OK);
        TU_CHECK(memcmp(&L, &ref.loss, sizeof L) == 0, "smr_loss %.17g, forward %.17g", L, ref.loss);
        smr_k_set_threads(2);
        /* the other layout, more rows: a workspace for it, bound to tp */
        cfg other = big[c];
        other.n = n + 7000;
        other.lay = other.lay == SMR_ROW_MAJOR ? SMR_COL_MAJOR : SMR_ROW_MAJOR;
        other.w = true;
        tu_problem tq = make(&other, 3);
        smr_ws ws;
        assert_int_equal(smr_ws_init(&ws, &tq.p, false), SMR_OK);
        double *xq = point(other.d, 1.0, 9);
        assert_int_equal(smr_obj_forward(&tq.p, xq, &ws), SMR_OK);
        smr_ws_bind(&ws, &tp.p);
        fwd_out o = run_forward(&tp.p, x, &ws);
        same_bits(&ref, &o, n, "bound workspace");
        free(o.f);
        free(xq);
        smr_ws_free(&ws);
        tu_problem_free(&tq);
        /* every offset of A (row-major: the shifted cut where ld % 8 == 0) */
        for (int off = 1; off <= 8; ++off) {
            cfg k = big[c];
            k.off = off;
            tu_problem to = make(&k, 44 + c);
            assert_int_equal(smr_ws_init(&ws, &to.p, false), SMR_OK);
            o = run_forward(&to.p, x, &ws);
            char what[32];
            snprintf(what, sizeof what, "offset %d", off);
            same_bits(&ref, &o, n, what);
            free(o.f);
            smr_ws_free(&ws);
            tu_problem_free(&to);
        }
        free(ref.f);
        free(x);
        tu_problem_free(&tp);
    }
    smr_k_set_threads(old);
}

/* x = 0 with A known finite skips the product (z = 0): the same bits as
 * when A is read. */
static void test_zero_point(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; ++c) {
        const cfg *k = &cfgs[c];
        tu_problem tp = make(k, 31 + c);
        double *x = calloc((size_t)k->d, sizeof(double));
        fwd_out o[2];
        for (int checked = 0; checked < 2; ++checked) {
            smr_ws ws;
            assert_int_equal(smr_ws_init(&ws, &tp.p, false), SMR_OK);
            ws.a_checked = checked;
            o[checked] = run_forward(&tp.p, x, &ws);
            smr_ws_free(&ws);
        }
        char what[32];
        snprintf(what, sizeof what, "cfg %zu", c);
        same_bits(&o[0], &o[1], k->n, what);
        free(o[0].f);
        free(o[1].f);
        free(x);
        tu_problem_free(&tp);
    }
}

/* A NaN or infinite entry of A, in any block, group, panel or strip, is
 * SMR_ERR_NONFINITE_A (and smr_loss leaves its output alone). */
static void test_nonfinite_a(void **state)
{
    (void)state;
    const int64_t rows[] = {0, 9, 63, 64, 3300, 9999, 10000};
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; ++c) {
        const cfg *k = &cfgs[c];
        tu_problem tp = make(k, 31 + c);
        double *x = point(k->d, 1.0, 3);
        int64_t ld = tp.p.lda ? tp.p.lda : k->lay == SMR_ROW_MAJOR ? k->d : k->n;
        for (size_t q = 0; q < sizeof rows / sizeof rows[0]; ++q) {
            int64_t i = rows[q] < k->n ? rows[q] : k->n - 1, j = (int64_t)q % k->d;
            double *a = &tp.A[k->lay == SMR_ROW_MAJOR ? i * ld + j : j * ld + i];
            double keep = *a;
            *a = q % 2 ? INFINITY : NAN;
            double L = 7.0;
            int rc = smr_loss(&tp.p, x, &L);
            TU_CHECK(rc == SMR_ERR_NONFINITE_A && L == 7.0,
                     "cfg %zu row %lld col %lld: status %d", c, (long long)i,
                     (long long)j, rc);
            *a = keep;
        }
        free(x);
        tu_problem_free(&tp);
    }
}

/* the gradient pass at the forward pass's point against long double
 * (2-norm relative error), through every row-major kernel path of cfgs */
static double grad_err(const smr_problem *p, const double *x, const double *g)
{
    int64_t d = p->d;
    long double *gr = malloc((size_t)d * sizeof(long double)), num = 0, den = 0;
    tu_ref_loss_grad(p, x, gr, NULL);
    for (int64_t j = 0; j < d; ++j) {
        num += ((long double)g[j] - gr[j]) * ((long double)g[j] - gr[j]);
        den += gr[j] * gr[j];
    }
    free(gr);
    return (double)sqrtl(num / den);
}

static void test_gradient_reference(void **state)
{
    (void)state;
    int old = smr_k_set_threads(2);
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; ++c) {
        const cfg *k = &cfgs[c];
        tu_problem tp = make(k, 31 + c);
        double *g = malloc((size_t)k->d * sizeof(double));
        for (int T = 1; T <= 2; ++T) {
            smr_k_set_threads(T);
            smr_ws ws;
            assert_int_equal(smr_ws_init(&ws, &tp.p, false), SMR_OK);
            for (int it = 0; it < 3; ++it) {
                double *x = point(k->d, it == 2 ? 8.0 : 1.0, 17 + 3 * c + (uint64_t)it);
                assert_int_equal(smr_obj_forward(&tp.p, x, &ws), SMR_OK);
                assert_int_equal(smr_obj_gradient(&tp.p, x, &ws, g), SMR_OK);
                double e = grad_err(&tp.p, x, g);
                TU_CHECK(e <= 1e-12, "cfg %zu point %d, %d threads: rel err g %.3g", c,
                         it, T, e);
                free(x);
            }
            smr_ws_free(&ws);
        }
        free(g);
        tu_problem_free(&tp);
    }
    smr_k_set_threads(old);
}

/* The gradient's bits at a fixed thread count do not depend on where A
 * lies (the shifted cut's lanes go to the sums of the columns they hold),
 * over the row-major paths: panels with w and the masked strip (d = 21,
 * ld 24), the short-row groups (d = 16; d = 13 masked, ld 16), wide rows
 * (d = 264, the two-strip update, 33 or 34 strips), whole strips
 * (d = 64). */
static void test_gradient_placement(void **state)
{
    (void)state;
    const cfg pc[] = {{3001, 21, SMR_ROW_MAJOR, true, 0.0, 3, 0},
                      {20003, 16, SMR_ROW_MAJOR, false, 0.0, 0, 0},
                      {5003, 13, SMR_ROW_MAJOR, false, 0.01, 3, 0},
                      {1003, 264, SMR_ROW_MAJOR, false, 0.0, 0, 0},
                      {4001, 64, SMR_ROW_MAJOR, true, 0.0, 0, 0}};
    int old = smr_k_set_threads(2);
    for (size_t c = 0; c < sizeof pc / sizeof pc[0]; ++c) {
        int64_t d = pc[c].d;
        double *x = point(d, 1.0, 2 + c), *g = malloc((size_t)d * sizeof(double));
        double *g1 = malloc((size_t)d * sizeof(double));
        for (int off = 1; off <= 8; ++off) {
            cfg k = pc[c];
            k.off = off;
            tu_problem tp = make(&k, 80 + c);
            smr_ws ws;
            assert_int_equal(smr_ws_init(&ws, &tp.p, false), SMR_OK);
            assert_int_equal(smr_obj_forward(&tp.p, x, &ws), SMR_OK);
            assert_int_equal(smr_obj_gradient(&tp.p, x, &ws, off == 1 ? g1 : g), SMR_OK);
            if (off == 1) {
                double e = grad_err(&tp.p, x, g1);
                TU_CHECK(e <= 1e-12, "cfg %zu: rel err g %.3g", c, e);
            } else {
                TU_CHECK(memcmp(g, g1, (size_t)d * sizeof(double)) == 0,
                         "cfg %zu: the gradient at offset %d differs from offset 1's", c, off);
            }
            smr_ws_free(&ws);
            tu_problem_free(&tp);
        }
        free(x);
        free(g);
        free(g1);
    }
    smr_k_set_threads(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_block_shifts),
        cmocka_unit_test(test_logits_match_one_pass),
        cmocka_unit_test(test_same_bits),
        cmocka_unit_test(test_zero_point),
        cmocka_unit_test(test_nonfinite_a),
        cmocka_unit_test(test_gradient_reference),
        cmocka_unit_test(test_gradient_placement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
