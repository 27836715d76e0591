/* status.c -- names and sentences of solve statuses and methods. */
#include "solver.h"

static const char *const status_names[SMR_STATUS_COUNT_] = {
    [SMR_STATUS_NONE] = "none",
    [SMR_STATUS_GTOL] = "gtol",
    [SMR_STATUS_FTOL] = "ftol",
    [SMR_STATUS_XTOL] = "xtol",
    [SMR_STATUS_ROUNDOFF] = "roundoff",
    [SMR_STATUS_MAX_ITER] = "max_iter",
    [SMR_STATUS_MAX_TIME] = "max_time",
    [SMR_STATUS_NONFINITE] = "nonfinite",
    [SMR_STATUS_LINE_SEARCH] = "line_search_failed",
    [SMR_STATUS_NOT_POSDEF] = "not_posdef",
    [SMR_STATUS_CALLBACK] = "callback",
    [SMR_STATUS_DIVERGED] = "diverged",
};

static const char *const status_sentences[SMR_STATUS_COUNT_] = {
    [SMR_STATUS_NONE] = "the solve has not run",
    [SMR_STATUS_GTOL] = "converged: the gradient norm is below its tolerance",
    [SMR_STATUS_FTOL] = "converged: the relative change of the loss is below ftol",
    [SMR_STATUS_XTOL] = "converged: the relative step is below xtol",
    [SMR_STATUS_ROUNDOFF] = "converged to machine precision: no further decrease of the loss is measurable in double precision",
    [SMR_STATUS_MAX_ITER] = "stopped: the iteration limit was reached before convergence",
    [SMR_STATUS_MAX_TIME] = "stopped: the time limit was reached before convergence",
    [SMR_STATUS_NONFINITE] = "stopped: a non-finite loss or gradient was met; x is the last finite iterate",
    [SMR_STATUS_LINE_SEARCH] = "stopped: the line search found no step that decreases the loss",
    [SMR_STATUS_NOT_POSDEF] = "stopped: the shifted Hessian stayed indefinite up to the largest shift",
    [SMR_STATUS_CALLBACK] = "stopped by the progress callback",
    [SMR_STATUS_DIVERGED] = "stopped: the loss rose for 10 iterations in a row (fixed step too large?)",
};

const char *smr_status_name(smr_status s)
{
    return (s >= 0 && s < SMR_STATUS_COUNT_) ? status_names[s] : "unknown";
}

const char *smr_status_string(smr_status s)
{
    return (s >= 0 && s < SMR_STATUS_COUNT_) ? status_sentences[s]
                                             : "unknown status";
}

int smr_status_converged(smr_status s)
{
    return s == SMR_STATUS_GTOL || s == SMR_STATUS_FTOL ||
           s == SMR_STATUS_XTOL || s == SMR_STATUS_ROUNDOFF;
}

static const char *const method_names[SMR_METHOD_COUNT_] = {
    [SMR_METHOD_AUTO] = "auto",
    [SMR_METHOD_GD] = "gd",
    [SMR_METHOD_NEWTON] = "newton",
    [SMR_METHOD_SPSA] = "spsa",
    [SMR_METHOD_SKETCH] = "sketch",
    [SMR_METHOD_LBFGS] = "lbfgs",
};

const char *smr_method_name(smr_method m)
{
    return (m >= 0 && m < SMR_METHOD_COUNT_) ? method_names[m] : NULL;
}

const smr_method_ops *smr_method_table(smr_method m)
{
    static const smr_method_ops *const table[SMR_METHOD_COUNT_] = {
        [SMR_METHOD_AUTO] = &smr_auto_ops, /* what auto runs above SMR_AUTO_NEWTON_MAX_D */
        [SMR_METHOD_GD] = &smr_gd_ops,
        [SMR_METHOD_NEWTON] = &smr_newton_ops,
        [SMR_METHOD_SPSA] = &smr_spsa_ops,
        [SMR_METHOD_SKETCH] = &smr_sketch_ops,
        [SMR_METHOD_LBFGS] = &smr_lbfgs_ops,
    };
    return (m >= 0 && m < SMR_METHOD_COUNT_) ? table[m] : NULL;
}
