/*
 * solver.h -- the solver layer (internal).
 *
 * The driver (driver.c) owns options, the stopping tests, timing, the
 * callback, the history, the verbose stream and the best-iterate
 * bookkeeping.  A method is a small table of functions (smr_method_ops)
 * in a file of its own; adding a method is adding a file and a line in
 * methods.c.  Data flow: driver -> method -> objective -> kernels.
 */
#ifndef SMR_SOLVER_H
#define SMR_SOLVER_H

#include "../objective/objective.h"

typedef struct smr_solver smr_solver;

typedef struct smr_method_ops {
    const char *name;
    bool needs_hessian_blocks; /* objective workspace with Hessian blocks */
    /* Allocate the method's state (everything its iterations need). */
    int (*init)(smr_solver *sv);
    /* One iteration from sv->x (loss sv->loss, gradient sv->g when
     * sv->have_grad).  On return with SMR_STATUS_NONE, sv->x holds the new
     * iterate, sv->loss its loss, sv->g its gradient if sv->have_grad,
     * sv->step the length of the move.  Any other status stops the solve
     * with sv->x at the last valid iterate. */
    smr_status (*iterate)(smr_solver *sv);
    void (*free)(smr_solver *sv);
} smr_method_ops;

const smr_method_ops *smr_method_table(smr_method m);

struct smr_solver {
    const smr_problem *prob;   /* the problem; in minibatch mode probs[0]  */
    const smr_problem *probs;  /* minibatch mode: the m problems, else NULL */
    int64_t nprobs;            /* m (1 outside minibatch mode)             */
    bool loss_exact;           /* sv->loss is L (or F), not a batch loss   */
    smr_options opt;       /* validated copy */
    int64_t n, d;
    smr_ws ws;             /* objective work memory */
    double *x;             /* current iterate (d) */
    double *g;             /* gradient at x (d), valid when have_grad */
    double *xt, *gt;       /* trial point and its gradient (d each) */
    double loss, gnorm, step;
    double loss0, gnorm0;  /* at the start */
    bool have_grad;
    int64_t iter;
    int64_t loss_evals, grad_evals, hess_evals;
    int64_t samples;       /* rows in the last sketched Hessian (0: none) */
    void *state;           /* method's own */
};

/* Counted evaluations.  smr_sv_loss: loss at y (forward pass, leaves the
 * forward state for y in sv->ws).  smr_sv_grad: gradient at the point of
 * the last forward pass.  Both return an smr_error (SMR_ERR_OVERFLOW when
 * the values are not finite). */
int smr_sv_loss(smr_solver *sv, const double *y, double *loss);
int smr_sv_grad(smr_solver *sv, const double *y, double *g);
/* Loss and gradient of the whole objective at y (in minibatch mode the mean
 * over all problems, each counted). */
int smr_sv_eval(smr_solver *sv, const double *y, double *loss, double *g);
/* The same by the two-pass path of smr_loss_gradient (bit-identical to the
 * public functions; the one-pass path of smr_sv_eval may differ from them
 * in the last bits).  Used at the start and for the result. */
int smr_sv_eval_exact(smr_solver *sv, const double *y, double *loss, double *g);

/* Armijo backtracking along direction p from sv->x (loss sv->loss, slope
 * gp = g.p < 0), starting at step t0:  L(x + t p) <= Lref + c1 t gp, where
 * Lref >= sv->loss (non-monotone variants pass a larger reference).  A
 * refused step is halved, or with interp shortened to the minimizer of the
 * quadratic through the values and the slope, within [t/10, t/2]
 * (linesearch.c: gradient descent, whose first step has no natural
 * scale; Newton's unit step has one and halves).
 * Non-finite trial values count as "too long".  On success (SMR_STATUS_NONE)
 * sv->xt = x + t p with its loss in *lt, the gradient in sv->gt, and *t the
 * accepted step; otherwise SMR_STATUS_ROUNDOFF (no decrease measurable: the
 * predicted decrease t0 |gp| is below the rounding of L) or
 * SMR_STATUS_LINE_SEARCH. */
smr_status smr_line_search(smr_solver *sv, const double *p, double gp,
                           double lref, bool interp, double *t, double *lt);

/* A trial loss l at step t along a slope gp that no decrease could be
 * measured from: the predicted decrease t |gp| and the change are within
 * the rounding of sv->loss (256 ulps).  Shared by the line searches. */
bool smr_ls_no_gain(const smr_solver *sv, double t, double gp, double l);

/* Accept the trial point: swap x/xt and g/gt, set loss, step. */
void smr_sv_accept(smr_solver *sv, double loss, double step);

double smr_norm2(int64_t n, const double *v);

/* The shifted Newton step shared by Newton and sketched Newton: given the
 * (approximate) Hessian in c->H at sv->x, factor H + mu I (raising mu until
 * Cholesky succeeds), line-search along -(H + mu I)^{-1} g, adapt mu. */
typedef struct smr_newton_core {
    double *H, *M, *p; /* Hessian, its shifted factor, direction */
    double mu;
} smr_newton_core;
int smr_newton_core_init(smr_newton_core *c, int64_t d, double mu0);
void smr_newton_core_free(smr_newton_core *c);
smr_status smr_newton_core_step(smr_solver *sv, smr_newton_core *c);
/* A Newton iteration: the exact Hessian at sv->x, from the forward pass
 * the workspace holds (it must be at sv->x), then smr_newton_core_step. */
smr_status smr_newton_core_iterate(smr_solver *sv, smr_newton_core *c);

/* the method tables, one per file */
extern const smr_method_ops smr_gd_ops;
extern const smr_method_ops smr_lbfgs_ops;
extern const smr_method_ops smr_auto_ops; /* L-BFGS, then Newton (lbfgs.c) */
extern const smr_method_ops smr_newton_ops;
extern const smr_method_ops smr_spsa_ops;
extern const smr_method_ops smr_sketch_ops;

/* fixed steps (GD, SPSA): this many consecutive rises of the loss mean
 * divergence (SMR_STATUS_DIVERGED) */
#define SMR_SV_RISES 10
/* Two losses within this many ulps of the larger are a tie: the driver's
 * best iterate then takes the smaller gradient (keep_best), and the line
 * search takes a step on the gradient alone (slope_accepts). */
#define SMR_LOSS_TIE_ULPS 8.0

#endif
