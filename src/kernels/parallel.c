/*
 * parallel.c -- fork-join over a fixed number of parts, with POSIX threads.
 *
 * The one place the library starts threads: the one-pass loss+gradient,
 * the products with A (blas.c) and the Hessian's row blocks (hessian.c).
 * Part t of T always does the same work whichever thread runs it, so the
 * result depends on T only, never on scheduling; if a thread cannot be
 * started its part runs in the caller, with the same result.  While the
 * parts run (also when T = 1), OpenBLAS is held to one thread, so our T
 * threads and OpenBLAS's never add up to more than T (its count is
 * restored after), and OpenBLAS's own workers stay asleep: after a
 * threaded call they spin for ~2^28 cycles, taking a core from ours.
 */
#include "kernels.h"

#include <cblas.h>
#include <pthread.h>

typedef struct {
    void (*fn)(void *, int, int);
    void *ctx;
    int t, T;
} part_arg;

static void *run_part(void *p)
{
    part_arg *a = p;
    a->fn(a->ctx, a->t, a->T);
    return NULL;
}

int smr_k_threads(void)
{
    int t = openblas_get_num_threads();
    if (t < 1)
        t = 1;
    return t > SMR_MAX_THREADS ? SMR_MAX_THREADS : t;
}

int smr_k_blas_hold(void)
{
    int old = openblas_get_num_threads();
    if (old != 1)
        openblas_set_num_threads(1);
    return old;
}

void smr_k_blas_release(int old)
{
    if (old != 1)
        openblas_set_num_threads(old);
}

void smr_k_parallel(int T, void (*fn)(void *ctx, int t, int T), void *ctx)
{
    int blas_old = smr_k_blas_hold();
    if (T <= 1) {
        fn(ctx, 0, 1);
        smr_k_blas_release(blas_old);
        return;
    }
    if (T > SMR_MAX_THREADS)
        T = SMR_MAX_THREADS;
    pthread_t th[SMR_MAX_THREADS];
    part_arg arg[SMR_MAX_THREADS];
    bool started[SMR_MAX_THREADS];
    for (int t = 1; t < T; ++t) {
        arg[t] = (part_arg){fn, ctx, t, T};
        started[t] = pthread_create(&th[t], NULL, run_part, &arg[t]) == 0;
    }
    fn(ctx, 0, T);
    for (int t = 1; t < T; ++t) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            fn(ctx, t, T);
    }
    smr_k_blas_release(blas_old);
}
