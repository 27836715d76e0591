/*
 * bench_sketch.c -- sketched Newton against exact Newton at fixed d and
 * growing n (issue 4): per-iteration time split by phase, the sample size,
 * and whole solves to the same tolerance.  Everything is measured in one
 * run on the same A; ratios are the claims.
 *
 *   bench_sketch [--quick] [--d D] [--csv FILE]
 *
 * Phases of one iteration at the same point x (medians of reps, after a
 * warm-up):
 *   loss_grad loss and gradient in one pass, as the solvers take them at
 *             each trial point (smr_sv_eval: smr_obj_loss_grad; both
 *             methods; since stop 39 the iteration's figures use it)
 *   forward   z = Ax, f, loss                      (1 pass)
 *   gradient  A^T r                                (1 pass; forward +
 *             gradient: the iteration as timed until stop 38, kept in the
 *             *_2pass columns for comparison with earlier runs)
 *   parts     e, p = A^T f, q = A^T v              (both, 1 pass)
 *   parts_lg  the same after a one pass for loss and gradient, which
 *             leaves p and q (fused.c, hessian_q): e only, no pass over
 *             A; what the solvers pay (since stop 39)
 *   hessian   exact: A^T diag(e) A by blocked dsyrk, O(n d^2)
 *   scores    sketch: CountSketch pass + QR (8d x d) + JL gemm pass (16 cols)
 *   sample    sketch: s draws by the scores (binary search)
 *   read      one streaming read of A (bench_stream_sum), for the floor:
 *             the ratio if the scores phase cost exactly its two passes
 *             over A (the CountSketch's and the row norms'), no hashing,
 *             no QR -- where it exceeds 1/3, the sketch's target is out of
 *             reach by the method's own passes and sampled assembly
 *   assemble  sketch: sampled dsyrk, O(s d^2)
 *   solve     Cholesky of d x d (both)
 */
#include "bench_common.h"
#include "objective/objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double read, loss_grad, parts_lg, forward, gradient, parts, hessian, scores, sample, assemble, solve; } phases;

static double time_rep(int reps, void (*fn)(void *), void *ctx)
{
    double t[32];
    fn(ctx); /* warm-up */
    for (int r = 0; r < reps; ++r) {
        double t0 = bench_now();
        fn(ctx);
        t[r] = bench_now() - t0;
    }
    return bench_median(t, reps);
}

typedef struct {
    smr_problem *p;
    smr_ws *ws;
    double *x, *g, *H, *M, *rhs, *scores;
    smr_spz *z;
    int64_t s;
    double kappa, sum;
} ctx_t;

static void f_read(void *c)
{
    ctx_t *t = c;
    t->sum += bench_stream_sum(t->p->A, t->p->n * t->p->d);
}
static void f_loss_grad(void *c) { ctx_t *t = c; smr_obj_loss_grad(t->p, t->x, t->ws, t->g); }
static void f_forward(void *c) { ctx_t *t = c; smr_obj_forward(t->p, t->x, t->ws); }
static void f_gradient(void *c) { ctx_t *t = c; smr_obj_gradient(t->p, t->x, t->ws, t->g); }
static void f_parts(void *c)
{
    ctx_t *t = c;
    t->ws->pq_valid = false; /* p, q by the pass over A */
    t->kappa = smr_obj_hessian_parts(t->p, t->ws);
}
static void f_parts_lg(void *c) { ctx_t *t = c; t->kappa = smr_obj_hessian_parts(t->p, t->ws); }
static void f_hessian(void *c)
{
    ctx_t *t = c;
    smr_obj_hessian_assemble(t->p, t->ws, t->kappa, NULL, NULL, 0, 0.0, t->H, t->p->d);
}
static void f_scores(void *c)
{
    ctx_t *t = c;
    smr_spz_scores(t->z, &t->ws->A, t->ws->nk + 2 * t->p->n, 7, t->scores);
}
static void f_sample(void *c)
{
    ctx_t *t = c;
    smr_spz_sample(t->z, t->p->n, t->ws->nk + 2 * t->p->n, t->scores, t->s, 9);
}
static void f_assemble(void *c)
{
    ctx_t *t = c;
    smr_obj_hessian_assemble(t->p, t->ws, t->kappa, t->z->rows, t->z->weights, t->z->kept, 0.0,
                             t->H, t->p->d);
}
static void f_solve(void *c)
{
    ctx_t *t = c;
    int64_t d = t->p->d;
    memcpy(t->M, t->H, (size_t)(d * d) * sizeof(double));
    for (int64_t j = 0; j < d; ++j)
        t->M[j + j * d] += 1e-3, t->rhs[j] = t->g[j];
    smr_k_cholesky_solve(d, t->M, d, 1, t->rhs, d);
}

int main(int argc, char **argv)
{
    int64_t d = 100;
    int quick = 0;
    const char *csv = "bench-sketch.csv";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--d") && i + 1 < argc) d = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
        else { fprintf(stderr, "usage: bench_sketch [--quick] [--d D] [--csv FILE]\n"); return 2; }
    }
    if (quick)
        d = d > 20 ? 20 : d;
    const int64_t mult[] = {10, 30, 100, 300, 1000, 2000};
    int nm = quick ? 3 : 6, reps = quick ? 3 : 5;
    FILE *out = fopen(csv, "w");
    if (!out) { perror(csv); return 2; }
    fprintf(out, "# %s\n", bench_machine());
    fprintf(out, "n,d,samples,forward,gradient,parts,hessian,scores,sample,assemble,solve,"
                 "iter_exact,iter_sketch,ratio_iter,solve_exact_s,solve_sketch_s,it_exact,it_sketch,"
                 "loss_exact,loss_sketch,loss_grad,iter_exact_2pass,iter_sketch_2pass,ratio_2pass,"
                 "parts_lg,pq_from_pass,read,floor\n");
    printf("# %s\n", bench_machine());
    printf("%8s %5s %7s | %8s %8s %8s %8s %8s %8s %8s | %8s %8s %8s %8s | %7s %7s %7s | %8s %8s %4s %4s\n",
           "n", "d", "s", "read", "lossgrad", "parts1p", "fwd", "grad", "parts", "hess", "scores",
           "sample", "assem", "chol", "ratio", "floor", "ratio2p", "exact_s", "sketch_s", "itE",
           "itS");
    for (int k = 0; k < nm; ++k) {
        int64_t n = mult[k] * d;
        double *A = malloc(sizeof(double) * (size_t)(n * d)), *b = malloc(sizeof(double) * (size_t)n);
        double *xs = malloc(sizeof(double) * (size_t)d), *x = calloc((size_t)d, sizeof(double));
        double *g = malloc(sizeof(double) * (size_t)d), *H = malloc(sizeof(double) * (size_t)(d * d));
        double *M = malloc(sizeof(double) * (size_t)(d * d)), *rhs = malloc(sizeof(double) * (size_t)d);
        double *scores = malloc(sizeof(double) * (size_t)n);
        if (!A || !b || !xs || !x || !g || !H || !M || !rhs || !scores) { fprintf(stderr, "out of memory\n"); return 1; }
        bench_seed(42);
        bench_problem(n, d, A, b, xs);
        for (int64_t j = 0; j < d; ++j)
            x[j] = 0.5 * xs[j]; /* a point on the way */
        smr_problem p = {.n = n, .d = d, .A = A, .b = b};
        smr_ws ws;
        smr_ws_init(&ws, &p, true);
        int64_t s = smr_sparsify_sample_size(d, 0.5, 0.1);
        smr_spz z;
        smr_spz_init(&z, n, d, s);
        ctx_t c = {.p = &p, .ws = &ws, .x = x, .g = g, .H = H, .M = M, .rhs = rhs, .scores = scores,
                   .z = &z, .s = s};
        smr_obj_forward(&p, x, &ws);
        phases ph;
        ph.read = time_rep(reps, f_read, &c);
        ph.loss_grad = time_rep(reps, f_loss_grad, &c);
        ph.forward = time_rep(reps, f_forward, &c);
        ph.gradient = time_rep(reps, f_gradient, &c);
        ph.parts = time_rep(reps, f_parts, &c);
        smr_obj_loss_grad(&p, x, &ws, g); /* as a solver's accepted point */
        int pq_pass = !ws.pq_valid;
        ph.parts_lg = time_rep(reps, f_parts_lg, &c);
        ph.hessian = time_rep(reps, f_hessian, &c);
        ph.scores = s < n ? time_rep(reps, f_scores, &c) : 0.0;
        ph.sample = time_rep(reps, f_sample, &c);
        ph.assemble = time_rep(reps, f_assemble, &c);
        ph.solve = time_rep(reps, f_solve, &c);
        /* the iteration as the solvers run it: one pass for loss and
         * gradient (row-major A here, so the one pass at every d) */
        double it_e = ph.loss_grad + ph.parts_lg + ph.hessian + ph.solve;
        double it_s = ph.loss_grad + ph.parts_lg + ph.scores + ph.sample + ph.assemble + ph.solve;
        double floor_s = ph.loss_grad + ph.parts_lg + 2.0 * ph.read + ph.sample + ph.assemble +
                         ph.solve;
        /* until stop 38: forward + gradient + the parts' pass */
        double two = ph.forward + ph.gradient + ph.parts - ph.loss_grad - ph.parts_lg;
        /* whole solves from 0 to the default tolerance */
        smr_options o;
        smr_result re, rs;
        smr_options_init(&o);
        o.method = SMR_METHOD_NEWTON;
        memset(x, 0, sizeof(double) * (size_t)d);
        smr_solve(&p, &o, x, &re);
        o.method = SMR_METHOD_SKETCH;
        memset(x, 0, sizeof(double) * (size_t)d);
        smr_solve(&p, &o, x, &rs);
        int64_t samples = z.samples;
        printf("%8lld %5lld %7lld | %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f | %8.4f %8.4f %8.4f %8.4f | %7.3f %7.3f %7.3f | %8.3f %8.3f %4lld %4lld\n",
               (long long)n, (long long)d, (long long)samples, ph.read, ph.loss_grad, ph.parts_lg,
               ph.forward, ph.gradient, ph.parts, ph.hessian, ph.scores, ph.sample, ph.assemble,
               ph.solve, it_s / it_e, s < n ? floor_s / it_e : it_s / it_e,
               (it_s + two) / (it_e + two), re.seconds, rs.seconds,
               (long long)re.iterations, (long long)rs.iterations);
        fprintf(out, "%lld,%lld,%lld,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4f,%.6g,%.6g,%lld,%lld,%.17g,%.17g,%.6g,%.6g,%.6g,%.4f,%.6g,%d,%.6g,%.4f\n",
                (long long)n, (long long)d, (long long)samples, ph.forward, ph.gradient, ph.parts,
                ph.hessian, ph.scores, ph.sample, ph.assemble, ph.solve, it_e, it_s, it_s / it_e,
                re.seconds, rs.seconds, (long long)re.iterations, (long long)rs.iterations, re.loss, rs.loss,
                ph.loss_grad, it_e + two, it_s + two, (it_s + two) / (it_e + two), ph.parts_lg,
                pq_pass, ph.read, s < n ? floor_s / it_e : it_s / it_e);
        fflush(out);
        smr_spz_free(&z);
        smr_ws_free(&ws);
        free(A); free(b); free(xs); free(x); free(g); free(H); free(M); free(rhs); free(scores);
    }
    fclose(out);
    printf("csv: %s\n", csv);
    return 0;
}
