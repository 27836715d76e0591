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
#include <stdatomic.h>
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
 * once, on first use.  Worker t runs part t.  One caller at a time uses the
 * pool; a second, concurrent caller (another thread of the program, or a
 * part that itself calls smr_k_parallel) starts its own threads as before.
 * A child of fork() starts a fresh pool; the workers are stopped and joined
 * when the library is unloaded.
 *
 * Between calls a worker first spins for up to SMR_POOL_SPIN_NS, watching
 * the call counter, and only then sleeps on a condition variable; the
 * caller likewise spins that long for the parts' end before it sleeps.
 * Sleeping at once, a call on two threads cost 29-62 us of fork and join
 * on this VM (an empty part, /tmp driver: the futex wake of a halted vCPU
 * goes through the hypervisor) -- a third of a pass over A at n = 10^4,
 * d = 20, and the solvers run several passes per iteration with little
 * serial work between them.  A spin that caught the next call costs a
 * cache line's trip between the cores instead.  The spin is bounded so
 * that a worker idle for longer gives its core back (to OpenBLAS's own
 * threads, or the program's) within SMR_POOL_SPIN_NS; OpenBLAS's workers,
 * by contrast, spin ~2^28 cycles, which is why the library holds OpenBLAS
 * at one thread while its parts run.
 *
 * Publication: the caller writes fn, ctx and T, then advances the call
 * word -- the call's count times 256 plus nrun, the workers taking part --
 * with release order under the mutex (and broadcasts for sleepers); a
 * worker that sees a new word by an acquire load, spinning or under the
 * mutex, takes part if its id is at most the word's nrun and only then
 * reads fn, ctx and T, which the caller does not touch again before every
 * worker taking part has counted pending down.  A worker left out of a
 * call reads nothing but the word (the caller may already be writing the
 * next call's fields), so it may miss calls it had no part in, never one
 * it has.  pending (atomic): the worker that takes it to zero signals done
 * under the mutex, so a caller that checked it under the mutex and went to
 * sleep is woken.
 */
#define SMR_POOL_SPIN_NS 50000.0

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t go, done;
    pthread_t th[SMR_MAX_THREADS];
    unsigned long seen0[SMR_MAX_THREADS]; /* word at a worker's start      */
    int nworkers;                         /* workers 1..nworkers run       */
    _Atomic unsigned long word;           /* call count * 256 + nrun       */
    _Atomic unsigned long pending;        /* parts still running           */
    bool quit;                            /* under m                       */
    void (*fn)(void *, int, int);
    void *ctx;
    int T; /* the call's part count */
} pool_t;

static pool_t pool = {.m = PTHREAD_MUTEX_INITIALIZER,
                      .go = PTHREAD_COND_INITIALIZER,
                      .done = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t pool_user = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static inline void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* spin until *v (acquire) equals target (eq) or differs from it (!eq),
 * at most SMR_POOL_SPIN_NS; true if it did */
static bool spin_for(_Atomic unsigned long *v, unsigned long target, bool eq)
{
    double t0 = smr_k_now();
    for (unsigned i = 1;; ++i) {
        if ((atomic_load_explicit(v, memory_order_acquire) == target) == eq)
            return true;
        spin_pause();
        if (i % 64 == 0 && (smr_k_now() - t0) * 1e9 > SMR_POOL_SPIN_NS)
            return false;
    }
}

static void *pool_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    pthread_mutex_lock(&pool.m);
    unsigned long seen = pool.seen0[id];
    pthread_mutex_unlock(&pool.m);
    for (;;) {
        if (!spin_for(&pool.word, seen, false)) {
            pthread_mutex_lock(&pool.m);
            while (atomic_load_explicit(&pool.word, memory_order_acquire) == seen && !pool.quit)
                pthread_cond_wait(&pool.go, &pool.m);
            bool quit = pool.quit;
            pthread_mutex_unlock(&pool.m);
            if (quit)
                break;
        }
        seen = atomic_load_explicit(&pool.word, memory_order_acquire);
        if (id <= (int)(seen % 256)) {
            pool.fn(pool.ctx, id, pool.T);
            if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
                pthread_mutex_lock(&pool.m);
                pthread_cond_signal(&pool.done);
                pthread_mutex_unlock(&pool.m);
            }
        }
    }
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
    atomic_store(&pool.pending, 0);
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
        pool.seen0[id] = atomic_load_explicit(&pool.word, memory_order_relaxed);
        if (pthread_create(&pool.th[id], NULL, pool_worker, (void *)(intptr_t)id) != 0)
            break;
        pool.nworkers = id;
    }
    int nw = pool.nworkers < T - 1 ? pool.nworkers : T - 1;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.T = T;
    /* parts beyond nw have no worker: the caller runs them */
    atomic_store_explicit(&pool.pending, (unsigned long)nw, memory_order_relaxed);
    unsigned long w = atomic_load_explicit(&pool.word, memory_order_relaxed);
    atomic_store_explicit(&pool.word, (w / 256 + 1) * 256 + (unsigned long)nw,
                          memory_order_release);
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.m);
    fn(ctx, 0, T);
    for (int t = nw + 1; t < T; ++t)
        fn(ctx, t, T);
    if (!spin_for(&pool.pending, 0, true)) {
        pthread_mutex_lock(&pool.m);
        while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0)
            pthread_cond_wait(&pool.done, &pool.m);
        pthread_mutex_unlock(&pool.m);
    }
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
