/*
 * bench_solvers.c -- every method to the library's default tolerance, on
 * realizable (b = softmax(Ax*)) and noisy (20% multiplicative noise) problems
 * over a grid of (n, d).  Each solve runs in a forked child so its peak RSS
 * is its own; the CSV gives time, iterations, evaluations, the final loss,
 * its gap to the best loss any method reached on that problem (relative to
 * the initial gap), and the peak extra memory against the size of A.
 *
 * Timing: each solve is repeated (3 times, once in --quick mode, once when
 * the first run took over 5 s) in fresh children and the median time is
 * reported; iterations, loss and memory come from the first run (the
 * methods are deterministic for a fixed seed and thread count).
 *
 *   bench_solvers [--quick] [--csv FILE]
 */
#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    smr_result r;
    double rss_before_mb, rss_peak_mb;
} child_out;

static double rss_mb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* solve in a child; false if it failed to report */
static int solve_forked(const smr_problem *p, const smr_options *o, child_out *out)
{
    int fd[2];
    if (pipe(fd) != 0)
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        child_out c;
        double *x = calloc((size_t)p->d, sizeof(double));
        /* touch A and b so the baseline counts them (shared pages) */
        double s = 0;
        for (int64_t k = 0; k < p->n * p->d; k += 512)
            s += p->A[k];
        for (int64_t i = 0; i < p->n; i += 512)
            s += p->b[i];
        c.rss_before_mb = rss_mb() + (s == 1e300);
        smr_solve(p, o, x, &c.r);
        c.rss_peak_mb = rss_mb();
        c.r.message = NULL;
        ssize_t w = write(fd[1], &c, sizeof c);
        _exit(w == (ssize_t)sizeof c ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, sizeof *out);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    return got == (ssize_t)sizeof *out;
}

int main(int argc, char **argv)
{
    int quick = 0;
    const char *csv = "bench-solvers.csv";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
        else { fprintf(stderr, "usage: bench_solvers [--quick] [--csv FILE]\n"); return 2; }
    }
    const int64_t grid_full[][2] = {{10000, 10}, {100000, 10}, {1000000, 10}, {10000, 100},
                                    {100000, 100}, {1000000, 50}, {20000, 500}};
    const int64_t grid_quick[][2] = {{2000, 10}, {20000, 10}, {5000, 50}};
    const int64_t (*grid)[2] = quick ? grid_quick : grid_full;
    int ng = quick ? 3 : 7;
    const smr_method methods[] = {SMR_METHOD_AUTO, SMR_METHOD_NEWTON, SMR_METHOD_LBFGS,
                                  SMR_METHOD_GD, SMR_METHOD_SKETCH, SMR_METHOD_SPSA};
    enum { NM = sizeof methods / sizeof *methods };
    FILE *f = fopen(csv, "w");
    if (!f) { perror(csv); return 2; }
    fprintf(f, "# %s\n", bench_machine());
    fprintf(f, "kind,n,d,method,status,converged,iterations,seconds,loss_evals,grad_evals,"
               "hess_evals,loss,initial_loss,gap_rel,a_mb,extra_peak_mb\n");
    printf("# %s\n", bench_machine());
    for (int gi = 0; gi < ng; ++gi)
        for (int kind = 0; kind < 2; ++kind) {
            int64_t n = grid[gi][0], d = grid[gi][1];
            double *A = malloc(8 * (size_t)(n * d)), *b = malloc(8 * (size_t)n), *xs = malloc(8 * (size_t)d);
            if (!A || !b || !xs) { fprintf(stderr, "out of memory\n"); return 1; }
            bench_seed(100 + (uint64_t)gi);
            bench_problem(n, d, A, b, xs);
            if (kind == 1) { /* noisy: no x fits exactly */
                double sum = 0;
                for (int64_t i = 0; i < n; ++i)
                    sum += (b[i] *= 1.0 + 0.2 * (2.0 * (0.5 + 0.5 * tanh(bench_normal())) - 1.0));
                for (int64_t i = 0; i < n; ++i)
                    b[i] /= sum;
            }
            smr_problem p = {.n = n, .d = d, .A = A, .b = b};
            child_out out[NM];
            int ok[NM];
            double best = INFINITY;
            for (int m = 0; m < NM; ++m) {
                smr_options o;
                smr_options_init(&o);
                o.method = methods[m];
                o.max_time = quick ? 10 : 120;
                if (methods[m] == SMR_METHOD_GD || methods[m] == SMR_METHOD_SPSA)
                    o.max_iter = 100000;
                if (methods[m] == SMR_METHOD_SPSA) {
                    o.gtol_rel = 1e-4; /* zeroth order: its own target */
                    o.max_time = quick ? 5 : 30;
                }
                ok[m] = solve_forked(&p, &o, &out[m]);
                int reps = (quick || !ok[m] || out[m].r.seconds > 5) ? 1 : 3;
                double ts[3] = {ok[m] ? out[m].r.seconds : 0, 0, 0};
                for (int rep = 1; rep < reps; ++rep) {
                    child_out again;
                    ts[rep] = solve_forked(&p, &o, &again) ? again.r.seconds : ts[0];
                }
                if (ok[m])
                    out[m].r.seconds = bench_median(ts, reps);
                if (ok[m] && isfinite(out[m].r.loss))
                    best = fmin(best, out[m].r.loss);
            }
            for (int m = 0; m < NM; ++m) {
                if (!ok[m])
                    continue;
                smr_result *r = &out[m].r;
                double gap = (r->loss - best) / (r->initial_loss - best);
                double amb = 8.0 * (double)n * (double)d / 1048576.0;
                double extra = out[m].rss_peak_mb - out[m].rss_before_mb;
                fprintf(f, "%s,%lld,%lld,%s,%s,%d,%lld,%.6g,%lld,%lld,%lld,%.17g,%.17g,%.3g,%.2f,%.2f\n",
                        kind ? "noisy" : "realizable", (long long)n, (long long)d,
                        smr_method_name(methods[m]), smr_status_name(r->status), r->converged,
                        (long long)r->iterations, r->seconds, (long long)r->loss_evals,
                        (long long)r->grad_evals, (long long)r->hess_evals, r->loss, r->initial_loss,
                        gap, amb, extra);
                printf("%-10s n=%-8lld d=%-4lld %-6s %-18s it=%-6lld %9.4f s gap %.1e  A %8.1f MB, extra peak %7.2f MB\n",
                       kind ? "noisy" : "realizable", (long long)n, (long long)d,
                       smr_method_name(methods[m]), smr_status_name(r->status), (long long)r->iterations,
                       r->seconds, gap, amb, extra);
            }
            fflush(f);
            free(A); free(b); free(xs);
        }
    fclose(f);
    printf("csv: %s\n", csv);
    return 0;
}
