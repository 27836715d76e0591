/*
 * options.c -- solver options: documented defaults and a field-by-field
 * check that runs before anything is allocated.
 */
#include "solver.h"

#include <math.h>

void smr_options_init(smr_options *o)
{
    *o = (smr_options){0};
    o->method = SMR_METHOD_AUTO;
    o->max_iter = 1000;
    o->gtol_rel = 1e-9;
    o->armijo_c1 = 1e-4;
    o->max_backtracks = 60;
    o->gd_step = SMR_GD_BB;
    o->spsa_k = 8;
    o->spsa_lr = 1.0;
    o->spsa_step = 0.0;
    o->spsa_dir = SMR_DIR_GAUSSIAN;
    o->spsa_check_every = 25;
    o->spsa_batch_size = 1;
    o->lbfgs_memory = 8;
    o->sketch_eps = 0.5;
    o->sketch_delta = 0.1;
}

static bool finite_ge0(double v) { return isfinite(v) && v >= 0.0; }

int smr_options_check(const smr_options *o, const char **field)
{
    const char *bad = NULL;
    if (!o)
        bad = "options";
    else if (o->method < 0 || o->method >= SMR_METHOD_COUNT_)
        bad = "method";
    else if (o->max_iter <= 0)
        bad = "max_iter";
    else if (!finite_ge0(o->max_time))
        bad = "max_time";
    else if (!finite_ge0(o->gtol_abs))
        bad = "gtol_abs";
    else if (!(o->gtol_rel >= 0.0 && o->gtol_rel < 1.0))
        bad = "gtol_rel";
    else if (!finite_ge0(o->ftol))
        bad = "ftol";
    else if (!finite_ge0(o->xtol))
        bad = "xtol";
    else if (o->threads < 0 || o->threads > 4096)
        bad = "threads";
    else if (o->history_len < 0 || (o->history_len > 0 && !o->history))
        bad = "history_len";
    else if (!(o->armijo_c1 > 0.0 && o->armijo_c1 < 0.5))
        bad = "armijo_c1";
    else if (o->max_backtracks < 1 || o->max_backtracks > 1000)
        bad = "max_backtracks";
    else if (o->gd_step < SMR_GD_BB || o->gd_step > SMR_GD_FIXED)
        bad = "gd_step";
    else if (!finite_ge0(o->gd_step_size) ||
             (o->gd_step == SMR_GD_FIXED && o->gd_step_size == 0.0))
        bad = "gd_step_size";
    else if (!finite_ge0(o->newton_mu0))
        bad = "newton_mu0";
    else if (o->lbfgs_memory < 1 || o->lbfgs_memory > 1024)
        bad = "lbfgs_memory";
    else if (!(o->sketch_eps > 0.0 && o->sketch_eps < 1.0))
        bad = "sketch_eps";
    else if (!(o->sketch_delta > 0.0 && o->sketch_delta < 1.0))
        bad = "sketch_delta";
    else if (o->sketch_samples < 0)
        bad = "sketch_samples";
    else if (o->spsa_k < 1 || o->spsa_k > 1024)
        bad = "spsa_k";
    else if (!finite_ge0(o->spsa_eps))
        bad = "spsa_eps";
    else if (!(isfinite(o->spsa_lr) && o->spsa_lr > 0.0))
        bad = "spsa_lr";
    else if (!finite_ge0(o->spsa_step))
        bad = "spsa_step";
    else if (o->spsa_dir != SMR_DIR_GAUSSIAN && o->spsa_dir != SMR_DIR_RADEMACHER)
        bad = "spsa_dir";
    else if (o->spsa_check_every < 0)
        bad = "spsa_check_every";
    else if (o->spsa_batch_count < 0 ||
             (o->spsa_batch_count > 0 && o->method != SMR_METHOD_SPSA))
        bad = "spsa_batch_count";
    else if (o->spsa_batch_count > 0 &&
             (o->spsa_batch_size < 1 || o->spsa_batch_size > o->spsa_batch_count))
        bad = "spsa_batch_size";
    if (field)
        *field = bad;
    return bad ? SMR_ERR_BAD_OPTION : SMR_OK;
}
