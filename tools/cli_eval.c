/* cli_eval.c -- `softmaxreg eval`: loss, gradient and the Hessian's extreme
 * eigenvalues (LAPACK dsyev) at a given x. */
#include "cli.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: softmaxreg eval A.mtx b.mtx X.mtx [--w W.mtx] [--lambda L]\n"
    "\n"
    "Print one JSON object: loss, grad_norm, gradient (array), hess_eig_min and\n"
    "hess_eig_max (the extreme eigenvalues of the Hessian at X, by LAPACK dsyev).\n"
    "\n"
    "  --w W.mtx    row weights w (length n)\n"
    "  --lambda L   ridge weight, >= 0 (default 0)\n";

int cli_eval(int argc, char **argv)
{
    const char *path[3] = {0}, *wpath = NULL, *pos, *v;
    double lambda = 0;
    int npos = 0, k;
    cli_args a;
    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a, &pos)) >= 0) {
        if (k == 0) {
            if (npos >= 3)
                return cli_error("eval: unexpected argument '%s'", pos);
            path[npos++] = pos;
            continue;
        }
        if (!strcmp(a.name, "--help")) {
            fputs(help, stdout);
            return CLI_OK;
        }
        if (!(v = cli_args_value(&a)))
            return CLI_USAGE;
        if (!strcmp(a.name, "--w"))
            wpath = v;
        else if (!strcmp(a.name, "--lambda")) {
            if (!cli_double(a.name, v, 0, 1e300, &lambda))
                return CLI_USAGE;
        } else
            return cli_error("eval: unknown option %s (see softmaxreg eval --help)", a.name);
    }
    if (npos < 3)
        return cli_error("eval: needs A.mtx, b.mtx and X.mtx (see softmaxreg eval --help)");
    cli_problem cp;
    if (!cli_load_problem(&cp, path[0], path[1], wpath, lambda))
        return CLI_USAGE;
    int64_t d = cp.p.d;
    smr_matrix x = {0};
    int status = CLI_USAGE;
    double *g = malloc((size_t)d * sizeof(double));
    double *H = NULL, *ev = malloc((size_t)d * sizeof(double));
    if ((uint64_t)d <= (uint64_t)INT32_MAX / (uint64_t)d)
        H = malloc((size_t)(d * d) * sizeof(double));
    if (!g || !H || !ev) {
        cli_error("eval: out of memory for a %lld x %lld Hessian", (long long)d, (long long)d);
        goto done;
    }
    if (!cli_load_vector(&x, path[2], d, "X (one entry per column of A)"))
        goto done;
    double L;
    int err = smr_loss_gradient(&cp.p, x.data, &L, g);
    if (err == SMR_OK)
        err = smr_hessian(&cp.p, x.data, H, d);
    if (err != SMR_OK) {
        cli_error("eval: %s", smr_strerror(err));
        goto done;
    }
    if (LAPACKE_dsyev(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)d, H, (lapack_int)d, ev) != 0) {
        cli_error("eval: LAPACK dsyev did not converge");
        goto done;
    }
    double gn = 0;
    for (int64_t j = 0; j < d; ++j)
        gn += g[j] * g[j];
    fputs("{\"loss\": ", stdout);
    cli_json_number(stdout, L);
    fputs(", \"grad_norm\": ", stdout);
    cli_json_number(stdout, sqrt(gn));
    fputs(", \"gradient\": [", stdout);
    for (int64_t j = 0; j < d; ++j) {
        if (j)
            fputs(", ", stdout);
        cli_json_number(stdout, g[j]);
    }
    fputs("], \"hess_eig_min\": ", stdout);
    cli_json_number(stdout, ev[0]);
    fputs(", \"hess_eig_max\": ", stdout);
    cli_json_number(stdout, ev[d - 1]);
    fputs("}\n", stdout);
    status = CLI_OK;
done:
    free(g);
    free(H);
    free(ev);
    smr_matrix_free(&x);
    cli_problem_free(&cp);
    return status;
}
