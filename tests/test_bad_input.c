/*
 * test_bad_input.c -- every bad input to every objective entry point
 * returns its own error code, writes no output and leaves the caller's
 * data (A, b, w, x, s) as it was.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 6, D = 3, LDH = 4 };
enum fn { F_LOSS, F_GRAD, F_LOSSGRAD, F_HESS, F_HV, F_NEWTON, F_COUNT };
static const char *fn_name[] = {"loss", "gradient", "loss_gradient", "hessian",
                                "hessian_vector", "newton_step"};

typedef struct {
    double A[N * D + 8], b[N], w[N], x[D], s[D];
    smr_problem p;
    const smr_problem *pp;
    const double *xp, *sp;
    int64_t ldh;
    double mu;
    bool null_out;
} fixture;

static void fixture_init(fixture *f, smr_layout layout)
{
    tu_rng r;
    tu_seed(&r, 1);
    for (int k = 0; k < N * D + 8; ++k)
        f->A[k] = tu_normal(&r);
    for (int i = 0; i < N; ++i) {
        f->b[i] = 1.0 / N;
        f->w[i] = 2.0 + i;
    }
    for (int j = 0; j < D; ++j) {
        f->x[j] = 0.1 * (j + 1);
        f->s[j] = 1.0 - j;
    }
    f->p = (smr_problem){.n = N, .d = D, .A = f->A, .layout = layout,
                         .b = f->b, .w = f->w, .lambda = 0.5};
    f->pp = &f->p;
    f->xp = f->x;
    f->sp = f->s;
    f->ldh = LDH;
    f->mu = 0.0;
    f->null_out = false;
}

typedef struct { double loss, vec[D], mat[LDH * D]; } outputs;

static int call(enum fn fn, fixture *f, outputs *o)
{
    double *vec = f->null_out ? NULL : o->vec;
    switch (fn) {
    case F_LOSS: return smr_loss(f->pp, f->xp, f->null_out ? NULL : &o->loss);
    case F_GRAD: return smr_gradient(f->pp, f->xp, vec);
    case F_LOSSGRAD:
        return smr_loss_gradient(f->pp, f->xp, f->null_out ? NULL : &o->loss, vec);
    case F_HESS: return smr_hessian(f->pp, f->xp, f->null_out ? NULL : o->mat, f->ldh);
    case F_HV: return smr_hessian_vector(f->pp, f->xp, f->sp, vec);
    case F_NEWTON: return smr_newton_step(f->pp, f->xp, f->mu, vec);
    default: return -1;
    }
}

/* Each case mutates a fresh fixture; returns the expected code, or -1 if
 * the case does not apply to fn. */
static int apply_case(int k, enum fn fn, fixture *f, const char **name)
{
    static const double bad[] = {NAN, INFINITY, -INFINITY};
    int64_t big = (int64_t)INT32_MAX + 1;
    switch (k) {
    case 0: *name = "NULL problem"; f->pp = NULL; return SMR_ERR_NULL_POINTER;
    case 1: *name = "NULL A"; f->p.A = NULL; return SMR_ERR_NULL_POINTER;
    case 2: *name = "NULL b"; f->p.b = NULL; return SMR_ERR_NULL_POINTER;
    case 3: *name = "NULL x"; f->xp = NULL; return SMR_ERR_NULL_POINTER;
    case 4: *name = "NULL output"; f->null_out = true; return SMR_ERR_NULL_POINTER;
    case 5: *name = "NULL s"; f->sp = NULL; return fn == F_HV ? SMR_ERR_NULL_POINTER : -1;
    case 6: *name = "n = 0"; f->p.n = 0; return SMR_ERR_BAD_SIZE;
    case 7: *name = "n < 0"; f->p.n = -4; return SMR_ERR_BAD_SIZE;
    case 8: *name = "d = 0"; f->p.d = 0; return SMR_ERR_BAD_SIZE;
    case 9: *name = "d < 0"; f->p.d = -1; return SMR_ERR_BAD_SIZE;
    case 10: *name = "bad layout"; f->p.layout = (smr_layout)7; return SMR_ERR_BAD_LAYOUT;
    case 11: *name = "lda too small"; f->p.lda = f->p.layout == SMR_ROW_MAJOR ? D - 1 : N - 1; return SMR_ERR_BAD_LD;
    case 12: *name = "lda negative"; f->p.lda = -3; return SMR_ERR_BAD_LD;
    case 13: *name = "n too large"; f->p.n = big; return SMR_ERR_TOO_LARGE;
    case 14: *name = "d too large"; f->p.d = big * 4; return SMR_ERR_TOO_LARGE;
    case 15: *name = "lda too large"; f->p.lda = big; return SMR_ERR_TOO_LARGE;
    case 16: *name = "lambda < 0"; f->p.lambda = -1e-3; return SMR_ERR_BAD_LAMBDA;
    case 17: *name = "lambda NaN"; f->p.lambda = NAN; return SMR_ERR_BAD_LAMBDA;
    case 18: *name = "lambda Inf"; f->p.lambda = INFINITY; return SMR_ERR_BAD_LAMBDA;
    case 19: case 20: case 21:
        *name = "non-finite A"; f->A[7] = bad[k - 19]; return SMR_ERR_NONFINITE_A;
    case 22: *name = "non-finite A at x = 0";
        f->A[N * D - 1] = NAN;
        memset(f->x, 0, sizeof f->x);
        return SMR_ERR_NONFINITE_A;
    case 23: case 24: case 25:
        *name = "non-finite b"; f->b[k - 23] = bad[k - 23]; return SMR_ERR_NONFINITE_B;
    case 26: case 27: case 28:
        *name = "non-finite w"; f->w[N - 1] = bad[k - 26]; return SMR_ERR_NONFINITE_W;
    case 29: case 30: case 31:
        *name = "non-finite x"; f->x[k % D] = bad[k - 29]; return SMR_ERR_NONFINITE_X;
    case 32: *name = "non-finite s"; f->s[1] = NAN; return fn == F_HV ? SMR_ERR_NONFINITE_X : -1;
    case 33: *name = "ldh too small"; f->ldh = D - 1; return fn == F_HESS ? SMR_ERR_BAD_LD : -1;
    case 34: *name = "ldh too large"; f->ldh = big; return fn == F_HESS ? SMR_ERR_TOO_LARGE : -1;
    case 35: *name = "mu < 0"; f->mu = -1; return fn == F_NEWTON ? SMR_ERR_BAD_ARGUMENT : -1;
    case 36: *name = "mu NaN"; f->mu = NAN; return fn == F_NEWTON ? SMR_ERR_BAD_ARGUMENT : -1;
    default: return -2;
    }
}

static void run_all(smr_layout layout)
{
    for (int fn = 0; fn < F_COUNT; ++fn)
        for (int k = 0;; ++k) {
            fixture f, before;
            fixture_init(&f, layout);
            const char *name = "";
            int want = apply_case(k, (enum fn)fn, &f, &name);
            if (want == -2)
                break;
            if (want == -1)
                continue;
            memcpy(&before, &f, sizeof f);
            outputs o;
            memset(&o, 0x5a, sizeof o);
            outputs o0 = o;
            int got = call((enum fn)fn, &f, &o);
            TU_CHECK(got == want, "%s, %s: got %d (%s), want %d (%s)", fn_name[fn], name,
                     got, smr_strerror(got), want, smr_strerror(want));
            TU_CHECK(memcmp(&o, &o0, sizeof o) == 0, "%s, %s: output written", fn_name[fn], name);
            TU_CHECK(memcmp(f.A, before.A, sizeof f.A) == 0 && memcmp(f.b, before.b, sizeof f.b) == 0 &&
                         memcmp(f.w, before.w, sizeof f.w) == 0 && memcmp(f.x, before.x, sizeof f.x) == 0 &&
                         memcmp(f.s, before.s, sizeof f.s) == 0,
                     "%s, %s: caller's data modified", fn_name[fn], name);
        }
}

static void test_bad_row_major(void **state) { (void)state; run_all(SMR_ROW_MAJOR); }
static void test_bad_col_major(void **state) { (void)state; run_all(SMR_COL_MAJOR); }

/* The fixture itself is fine: every function succeeds on it. */
static void test_fixture_ok(void **state)
{
    (void)state;
    for (int fn = 0; fn < F_COUNT; ++fn) {
        fixture f;
        fixture_init(&f, SMR_ROW_MAJOR);
        f.mu = 100.0; /* newton: make H + mu I surely PD */
        outputs o;
        assert_int_equal(call((enum fn)fn, &f, &o), SMR_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_ok),
        cmocka_unit_test(test_bad_row_major),
        cmocka_unit_test(test_bad_col_major),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
