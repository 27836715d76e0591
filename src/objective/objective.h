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
    double *z;       /* n: logits Ax                                  */
    double *f;       /* n: softmax(z)                                 */
    double *nk;      /* 3n: column-major n x 3 multi-vector scratch   */
    double *dk;      /* 3d: column-major d x 3 multi-vector scratch   */
    double *blk;     /* 2 * nb * d: Hessian row blocks (if requested) */
    int64_t nb;      /* rows per Hessian block (0 if no blk)          */
    double fc;       /* <f, c>, c = f - b, at the last forward pass   */
    double loss;     /* L at the last forward pass                    */
} smr_ws;

/* Checks everything about prob except the entries of A (pointers, sizes,
 * layout, ld, lambda, finiteness of b and w).  Pure; O(n). */
int smr_check_problem_basic(const smr_problem *prob);
/* Resolve the borrowed matrix view (lda 0 -> packed).  prob must have
 * passed smr_check_problem_basic. */
smr_mat smr_problem_mat(const smr_problem *prob);
/* Called when a result is non-finite: scans A and says whether A is the
 * cause (SMR_ERR_NONFINITE_A) or the arithmetic overflowed. */
int smr_classify_nonfinite(const smr_problem *prob);

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
/* Loss from given logits z (n) with the ridge term's |x|^2 given as xsq:
 *   1/2 |softmax(z) - b|^2 + 1/2 |w o z|^2 + 1/2 lambda xsq.
 * f (n) receives softmax(z).  No pass over A: this is how SPSA evaluates
 * perturbed losses from Ax and AZ.  Non-finite z or result: returns NaN/Inf
 * (callers test isfinite). */
double smr_obj_loss_logits(const smr_problem *prob, const double *z,
                           double xsq, double *f);
/* Gradient at the point of the last forward pass into g (d).  One pass. */
int smr_obj_gradient(const smr_problem *prob, const double *x, smr_ws *ws,
                     double *g);
/* Hessian (+ mu I) at the point of the last forward pass, into column-major
 * H (both triangles).  Needs ws->blk. */
int smr_obj_hessian(const smr_problem *prob, smr_ws *ws, double mu, double *H,
                    int64_t ldh);
/* hv = H s at point x (runs its own forward pass, updating ws). */
int smr_obj_hessvec(const smr_problem *prob, const double *x, const double *s,
                    smr_ws *ws, double *hv);

#endif
