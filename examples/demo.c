/*
 * demo.c -- the README's main job.
 *
 * Generates a realistic problem -- a noisy softmax target that no x fits
 * exactly, light row weights and ridge -- solves it with every method from
 * x = 0 with the library's default stopping rule, and prints a table
 * (method, status, iterations, loss, |grad|, time, evaluations).  Each
 * method's convergence history is written as CSV to the output folder
 * (default ./softmaxreg-demo) and, when gnuplot is installed, rendered to
 * convergence.png there.
 *
 *   softmaxreg_demo [OUTDIR]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <softmaxreg.h>

static unsigned long long rng = 2024;
static double uniform(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(rng >> 11) + 0.5) * 0x1.0p-53;
}
static double normal(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

int main(int argc, char **argv)
{
    const char *outdir = argc > 1 ? argv[1] : "softmaxreg-demo";
    const int64_t n = 20000, d = 48;
    double *A = malloc(sizeof(double) * (size_t)(n * d));
    double *b = malloc(sizeof(double) * (size_t)n);
    double *w = malloc(sizeof(double) * (size_t)n);
    double *x = malloc(sizeof(double) * (size_t)d);
    double *xs = malloc(sizeof(double) * (size_t)d);
    const int64_t max_iter = 3000;
    smr_iter_info *hist = malloc(sizeof(smr_iter_info) * (size_t)(max_iter + 1));
    if (!A || !b || !w || !x || !xs || !hist)
        return 1;
    /* features with a common scale, a planted x*, and a target that is
     * softmax(A x*) with 20% multiplicative noise, renormalized */
    for (int64_t k = 0; k < n * d; ++k)
        A[k] = normal() / sqrt((double)d);
    for (int64_t j = 0; j < d; ++j)
        xs[j] = 2.0 * normal();
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        double z = 0;
        for (int64_t j = 0; j < d; ++j)
            z += A[i * d + j] * xs[j];
        b[i] = z;
        mx = z > mx ? z : mx;
        w[i] = 1e-5;
    }
    for (int64_t i = 0; i < n; ++i)
        sum += (b[i] = exp(b[i] - mx) * (1.0 + 0.2 * (2 * uniform() - 1)));
    for (int64_t i = 0; i < n; ++i)
        b[i] /= sum;
    smr_problem p = {.n = n, .d = d, .A = A, .b = b, .w = w, .lambda = 1e-9};

    mkdir(outdir, 0777);
    printf("libsoftmaxreg %s: n = %lld, d = %lld, noisy softmax target, "
           "w = 1e-5, lambda = 1e-9, from x = 0, default stopping rule\n\n",
           smr_version(), (long long)n, (long long)d);
    printf("%-11s %-9s %6s %22s %11s %9s %8s %8s %8s\n", "method", "status",
           "iter", "loss", "|grad|", "seconds", "f-evals", "g-evals", "h-evals");
    const smr_method methods[] = {SMR_METHOD_AUTO, SMR_METHOD_NEWTON,
                                  SMR_METHOD_GD, SMR_METHOD_SPSA};
    double best = INFINITY;
    int failures = 0;
    for (size_t m = 0; m < sizeof methods / sizeof *methods; ++m) {
        smr_options o;
        smr_options_init(&o);
        o.method = methods[m];
        o.max_iter = max_iter;
        o.history = hist;
        o.history_len = max_iter + 1;
        if (methods[m] == SMR_METHOD_SPSA)
            o.gtol_rel = 1e-4; /* zeroth order: a looser target */
        memset(x, 0, sizeof(double) * (size_t)d);
        smr_result r;
        int rc = smr_solve(&p, &o, x, &r);
        if (rc != SMR_OK) {
            fprintf(stderr, "smr_solve: %s\n", smr_strerror(rc));
            return 1;
        }
        char name[32];
        snprintf(name, sizeof name, "%s", smr_method_name(methods[m]));
        if (methods[m] == SMR_METHOD_AUTO)
            snprintf(name, sizeof name, "auto>%s", smr_method_name(r.method));
        printf("%-11s %-9s %6lld %22.15e %11.3e %9.4f %8lld %8lld %8lld\n", name,
               smr_status_name(r.status), (long long)r.iterations, r.loss,
               r.grad_norm, r.seconds, (long long)r.loss_evals,
               (long long)r.grad_evals, (long long)r.hess_evals);
        failures += !r.converged;
        best = fmin(best, r.loss);
        if (methods[m] == SMR_METHOD_AUTO)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/history-%s.csv", outdir, smr_method_name(methods[m]));
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 1;
        }
        fprintf(f, "iter,loss,grad_norm,step,loss_evals,grad_evals,hess_evals,seconds\n");
        int64_t last = r.iterations < max_iter ? r.iterations : max_iter;
        for (int64_t k = 0; k <= last; ++k)
            fprintf(f, "%lld,%.17g,%.17g,%.17g,%lld,%lld,%lld,%.9f\n", (long long)hist[k].iter,
                    hist[k].loss, hist[k].grad_norm, hist[k].step, (long long)hist[k].loss_evals,
                    (long long)hist[k].grad_evals, (long long)hist[k].hess_evals,
                    hist[k].elapsed);
        fclose(f);
    }
    printf("\nbest loss %.15e; histories in %s/history-*.csv\n", best, outdir);

    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && gnuplot -e \"set terminal pngcairo size 1000,420 noenhanced;"
                 "set output 'convergence.png'; set datafile separator ',';"
                 "set multiplot layout 1,2 title 'libsoftmaxreg demo: n=%lld d=%lld';"
                 "set logscale y; set xlabel 'iteration'; set ylabel 'loss - best';"
                 "set logscale x;"
                 "plot for [m in 'newton gd spsa'] 'history-'.m.'.csv' skip 1 using (\\$1+1):(\\$2-%.17g+1e-18) with lines title m;"
                 "set xlabel 'seconds';"
                 "plot for [m in 'newton gd spsa'] 'history-'.m.'.csv' skip 1 using 8:(\\$2-%.17g+1e-18) with lines title m;"
                 "unset multiplot\" 2>/dev/null",
                 outdir, (long long)n, (long long)d, best, best);
        if (system(cmd) == 0)
            printf("plot: %s/convergence.png\n", outdir);
        else
            printf("gnuplot failed; CSV files are complete\n");
    } else {
        printf("(install gnuplot to get %s/convergence.png)\n", outdir);
    }
    free(A); free(b); free(w); free(x); free(xs); free(hist);
    return failures ? 1 : 0;
}
