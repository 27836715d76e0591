/*
 * bench_kernels.c -- the objective kernels against this machine's own
 * limits, measured in the same run on the same A.
 *
 *   bench_kernels [--quick | --targets | --case N D [--layout row|col]]
 *                 [--csv FILE]
 *
 * --targets runs the cases of the performance targets (issue 7): tall
 * n = 10^6, d = 16, 64, 256 and wide n = 10^4, d = 2000, both layouts.
 *
 * For each layout and (n, d) of the grid (A <= 2 GB):
 *   stream     limit for the memory-bound kernels: the faster of OpenBLAS
 *              dgemv on A (its own threads) and a vectorized summation
 *              over A split over the same number of threads
 *   two_call   OpenBLAS dgemv then transposed dgemv: what a user writes by
 *              hand for loss and gradient
 *   one_pass_compute  the one-pass kernel's own compute: one thread's time
 *              per row on the first rows of A times n / threads -- what
 *              the pass costs beyond the read when the two do not overlap
 *              (--targets and --case only).  The first rows: row-major,
 *              one block of the pass (256 KiB, at least 64 rows: in L2);
 *              column-major, max(256 KiB, d rows) where that is at most
 *              1 MiB (d <= 362), else one block of the pass (640 rows,
 *              10 MB at n = 10^4, d = 2000: in the last-level cache)
 *   loss, loss_grad, hessvec    the library's kernels (loss_grad: the
 *              two-pass path; loss_grad_api: the public call, which also
 *              validates and allocates)
 *   one_pass   the one-pass loss+gradient the solvers use, called at two
 *              alternating points (so each call's shift comes from the
 *              other point, as between a solver's iterates); the CSV's
 *              fallbacks column counts calls that needed a second pass.
 *              In its lean form (fused.c), as L-BFGS and gradient descent
 *              call it: no n-vector stored; one_pass_keep_paired
 *              (--targets and --case) is one_pass_paired for the form
 *              that keeps f and z, as Newton calls it
 *   one_pass_paired  (--targets and --case only) one_pass and the
 *              summation alternately, call by call: its ratio column is
 *              the median of the reps' ratios one_pass / sum (the two
 *              calls of a rep see the same machine; the separate medians
 *              of stream and one_pass came from runs up to a minute apart
 *              and moved the ratio by up to 40 % on this shared machine)
 *   one_pass_runs  (--targets and --case only) one_pass against the
 *              summation in runs of 10 calls of each kind (as
 *              one_pass_vs_two_pass below): a check that the call-by-call
 *              alternation of one_pass_paired does not bias it
 *   nvec_floor_paired  (--targets and --case only) the memory traffic
 *              of the one pass without its arithmetic (bench_nvec_floor:
 *              A read once, b read and u written per row, then u and b
 *              read and u rewritten by a second sweep), against the
 *              summation call by call as one_pass_paired: what the
 *              n-vectors add to a read of A (about 32 bytes a row), a
 *              floor for one_pass_paired where rows are short
 *   col_read_rR  (--targets and --case only, column-major) A read
 *              plainly in the order a one pass must read it, R rows at a
 *              time (bench_colread.c), against the summation call by call
 *              as one_pass_paired; for R = 8 .. 512 whose chunk fits in
 *              L2, and the kernel's R: what the order alone costs
 *   one_pass_vs_two_pass  (--targets and --case only) the solvers'
 *              choice of path (SMR_FUSED_COL_MAX_D): rounds of 10
 *              one_pass calls then 10 loss_grad calls, each run after an
 *              untimed call of its kind; the ratio column is the median
 *              over the rounds of one_pass / loss_grad, below 1 where the
 *              one pass is the faster.  A solver evaluates one kind in a
 *              row, and the two-pass path gets faster over consecutive
 *              calls (column-major n = 10^4, d = 2000, /tmp driver: 6.4 ms
 *              a call in runs of 1, 5.9 in runs of 3, 5.6 in runs of 30;
 *              the one pass 6.3-6.6 throughout): runs of 3 favoured the
 *              one pass where solves did not (docs/benchmarks.md)
 *   speedup_2t_runs  (--targets and --case only) rounds of 10 one_pass
 *              calls on one thread then 10 on the run's threads, each run
 *              after an untimed call of its kind; the ratio column is the
 *              median of the rounds' one-thread / threaded times (the
 *              speedup; seconds: the one-thread time).  Call by call it
 *              read lower (row-major n = 10^6, d = 16: 1.53-1.88 against
 *              1.78-2.05 in runs of 10, same runs): the first call after a
 *              switch pays for it
 *   speedup_bound_2t  (--targets and --case only) the same rounds of
 *              one_pass on one thread against the summation on the run's
 *              threads: ratio = one-thread pass / threaded read, the
 *              speedup a threaded pass at the read would reach -- what
 *              memory bandwidth allows (approximately: the summation is
 *              the fastest read we know, not a proven floor)
 *   vs_two_call_runs  (--targets and --case only) rounds of 10 one_pass
 *              calls then 10 two_call calls, OpenBLAS's workers waited out
 *              after each two_call run and the one_pass run preceded by
 *              10 untimed calls (after the wait the first calls ran up to
 *              1.5x slower: 5.0-5.9 ms against 3.6-4.0 at row-major
 *              n = 10^6, d = 16 with one untimed call); the ratio column
 *              is the median of the rounds' two_call / one_pass (how many
 *              times faster the one pass is; seconds: one_pass's time)
 *   The unpaired speedups (one_pass_1t / one_pass, two_call / one_pass)
 *   divide medians measured up to a minute apart; these two rows divide
 *   times of adjacent runs.
 *   one_pass_1t  the same with one thread (our threads and OpenBLAS's)
 *   stream_sum_1t  (--targets and --case only) the summation on one
 *              thread: how much of the bandwidth one core can draw, which
 *              bounds the two-thread speedup of a pass near the read:
 *              at most one_pass_1t / stream_sum (both against the limit)
 *   speedup_cache_2t  (--targets and --case only) what the two cores
 *              give the pass where memory does not limit it: the pass on
 *              a head of A of 2^21 entries (16 MB, in the last-level
 *              cache; column-major: its columns lda = rows + 8 apart in
 *              A) on one thread against the run's threads, in rounds of
 *              10 calls as speedup_2t_runs; ratio = the speedup (seconds:
 *              the one-thread time).  Informative, not a bound: on this
 *              machine it swung from 0.86 to 2.0 between runs
 *              (docs/benchmarks.md, "Current (stop 37)")
 *   syrk       limit for the Hessian: OpenBLAS cblas_dsyrk on A, its own
 *              threads (d <= 1000)
 * After each threaded OpenBLAS measurement the run waits for OpenBLAS's
 * idle workers to stop spinning (bench_blas_idle), so they do not take a
 * core from the next measurement.
 *   overlap_fma_*, reread_*  (--targets) the overlap probes: see
 *              overlap_probe below
 *   hessian    the library's dense Hessian, forward pass at x included
 *   hessian_asm  the same from the forward pass a Newton iteration already
 *              has (its loss+gradient at x): the assembly alone
 *   hessian_paired  (--targets and --case only) the hessian row against
 *              syrk in rounds of one call each (at least 5 rounds,
 *              OpenBLAS's workers waited out after each syrk); the ratio
 *              column is the median of the rounds' hessian / syrk -- the
 *              Hessian target's figure
 * CSV: kernel,layout,n,d,seconds,rate,unit,limit_seconds,ratio (seconds /
 * limit; 1 is the machine's limit) -- medians of reps after a warm-up.
 */
#include "bench_common.h"
#include "objective/objective.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

static int reps_for(double bytes) { return bytes > 5e8 ? 3 : bytes > 5e7 ? 5 : 9; }

typedef struct {
    smr_problem *p;
    smr_ws *ws, *hws;
    const smr_problem *hp; /* the first rows of p (one_pass_compute) */
    double *x, *y, *g, *H, *s, *hv, *x2;
    double sink;
    int flip;
    int64_t R; /* rows per chunk of k_col_read */
} K;

#define TIMED(name, ...)                                                     \
    static void name(K *k) { __VA_ARGS__; }
TIMED(k_sum, k->sink += bench_stream_sum(k->p->A, k->p->n * k->p->d))
TIMED(k_floor, k->sink += bench_nvec_floor(k->p->A, k->p->n, k->p->d, k->p->b, k->y))
TIMED(k_col_read, k->sink += bench_col_chunk_read(k->p->A, k->p->n, k->p->d, k->p->n, k->R,
                                                 smr_k_threads()))
static void row(FILE *f, const char *kernel, const char *lay, int64_t n, int64_t d, double sec,
                double rate, const char *unit, double lim);
/* The overlap probes (--targets): how much of the one pass's work this
 * machine can hide under a streaming read of a 256 MB buffer, each timed
 * against the reference read (bench_stream_sum) rep by rep.  First the
 * arithmetic alone (bench_fma_stream: F multiply-adds of each loaded
 * vector, also in cache on the first 256 KiB, one thread, scaled), then
 * the pass's data flow (bench_reread_stream: each block dotted, then read
 * again for an update that needs the dot).  The first replaced (cae657f)
 * and now replaces the older probe of K chained multiply-adds per line,
 * whose figures are in the earlier runs' CSVs (docs/benchmarks.md). */
static double overlap_probe(FILE *f)
{
    int64_t len = (int64_t)1 << 25, head = (int64_t)1 << 15; /* 256 MB, 256 KiB */
    /* 64-byte aligned: a malloc'd buffer starts 16 bytes past a cache line
     * and every 64-byte load would straddle two lines (the probe measured
     * a read 40 % slower so) */
    double *a = aligned_alloc(64, (size_t)len * sizeof(double)), sink = 0;
    if (!a)
        return 0;
    for (int64_t i = 0; i < len; ++i)
        a[i] = 1e-9 * (double)(i % 1000);
    int T = smr_k_threads();
    /* The one pass's own shape (bench_overlap.c): F multiply-adds of each
     * loaded vector, F = 4 being one dot and three updates per element of
     * A.  read = the reference read, alternated with `both` rep by rep;
     * compute = one thread on the first 256 KiB (in cache), scaled */
    printf("# overlap probe, the one pass's shape: F multiply-adds of each loaded vector\n");
    for (int F = 1; F <= 4; F *= 2) {
        double tr[7], tb[7], th = 1e30;
        for (int r = 0; r < 7; ++r) {
            double t0 = bench_now();
            sink += bench_stream_sum(a, len);
            double t1 = bench_now();
            sink += bench_fma_stream(a, len, F, T);
            tr[r] = t1 - t0;
            tb[r] = bench_now() - t1;
        }
        for (int r = 0; r < 5; ++r) {
            double t0 = bench_now();
            for (int q = 0; q < 200; ++q)
                sink += bench_fma_stream(a, head, F, 1);
            double t1 = (bench_now() - t0) / 200;
            th = t1 < th ? t1 : th;
        }
        double t_read = bench_median(tr, 7), t_both = bench_median(tb, 7);
        double t_comp = th * (double)(len / head) / (double)T;
        double lo = t_read > t_comp ? t_read : t_comp;
        row(f, "overlap_fma_read", "-", len / 8, F, t_read, 8.0 * (double)len / t_read / 1e9, "GB/s", t_read);
        row(f, "overlap_fma_compute", "-", len / 8, F, t_comp, 8.0 * (double)len / t_comp / 1e9, "GB/s", t_read);
        row(f, "overlap_fma_both", "-", len / 8, F, t_both, 8.0 * (double)len / t_both / 1e9, "GB/s", t_read);
        printf("# F=%d: both / read = %.2f, both / max(read, compute) = %.2f, both / (read + compute) = %.2f\n",
               F, t_both / t_read, t_both / lo, t_both / (t_read + t_comp));
    }
    /* The one pass's data flow (bench_overlap.c, bench_reread_stream):
     * blocks of 4, 32 and 128 KiB (a row-major panel at d = 64, a
     * column-major chunk at d = 64 and 256), each read for a dot and again
     * for an update that needs the dot; in sequence (mode 0) and with the
     * update interleaved with the next block's dot (mode 1).  Against the
     * reference read rep by rep; the d column is the block in KiB */
    printf("# overlap probe, the one pass's data flow: dot, then the block again for an update\n");
    for (int64_t kib = 4; kib <= 128; kib = kib == 4 ? 32 : kib == 32 ? 128 : 1024) {
        for (int mode = 0; mode < 2; ++mode) {
            double tr[7], tb[7];
            for (int r = 0; r < 7; ++r) {
                double t0 = bench_now();
                sink += bench_stream_sum(a, len);
                double t1 = bench_now();
                sink += bench_reread_stream(a, len, kib * 128, mode, T);
                tr[r] = t1 - t0;
                tb[r] = bench_now() - t1;
            }
            double t_read = bench_median(tr, 7), t_both = bench_median(tb, 7);
            row(f, "reread_read", "-", len / 8, kib, t_read, 8.0 * (double)len / t_read / 1e9, "GB/s",
                t_read);
            row(f, mode ? "reread_interleaved" : "reread_in_sequence", "-", len / 8, kib, t_both,
                8.0 * (double)len / t_both / 1e9, "GB/s", t_read);
            printf("# block %ld KiB, %s: %.2f reads\n", (long)kib,
                   mode ? "interleaved" : "in sequence", t_both / t_read);
        }
    }
    free(a);
    return sink;
}

/* OpenBLAS alone (its own threads): y = A x, g = A^T y */
static void blas_gemv(const smr_problem *p, bool trans, const double *v, double *out)
{
    bool rm = p->layout == SMR_ROW_MAJOR;
    int rows = (int)(rm ? p->d : p->n), cols = (int)(rm ? p->n : p->d);
    cblas_dgemv(CblasColMajor, (rm != trans) ? CblasTrans : CblasNoTrans, rows, cols, 1.0, p->A,
                rows, v, 1, 0.0, out, 1);
}
TIMED(k_gemv, blas_gemv(k->p, false, k->x, k->y))
TIMED(k_two_call, {
    blas_gemv(k->p, false, k->x, k->y);
    blas_gemv(k->p, true, k->y, k->g);
})
TIMED(k_loss, smr_obj_forward(k->p, k->x, k->ws))
TIMED(k_loss_grad, {
    smr_obj_forward(k->p, k->x, k->ws);
    smr_obj_gradient(k->p, k->x, k->ws, k->g);
})
TIMED(k_one_pass, {
    k->flip ^= 1;
    smr_obj_loss_grad(k->p, k->flip ? k->x2 : k->x, k->ws, k->g);
})
TIMED(k_one_pass_one_thread, { /* one_pass on one thread, then back */
    int thr = smr_k_set_threads(1);
    k_one_pass(k);
    smr_k_set_threads(thr);
})
TIMED(k_one_pass_head, { /* on the first rows only (k->hp), in cache */
    k->flip ^= 1;
    /* no smr_ws_bind here: binding forgets the previous lse, and every
     * pass would then be a first pass (no shift, usually a fallback) */
    smr_obj_loss_grad(k->hp, k->flip ? k->x2 : k->x, k->hws, k->g);
})
TIMED(k_one_pass_head_one_thread, { /* the same on one thread, then back */
    int thr = smr_k_set_threads(1);
    k_one_pass_head(k);
    smr_k_set_threads(thr);
})
TIMED(k_loss_grad_api, { double L; smr_loss_gradient(k->p, k->x, &L, k->g); k->sink += L; })
TIMED(k_hessvec, smr_obj_hessvec(k->p, k->x, k->s, k->ws, k->hv))
TIMED(k_syrk, {
    smr_mat *m = &k->ws->A;
    cblas_dsyrk(CblasColMajor, CblasUpper, m->row_major ? CblasNoTrans : CblasTrans,
                (int)m->d, (int)m->n, 1.0, m->a, (int)m->ld, 0.0, k->H, (int)m->d);
})
TIMED(k_hessian, {
    smr_obj_forward(k->p, k->x, k->ws);
    smr_obj_hessian(k->p, k->ws, 0.0, k->H, k->p->d);
})
/* what a Newton iteration pays: its loss+gradient evaluation at x left the
 * forward pass (z, f, <f, c>) in the workspace, the Hessian reuses it */
TIMED(k_hessian_asm, {
    smr_obj_hessian(k->p, k->ws, 0.0, k->H, k->p->d);
})

static double med(void (*fn)(K *), K *k, int reps)
{
    double t[16];
    fn(k);
    for (int r = 0; r < reps; ++r) {
        double t0 = bench_now();
        fn(k);
        t[r] = bench_now() - t0;
    }
    return bench_median(t, reps);
}

/* fa and fb in rounds after a warm-up of both: per round, run timed calls
 * of fa, then run timed calls of fb -- or, on odd rounds, fb first (not
 * with idle_b, whose idle follows fb): a /tmp driver that alternated two
 * builds of the library in a fixed order put the one that ran second
 * 0.5-7 % ahead of where the reversed order put it (docs/benchmarks.md).
 * Returns the median over the rounds
 * of the round's time(fa) / time(fb), and fa's median time per call in
 * *ta.  run = 1: call by call, so each ratio comes from two adjacent calls
 * and a machine that slows down for a while moves both (one_pass_paired).
 * run > 1: each run follows an untimed call of its kind, as a solver calls
 * one kind in a row (SMR_RUN; one_pass_runs, one_pass_vs_two_pass). */
#define SMR_RUN 10
static double rounds_ratio_idle(void (*fa)(K *), void (*fb)(K *), K *k, int rounds,
                                int run, bool idle_b, double *ta)
{
    double t[16], q[16];
    fa(k);
    fb(k);
    if (idle_b)
        bench_blas_idle();
    for (int r = 0; r < rounds; ++r) {
        double s[2];
        for (int hh = 0; hh < 2; ++hh) {
            int h = !idle_b && (r & 1) ? 1 - hh : hh;
            void (*fn)(K *) = h ? fb : fa;
            /* after the idle (idle_b), a whole run of fa untimed (one
             * call where run = 1): the first calls after a sleep ran up
             * to 2x slower here */
            for (int c = 0; c < (h == 0 && idle_b ? run : run > 1 ? 1 : 0); ++c)
                fn(k);
            double t0 = bench_now();
            for (int c = 0; c < run; ++c)
                fn(k);
            s[h] = (bench_now() - t0) / run;
            if (h && idle_b)
                bench_blas_idle(); /* untimed: fb ran OpenBLAS's threads */
        }
        t[r] = s[0];
        q[r] = s[0] / s[1];
    }
    *ta = bench_median(t, rounds);
    return bench_median(q, rounds);
}

/* A head of p: its first `rows` rows, in place (column-major: columns
 * rows + 8 apart in A, so that they do not share L1 sets), with a lean
 * workspace; false where the head would not fit inside A or the
 * workspace cannot be had */
static bool head_of(const smr_problem *p, int64_t rows, smr_problem *hp, smr_ws *hws)
{
    bool col = p->layout == SMR_COL_MAJOR;
    *hp = *p;
    hp->n = rows;
    if (col)
        hp->lda = rows + 8;
    if (!(col ? rows + 8 <= p->n : rows < p->n) || smr_ws_init(hws, hp, false) != SMR_OK)
        return false;
    hws->lean = true;
    return true;
}

static double rounds_ratio(void (*fa)(K *), void (*fb)(K *), K *k, int rounds, int run,
                           double *ta)
{
    return rounds_ratio_idle(fa, fb, k, rounds, run, false, ta);
}

static int64_t row_fallbacks; /* of the one_pass row being written */

static void row(FILE *f, const char *kernel, const char *lay, int64_t n, int64_t d, double sec,
                double rate, const char *unit, double lim)
{
    fprintf(f, "%s,%s,%lld,%lld,%.6g,%.4g,%s,%.6g,%.4f,%lld\n", kernel, lay, (long long)n,
            (long long)d, sec, rate, unit, lim, sec / lim, (long long)row_fallbacks);
    row_fallbacks = 0;
    printf("%-14s %-3s n=%-9lld d=%-5lld %10.6f s %9.2f %-6s x%.3f of limit\n", kernel, lay,
           (long long)n, (long long)d, sec, rate, unit, sec / lim);
}

int main(int argc, char **argv)
{
    int quick = 0, targets = 0;
    long long one_n = 0, one_d = 0; /* --case N D: that case only */
    int only_lay = -1;                 /* --layout: 0 row, 1 col */
    const char *csv = "bench-kernels.csv";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--targets")) targets = 1;
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
        else if (!strcmp(argv[i], "--case") && i + 2 < argc) {
            one_n = atoll(argv[++i]);
            one_d = atoll(argv[++i]);
            if (one_n < 1 || one_d < 1 || one_n < one_d || (double)one_n * (double)one_d > 3e8) {
                fprintf(stderr, "bench_kernels: --case needs 1 <= D <= N, N*D <= 3e8\n");
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--layout") && i + 1 < argc) {
            ++i;
            only_lay = !strcmp(argv[i], "row") ? 0 : !strcmp(argv[i], "col") ? 1 : -2;
            if (only_lay == -2) {
                fprintf(stderr, "bench_kernels: --layout is row or col\n");
                return 2;
            }
        }
        else { fprintf(stderr, "usage: bench_kernels [--quick | --targets | --case N D [--layout row|col]] [--csv FILE]\n"); return 2; }
    }
    const int64_t ns_full[] = {1000, 10000, 100000, 1000000, 10000000};
    const int64_t ds_full[] = {10, 100, 1000, 2000};
    const int64_t ns_quick[] = {1000, 10000, 100000};
    const int64_t ds_quick[] = {10, 100};
    const int64_t *ns = quick ? ns_quick : ns_full, *ds = quick ? ds_quick : ds_full;
    int nn = quick ? 3 : 5, nd = quick ? 2 : 4;
    double max_entries = quick ? 2e6 : 2.5e8; /* 2 GB of A in the full run */
    /* the cases as (n, d) pairs: the grid, or the targets' list */
    int64_t cn[32], cd[32];
    int nc = 0;
    if (one_n) {
        cn[nc] = one_n, cd[nc++] = one_d;
        max_entries = 3e8;
    } else if (targets) {
        const int64_t tn[] = {1000000, 1000000, 1000000, 10000};
        const int64_t td[] = {16, 64, 256, 2000};
        for (int c = 0; c < 4; ++c)
            cn[nc] = tn[c], cd[nc++] = td[c];
        max_entries = 3e8;
    } else {
        for (int id = 0; id < nd; ++id)
            for (int in = 0; in < nn; ++in)
                cn[nc] = ns[in], cd[nc++] = ds[id];
    }
    FILE *f = fopen(csv, "w");
    if (!f) { perror(csv); return 2; }
    fprintf(f, "# %s\n", bench_machine());
    fprintf(f, "kernel,layout,n,d,seconds,rate,unit,limit_seconds,ratio,fallbacks\n");
    printf("# %s\n", bench_machine());
    if (targets && overlap_probe(f) == 12345.678)
        printf(" ");
    for (int lay = 0; lay < 2; ++lay)
        for (int c = 0; c < nc; ++c) {
            if (only_lay >= 0 && lay != only_lay)
                continue;
            {
                int64_t n = cn[c], d = cd[c];
                if ((double)n * (double)d > max_entries || n < d)
                    continue;
                double bytes = 8.0 * (double)n * (double)d;
                double *A = malloc((size_t)bytes), *b = malloc(8 * (size_t)n), *xs = malloc(8 * (size_t)d);
                double *x = malloc(8 * (size_t)d), *y = malloc(8 * (size_t)n), *g = malloc(8 * (size_t)d);
                double *s = malloc(8 * (size_t)d), *hv = malloc(8 * (size_t)d);
                double *H = malloc(8 * (size_t)(d * d)), *x2 = malloc(8 * (size_t)d);
                if (!A || !b || !xs || !x || !y || !g || !s || !hv || !H || !x2) { fprintf(stderr, "out of memory\n"); return 1; }
                bench_seed(7);
                bench_problem(n, d, A, b, xs); /* row-major; the col-major run reads it as A^T-shaped data */
                for (int64_t j = 0; j < d; ++j)
                    x[j] = 0.5 * xs[j], s[j] = bench_normal(), x2[j] = x[j] + 1e-3 * s[j];
                smr_problem p = {.n = n, .d = d, .A = A, .b = b,
                                 .layout = lay ? SMR_COL_MAJOR : SMR_ROW_MAJOR};
                smr_ws ws;
                if (smr_ws_init(&ws, &p, true) != SMR_OK) { fprintf(stderr, "out of memory\n"); return 1; }
                ws.lean = true; /* the one pass as L-BFGS and GD call it */
                K k = {.p = &p, .ws = &ws, .x = x, .y = y, .g = g, .H = H, .s = s, .hv = hv, .x2 = x2};
                const char *L = lay ? "col" : "row";
                int reps = reps_for(bytes);
                double t_sum = med(k_sum, &k, reps), t_gemv = med(k_gemv, &k, reps);
                bench_blas_idle();
                double lim = t_sum < t_gemv ? t_sum : t_gemv;
                row(f, "stream_sum", L, n, d, t_sum, bytes / t_sum / 1e9, "GB/s", lim);
                row(f, "stream_gemv", L, n, d, t_gemv, bytes / t_gemv / 1e9, "GB/s", lim);
                double t;
                t = med(k_two_call, &k, reps);
                bench_blas_idle();
                row(f, "two_call", L, n, d, t, 2 * bytes / t / 1e9, "GB/s", lim);
                t = med(k_loss, &k, reps);
                row(f, "loss", L, n, d, t, bytes / t / 1e9, "GB/s", lim);
                t = med(k_loss_grad, &k, reps);
                row(f, "loss_grad", L, n, d, t, 2 * bytes / t / 1e9, "GB/s", lim);
                ws.fused_fallbacks = ws.lean_fallbacks = 0;
                t = med(k_one_pass, &k, reps);
                /* the untimed first call included */
                row_fallbacks = ws.fused_fallbacks + ws.lean_fallbacks;
                row(f, "one_pass", L, n, d, t, bytes / t / 1e9, "GB/s", lim);
                if (targets || one_n) { /* against the sum, call by call */
                    int pr = reps + 4 < 15 ? reps + 4 : 15;
                    double q = rounds_ratio(k_one_pass, k_sum, &k, pr, 1, &t);
                    row(f, "one_pass_paired", L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    q = rounds_ratio(k_one_pass, k_sum, &k, reps < 7 ? reps : 7, SMR_RUN, &t);
                    row(f, "one_pass_runs", L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    q = rounds_ratio(k_floor, k_sum, &k, pr, 1, &t);
                    row(f, "nvec_floor_paired", L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    /* column-major: A read plainly in the one pass's
                     * order, R rows at a time (bench_colread.c), for the
                     * R whose chunk (8 R d bytes) fits in L2 (1 MiB here)
                     * and for the kernel's own R at the AVX-512 level (32
                     * below d = 48, 128 up to 255, 64 from 256:
                     * fused_cols.c; the AVX2 level takes 32 throughout),
                     * against the sum call by call */
                    for (int64_t R = 8; lay && R <= 512; R *= 2) {
                        if (8 * R * d > (1 << 20) && R != (d < 48 ? 32 : d < 256 ? 128 : 64))
                            continue;
                        k.R = R;
                        char name[32];
                        snprintf(name, sizeof name, "col_read_r%lld", (long long)R);
                        q = rounds_ratio(k_col_read, k_sum, &k, pr, 1, &t);
                        row(f, name, L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    }
                    ws.lean = false; /* as Newton calls it: f and z kept */
                    ws.fused_fallbacks = 0;
                    q = rounds_ratio(k_one_pass, k_sum, &k, pr, 1, &t);
                    row_fallbacks = ws.fused_fallbacks;
                    row(f, "one_pass_keep_paired", L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    ws.lean = true;
                    q = rounds_ratio(k_one_pass, k_loss_grad, &k, reps < 7 ? reps : 7, SMR_RUN, &t);
                    row(f, "one_pass_vs_two_pass", L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    /* the two speedups of the targets, each round's own
                     * ratio (the unpaired ones divide medians of runs up
                     * to a minute apart) */
                    q = rounds_ratio(k_one_pass_one_thread, k_one_pass, &k, reps < 7 ? reps : 7,
                                     SMR_RUN, &t);
                    row(f, "speedup_2t_runs", L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    /* what bandwidth allows the speedup: the one-thread
                     * pass against the threads' read, in the same rounds
                     * (a threaded pass at the read would gain this much) */
                    q = rounds_ratio(k_one_pass_one_thread, k_sum, &k, reps < 7 ? reps : 7,
                                     SMR_RUN, &t);
                    row(f, "speedup_bound_2t", L, n, d, t, bytes / t / 1e9, "GB/s", t / q);
                    q = rounds_ratio_idle(k_one_pass, k_two_call, &k, reps < 7 ? reps : 7, SMR_RUN,
                                          true, &t);
                    row(f, "vs_two_call_runs", L, n, d, t, bytes / t / 1e9, "GB/s", t * q);
                }
                int thr = smr_k_set_threads(1);
                ws.fused_fallbacks = ws.lean_fallbacks = 0;
                t = med(k_one_pass, &k, reps);
                row_fallbacks = ws.fused_fallbacks + ws.lean_fallbacks;
                smr_k_set_threads(thr);
                row(f, "one_pass_1t", L, n, d, t, bytes / t / 1e9, "GB/s", lim);
                if (targets || one_n) { /* one core's read; the compute part of the one-pass kernel */
                    thr = smr_k_set_threads(1);
                    t = med(k_sum, &k, reps);
                    smr_k_set_threads(thr);
                    row(f, "stream_sum_1t", L, n, d, t, bytes / t / 1e9, "GB/s", lim);
                    int64_t hn;
                    /* row-major: one block of the pass (256 KiB, at
                     * least 64 rows: 1 MiB at d = 2000).  Before 6830a28
                     * the head was max(256 KiB, d rows) in both layouts:
                     * 2000 rows (32 MB, beyond L2) at d = 2000, and the
                     * pass's 16-row blocks, so its row-major d = 2000
                     * "compute alone" was not in cache */
                    if (lay) {
                        hn = (1 << 18) / (8 * d) > d ? (1 << 18) / (8 * d) : d;
                        /* column-major rows that long (d > 362): one
                         * block of the pass instead (ws.nbf rows: 640 at
                         * n = 10^4, d = 2000, 2 threads: 10 MB, in the
                         * last-level cache, not L2 -- the pass's own
                         * 64-row chunk and lane sums, 1.4 MB, do not fit
                         * L2 there either).  Until stop 36 it was d rows:
                         * 2000 rows, 32 MB, as much as the core complex's
                         * L3, cut into 10 MB blocks */
                        if (hn * d * 8 > (1 << 20) && ws.nbf > 0)
                            hn = ws.nbf;
                    } else
                        hn = smr_fwd_block_rows(&ws, true);
                    /* column-major: columns hn + 8 apart (the first
                     * entries of A), not hn: 512 rows at d = 64 put the
                     * columns 4 KiB apart, on the same sets of L1, which
                     * the full pass's columns (10^6 rows apart) are not;
                     * and hn + 8 <= n, so that they stay inside A */
                    smr_problem hp;
                    smr_ws hws;
                    if (head_of(&p, hn, &hp, &hws)) {
                        /* column-major: the head in the full pass's blocks
                         * (as many rows as it has, up to ws.nbf); its own
                         * init cut it into blocks of 32 rows (8 per thread),
                         * and each block's lane sums (4 x 8 x d, cleared and
                         * added up per block) then cost more than the rows:
                         * up to 044553b this row read 2.2-3.3 reads for
                         * column-major d = 64 and 256 where the pass itself
                         * took 1.6-2.0 */
                        if (lay && smr_ws_fused_init(&hws) == SMR_OK && ws.nbf > 0)
                            hws.nbf = ws.nbf < hp.n ? ws.nbf : hp.n;
                        k.hws = &hws;
                        k.hp = &hp;
                        int thr1 = smr_k_set_threads(1);
                        double th = med(k_one_pass_head, &k, 15);
                        /* the first calls included (no shift yet) */
                        row_fallbacks = hws.fused_fallbacks + hws.lean_fallbacks;
                        smr_k_set_threads(thr1);
                        t = th * (double)n / (double)hp.n / (double)thr1;
                        row(f, "one_pass_compute", L, n, d, t, bytes / t / 1e9, "GB/s", lim);
                        smr_ws_free(&hws);
                    }
                    /* the threads' speedup in the last-level cache: a head
                     * of 2^21 entries (over SMR_FUSED_MIN_WORK, so the
                     * pass takes its threads) */
                    smr_problem cp;
                    if (head_of(&p, ((int64_t)1 << 21) / d, &cp, &hws)) {
                        /* its parts for the run's threads now: the first
                         * call sizes them, and the rounds start on one */
                        smr_ws_fused_init(&hws);
                        k.hws = &hws;
                        k.hp = &cp;
                        double tc;
                        double q = rounds_ratio(k_one_pass_head_one_thread, k_one_pass_head, &k,
                                                7, SMR_RUN, &tc);
                        double cb = 8.0 * (double)cp.n * (double)d;
                        row_fallbacks = hws.fused_fallbacks + hws.lean_fallbacks;
                        row(f, "speedup_cache_2t", L, n, d, tc, cb / tc / 1e9, "GB/s", tc / q);
                        smr_ws_free(&hws);
                    }
                }
                t = med(k_loss_grad_api, &k, reps);
                row(f, "loss_grad_api", L, n, d, t, 2 * bytes / t / 1e9, "GB/s", lim);
                t = med(k_hessvec, &k, reps);
                row(f, "hessvec", L, n, d, t, 2 * bytes / t / 1e9, "GB/s", lim);
                double flops = (double)n * (double)d * (double)d; /* syrk: n d (d+1) */
                if (d <= 1000 && flops <= (quick ? 2e9 : 2e11)) {
                    int hr = flops > 2e10 ? 3 : reps;
                    double t_syrk = med(k_syrk, &k, hr);
                    bench_blas_idle();
                    row(f, "syrk", L, n, d, t_syrk, flops / t_syrk / 1e9, "GFLOP/s", t_syrk);
                    t = med(k_hessian, &k, hr);
                    row(f, "hessian", L, n, d, t, flops / t / 1e9, "GFLOP/s", t_syrk);
                    smr_obj_forward(k.p, k.x, k.ws); /* the state at x */
                    t = med(k_hessian_asm, &k, hr);
                    row(f, "hessian_asm", L, n, d, t, flops / t / 1e9, "GFLOP/s", t_syrk);
                    if (targets || one_n) {
                        /* the target's ratio from adjacent calls: the
                         * hessian row divides two medians taken up to a
                         * minute apart, and read 1.33-1.75 in noisy
                         * minutes where the two were even otherwise */
                        double q = rounds_ratio_idle(k_hessian, k_syrk, &k, hr < 5 ? 5 : hr, 1,
                                                     true, &t);
                        row(f, "hessian_paired", L, n, d, t, flops / t / 1e9, "GFLOP/s", t / q);
                    }
                }
                fflush(f);
                smr_ws_free(&ws);
                free(A); free(b); free(xs); free(x); free(y); free(g); free(s); free(hv); free(H); free(x2);
                if (k.sink == 12345.678)
                    printf(" ");
            }
        }
    fclose(f);
    printf("csv: %s\n", csv);
    return 0;
}
