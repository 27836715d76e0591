/*
 * theory.h -- the papers' checkable claims as experiments (issue 8,
 * docs/theory.md).  One binary, bench_theory, one file per claim; each
 * experiment writes CSV files for bench/plot_theory.gp and prints, for
 * every claim, the measured figure and whether the claim held.
 *
 * Deterministic claims (finite differences, rank, bit-exact replay, the
 * proven sufficient condition) are *checks*: a violation makes the binary
 * exit non-zero, so CI catches a regression.  Statistical claims are
 * reported with the figure, and checked only against generous bounds
 * (every run is seeded, so the figures are reproducible).
 */
#ifndef SMR_THEORY_H
#define SMR_THEORY_H

#include <stdint.h>
#include <stdio.h>

#include "bench_common.h"

typedef struct th_ctx {
    int quick;        /* the small version CI runs                      */
    const char *dir;  /* where the CSV files go                         */
    FILE *summary;    /* dir/summary.txt: one line per claim            */
    int checks, failures;
} th_ctx;

/* dir/name opened for writing, with the machine line and the header */
FILE *th_csv(th_ctx *c, const char *name, const char *header);
/* Record a claim: prints "[ok]"/"[FAIL]" and the measured sentence, and
 * counts a failure when ok is 0. */
void th_claim(th_ctx *c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report a statistical figure that is not a pass/fail check. */
void th_note(th_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Eigenvalues (ascending) of the symmetric d x d matrix H (column-major,
 * both triangles; not modified).  0 on success. */
int th_eigs(int64_t d, const double *H, double *ev);
/* Singular values (descending) of the m x n column-major matrix M (not
 * modified). */
int th_svals(int64_t m, int64_t n, const double *M, double *sv);
/* Eigenvalues (ascending) of the pencil Ht v = l H v (H positive
 * definite), i.e. the spectrum of H^{-1/2} Ht H^{-1/2}. */
int th_pencil(int64_t d, const double *Ht, const double *H, double *ev);
/* Orthonormal d x r matrix (column-major) from a Gaussian, by QR; or the
 * Q factor of the given P, in place. */
int th_orthonormal(int64_t d, int64_t r, double *P);
int th_orthonormalize(int64_t d, int64_t r, double *P);

/* uniform (0, 1) from the bench generator */
double th_uniform(void);
/* b: a random point of the simplex (normalized exponentials) */
void th_random_simplex(int64_t n, double *b);
/* A ~ N(0, 1/d) (n x d, either order), b on the simplex, x ~ N(0, I)
 * (x may be NULL), drawn in that order */
void th_random_problem(int64_t n, int64_t d, double *A, double *b, double *x);
/* softmax(z) into f (max-shifted) */
void th_softmax(int64_t n, const double *z, double *f);
double th_norm(int64_t n, const double *v);
double th_dist(int64_t n, const double *u, const double *v);
/* b = softmax(A xs) for row-major A */
void th_realize(int64_t n, int64_t d, const double *A, const double *xs, double *b);
/* least-squares slope of log y against log x over the points with y > 0 */
double th_loglog_slope(int m, const double *x, const double *y);
double th_quantile(double *v, int n, double q); /* sorts v */
void *th_alloc(size_t count, size_t size); /* calloc or exit(1) */

int th_derivs(th_ctx *c);
int th_pd(th_ctx *c);
int th_newton(th_ctx *c);
int th_sketch(th_ctx *c);
int th_spsa(th_ctx *c);
int th_minibatch(th_ctx *c);

#endif
