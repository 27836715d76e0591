/*
 * objective.h -- the objective layer (internal).
 *
 * Evaluation is split into a forward pass that computes the quantities every
 * derivative shares (z = Ax, f = softmax(z), <f,c>, the loss), and the
 * derivative assemblies that reuse them.  The public functions in
 * softmaxreg.h wrap these with a workspace allocated per call; the solvers
 * allocate one workspace before their loop and call these directly.
 */
#ifndef SMR_OBJECTIVE_H
#define SMR_OBJECTIVE_H

#include "softmaxreg.h"
#include "../kernels/kernels.h"

/* Work memory and the forward state at the last point evaluated. */
typedef struct smr_ws {
    smr_mat A;       /* borrowed view of prob->A with lda resolved */
    int64_t n, d;
    int64_t ncap;    /* rows allocated for (smr_ws_bind may lower n)  */
    double *z;       /* n: logits Ax                                  */
    double *f;       /* n: softmax(z)                                 */
    double *nk;      /* 3n: column-major n x 3 multi-vector scratch   */
    double *dk;      /* 3d: column-major d x 3 multi-vector scratch   */
    double *blk;     /* 2 * nb * d: Hessian row blocks (if requested) */
    int64_t nb;      /* rows per Hessian block (0 if no blk)          */
    int hcap;        /* parts the Hessian's per-thread scratch is for */
    double *hpart;   /* (hcap - 1) x (d^2 + 2 nb d + 2 nb), hessian.c */
    double fc;       /* <f, c>, c = f - b, at the last forward pass   */
    double loss;     /* L at the last forward pass                    */
    /* one-pass loss+gradient (fused.c; scratch allocated on first use) */
    int64_t nbf;     /* rows per block                                */
    int64_t nblk;    /* blocks of the allocated n                     */
    int tcap;        /* parts (threads) the scratch is sized for      */
    double *part;    /* tcap x SMR_FUSED_PART(d) per-thread scratch (fused.c) */
    double *bmu;     /* nblk: the exp shift each block was taken with */
    double *bsum;    /* 4 nblk (in bmu's allocation): per block, the sum
                        of u and the finishing sums (forward.c)       */
    bool have_guess; /* lse and <f,c> of the last pass are known      */
    bool fwd_valid;  /* z and f hold the forward state of the last
                        point evaluated (false after a lean pass)    */
    bool lean;       /* setting: smr_obj_loss_grad may skip z and f  */
    bool have_pred;  /* pred holds A^T f and x of the last one pass  */
    double *pred;    /* 3d (fused.c): the lse's first-order model
                        (A^T f, x), then q = A^T (f o (2f - b))      */
    bool pq_valid;   /* pred's A^T f and q are the Hessian's p and q
                        at the forward state (set by the one pass
                        when they are accurate, cleared by every
                        other writer of z and f; hessian.c)          */
    bool a_checked;  /* every entry of A is known finite: x = 0 then
                        gives z = 0 without reading A (loss.c).  Set
                        by the solver driver, which checks every
                        problem it binds; smr_ws_init clears it       */
    double guess_lse, guess_fc;
    bool zsum_ok;    /* zmu = max z and zalpha = sum exp(z - zmu) of
                        ws->z are known (set by smr_obj_forward, cleared
                        by every other writer of z; SPSA's pass)      */
    double zmu, zalpha;
    int64_t fused_passes, fused_fallbacks; /* counters (benchmarks)  */
    int64_t lean_passes, lean_fallbacks;   /* lean passes; their losses
                                              redone by a forward pass */
} smr_ws;

/* Checks the description of A only (pointer, sizes, layout, ld). */
int smr_check_matrix(const smr_problem *prob);
/* Checks everything about prob except the entries of A (pointers, sizes,
 * layout, ld, lambda, finiteness of b and w).  Pure; O(n). */
int smr_check_problem_basic(const smr_problem *prob);
/* Resolve the borrowed matrix view (lda 0 -> packed).  prob must have
 * passed smr_check_problem_basic. */
smr_mat smr_problem_mat(const smr_problem *prob);
/* Called when a result is non-finite: scans A and says whether A is the
 * cause (SMR_ERR_NONFINITE_A) or the arithmetic overflowed. */
int smr_classify_nonfinite(const smr_problem *prob);

/* Rows per block of about `bytes` for d columns, at least min_rows, at
 * most n. */
int64_t smr_ws_block_rows(int64_t bytes, int64_t d, int64_t min_rows, int64_t n);
/* Allocate the workspace (with Hessian blocks if want_hessian). */
int smr_ws_init(smr_ws *ws, const smr_problem *prob, bool want_hessian);
void smr_ws_free(smr_ws *ws);
/* Point the workspace at another problem with the same d and no more rows
 * than the one it was allocated for (minibatch mode). */
void smr_ws_bind(smr_ws *ws, const smr_problem *prob);

/* Forward pass at x: fills ws->z, ws->f, ws->fc, ws->loss.  One pass over
 * A.  Returns SMR_OK, SMR_ERR_NONFINITE_A or SMR_ERR_OVERFLOW. */
int smr_obj_forward(const smr_problem *prob, const double *x, smr_ws *ws);
/* The part of the forward pass after z: f, <f,c>, loss from ws->z (finite). */
int smr_obj_forward_from_z(const smr_problem *prob, const double *x,
                           smr_ws *ws);
/* The data and w parts of the losses at logits z + eps a_j (out[2j]) and
 * z - eps a_j (out[2j+1]), a_j = A Z[:, j], j < k (Z d x k, ld d), without
 * the ridge term, in one pass over A and z (perturbed.c; A Z formed a
 * block at a time, never stored).  z must be A x for the same A.  zs:
 * {max z, sum exp(z - max z)} when the caller knows them (the forward
 * pass that made z: ws->zmu, ws->zalpha), else NULL (a sweep over z forms
 * them).  A loss it cannot form (exp out of range) is NaN: recompute it
 * the plain way.
 * scratch holds smr_obj_perturbed_scratch(k, d, tcap) doubles; up to tcap
 * threads.  Returns SMR_ERR_OVERFLOW if z itself is unusable (not
 * finite). */
int smr_obj_perturbed_losses(const smr_problem *prob, const smr_mat *A,
                             const double *z, const double *zs, const double *Z,
                             int64_t k, double eps, double *scratch, int tcap,
                             double *out);
int64_t smr_obj_perturbed_scratch(int64_t k, int64_t d, int tcap);
/* Loss and gradient at x in one pass over A (fused.c): fills what
 * smr_obj_forward fills and g (d).  Falls back to a second pass (the
 * gradient of smr_obj_gradient) when its a-posteriori accuracy test fails.
 * With ws->lean set and a previous evaluation's shift known, the pass
 * stores no n-vector: ws->loss, ws->fc and g are filled, z and f are not
 * (ws->fwd_valid false; the Hessian and smr_obj_gradient then refuse),
 * and the loss comes from sums taken in the pass, or from a forward pass
 * when their a-posteriori test fails (docs/math.md, "The lean pass"). */
int smr_obj_loss_grad(const smr_problem *prob, const double *x, smr_ws *ws,
                      double *g);
/* Column-major A with more columns than this: the solvers take two passes
 * (docs/benchmarks.md, "Where the solvers use the one pass").  1000 up to
 * stop 35 (at the kernels of 9906f5a the faster path from d = 1200 to
 * 2000 changed with n and with the hour by up to 25 % either way).  At
 * stop 36 (ab55569), L-BFGS and auto solves with one pass took 0.56-0.70
 * of the time with two at d = 1200 ... 4000, n = 5000 ... 30000, at both
 * SIMD levels and on one thread (paired, same iterations), and
 * the kernel rows had the one pass ahead at d = 2000 since run24
 * (0.62-0.81 of the two passes' time); at d = 6000-8000 the two were even
 * (0.93-0.98), and at 9906f5a two passes were faster there (30 against
 * 44 ms at d = 8000, n = 10^4): the cap stays at the largest d measured
 * with a clear margin. */
#define SMR_FUSED_COL_MAX_D 4000
/* The one-pass path's per-thread scratch, sized for the rows the workspace
 * was allocated for and the thread count in force; allocated once (a no-op
 * afterwards; smr_obj_loss_grad calls it, solvers call it up front so that
 * their loops never allocate). */
int smr_ws_fused_init(smr_ws *ws);
/* The scratch of part (thread) t: G (d x 4), Gb (d x 4, fused_rows.c), Gl
 * (d x 4 x 8, fused_cols.c), then 13 scalars: mu, alpha, zmax, fin (the
 * pass), sum (f-b)^2, sum (wz)^2, <f, f-b> (finish), err1 (the pass: G1's
 * rescale rounding bound / eps), the count of shifts raised (the pass),
 * the lean pass's S1..S4 */
#define SMR_FUSED_PART(d) (40 * (d) + 13)
static inline double *smr_fused_part_g(smr_ws *ws, int t)
{
    return ws->part + (int64_t)t * SMR_FUSED_PART(ws->d);
}
static inline double *smr_fused_part_s(smr_ws *ws, int t)
{
    return smr_fused_part_g(ws, t) + 40 * ws->d;
}
/* n d below which the blocked passes use one thread: 2^16 entries (512 KB,
 * a pass of ~10-40 us on one core) since the pool's workers spin between
 * calls (kernels/parallel.c); 2^20 before, when each call paid a sleeping
 * worker's 29-62 us wake (docs/solvers.md, "threads") */
#define SMR_FUSED_MIN_WORK (1 << 16)
/* Rows per block of the forward and gradient passes for A of the given
 * layout (and of the one-pass kernel for row-major A): row-major from d
 * and ws->ncap, column-major from ws->n (forward.c). */
int64_t smr_fwd_block_rows(const smr_ws *ws, bool row_major);
/* The most forward-pass blocks of any problem of n <= ws->ncap rows. */
int64_t smr_fwd_blocks_cap(const smr_ws *ws);
/* Threads for a blocked pass over nblk blocks (fused.c, forward.c). */
int smr_fused_threads(const smr_ws *ws, int64_t nblk);

/* products.c: Z (n x k, columns n apart) = A X (X d x k, columns d
 * apart), k <= 2 (SMR_ERR_OVERFLOW when an entry of Z is not finite); and
 * out (d x k, columns d apart) = A^T C (C n x k, columns n apart), k <= 3.
 * In the forward pass's blocks, each one pass over A (ws's threads). */
int smr_obj_mul_blocks(smr_ws *ws, int k, const double *X, double *Z);
int smr_obj_mul_t_blocks(smr_ws *ws, int k, const double *C, double *out);
/* The end of a blocked forward pass (forward.c): blocks of nb rows hold
 * u = exp(z - bmu[k]) in ws->f, alpha = sum_k e^(bmu[k] - mu) sum(u_k);
 * makes f = softmax(z) in place, ws->loss and ws->fc, with per-block sums
 * added in block order (T threads). */
void smr_obj_finish(const smr_problem *prob, const double *x, smr_ws *ws,
                    int64_t nb, int T, double mu, double alpha);
/* L from z (for the w term) and f = softmax(z). */
double smr_obj_loss_of_f(const smr_problem *prob, const double *z,
                         const double *f, double xsq);
/* Gradient at the point of the last forward pass into g (d).  One pass. */
int smr_obj_gradient(const smr_problem *prob, const double *x, smr_ws *ws,
                     double *g);
/* Hessian (+ mu I) at the point of the last forward pass, into column-major
 * H (both triangles).  Needs ws->blk. */
int smr_obj_hessian(const smr_problem *prob, smr_ws *ws, double mu, double *H,
                    int64_t ldh);
/* The parts of the Hessian at the last forward pass: e (ws->nk column 2),
 * p and q (ws->dk columns 0, 1; one pass over A, products.c); returns
 * kappa, or NaN without a forward pass or when the pass's per-thread
 * buffers cannot be allocated. */
double smr_obj_hessian_parts(const smr_problem *prob, smr_ws *ws);
/* Scratch for assembling the Hessian with T threads (hessian.c); called by
 * smr_ws_init with the thread count in force.  SMR_ERR_NO_MEMORY. */
int smr_ws_hessian_parts(smr_ws *ws, int T);
/* H = sum_k wt[k] a_{rows[k]} a_{rows[k]}^T (all rows with e when rows is
 * NULL) - p q^T - q p^T + kappa p p^T + (lambda + mu) I, after
 * smr_obj_hessian_parts. */
int smr_obj_hessian_assemble(const smr_problem *prob, smr_ws *ws, double kappa,
                             const int64_t *rows, const double *wt, int64_t count,
                             double mu, double *H, int64_t ldh);
/* hv = H s at point x (runs its own forward pass, updating ws). */
int smr_obj_hessvec(const smr_problem *prob, const double *x, const double *s,
                    smr_ws *ws, double *hv);

/* ---- leverage-score sparsifier (sparsify.c) ---- */

#define SMR_SPARSIFY_C 4.0          /* s = C d ln(2d/delta) / eps^2        */
#define SMR_SKETCH_ROWS_PER_COL 8   /* CountSketch rows m = 8 d (<= n)     */
#define SMR_JL_COLS 16              /* JL dimension k                      */

/* Work memory of the sparsifier, allocated once (the solver reuses it). */
typedef struct smr_spz {
    int64_t m, k, kp;      /* sketch rows, JL columns, k padded       */
    double *SM, *tau;      /* m x d sketch, its R on top; d (exact path) */
    double *W, *Wr;        /* d x k R^{-1} G; W as d x kp rows         */
    double *cum, *scale;   /* n each                                  */
    int64_t *idx, *count;  /* n each                                  */
    int64_t *rows;         /* kept rows (capacity min(s_max, n))      */
    double *weights;       /* their weights                           */
    double *work;          /* nwork doubles: the CountSketch threads'
                            * and the QR's scratch (smr_spz_reserve)   */
    int64_t nwork;
    int64_t kept, samples;
} smr_spz;

int smr_spz_init(smr_spz *z, int64_t n, int64_t d, int64_t s_max);
void smr_spz_free(smr_spz *z);
/* The threads' scratch for scores of A (z->work), allocated if short:
 * smr_spz_scores calls it, and the sketched solver at its start, so that
 * running out of memory is the solve's SMR_ERR_NO_MEMORY, not a failed
 * iteration.  Depends on the thread count in force. */
int smr_spz_reserve(smr_spz *z, const smr_mat *A);
/* approximate leverage scores of diag(sqrt|D|) A into scores (n) */
int smr_spz_scores(smr_spz *z, const smr_mat *A, const double *D, uint64_t seed,
                   double *scores);
/* draw s rows by scores; kept rows and weights D_i count_i / (s p_i) into
 * z->rows, z->weights, z->kept.  s >= n keeps every row exactly. */
int smr_spz_sample(smr_spz *z, int64_t n, const double *D, const double *scores,
                   int64_t s, uint64_t seed);

#endif
