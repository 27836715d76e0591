/* cli_solve.c -- `softmaxreg solve`: minimize, print one JSON object. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: softmaxreg solve A.mtx b.mtx [options]\n"
    "\n"
    "Minimize 1/2|softmax(Ax) - b|^2 + 1/2|diag(w)Ax|^2 + 1/2 lambda|x|^2 from x0 (default 0)\n"
    "and print one JSON object on stdout: status, converged, method, n, d, iterations,\n"
    "loss, grad_norm, seconds, loss_evals, grad_evals, hess_evals.\n"
    "\n"
    "  --method M      auto (default: newton up to d = 4, lbfgs above), gd, lbfgs,\n"
    "                  newton, sketch (Newton with a leverage-score sampled Hessian), spsa\n"
    "  --sketch-eps E  sketch: spectral accuracy of the sampled Hessian, in (0, 1) (default 0.5)\n"
    "  --w W.mtx       row weights w (length n)\n"
    "  --lambda L      ridge weight, >= 0 (default 0)\n"
    "  --x0 X0.mtx     starting point (length d)\n"
    "  --gtol T        relative gradient tolerance |g| <= T |g0|, in [0, 1) (default 1e-9)\n"
    "  --gtol-abs T    absolute gradient tolerance, >= 0 (default 0)\n"
    "  --max-iter N    iteration limit, >= 1 (default 1000)\n"
    "  --seed S        random seed (SPSA), a non-negative integer (default 0)\n"
    "  --threads T     BLAS threads, 0..4096 (default 0: OPENBLAS_NUM_THREADS)\n"
    "  --out X.mtx     write x (length d, 17 significant digits)\n"
    "  --history H.csv write one CSV line per iteration\n"
    "  --verbose       print the per-iteration table on stderr\n"
    "\n"
    "exit status: 0 converged, 1 not converged (limit reached, line search failed, ...),\n"
    "2 usage or input error.\n";

typedef struct {
    const char *apath, *bpath, *wpath, *x0path, *outpath, *histpath;
    double lambda;
    smr_options o;
} solve_args;

static int parse(int argc, char **argv, solve_args *s)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    const char *pos, *v;
    int k, npos = 0;
    while ((k = cli_args_next(&a, &pos)) >= 0) {
        if (k == 0) {
            if (npos == 0)
                s->apath = pos;
            else if (npos == 1)
                s->bpath = pos;
            else
                return cli_error("solve: unexpected argument '%s'", pos);
            ++npos;
            continue;
        }
        const char *n = a.name;
        if (!strcmp(n, "--help")) {
            fputs(help, stdout);
            return -1;
        }
        if (!strcmp(n, "--verbose")) {
            s->o.verbose = stderr;
            continue;
        }
        if (!(v = cli_args_value(&a)))
            return CLI_USAGE;
        int64_t i64;
        if (!strcmp(n, "--method")) {
            if (!strcmp(v, "auto")) s->o.method = SMR_METHOD_AUTO;
            else if (!strcmp(v, "gd")) s->o.method = SMR_METHOD_GD;
            else if (!strcmp(v, "newton")) s->o.method = SMR_METHOD_NEWTON;
            else if (!strcmp(v, "spsa")) s->o.method = SMR_METHOD_SPSA;
            else if (!strcmp(v, "sketch")) s->o.method = SMR_METHOD_SKETCH;
            else if (!strcmp(v, "lbfgs")) s->o.method = SMR_METHOD_LBFGS;
            else
                return cli_error("option --method: unknown method '%s' (auto, gd, lbfgs, newton, sketch, spsa)", v);
        } else if (!strcmp(n, "--w")) s->wpath = v;
        else if (!strcmp(n, "--x0")) s->x0path = v;
        else if (!strcmp(n, "--out")) s->outpath = v;
        else if (!strcmp(n, "--history")) s->histpath = v;
        else if (!strcmp(n, "--lambda")) {
            if (!cli_double(n, v, 0, 1e300, &s->lambda)) return CLI_USAGE;
        } else if (!strcmp(n, "--sketch-eps")) {
            if (!cli_double(n, v, 1e-6, 0.999999, &s->o.sketch_eps)) return CLI_USAGE;
        } else if (!strcmp(n, "--gtol")) {
            if (!cli_double(n, v, 0, 0.999999, &s->o.gtol_rel)) return CLI_USAGE;
        } else if (!strcmp(n, "--gtol-abs")) {
            if (!cli_double(n, v, 0, 1e300, &s->o.gtol_abs)) return CLI_USAGE;
        } else if (!strcmp(n, "--max-iter")) {
            if (!cli_int64(n, v, 1, INT64_MAX, &s->o.max_iter)) return CLI_USAGE;
        } else if (!strcmp(n, "--seed")) {
            if (!cli_uint64(n, v, &s->o.seed)) return CLI_USAGE;
        } else if (!strcmp(n, "--threads")) {
            if (!cli_int64(n, v, 0, 4096, &i64)) return CLI_USAGE;
            s->o.threads = (int)i64;
        } else
            return cli_error("solve: unknown option %s (see softmaxreg solve --help)", n);
    }
    if (npos < 2)
        return cli_error("solve: needs A.mtx and b.mtx (see softmaxreg solve --help)");
    return CLI_OK;
}

static int history_line(const smr_iter_info *h, const double *x, void *user)
{
    (void)x;
    fprintf((FILE *)user, "%lld,%.17g,%.17g,%.17g,%lld,%lld,%lld,%.9f\n", (long long)h->iter,
            h->loss, h->grad_norm, h->step, (long long)h->loss_evals, (long long)h->grad_evals,
            (long long)h->hess_evals, h->elapsed);
    return 0;
}

int cli_solve(int argc, char **argv)
{
    solve_args s = {0};
    smr_options_init(&s.o);
    int rc = parse(argc, argv, &s);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    cli_problem cp;
    if (!cli_load_problem(&cp, s.apath, s.bpath, s.wpath, s.lambda))
        return CLI_USAGE;
    int64_t d = cp.p.d;
    double *x = calloc((size_t)d, sizeof(double));
    smr_matrix x0 = {0};
    FILE *hist = NULL;
    int status = CLI_USAGE;
    if (!x) {
        cli_error("out of memory");
        goto done;
    }
    if (s.x0path) {
        if (!cli_load_vector(&x0, s.x0path, d, "x0 (one entry per column of A)"))
            goto done;
        memcpy(x, x0.data, (size_t)d * sizeof(double));
    }
    if (s.histpath) {
        if (!(hist = fopen(s.histpath, "w"))) {
            cli_error("%s: cannot open for writing", s.histpath);
            goto done;
        }
        fprintf(hist, "iter,loss,grad_norm,step,loss_evals,grad_evals,hess_evals,seconds\n");
        s.o.callback = history_line;
        s.o.callback_data = hist;
    }
    smr_result r;
    int err = smr_solve(&cp.p, &s.o, x, &r);
    if (err != SMR_OK) {
        cli_error("solve: %s", smr_strerror(err));
        goto done;
    }
    if (s.outpath) {
        char msg[512];
        if (smr_mm_write(s.outpath, d, 1, x, d, "softmaxreg solve: x", msg, sizeof msg) != SMR_OK) {
            cli_error("%s", msg);
            goto done;
        }
    }
    printf("{\"status\": \"%s\", \"converged\": %s, \"method\": \"%s\", \"n\": %lld, \"d\": %lld, "
           "\"iterations\": %lld, \"loss\": ",
           smr_status_name(r.status), r.converged ? "true" : "false", smr_method_name(r.method),
           (long long)cp.p.n, (long long)d, (long long)r.iterations);
    cli_json_number(stdout, r.loss);
    fputs(", \"grad_norm\": ", stdout);
    cli_json_number(stdout, r.grad_norm);
    fputs(", \"seconds\": ", stdout);
    cli_json_number(stdout, r.seconds);
    printf(", \"loss_evals\": %lld, \"grad_evals\": %lld, \"hess_evals\": %lld, \"message\": \"%s\"}\n",
           (long long)r.loss_evals, (long long)r.grad_evals, (long long)r.hess_evals, r.message);
    status = r.converged ? CLI_OK : CLI_NOT_CONVERGED;
done:
    if (hist && fclose(hist) != 0 && status != CLI_USAGE)
        status = cli_error("%s: write error", s.histpath);
    smr_matrix_free(&x0);
    free(x);
    cli_problem_free(&cp);
    return status;
}
