/*
 * testutil.h -- shared helpers of the test suite: a seeded generator,
 * generated problems, a long-double reference evaluation and finite
 * differences.  The reference is written independently of the library
 * (naive loops, long double), so agreement is evidence, not tautology.
 */
#ifndef SMR_TESTUTIL_H
#define SMR_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include "softmaxreg.h"

typedef struct { uint64_t s; } tu_rng;
void tu_seed(tu_rng *r, uint64_t seed);
double tu_uniform(tu_rng *r);  /* [0, 1) */
double tu_normal(tu_rng *r);   /* N(0, 1) */

/* An owned problem: storage plus the smr_problem view of it. */
typedef struct {
    smr_problem p;
    double *A, *b, *w;
    size_t a_len;
    double *A_mem;     /* the allocation A lies in */
    size_t a_mem_len;  /* its length in doubles when a_off > 0, else 0 */
} tu_problem;

typedef struct {
    int64_t n, d;
    smr_layout layout;
    int64_t lda_pad;   /* lda = packed + lda_pad (0: tight, lda left 0) */
    bool with_w;
    double w_scale;
    double lambda;
    double a_scale;    /* A entries N(0, a_scale^2) */
    uint64_t seed;
    int a_off;         /* 0: A from malloc; 1..8: A's first entry a_off - 1
                          doubles past a 64-byte line (kernels that cut rows
                          by cache lines, fused_rows.c) */
} tu_spec;

/* A random problem; b is a random point of the simplex.  Padding entries
 * of A are NaN, so a kernel that reads past the row/column is caught. */
void tu_problem_make(tu_problem *tp, const tu_spec *spec);
void tu_problem_free(tu_problem *tp);
double tu_a(const smr_problem *p, int64_t i, int64_t j); /* A(i, j) */
/* Make tp realizable: xs (d, caller memory) gets a random x* with
 * |x*| ~ scale, and b = softmax(A x*) (long double, rounded). */
void tu_make_realizable(tu_problem *tp, double *xs, double scale, uint64_t seed);

/* Long-double reference of the loss, gradient and (optionally) Hessian by
 * the textbook formulas of docs/math.md.  g and H (d x d, column-major)
 * may be NULL. */
long double tu_ref_loss_grad(const smr_problem *p, const double *x,
                             long double *g, long double *H);

/* Central finite differences: gradient from the loss, Hessian columns from
 * the gradient.  h is scaled per coordinate as h * max(1, |x_j|). */
void tu_fd_gradient(const smr_problem *p, const double *x, double h,
                    double *g);
void tu_fd_hessian(const smr_problem *p, const double *x, double h,
                   double *H);

double tu_norm_inf(int64_t n, const double *v);
double tu_diff_inf(int64_t n, const double *a, const double *b);

/* Fail with a message unless |got - want| <= tol. */
#define TU_NEAR(got, want, tol)                                              \
    do {                                                                     \
        double g_ = (got), w_ = (want), t_ = (tol);                          \
        if (!(fabs(g_ - w_) <= t_)) {                                        \
            print_error("%s:%d: %s = %.17g, want %.17g (tol %.3g)\n",        \
                        __FILE__, __LINE__, #got, g_, w_, t_);               \
            fail();                                                          \
        }                                                                    \
    } while (0)

/* Fail with a message unless cond; msg is a printf format. */
#define TU_CHECK(cond, ...)                                                  \
    do {                                                                     \
        if (!(cond)) {                                                       \
            print_error("%s:%d: check failed: %s: ", __FILE__, __LINE__,     \
                        #cond);                                              \
            print_error(__VA_ARGS__);                                        \
            print_error("\n");                                               \
            fail();                                                          \
        }                                                                    \
    } while (0)

#endif
