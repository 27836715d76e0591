/*
 * bench_spsa.c -- the cost of one SPSA gradient estimate with k
 * perturbations (one pass over A forming A Z a block at a time and the 2k
 * losses with it, src/objective/perturbed.c; a solver step adds a forward
 * pass at its trial point) against 2k separate loss evaluations (2k passes
 * over A), for k in {1, 4, 16, 64}.
 *
 * Two comparisons, both medians of one run:
 *   solver   one step of the SPSA solver (estimate, trial point, its loss):
 *            steps 2 .. R + 1 of one solve, timed by the solve's history
 *            (smr_iter_info.elapsed), over R; against 2k losses by the
 *            objective kernel with a reused workspace (smr_obj_forward):
 *            the cheapest plain loss.  (Up to cb81273: a solve of R + 1
 *            steps minus one of 1 step, whose fixed work -- page faults
 *            of the n x k product A Z, stored up to 0a9f8ce -- varied by
 *            more than a step at n = 10^6.)
 *            This is the performance target's comparison.  Each round
 *            times the R steps and then the 2k losses, and the CSV's
 *            last column (solver_speedup_paired) is the median of the
 *            rounds' own ratios: two medians taken from different rounds
 *            moved their ratio by up to 40 % between runs on a shared
 *            machine.
 *   api      the public smr_spsa_gradient against 2k public smr_loss calls;
 *            both allocate per call (the former a workspace and its own
 *            n-vector of logits; up to 0a9f8ce also the n x k A Z).
 *
 *   bench_spsa [--quick] [--case N D] [--layout row|col] [--csv FILE]
 *
 * --layout col reads the same generated entries as a column-major A
 * (another matrix of the same distribution; b then is not exactly
 * realizable for it, which timing does not need), as bench_kernels does;
 * the CSV's first line names the layout.
 */
#include "bench_common.h"
#include "objective/objective.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int quick = 0, col = 0;
    int64_t one[1][2] = {{0, 0}};
    const char *csv = "bench-spsa.csv";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
        else if (!strcmp(argv[i], "--layout") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "row") || !strcmp(argv[i + 1], "col")))
            col = !strcmp(argv[++i], "col");
        else if (!strcmp(argv[i], "--case") && i + 2 < argc) {
            one[0][0] = atoll(argv[++i]);
            one[0][1] = atoll(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_spsa [--quick] [--case N D] [--layout row|col] [--csv FILE]\n");
            return 2;
        }
    }
    const int64_t grid_full[][2] = {{100000, 10}, {1000000, 16}, {100000, 100}, {10000, 1000}};
    const int64_t grid_quick[][2] = {{20000, 10}, {5000, 100}};
    const int64_t (*grid)[2] = quick ? grid_quick : grid_full;
    int ng = quick ? 2 : 4, reps = quick ? 3 : 7;
    if (one[0][0] > 0) { /* one problem of the caller's size */
        if (one[0][1] < 1 || one[0][0] < 8) { fprintf(stderr, "bench_spsa: --case needs N >= 8, D >= 1\n"); return 2; }
        grid = (const int64_t (*)[2])one;
        ng = 1;
    }
    const int ks[] = {1, 4, 16, 64};
    FILE *f = fopen(csv, "w");
    if (!f) { perror(csv); return 2; }
    fprintf(f, "# %s;layout=%s\n", bench_machine(), col ? "col" : "row");
    fprintf(f, "n,d,k,step_seconds,separate_seconds,speedup,solver_step_seconds,kernel_losses_seconds,solver_speedup,solver_speedup_paired\n");
    printf("# %s;layout=%s\n", bench_machine(), col ? "col" : "row");
    for (int gi = 0; gi < ng; ++gi) {
        int64_t n = grid[gi][0], d = grid[gi][1];
        double *A = malloc(8 * (size_t)(n * d)), *b = malloc(8 * (size_t)n), *xs = malloc(8 * (size_t)d);
        double *x = malloc(8 * (size_t)d), *gh = malloc(8 * (size_t)d), *xp = malloc(8 * (size_t)d);
        bench_seed(3);
        bench_problem(n, d, A, b, xs);
        for (int64_t j = 0; j < d; ++j)
            x[j] = 0.5 * xs[j];
        smr_problem p = {.n = n, .d = d, .A = A, .b = b,
                         .layout = col ? SMR_COL_MAJOR : SMR_ROW_MAJOR};
        for (int ki = 0; ki < 4; ++ki) {
            int k = ks[ki];
            double ts[16], tl[16], L, sink = 0;
            smr_spsa_gradient(&p, x, k, 1e-4, SMR_DIR_GAUSSIAN, 1, 0, gh);
            for (int r = 0; r < reps; ++r) {
                double t0 = bench_now();
                smr_spsa_gradient(&p, x, k, 1e-4, SMR_DIR_GAUSSIAN, 1, (uint64_t)r, gh);
                ts[r] = bench_now() - t0;
                t0 = bench_now();
                for (int j = 0; j < 2 * k; ++j) { /* 2k separate losses */
                    for (int64_t c = 0; c < d; ++c)
                        xp[c] = x[c] + (j % 2 ? -1e-4 : 1e-4) * (double)((c + j) % 3 - 1);
                    smr_loss(&p, xp, &L);
                    sink += L;
                }
                tl[r] = bench_now() - t0;
            }
            double s = bench_median(ts, reps), l = bench_median(tl, reps);
            /* the solver's step, and 2k kernel losses with one workspace */
            smr_ws ws;
            if (smr_ws_init(&ws, &p, false) != SMR_OK) { fprintf(stderr, "out of memory\n"); return 1; }
            double tss[16], tkl[16], tq[16];
            enum { R = 4 };
            for (int r = 0; r < reps; ++r) {
                /* steps 2 .. R + 1 of one solve, on the solve's own clock
                 * (history): the solve's fixed work (allocating and first
                 * touching its buffers, the exact start) stays out */
                smr_iter_info h[R + 2];
                smr_options o;
                smr_options_init(&o);
                o.method = SMR_METHOD_SPSA;
                o.spsa_k = k;
                o.max_iter = R + 1;
                o.gtol_rel = 0.0;
                o.history = h;
                o.history_len = R + 2;
                memcpy(xp, x, 8 * (size_t)d);
                smr_result res;
                smr_solve(&p, &o, xp, &res);
                tss[r] = res.iterations == R + 1 ? (h[R + 1].elapsed - h[1].elapsed) / R : NAN;
                double t0 = bench_now();
                for (int j = 0; j < 2 * k; ++j) {
                    for (int64_t c = 0; c < d; ++c)
                        xp[c] = x[c] + (j % 2 ? -1e-4 : 1e-4) * (double)((c + j) % 3 - 1);
                    smr_obj_forward(&p, xp, &ws);
                    sink += ws.loss;
                }
                tkl[r] = bench_now() - t0;
                tq[r] = tkl[r] / tss[r];
            }
            smr_ws_free(&ws);
            double ss = bench_median(tss, reps), kl = bench_median(tkl, reps);
            double qp = bench_median(tq, reps);
            fprintf(f, "%lld,%lld,%d,%.6g,%.6g,%.3f,%.6g,%.6g,%.3f,%.3f\n", (long long)n, (long long)d, k,
                    s, l, l / s, ss, kl, kl / ss, qp);
            printf("n=%-8lld d=%-5lld k=%-3d api: step %8.5f s, 2k losses %8.5f s, %.2fx | solver step %8.5f s, 2k kernel losses %8.5f s, %.2fx (paired %.2fx)\n",
                   (long long)n, (long long)d, k, s, l, l / s, ss, kl, kl / ss, qp);
            if (sink == 1e300)
                printf(" ");
        }
        free(A); free(b); free(xs); free(x); free(gh); free(xp);
    }
    fclose(f);
    printf("csv: %s\n", csv);
    return 0;
}
