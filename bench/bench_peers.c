/*
 * bench_peers.c -- libsoftmaxreg against peer libraries on identical
 * problems, each run until it first reaches the same accuracy:
 *
 *     L(x) - L*  <=  1e-8 (L(x0) - L*)        (L* from a tight Newton solve)
 *
 *   ours     smr_solve, method auto, default options, stopped by its
 *            callback at the target
 *   gsl_lm   GSL multifit_nlinear, trust region with Levenberg-Marquardt
 *            steps, residual f - b, analytic Jacobian (diag(f) - f f^T) A
 *   gsl_bfgs GSL multimin, vector_bfgs2
 *   lbfgs    liblbfgs (Okazaki), default More-Thuente line search
 * The quasi-Newton peers evaluate loss and gradient with this library's
 * one-pass kernel (smr_obj_loss_grad on a workspace kept for the run, in
 * the lean form our L-BFGS uses), so the comparison is of algorithms on
 * equal kernels;
 * the LM residual and Jacobian are formed with OpenBLAS directly.  All link
 * the same OpenBLAS (GSL's cblas calls bind to it; see docs/benchmarks.md).
 * A separate program, not installed: GSL is GPL and stays out of the
 * library's link line.
 *
 *   bench_peers [--quick] [--csv FILE] [--skip LIST]
 *   --skip gsl_lm,gsl_bfgs   leave those peers out (GSL's LM takes minutes
 *                            at d = 300); their rows say "skipped"
 *
 * Every row also counts the solver's evaluations (ours: res.loss_evals;
 * the peers: calls of their callbacks, GSL's LM counting f and J calls),
 * and each problem ends with the bound on a 3x win, measured in the same
 * run: one loss+gradient pass (t_pass, the one-pass kernel at x*) and one
 * cblas_dsyrk on A (t_syrk) give the floor of our methods,
 *
 *     floor = min( (it_lbfgs + 1) t_pass,  (it_newton + 1) t_pass + it_newton t_syrk )
 *
 * what L-BFGS and Newton would cost with the iterations they took here if
 * every iteration read A once (no line search trials, Hessian for the
 * price of a dsyrk) and the start once.  Where floor > best peer / 3, no
 * method of this library reaches 3x on that problem.
 */
#include "bench_common.h"
#include "objective/objective.h"

#include <gsl/gsl_blas.h> /* declares cblas_* (gsl_cblas.h); they bind to OpenBLAS */
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_multimin.h>
#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    smr_problem *p;
    double target;
    double *z, *pv; /* n, d scratch */
    int64_t evals;  /* the running peer's evaluation callbacks */
    int64_t iters;  /* liblbfgs's iterations (its progress callback) */
    smr_ws ws;      /* the peers' loss+gradient workspace (one-pass kernel) */
} ctx_t;

/* loss and gradient for the quasi-Newton peers: the kernel our solvers use */
static double peer_eval(ctx_t *c, const double *x, double *g)
{
    if (smr_obj_loss_grad(c->p, x, &c->ws, g) != SMR_OK)
        return INFINITY;
    return c->ws.loss;
}

/* ---- ours ---- */
static int stop_at_target(const smr_iter_info *info, const double *x, void *user)
{
    (void)x;
    return info->loss <= ((ctx_t *)user)->target;
}

/* ---- GSL multifit_nlinear: residual and Jacobian ---- */
static void softmax_of(ctx_t *c, const double *x)
{
    smr_problem *p = c->p;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)p->n, (int)p->d, 1.0, p->A, (int)p->d, x, 1,
                0.0, c->z, 1);
    double m = -INFINITY, s = 0;
    for (int64_t i = 0; i < p->n; ++i)
        m = c->z[i] > m ? c->z[i] : m;
    for (int64_t i = 0; i < p->n; ++i)
        s += (c->z[i] = exp(c->z[i] - m));
    for (int64_t i = 0; i < p->n; ++i)
        c->z[i] /= s;
}

static int lm_f(const gsl_vector *x, void *params, gsl_vector *f)
{
    ctx_t *c = params;
    softmax_of(c, x->data);
    for (int64_t i = 0; i < c->p->n; ++i)
        gsl_vector_set(f, (size_t)i, c->z[i] - c->p->b[i]);
    c->evals++;
    return GSL_SUCCESS;
}

static int lm_df(const gsl_vector *x, void *params, gsl_matrix *J)
{
    ctx_t *c = params;
    smr_problem *p = c->p;
    c->evals++;
    softmax_of(c, x->data);
    /* J = diag(f) A - f (A^T f)^T :  J_ij = f_i (A_ij - p_j) */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)p->n, (int)p->d, 1.0, p->A, (int)p->d, c->z, 1,
                0.0, c->pv, 1);
    for (int64_t i = 0; i < p->n; ++i) {
        double *row = J->data + (size_t)i * J->tda;
        const double *a = p->A + i * p->d;
        for (int64_t j = 0; j < p->d; ++j)
            row[j] = c->z[i] * (a[j] - c->pv[j]);
    }
    return GSL_SUCCESS;
}

static double run_gsl_lm(ctx_t *c, double *iters)
{
    smr_problem *p = c->p;
    gsl_multifit_nlinear_fdf fdf = {.f = lm_f, .df = lm_df, .fvv = NULL, .n = (size_t)p->n,
                                    .p = (size_t)p->d, .params = c};
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    par.trs = gsl_multifit_nlinear_trs_lm;
    double t0 = bench_now();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, (size_t)p->n, (size_t)p->d);
    gsl_vector *x0 = gsl_vector_calloc((size_t)p->d);
    gsl_multifit_nlinear_init(x0, &fdf, w);
    int it = 0;
    double loss = INFINITY;
    for (; it < 500; ++it) {
        gsl_vector *r = gsl_multifit_nlinear_residual(w);
        double nrm = gsl_blas_dnrm2(r);
        loss = 0.5 * nrm * nrm;
        if (loss <= c->target)
            break;
        if (gsl_multifit_nlinear_iterate(w) != GSL_SUCCESS)
            break;
    }
    double t = bench_now() - t0;
    gsl_multifit_nlinear_free(w);
    gsl_vector_free(x0);
    *iters = it;
    return loss <= c->target ? t : -t;
}

/* ---- GSL multimin BFGS2 ---- */
static double mm_f(const gsl_vector *x, void *params)
{
    ctx_t *c = params;
    c->evals++;
    return smr_obj_forward(c->p, x->data, &c->ws) == SMR_OK ? c->ws.loss : INFINITY;
}
static void mm_df(const gsl_vector *x, void *params, gsl_vector *g)
{
    ctx_t *c = params;
    c->evals++;
    peer_eval(c, x->data, g->data);
}
static void mm_fdf(const gsl_vector *x, void *params, double *f, gsl_vector *g)
{
    ctx_t *c = params;
    *f = peer_eval(c, x->data, g->data);
    c->evals++;
}

static double run_gsl_bfgs(ctx_t *c, double *iters)
{
    smr_problem *p = c->p;
    gsl_multimin_function_fdf fn = {.f = mm_f, .df = mm_df, .fdf = mm_fdf, .n = (size_t)p->d, .params = c};
    double t0 = bench_now();
    gsl_multimin_fdfminimizer *s =
        gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, (size_t)p->d);
    gsl_vector *x0 = gsl_vector_calloc((size_t)p->d);
    gsl_multimin_fdfminimizer_set(s, &fn, x0, 1.0, 0.1);
    int it = 0;
    for (; it < 20000; ++it) {
        if (s->f <= c->target)
            break;
        if (gsl_multimin_fdfminimizer_iterate(s) != GSL_SUCCESS)
            break;
    }
    double loss = s->f, t = bench_now() - t0;
    gsl_multimin_fdfminimizer_free(s);
    gsl_vector_free(x0);
    *iters = it;
    return loss <= c->target ? t : -t;
}

/* ---- liblbfgs ---- */
static lbfgsfloatval_t lb_eval(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, int n,
                               lbfgsfloatval_t step)
{
    (void)n;
    (void)step;
    ctx_t *c = inst;
    c->evals++;
    return peer_eval(c, x, g);
}
static int lb_progress(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
                       lbfgsfloatval_t fx, lbfgsfloatval_t xn, lbfgsfloatval_t gn,
                       lbfgsfloatval_t step, int n, int k, int ls)
{
    (void)x; (void)g; (void)xn; (void)gn; (void)step; (void)n; (void)ls;
    ctx_t *c = inst;
    c->iters = k;
    return fx <= c->target;
}

static double run_lbfgs(ctx_t *c, double *iters)
{
    lbfgs_parameter_t par;
    lbfgs_parameter_init(&par);
    par.epsilon = 1e-300; /* its |g|/max(1,|x|) test would stop at the start */
    par.max_iterations = 20000;
    double t0 = bench_now();
    lbfgsfloatval_t *x = lbfgs_malloc((int)c->p->d), fx = 0;
    memset(x, 0, sizeof(double) * (size_t)c->p->d);
    c->iters = 0;
    lbfgs((int)c->p->d, x, &fx, lb_eval, lb_progress, c, &par);
    double t = bench_now() - t0;
    lbfgs_free(x);
    *iters = (double)c->iters;
    return fx <= c->target ? t : -t;
}

int main(int argc, char **argv)
{
    int quick = 0;
    const char *csv = "bench-peers.csv", *skip = "";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
        else if (!strcmp(argv[i], "--skip") && i + 1 < argc) skip = argv[++i];
        else { fprintf(stderr, "usage: bench_peers [--quick] [--csv FILE] [--skip LIST]\n"); return 2; }
    }
    gsl_set_error_handler_off();
    const int64_t grid_full[][2] = {{10000, 10}, {100000, 10}, {1000000, 10}, {10000, 100},
                                    {100000, 100}, {100000, 50}, {20000, 300}};
    const int64_t grid_quick[][2] = {{2000, 10}, {5000, 40}};
    const int64_t (*grid)[2] = quick ? grid_quick : grid_full;
    int ng = quick ? 2 : 7, reps = quick ? 1 : 3;
    FILE *f = fopen(csv, "w");
    if (!f) { perror(csv); return 2; }
    fprintf(f, "# %s\n", bench_machine());
    fprintf(f, "kind,n,d,solver,seconds,iterations,reached,ratio_ours_over_peer,evaluations,"
               "t_pass,t_syrk,floor,best_peer_over_3\n");
    printf("# %s\n", bench_machine());
    /* ours = auto; newton and our_lbfgs are this library's methods by name,
     * to show what auto chose between */
    const char *names[] = {"ours", "gsl_lm", "gsl_bfgs", "lbfgs", "newton", "our_lbfgs"};
    const smr_method own[] = {SMR_METHOD_AUTO, 0, 0, 0, SMR_METHOD_NEWTON, SMR_METHOD_LBFGS};
    enum { NS = 6 };
    for (int gi = 0; gi < ng; ++gi)
        for (int kind = 0; kind < 2; ++kind) {
            int64_t n = grid[gi][0], d = grid[gi][1];
            double *A = malloc(8 * (size_t)(n * d)), *b = malloc(8 * (size_t)n), *xs = malloc(8 * (size_t)d);
            double *x = calloc((size_t)d, 8), *z = malloc(8 * (size_t)(n > d * d ? n : d * d)), *pv = malloc(8 * (size_t)d);
            bench_seed(500 + (uint64_t)gi);
            bench_problem(n, d, A, b, xs);
            if (kind == 1) {
                double sum = 0;
                for (int64_t i = 0; i < n; ++i)
                    sum += (b[i] *= 1.0 + 0.2 * tanh(bench_normal()));
                for (int64_t i = 0; i < n; ++i)
                    b[i] /= sum;
            }
            smr_problem p = {.n = n, .d = d, .A = A, .b = b};
            /* L*: a tight Newton solve */
            smr_options o;
            smr_options_init(&o);
            o.method = SMR_METHOD_NEWTON;
            o.gtol_rel = 1e-14;
            smr_result r;
            smr_solve(&p, &o, x, &r);
            double Lstar = r.loss, L0 = r.initial_loss;
            ctx_t c = {.p = &p, .z = z, .pv = pv, .target = Lstar + 1e-8 * (L0 - Lstar)};
            if (smr_ws_init(&c.ws, &p, false) != SMR_OK || smr_ws_fused_init(&c.ws) != SMR_OK) {
                fprintf(stderr, "out of memory\n");
                return 1;
            }
            c.ws.lean = true; /* the form our L-BFGS uses: nothing kept per row */
            double t[NS], it[NS], ev[NS];
            for (int s = 0; s < NS; ++s) {
                double tr[8], itr = 0;
                ev[s] = 0;
                if (s > 0 && strstr(skip, names[s])) {
                    t[s] = 0.0; /* neither reached nor timed */
                    it[s] = 0;
                    continue;
                }
                for (int rep = 0; rep < reps; ++rep) {
                    c.evals = 0;
                    if (s == 0 || s >= 4) {
                        smr_options_init(&o);
                        o.method = own[s];
                        o.callback = stop_at_target;
                        o.callback_data = &c;
                        memset(x, 0, 8 * (size_t)d);
                        double t0 = bench_now();
                        smr_solve(&p, &o, x, &r);
                        tr[rep] = (r.loss <= c.target ? 1 : -1) * (bench_now() - t0);
                        itr = (double)r.iterations;
                        c.evals = r.loss_evals;
                    } else if (s == 1) {
                        tr[rep] = run_gsl_lm(&c, &itr);
                    } else if (s == 2) {
                        tr[rep] = run_gsl_bfgs(&c, &itr);
                    } else {
                        tr[rep] = run_lbfgs(&c, &itr);
                    }
                    ev[s] = (double)c.evals;
                }
                t[s] = bench_median(tr, reps);
                it[s] = itr;
            }
            /* the bound on a 3x win (header comment) */
            double tp[5], ts[5], best = INFINITY;
            for (int rep = 0; rep < 5; ++rep) {
                double t0 = bench_now();
                smr_obj_loss_grad(&p, xs, &c.ws, pv);
                tp[rep] = bench_now() - t0;
                t0 = bench_now();
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0, A, (int)d,
                            0.0, z, (int)d); /* z holds max(n, d^2) doubles */
                ts[rep] = bench_now() - t0;
            }
            double t_pass = bench_median(tp, 5), t_syrk = bench_median(ts, 5);
            for (int s = 1; s < 4; ++s)
                if (t[s] > 0)
                    best = fmin(best, t[s]);
            double fl = INFINITY;
            if (t[5] > 0)
                fl = (it[5] + 1) * t_pass;
            if (t[4] > 0)
                fl = fmin(fl, (it[4] + 1) * t_pass + it[4] * t_syrk);
            for (int s = 0; s < NS; ++s) {
                int reached = t[s] > 0;
                double ratio = reached && t[0] > 0 ? t[0] / t[s] : NAN;
                fprintf(f, "%s,%lld,%lld,%s,%.6g,%.0f,%d,%.4g,%.0f,%.4g,%.4g,%.4g,%.4g\n",
                        kind ? "noisy" : "realizable", (long long)n, (long long)d, names[s], fabs(t[s]),
                        it[s], reached, ratio, ev[s], t_pass, t_syrk, fl, best / 3);
                printf("%-10s n=%-8lld d=%-4lld %-9s %9.4f s %6.0f it %5.0f ev %s ours/peer %.3f\n",
                       kind ? "noisy" : "realizable", (long long)n, (long long)d, names[s], fabs(t[s]),
                       it[s], ev[s], reached ? "reached " : t[s] == 0.0 ? "skipped    " : "NOT REACHED", ratio);
            }
            printf("%-10s n=%-8lld d=%-4lld bound: pass %.3g ms, dsyrk %.3g ms; floor %.3g ms vs best peer / 3 "
                   "%.3g ms: 3x %s\n", kind ? "noisy" : "realizable", (long long)n, (long long)d, 1e3 * t_pass,
                   1e3 * t_syrk, 1e3 * fl, 1e3 * best / 3, fl > best / 3 ? "out of reach" : "not ruled out");
            fflush(f);
            smr_ws_free(&c.ws);
            free(A); free(b); free(xs); free(x); free(z); free(pv);
        }
    fclose(f);
    printf("csv: %s\n", csv);
    return 0;
}
