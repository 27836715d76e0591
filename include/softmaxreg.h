/*
 * softmaxreg.h -- the whole public API of libsoftmaxreg.
 *
 * libsoftmaxreg fits softmax(Ax) to a target b: given A (n x d) and b (n),
 * it evaluates and minimizes
 *
 *     L(x) = 1/2 ||softmax(Ax) - b||^2  +  1/2 ||diag(w) A x||^2  +  1/2 lambda ||x||^2
 *
 * where the row weights w (the papers' regularizer) and the ridge lambda are
 * optional.  The formulas are in docs/math.md.
 *
 * Conventions
 *  - Every public name starts with smr_ / SMR_.
 *  - Functions return an int status: SMR_OK (0) or one of the smr_error codes
 *    below; smr_strerror() gives a sentence for each.
 *  - On any error, every output argument is left untouched (exceptions are
 *    stated at the function).
 *  - The library never copies A, never aborts and never prints.
 *  - Dimensions are 64-bit (int64_t).  Anything handed to BLAS/LAPACK, whose
 *    integer is 32-bit in Debian's OpenBLAS, is range-checked first
 *    (SMR_ERR_TOO_LARGE).
 *  - Thread safety: functions hold no global state (apart from the SIMD
 *    level, decided once, see smr_simd); concurrent calls on distinct
 *    outputs are safe.  The thread count is OpenBLAS's
 *    (OPENBLAS_NUM_THREADS) unless a solver option says otherwise; the
 *    library splits its passes over A across that many threads of its own
 *    and runs OpenBLAS at one thread meanwhile (never more threads than
 *    the count).
 */
#ifndef SOFTMAXREG_H
#define SOFTMAXREG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SMR_STATIC_DEFINE) || !defined(__GNUC__)
#define SMR_API
#else
#define SMR_API __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define SMR_VERSION_MAJOR 0
#define SMR_VERSION_MINOR 1
#define SMR_VERSION_PATCH 0
#define SMR_VERSION_STRING "0.1.0"
/* MAJOR*10000 + MINOR*100 + PATCH, for compile-time comparisons. */
#define SMR_VERSION_NUMBER \
    (SMR_VERSION_MAJOR * 10000 + SMR_VERSION_MINOR * 100 + SMR_VERSION_PATCH)

/* Version of the library actually linked, as "MAJOR.MINOR.PATCH".  The
 * returned string is static; do not free it. */
SMR_API const char *smr_version(void);
/* Same as SMR_VERSION_NUMBER, but of the linked library. */
SMR_API int smr_version_number(void);
/* The vector instructions the library's hand-vectorized kernels (exp,
 * one-pass loss and gradient, small Hessians, SPSA losses) use in this
 * process:
 * "avx512" (x86-64-v4), "avx2" (x86-64-v3: AVX2 + FMA) or "portable"
 * (plain C and glibc's exp; every CPU without those, every architecture
 * other than x86-64, and builds with a compiler other than GCC).  Detected from the CPU at the first call into the
 * library and fixed for the process.  The environment variable
 * SOFTMAXREG_SIMD, read at that first call, caps it: "portable" or "avx2"
 * (any other value, "avx512" included, sets no cap; a cap never raises the
 * level above what the CPU runs).  Use it to test or time the other paths.
 * Results are bit-identical for a given level, thread count and OpenBLAS,
 * wherever A lies in memory (the one-pass kernels align their loads to
 * A's cache lines and rotate the lanes back before adding them; a
 * column-major pass that must raise its shift midway, where the row of the
 * raise would depend on A's offset, is redone from the largest logit).
 * Between levels results may differ in the last bits.  The string is static. */
SMR_API const char *smr_simd(void);

/* ------------------------------------------------------------------------ */
/* Error codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum smr_error {
    SMR_OK = 0,
    SMR_ERR_NULL_POINTER = 1,  /* a required pointer argument is NULL        */
    SMR_ERR_BAD_SIZE = 2,      /* n or d is zero or negative                 */
    SMR_ERR_BAD_LAYOUT = 3,    /* layout is neither SMR_ROW_MAJOR nor _COL_  */
    SMR_ERR_BAD_LD = 4,        /* a leading dimension is too small           */
    SMR_ERR_TOO_LARGE = 5,     /* a size exceeds the BLAS integer / memory   */
    SMR_ERR_BAD_LAMBDA = 6,    /* lambda is negative, NaN or infinite        */
    SMR_ERR_NONFINITE_A = 7,   /* A holds a NaN or an infinity               */
    SMR_ERR_NONFINITE_B = 8,   /* b holds a NaN or an infinity               */
    SMR_ERR_NONFINITE_W = 9,   /* w holds a NaN or an infinity               */
    SMR_ERR_NONFINITE_X = 10,  /* x (or another input vector) is non-finite  */
    SMR_ERR_OVERFLOW = 11,     /* finite inputs, but a result overflowed     */
    SMR_ERR_NO_MEMORY = 12,    /* an allocation failed                       */
    SMR_ERR_NOT_POSDEF = 13,   /* matrix is not (numerically) positive def.  */
    SMR_ERR_LAPACK = 14,       /* LAPACK reported an unexpected failure      */
    SMR_ERR_BAD_OPTION = 15,   /* a solver option is out of its valid range  */
    SMR_ERR_BAD_ARGUMENT = 16, /* another argument is out of its valid range */
    SMR_ERR_IO = 17,           /* a file could not be opened, read or written */
    SMR_ERR_FORMAT = 18,       /* a file's content is malformed or unsupported */
    SMR_ERR_COUNT_             /* number of codes; not an error itself       */
} smr_error;

/* A sentence describing an error code.  Never NULL; unknown codes give
 * "unknown error code".  The string is static.  (How a solve *ended* is a
 * separate enum, smr_status, with smr_status_string.) */
SMR_API const char *smr_strerror(int code);

/* ------------------------------------------------------------------------ */
/* The problem                                                              */
/* ------------------------------------------------------------------------ */

/* Storage order of A, as in BLAS.  The zero value is row-major, so a
 * zero-initialised smr_problem describes a row-major A. */
typedef enum smr_layout {
    SMR_ROW_MAJOR = 0, /* A[i*lda + j]; lda >= d */
    SMR_COL_MAJOR = 1  /* A[i + j*lda]; lda >= n */
} smr_layout;

/* A softmax-regression problem.  It only *refers* to the caller's memory:
 * nothing is copied, and the caller keeps ownership of A, b and w, which
 * must stay valid and unchanged while a function uses the problem.
 *
 * Fill it with a designated initializer, e.g.
 *     smr_problem p = { .n = n, .d = d, .A = A, .b = b };
 * Fields left out get zero, which means: row-major, tightly packed, no
 * row weights, no ridge.
 */
typedef struct smr_problem {
    int64_t n;         /* rows of A, length of b and w.  Range 1..INT32_MAX. */
    int64_t d;         /* columns of A, length of x.     Range 1..INT32_MAX. */
    const double *A;   /* n x d matrix, finite entries.  Required.           */
    smr_layout layout; /* SMR_ROW_MAJOR (default) or SMR_COL_MAJOR.          */
    int64_t lda;       /* leading dimension; 0 means tightly packed (d for
                          row-major, n for column-major).  Otherwise
                          >= d (row-major) or >= n (column-major), and
                          <= INT32_MAX.                                      */
    const double *b;   /* target, n finite entries.  Required.  Usually a
                          point of the probability simplex, but any finite
                          vector is accepted.                                */
    const double *w;   /* optional row weights, n finite entries; NULL means
                          w = 0 (no regularizer 1/2 ||diag(w)Ax||^2).        */
    double lambda;     /* ridge weight, finite and >= 0.  Default 0.         */
} smr_problem;

/* Check a problem completely: pointers, sizes, leading dimension, lambda,
 * and that every entry of A, b and w is finite.  Returns SMR_OK or the code
 * of the first fault found, in the order listed above.  Cost: one read of
 * A, b and w.
 *
 * The evaluation functions below check everything except the entries of A
 * up front (that would double the cost of a loss evaluation); a non-finite
 * entry of A is detected from the non-finite result it produces, which
 * triggers a scan of A that names the cause (SMR_ERR_NONFINITE_A rather than
 * SMR_ERR_OVERFLOW).  Call smr_problem_check() once if you want the check
 * eagerly; the solvers do. */
SMR_API int smr_problem_check(const smr_problem *prob);

/* ------------------------------------------------------------------------ */
/* Objective: loss, gradient, Hessian                                        */
/* ------------------------------------------------------------------------ */
/*
 * All of these take the problem and a point x (d finite entries, caller's
 * memory, not modified).  They allocate O(n + d) work memory internally
 * (O(block * d) more for the Hessian) and free it before returning.
 * Inputs are checked first; on any error the outputs are not written.
 *
 * Errors: SMR_ERR_NULL_POINTER, SMR_ERR_BAD_SIZE, SMR_ERR_BAD_LAYOUT,
 * SMR_ERR_BAD_LD, SMR_ERR_TOO_LARGE, SMR_ERR_BAD_LAMBDA,
 * SMR_ERR_NONFINITE_{A,B,W,X}, SMR_ERR_OVERFLOW (finite inputs, but e.g.
 * |Ax| or the regularizer exceeds the double range), SMR_ERR_NO_MEMORY.
 *
 * The softmax is evaluated with the max shift (each block of rows shifted
 * by its own largest logit, the blocks then brought to the largest of
 * all), so logits of any finite size (|Ax| of 1e4, 1e300) give finite,
 * accurate values.
 */

/* *loss = L(x).  One pass over A.  The same bits at any thread count
 * (per-block sums added in block order), and the same as a solver's
 * res.loss at that x. */
SMR_API int smr_loss(const smr_problem *prob, const double *x, double *loss);

/* grad[0..d-1] = gradient of L at x:
 *     A^T (f o c - <f,c> f)  +  A^T (w o w o Ax)  +  lambda x,
 * f = softmax(Ax), c = f - b.  grad must not alias x.  Two passes over A
 * (smr_loss's, then A^T r); bit-identical for a fixed thread count. */
SMR_API int smr_gradient(const smr_problem *prob, const double *x,
                         double *grad);

/* Both at once; cheaper than two calls (the logits are shared).
 * Either output may be NULL if not wanted, but not both. */
SMR_API int smr_loss_gradient(const smr_problem *prob, const double *x,
                              double *loss, double *grad);

/* A reusable loss+gradient evaluator, for a caller's own optimizer.
 * smr_loss_gradient is stateless: each call allocates, takes two passes
 * over A and frees.  An evaluator keeps a workspace and what the last call
 * learnt (the log-normaliser and its first-order change, docs/math.md), so
 * from the second call on a call is one pass over A that stores nothing
 * per row -- the path of the library's own L-BFGS.  The loss and gradient
 * agree with smr_loss_gradient to ~1e-12 relative (they are not the same
 * bits, and they depend on the previous call's point and on the thread
 * count, not on timing).
 *
 * smr_evaluator_new checks prob completely, A included (smr_problem_check)
 * and allocates; *ev is set only on success.  The evaluator borrows A, b
 * and w: they must stay alive and unchanged until smr_evaluator_free.  The
 * thread count in force at creation is the most an evaluation uses.
 * smr_evaluator_loss_gradient: x finite (SMR_ERR_NONFINITE_X), loss and
 * grad not NULL, grad not aliasing x; outputs written only on success
 * (SMR_ERR_OVERFLOW when finite data overflow).  One evaluator must not be
 * used by two threads at once; distinct evaluators may. */
typedef struct smr_evaluator smr_evaluator;
SMR_API int smr_evaluator_new(const smr_problem *prob, smr_evaluator **ev);
SMR_API int smr_evaluator_loss_gradient(smr_evaluator *ev, const double *x,
                                        double *loss, double *grad);
SMR_API void smr_evaluator_free(smr_evaluator *ev);

/* The dense d x d Hessian into caller memory H, both triangles filled
 * (symmetric, so its layout does not matter), leading dimension ldh >= d
 * (0 means d):
 *     H = A^T diag(delta + w o w) A - p q^T - q p^T + kappa p p^T + lambda I
 * (docs/math.md).  Assembled with level-3 BLAS (dsyrk on row blocks of A
 * scaled by sqrt|delta + w o w|, the negative entries subtracted) plus one
 * dsyr2; A is never copied whole.  Cost O(n d^2).
 * Entries of A are checked up front here (cost O(nd), small against the
 * product), so a non-finite A leaves H untouched.  On SMR_ERR_OVERFLOW
 * (finite data whose Hessian exceeds the double range) H is unspecified.
 * H must not alias any input. */
SMR_API int smr_hessian(const smr_problem *prob, const double *x, double *H,
                        int64_t ldh);

/* hv = H(x) s, the Hessian-vector product, without forming H: two passes
 * over A, O(nd).  s must be finite (SMR_ERR_NONFINITE_X otherwise); hv must
 * not alias x or s. */
SMR_API int smr_hessian_vector(const smr_problem *prob, const double *x,
                               const double *s, double *hv);

/* The (shifted) Newton step: solves (H(x) + mu I) step = -grad(x) by
 * Cholesky (LAPACK dpotrf/dpotrs).  mu >= 0 and finite
 * (SMR_ERR_BAD_ARGUMENT otherwise).  Returns SMR_ERR_NOT_POSDEF, with step
 * untouched, when H + mu I is not numerically positive definite (then raise
 * mu, or use a solver, which does this for you).  Allocates a d x d work
 * matrix. */
SMR_API int smr_newton_step(const smr_problem *prob, const double *x,
                            double mu, double *step);

/* Solve the symmetric positive definite system M X = B in place by Cholesky
 * (dpotrf then dpotrs).  M is d x d (both triangles or the upper one;
 * only the upper triangle is read), leading dimension ldm >= d; it is
 * overwritten by its Cholesky factor on success and is unspecified after
 * SMR_ERR_NOT_POSDEF.  B holds nrhs column vectors of length d, stored one
 * after another (leading dimension d); on success it is overwritten by X.
 * Errors: SMR_ERR_NULL_POINTER, SMR_ERR_BAD_SIZE, SMR_ERR_BAD_LD,
 * SMR_ERR_TOO_LARGE, SMR_ERR_NONFINITE_X (non-finite entry in M or B),
 * SMR_ERR_NOT_POSDEF, SMR_ERR_LAPACK. */
SMR_API int smr_cholesky_solve(int64_t d, double *M, int64_t ldm,
                               int64_t nrhs, double *B);


/* ------------------------------------------------------------------------ */
/* Leverage-score sparsifier of A^T D A (the first paper, docs/sketch.md)    */
/* ------------------------------------------------------------------------ */
/*
 * For A (n x d) and a non-negative diagonal D, keep s rows of A with
 * weights D~ such that, with probability at least 1 - delta,
 *     (1 - eps) A^T D A  <=  A^T D~ A  <=  (1 + eps) A^T D A.
 * Rows are drawn by approximate leverage scores of diag(sqrt D) A, computed
 * with a CountSketch (8d rows), a QR and a Johnson-Lindenstrauss projection
 * (16 columns) in O(nnz(A) * 16 + d^3) time; nothing of size n x d is
 * formed.  These functions use only n, d, A, layout and lda of the problem
 * (b, w and lambda are ignored and may be unset).
 */

/* The sample count rule: s = ceil(4 d ln(2d/delta) / eps^2), from the
 * matrix Chernoff bound for leverage-score sampling (Tropp), with a factor
 * 1.5 for scores that are approximate.  eps and delta in (0, 1); returns -1
 * for arguments out of range. */
SMR_API int64_t smr_sparsify_sample_size(int64_t d, double eps, double delta);

/* Approximate leverage scores of diag(sqrt D) A into scores (n entries,
 * caller memory); they sum to about rank(diag(sqrt D) A) <= d.  D: n finite
 * entries >= 0 (SMR_ERR_NONFINITE_X / SMR_ERR_BAD_ARGUMENT otherwise).
 * Where n <= 8d (the sketch would have as many rows as A) the scores are
 * exact instead -- the diagonal of M M^+ for M = diag(sqrt D) A, summing
 * to rank M, by a QR of M in O(n d min(n, d)) (column-pivoted where M is
 * wide, rank-deficient or ill-conditioned) -- and do not depend on the
 * seed.
 * A pure function of seed, for a fixed thread count and vector level (a
 * row-major A of d <= 1024 has its sketch summed by threads, added in
 * thread order; other shapes give the same bits at any thread count). */
SMR_API int smr_leverage_scores(const smr_problem *A, const double *D,
                                uint64_t seed, double *scores);

/* The kept rows, owned by the library (free with smr_sparsifier_free):
 *     A^T D~ A = sum_t weights[t] a_{rows[t]} a_{rows[t]}^T. */
typedef struct smr_sparsifier {
    int64_t count;     /* distinct rows kept                       */
    int64_t samples;   /* rows drawn (s), or n when all were kept  */
    int64_t *rows;     /* count indices in 0..n-1, increasing      */
    double *weights;   /* count weights D_i count_i / (s p_i)      */
} smr_sparsifier;

/* Sparsify A^T D A.  samples: 0 uses smr_sparsify_sample_size(d, eps,
 * delta); > 0 overrides it.  When the sample count reaches n every row is
 * kept with its exact weight.  Errors: those of the matrix description,
 * SMR_ERR_NONFINITE_A, SMR_ERR_NONFINITE_X (D), SMR_ERR_BAD_ARGUMENT (D < 0,
 * eps/delta out of (0, 1), samples < 0), SMR_ERR_NO_MEMORY; *out untouched. */
SMR_API int smr_sparsify(const smr_problem *A, const double *D, double eps,
                         double delta, int64_t samples, uint64_t seed,
                         smr_sparsifier *out);
SMR_API void smr_sparsifier_free(smr_sparsifier *s);

/* ------------------------------------------------------------------------ */
/* Solvers                                                                   */
/* ------------------------------------------------------------------------ */
/*
 * One driver, smr_solve(), runs any method.  Two channels: its return value
 * is an smr_error for *usage* errors (bad problem, bad option, no memory),
 * checked before anything is allocated; how the solve *ended* is the
 * smr_status in the result.  docs/solvers.md describes every method.
 */

typedef enum smr_method {
    SMR_METHOD_AUTO = 0,  /* Newton when d <= SMR_AUTO_NEWTON_MAX_D, else
                             L-BFGS handing over to Newton if it stalls    */
    SMR_METHOD_GD = 1,    /* gradient descent: fixed, Armijo or BB steps     */
    SMR_METHOD_NEWTON = 2,/* Newton, Cholesky, Armijo, Levenberg shift       */
    SMR_METHOD_SPSA = 3,  /* zeroth-order SPSA (MeZO form), loss values only */
    SMR_METHOD_SKETCH = 4,/* Newton with a leverage-score sparsified Hessian */
    SMR_METHOD_LBFGS = 5, /* limited-memory BFGS, Armijo line search         */
    SMR_METHOD_COUNT_
} smr_method;

/* auto runs Newton up to this d.  Beyond it, L-BFGS, and Newton from the
 * L-BFGS iterate when L-BFGS has not converged within max(20, 6 + 6d/20)
 * iterations (about the cost of a Newton solve): a Newton iteration costs
 * O(n d^2 + d^3) plus ~3 passes over A, an L-BFGS iteration about one pass
 * (O(n d)); on bench_peers' and bench_solvers' grids L-BFGS was 1.7-6x
 * faster from d = 10, but on ill-conditioned problems it can stall where
 * Newton takes 4 iterations (docs/solvers.md).  result.method says
 * "newton" or "auto". */
#define SMR_AUTO_NEWTON_MAX_D 4

/* Name of a method ("auto", "gd", "newton", "spsa", "sketch", "lbfgs"), or
 * NULL if unknown. */
SMR_API const char *smr_method_name(smr_method m);

/* Step-size rule of gradient descent. */
typedef enum smr_gd_step {
    SMR_GD_BB = 0,     /* Barzilai-Borwein (alternating BB1/BB2), clamped, with
                          a non-monotone Armijo safeguard (default)          */
    SMR_GD_ARMIJO = 1, /* Armijo backtracking from twice the last step       */
    SMR_GD_FIXED = 2   /* x <- x - gd_step_size * g, no line search          */
} smr_gd_step;

/* Distribution of the SPSA directions. */
typedef enum smr_direction {
    SMR_DIR_GAUSSIAN = 0,   /* z ~ N(0, I_d) (default)        */
    SMR_DIR_RADEMACHER = 1  /* z_j = +1 or -1, equally likely  */
} smr_direction;

/* How a solve ended.  The first four mean converged (smr_status_converged). */
typedef enum smr_status {
    SMR_STATUS_NONE = 0,        /* not run                                   */
    SMR_STATUS_GTOL = 1,        /* |g| <= max(gtol_abs, gtol_rel |g0|)       */
    SMR_STATUS_FTOL = 2,        /* relative loss change <= ftol              */
    SMR_STATUS_XTOL = 3,        /* relative step <= xtol                     */
    SMR_STATUS_ROUNDOFF = 4,    /* no decrease is measurable in double: the
                                   predicted decrease is below the rounding
                                   error of the loss (at the minimizer)      */
    SMR_STATUS_MAX_ITER = 5,    /* iteration limit reached                   */
    SMR_STATUS_MAX_TIME = 6,    /* time limit reached                        */
    SMR_STATUS_NONFINITE = 7,   /* a non-finite loss or gradient was met
                                   (fixed step) and could not be avoided     */
    SMR_STATUS_LINE_SEARCH = 8, /* the line search found no decrease         */
    SMR_STATUS_NOT_POSDEF = 9,  /* the shifted Hessian stayed indefinite up
                                   to the largest shift                      */
    SMR_STATUS_CALLBACK = 10,   /* the progress callback asked to stop       */
    SMR_STATUS_DIVERGED = 11,   /* fixed step: the loss rose for 10
                                   iterations in a row                       */
    SMR_STATUS_COUNT_
} smr_status;

SMR_API const char *smr_status_string(smr_status s); /* sentence, static     */
SMR_API const char *smr_status_name(smr_status s);   /* "gtol", "max_iter".. */
SMR_API int smr_status_converged(smr_status s);      /* 1 for GTOL..ROUNDOFF */

/* One iteration's record, given to the callback and stored in the history.
 * Iteration 0 is the starting point. */
typedef struct smr_iter_info {
    int64_t iter;        /* iterations completed                             */
    double loss;         /* L at the current iterate                         */
    double grad_norm;    /* |grad L| (2-norm); NaN where not computed (SPSA
                            between gradient checks)                          */
    double step;         /* |x_k - x_{k-1}| (2-norm); 0 at iteration 0        */
    int64_t loss_evals;  /* cumulative counts so far                         */
    int64_t grad_evals;
    int64_t hess_evals;  /* dense Hessians formed, exact or sketched         */
    double elapsed;      /* seconds since the solve started                  */
    int64_t samples;     /* sketch: rows sampled for this iteration's Hessian
                            (n when every row was kept); 0 otherwise         */
} smr_iter_info;

/* Progress callback: return 0 to go on, anything else to stop at once
 * (status SMR_STATUS_CALLBACK; the value itself is not reported).  x is the
 * current iterate, d entries, read-only and valid during the call only. */
typedef int (*smr_callback)(const smr_iter_info *info, const double *x,
                            void *user);

/* Solver options.  Always start from smr_options_init(); every field is
 * checked by smr_solve() before anything is allocated
 * (SMR_ERR_BAD_OPTION). */
typedef struct smr_options {
    smr_method method;     /* default SMR_METHOD_AUTO                        */
    int64_t max_iter;      /* > 0; default 1000 (Newton needs ~10-50; GD and
                              SPSA more: raise it for them)                  */
    double max_time;       /* seconds, > 0 or 0 for none; default 0          */
    /* Convergence tests, checked after every iteration in this order.  The
     * gradient test is scale-aware by default: softmax-regression gradients
     * are tiny (|g(0)| ~ 1e-6 for n in the thousands), so an absolute
     * tolerance alone would stop at the start. */
    double gtol_abs;       /* >= 0; default 0 (off)                          */
    double gtol_rel;       /* in [0, 1); default 1e-9: |g| <= gtol_rel |g0|  */
    double ftol;           /* >= 0; |L_k - L_{k-1}| <= ftol max(|L_k|,
                              |L_{k-1}|); default 0 (off)                    */
    double xtol;           /* >= 0; |x_k - x_{k-1}| <= xtol (xtol + |x_k|);
                              default 0 (off)                                */
    uint64_t seed;         /* randomness (SPSA); default 0                   */
    int threads;           /* threads for the solve; 0 (default) takes
                              OpenBLAS's count (OPENBLAS_NUM_THREADS);
                              > 0 sets it for the solve and restores it after.
                              The library's own threads do the passes over A,
                              with OpenBLAS at one thread inside them.       */
    FILE *verbose;         /* NULL (default) or a stream that receives a
                              header and one line per iteration              */
    smr_callback callback; /* NULL (default) or called after every iteration
                              (and once for iteration 0)                     */
    void *callback_data;   /* passed to callback as user                     */
    smr_iter_info *history;/* NULL or caller memory for history_len records;
                              record k is iteration k (0 = start); later
                              iterations are not recorded                    */
    int64_t history_len;   /* >= 0; 0 with history NULL                      */

    /* Line search (GD Armijo/BB and Newton) */
    double armijo_c1;      /* in (0, 0.5); default 1e-4                      */
    int max_backtracks;    /* >= 1; default 60 (shortenings of the step:
                              halvings for Newton, 2-10x for GD)             */

    /* Gradient descent */
    smr_gd_step gd_step;   /* default SMR_GD_BB                              */
    double gd_step_size;   /* fixed step (SMR_GD_FIXED, required > 0); the
                              first trial step of the others when > 0;
                              default 0 (automatic: one unit of |x| move)    */

    /* Newton */
    double newton_mu0;     /* >= 0; initial Levenberg shift; default 0       */

    /* L-BFGS */
    int lbfgs_memory;      /* correction pairs kept, 1..1024; default 8      */

    /* Sketched Newton (docs/sketch.md) */
    double sketch_eps;     /* in (0, 1): spectral accuracy of the sampled
                              Hessian; default 0.5                           */
    double sketch_delta;   /* in (0, 1): failure probability; default 0.1    */
    int64_t sketch_samples;/* >= 0: rows per iteration; 0 (default) uses
                              smr_sparsify_sample_size(d, eps, delta)        */

    /* SPSA (docs/solvers.md) */
    int spsa_k;            /* perturbations per step, 1..1024; default 8     */
    double spsa_eps;       /* > 0 perturbation size in units of x, or 0
                              (default): 1e-4 / rms row norm of A             */
    double spsa_lr;        /* > 0: multiplier of the automatic step
                              k / (tr H + (k + 1) lambda_max H), estimated
                              from the loss values; default 1                */
    double spsa_step;      /* >= 0: a fixed step eta, x <- x - eta g^ at every
                              step with no refusal (the papers' algorithm;
                              their rule is eta = k / ((r + k + 1) lambda_max),
                              r = tr H / lambda_max); a loss that rises 10
                              steps in a row stops with SMR_STATUS_DIVERGED.
                              0 (default): the automatic step above          */
    smr_direction spsa_dir;/* default SMR_DIR_GAUSSIAN                       */
    int64_t spsa_check_every; /* >= 0: compute the true gradient every this
                              many steps for the gradient test (counted in
                              grad_evals); 0 = never (pure zeroth order:
                              stops on limits, ftol or callback); default 25 */
    /* SPSA minibatch mode (the second paper's setting): many problems
     * (A_j, b_j, w_j, lambda_j), j = 1..m, sharing x, with objective
     *     F(x) = (1/m) sum_j L_j(x).
     * Each step estimates the gradient on spsa_batch_size problems drawn
     * uniformly with replacement from (seed, iteration).  F itself (and its
     * gradient) is evaluated only at the start, at the gradient checks and at
     * the end; between checks the reported loss is the batch's. */
    int64_t spsa_batch_count; /* 0 (default): prob is one problem.  m > 0:
                              prob points to an array of m problems, all with
                              the same d; requires method SPSA               */
    int64_t spsa_batch_size;  /* problems per step, 1..m; default 1          */
} smr_options;

/* Fill opt with the defaults documented above. */
SMR_API void smr_options_init(smr_options *opt);

/* Check every field; returns SMR_OK or SMR_ERR_BAD_OPTION.  If field is not
 * NULL, *field receives the name of the first bad field (static string). */
SMR_API int smr_options_check(const smr_options *opt, const char **field);

/* How a solve ended, with exact counts. */
typedef struct smr_result {
    smr_status status;     /* see smr_status                                 */
    int converged;         /* smr_status_converged(status)                   */
    smr_method method;     /* the method that ran: auto resolves to newton up
                              to SMR_AUTO_NEWTON_MAX_D, else stays auto
                              (L-BFGS, then Newton if it stalls)             */
    int64_t iterations;
    double loss;           /* L at the returned x, bit for bit what smr_loss
                              returns there (re-evaluated once at the end,
                              counted below)                                 */
    double grad_norm;      /* |grad L| at the returned x (always computed,
                              as smr_gradient computes it)                   */
    double initial_loss, initial_grad_norm;
    int64_t loss_evals;    /* every loss value computed (a loss+gradient
                              evaluation counts one loss and one gradient;
                              an SPSA step with k directions counts 2k + 1;
                              in minibatch mode each problem evaluated at a
                              point counts one: a step with batch B counts
                              B (2k + 2), a full F evaluation m; the final
                              evaluation at the returned x counts one of
                              each)                                          */
    int64_t grad_evals;
    int64_t hess_evals;    /* dense Hessians formed                          */
    double seconds;        /* wall-clock time of the solve                   */
    const char *message;   /* smr_status_string(status)                      */
} smr_result;

/* Minimize L from the start x.  prob is checked completely (every problem
 * of the array in SPSA minibatch mode, which also needs equal d:
 * SMR_ERR_BAD_SIZE otherwise)
 * (smr_problem_check), opt (NULL = defaults) field by field, all memory is
 * allocated before the first iteration and freed at the end.
 *
 * x: in, the start (d finite entries); out, the best valid iterate found
 * (the one with the lowest loss), whatever the status.  res receives the
 * outcome; it may not be NULL.
 *
 * Returns SMR_OK when the solve ran (then read res->status), or an error
 * code, with x and res untouched: the problem errors of smr_loss,
 * SMR_ERR_BAD_OPTION, SMR_ERR_NO_MEMORY. */
SMR_API int smr_solve(const smr_problem *prob, const smr_options *opt,
                      double *x, smr_result *res);

/* One SPSA gradient estimate at x, as a solver step computes it:
 *     ghat = (1/k) sum_j [L(x + eps z_j) - L(x - eps z_j)] / (2 eps) z_j
 * with z_j = direction j of iteration iter under seed (Philox; Gaussian or
 * Rademacher per dir).  E ghat = grad L + O(eps^2); for Gaussian z,
 * E|ghat|^2 ~ (d + k + 1)/k |grad L|^2.  The 2k losses come from Ax and one
 * more pass over A (A Z formed a block of rows at a time, never stored:
 * extra memory O(n + d k)).  A loss that this pass cannot form
 * (|eps A z_j| beyond exp's range) is computed by a forward pass at
 * x +- eps z_j, as smr_loss would.  k in 1..1024, eps > 0 (in units of x).  Errors: those of
 * smr_loss (A checked lazily, as there), SMR_ERR_BAD_ARGUMENT,
 * SMR_ERR_OVERFLOW; ghat untouched then. */
SMR_API int smr_spsa_gradient(const smr_problem *prob, const double *x, int k,
                              double eps, smr_direction dir, uint64_t seed,
                              uint64_t iter, double *ghat);

/* ------------------------------------------------------------------------ */
/* Matrix Market I/O                                                         */
/* ------------------------------------------------------------------------ */
/*
 * Dense matrices and vectors in the Matrix Market exchange format (NIST;
 * SciPy mmread/mmwrite, Julia, MATLAB).  Read: "matrix array real general"
 * and "matrix coordinate real general" (field "integer" too), the latter
 * into the dense layout (duplicate entries are summed, as SciPy does when it
 * densifies).  Write: "matrix array real general" with 17 significant
 * digits, so a write/read round trip is exact.  A vector is an n x 1 matrix.
 *
 * Every error fills msg (if msg and msglen > 0) with one line naming the file
 * and, for content errors, the line: "A.mtx:12: entry 'abc' is not a number".
 * Sizes are checked before anything is allocated: against the 32-bit BLAS
 * integer, against this machine's physical memory, and against the file's
 * length (a file cannot hold more entries than it has bytes for).
 */

/* A dense matrix owned by the library: column-major, leading dimension
 * rows, data 64-byte aligned (a cache line: the kernels' loads need no
 * partial head).  Free with smr_matrix_free(). */
typedef struct smr_matrix {
    int64_t rows, cols;
    double *data;
} smr_matrix;

SMR_API void smr_matrix_free(smr_matrix *m);

/* Read path into *m (on error *m is left as it was).  Errors:
 * SMR_ERR_NULL_POINTER, SMR_ERR_IO (cannot open; a directory; read error),
 * SMR_ERR_FORMAT (bad header, unsupported kind, bad size line, entry not a
 * number, NaN/Inf/overflowing entry, index out of range, too few or too many
 * entries, binary data, line too long), SMR_ERR_TOO_LARGE (declared size
 * beyond the BLAS integer, the machine's memory or the file's length),
 * SMR_ERR_NO_MEMORY. */
SMR_API int smr_mm_read(const char *path, smr_matrix *m, char *msg,
                        size_t msglen);
/* The same from an open stream; name is used in messages. */
SMR_API int smr_mm_read_stream(FILE *f, const char *name, smr_matrix *m,
                               char *msg, size_t msglen);
/* Write a rows x cols column-major matrix (leading dimension ld >= rows, 0
 * means rows) to path as "matrix array real general", %.17g.  comment (may
 * be NULL) is written as a % line.  The file is written to a temporary name
 * in the same folder and renamed into place, so an existing file is never
 * left half-written.  Errors: SMR_ERR_NULL_POINTER, SMR_ERR_BAD_SIZE,
 * SMR_ERR_BAD_LD, SMR_ERR_NONFINITE_X (non-finite entry), SMR_ERR_IO. */
SMR_API int smr_mm_write(const char *path, int64_t rows, int64_t cols,
                         const double *data, int64_t ld, const char *comment,
                         char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif

#endif /* SOFTMAXREG_H */
