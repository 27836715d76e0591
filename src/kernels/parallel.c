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
#include <stdint.h>

/*
 * The thread count and the hold.  While any part or LAPACK call of the
 * library runs, OpenBLAS is held at one thread; holds are counted (two
 * program threads may be inside the library at once), the first saves
 * OpenBLAS's count and the last restores it, and meanwhile the library's
 * count is the saved one.  (Unpaired, two callers' save/restore could leave
 * OpenBLAS at one thread for good, and a caller could read 1 as the
 * library's count while the other held it: test_concurrent_callers.)
 */
static pthread_mutex_t hold_m = PTHREAD_MUTEX_INITIALIZER;
static int holds, held_count = 1;

static int clamp_threads(int t) { return t < 1 ? 1 : t > SMR_MAX_THREADS ? SMR_MAX_THREADS : t; }

int smr_k_threads(void)
{
    pthread_mutex_lock(&hold_m);
    int t = holds > 0 ? held_count : openblas_get_num_threads();
    pthread_mutex_unlock(&hold_m);
    return clamp_threads(t);
}

int smr_k_set_threads(int threads)
{
    pthread_mutex_lock(&hold_m);
    int old = holds > 0 ? held_count : openblas_get_num_threads();
    if (threads > 0) {
        if (holds > 0)
            held_count = threads; /* applied when the last hold ends */
        else
            openblas_set_num_threads(threads);
    }
    pthread_mutex_unlock(&hold_m);
    return old;
}

void smr_k_blas_hold(void)
{
    pthread_mutex_lock(&hold_m);
    if (holds++ == 0) {
        held_count = openblas_get_num_threads();
        if (held_count != 1)
            openblas_set_num_threads(1);
    }
    pthread_mutex_unlock(&hold_m);
}

void smr_k_blas_release(void)
{
    pthread_mutex_lock(&hold_m);
    if (--holds == 0 && held_count != 1)
        openblas_set_num_threads(held_count);
    pthread_mutex_unlock(&hold_m);
}

/*
 * The pool.  Starting a thread per call cost ~20 us of clone3 plus the
 * page faults of a stack that glibc madvises away when the thread exits --
 * several milliseconds per solve on n = 10^4 (strace: 20 clone3 and 20
 * madvise per solve), more than the arithmetic.  So the workers are started
 * once, on first use, and sleep on a condition variable between calls
 * (they never spin: a spinning worker would take a core from OpenBLAS).
 * Worker t runs part t.  One caller at a time uses the pool; a second,
 * concurrent caller (another thread of the program, or a part that itself
 * calls smr_k_parallel) starts its own threads as before.  A child of
 * fork() starts a fresh pool; the workers are stopped and joined when the
 * library is unloaded.
 */
typedef struct {
    pthread_mutex_t m;
    pthread_cond_t go, done;
    pthread_t th[SMR_MAX_THREADS];
    unsigned long seen0[SMR_MAX_THREADS]; /* generation at a worker's start */
    int nworkers;                         /* workers 1..nworkers run       */
    unsigned long gen;                    /* one per call                  */
    int pending;                          /* parts still running           */
    bool quit;
    void (*fn)(void *, int, int);
    void *ctx;
    int T, nrun; /* the call's part count; workers 1..nrun take part */
} pool_t;

static pool_t pool = {.m = PTHREAD_MUTEX_INITIALIZER,
                      .go = PTHREAD_COND_INITIALIZER,
                      .done = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t pool_user = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void *pool_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    pthread_mutex_lock(&pool.m);
    unsigned long seen = pool.seen0[id];
    for (;;) {
        while (pool.gen == seen && !pool.quit)
            pthread_cond_wait(&pool.go, &pool.m);
        if (pool.quit)
            break;
        seen = pool.gen;
        if (id <= pool.nrun) {
            void (*fn)(void *, int, int) = pool.fn;
            void *ctx = pool.ctx;
            int T = pool.T;
            pthread_mutex_unlock(&pool.m);
            fn(ctx, id, T);
            pthread_mutex_lock(&pool.m);
            if (--pool.pending == 0)
                pthread_cond_signal(&pool.done);
        }
    }
    pthread_mutex_unlock(&pool.m);
    return NULL;
}

/* in a child of fork() the workers do not exist: forget them */
static void pool_after_fork(void)
{
    pthread_mutex_init(&pool.m, NULL);
    pthread_cond_init(&pool.go, NULL);
    pthread_cond_init(&pool.done, NULL);
    pthread_mutex_init(&pool_user, NULL);
    pthread_mutex_init(&hold_m, NULL);
    pool.nworkers = 0;
    pool.pending = 0;
}

static void pool_register(void) { pthread_atfork(NULL, NULL, pool_after_fork); }

__attribute__((destructor)) static void pool_stop(void)
{
    if (pthread_mutex_trylock(&pool_user) != 0)
        return; /* in use at unload: leave it */
    pthread_mutex_lock(&pool.m);
    pool.quit = true;
    pthread_cond_broadcast(&pool.go);
    int nw = pool.nworkers;
    pthread_mutex_unlock(&pool.m);
    for (int t = 1; t <= nw; ++t)
        pthread_join(pool.th[t], NULL);
    pool.nworkers = 0;
    pthread_mutex_unlock(&pool_user);
}

struct unpooled {
    void (*fn)(void *, int, int);
    void *ctx;
    int t, T;
};

static void *run_unpooled_part(void *p)
{
    struct unpooled *a = p;
    a->fn(a->ctx, a->t, a->T);
    return NULL;
}

/* parts 1..T-1 on fresh threads (the pool is busy); a part whose thread
 * cannot start runs in the caller */
static void run_unpooled(int T, void (*fn)(void *, int, int), void *ctx)
{
    pthread_t th[SMR_MAX_THREADS];
    struct unpooled arg[SMR_MAX_THREADS];
    bool started[SMR_MAX_THREADS];
    for (int t = 1; t < T; ++t) {
        arg[t] = (struct unpooled){fn, ctx, t, T};
        started[t] = pthread_create(&th[t], NULL, run_unpooled_part, &arg[t]) == 0;
    }
    fn(ctx, 0, T);
    for (int t = 1; t < T; ++t) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            fn(ctx, t, T);
    }
}

static void run_pooled(int T, void (*fn)(void *, int, int), void *ctx)
{
    pthread_once(&pool_once, pool_register);
    pthread_mutex_lock(&pool.m);
    while (pool.nworkers < T - 1) {
        int id = pool.nworkers + 1;
        pool.seen0[id] = pool.gen;
        if (pthread_create(&pool.th[id], NULL, pool_worker, (void *)(intptr_t)id) != 0)
            break;
        pool.nworkers = id;
    }
    int nw = pool.nworkers < T - 1 ? pool.nworkers : T - 1;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.T = T;
    pool.nrun = nw; /* parts beyond nw have no worker: the caller runs them */
    pool.pending = nw;
    pool.gen++;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.m);
    fn(ctx, 0, T);
    for (int t = nw + 1; t < T; ++t)
        fn(ctx, t, T);
    pthread_mutex_lock(&pool.m);
    while (pool.pending > 0)
        pthread_cond_wait(&pool.done, &pool.m);
    pthread_mutex_unlock(&pool.m);
}

void smr_k_parallel(int T, void (*fn)(void *ctx, int t, int T), void *ctx)
{
    smr_k_blas_hold();
    if (T > SMR_MAX_THREADS)
        T = SMR_MAX_THREADS;
    if (T <= 1)
        fn(ctx, 0, 1);
    else if (pthread_mutex_trylock(&pool_user) == 0) {
        run_pooled(T, fn, ctx);
        pthread_mutex_unlock(&pool_user);
    } else
        run_unpooled(T, fn, ctx);
    smr_k_blas_release();
}
