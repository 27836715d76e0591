/*
 * test_threads.c -- the library's own threads outside the one-pass kernel
 * (test_fused covers that): the products with A split over row ranges
 * (src/kernels/blas.c) and the Hessian assembled by row blocks per thread
 * (src/objective/hessian.c; also at d <= 16, where the assembly forms
 * A^T [f v] in its own pass).  For each: the threaded result agrees with
 * one thread to rounding, is bit-identical from run to run at a fixed
 * thread count, and OpenBLAS's thread count is the caller's again after.
 * And the thread pool under concurrent callers, and its calls' protocol.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "testutil.h"
#include "kernels/kernels.h"
#include "objective/objective.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 60001 /* not a multiple of 8: the last range is short; n d >= 2^20, so
                   * every product is split (blas.c SMR_SPLIT_MIN_WORK) */
#define D 24
#define K 3

static double rel(int64_t len, const double *a, const double *b)
{
    return tu_diff_inf(len, a, b) / tu_norm_inf(len, b);
}

/* Z = A X (n x K) and C = A^T Z (D x K) with the given thread count */
static void products(const smr_problem *p, int threads, const double *X, double *Z,
                     double *C, double *z1, double *c1)
{
    int old = smr_k_set_threads(threads);
    smr_mat A = smr_problem_mat(p);
    smr_k_mul(&A, K, X, D, Z, p->n);
    smr_k_mul_t(&A, K, Z, p->n, C, D);
    smr_k_mul(&A, 1, X, D, z1, p->n);
    smr_k_mul_t(&A, 1, z1, p->n, c1, D);
    assert_int_equal(openblas_get_num_threads(), threads); /* restored */
    smr_k_set_threads(old);
}

static void test_split_products(void **state)
{
    (void)state;
    for (int lay = 0; lay < 2; ++lay) {
        tu_spec spec = {.n = N, .d = D, .layout = lay ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                        .a_scale = 1.0, .seed = 5 + (uint64_t)lay};
        tu_problem tp;
        tu_problem_make(&tp, &spec);
        tu_rng r;
        tu_seed(&r, 8);
        double X[D * K];
        for (int q = 0; q < D * K; ++q)
            X[q] = tu_normal(&r);
        double *Z[4], C[4][D * K], *z1[4], c1[4][D];
        int counts[4] = {1, 2, 2, 3};
        for (int run = 0; run < 4; ++run) {
            Z[run] = malloc(sizeof(double) * N * K);
            z1[run] = malloc(sizeof(double) * N);
            assert_non_null(Z[run]);
            assert_non_null(z1[run]);
            products(&tp.p, counts[run], X, Z[run], C[run], z1[run], c1[run]);
        }
        /* the reference: the same sums in long double, row by row */
        double err = 0.0;
        for (int q = 0; q < K; ++q)
            for (int64_t j = 0; j < D; ++j) {
                long double s = 0, sa = 0;
                for (int64_t i = 0; i < N; ++i) {
                    long double zi = 0;
                    for (int64_t l = 0; l < D; ++l)
                        zi += (long double)tu_a(&tp.p, i, l) * X[q * D + l];
                    s += (long double)tu_a(&tp.p, i, j) * zi;
                    sa += fabsl((long double)tu_a(&tp.p, i, j) * zi);
                }
                for (int run = 0; run < 4; ++run) {
                    double e = (double)(fabsl(C[run][q * D + j] - s) / sa);
                    err = e > err ? e : err;
                }
            }
        TU_CHECK(err <= 1e-13, "layout %d: A^T A X relative error %.3g", lay, err);
        for (int run = 1; run < 4; ++run) {
            TU_CHECK(rel(N * K, Z[run], Z[0]) <= 1e-14, "layout %d, run %d: A X", lay, run);
            TU_CHECK(rel(D, c1[run], c1[0]) <= 1e-12, "layout %d, run %d: A^T z", lay, run);
        }
        /* the same thread count: the same bits */
        assert_memory_equal(Z[1], Z[2], sizeof(double) * N * K);
        assert_memory_equal(C[1], C[2], sizeof C[1]);
        assert_memory_equal(c1[1], c1[2], sizeof c1[1]);
        for (int run = 0; run < 4; ++run) {
            free(Z[run]);
            free(z1[run]);
        }
        tu_problem_free(&tp);
    }
}

/* the dense Hessian (all rows, and a sampled set with weights) at 1, 2, 2
 * and 3 threads */
static void test_hessian_threads(void **state)
{
    (void)state;
    for (int lay = 0; lay < 2; ++lay) {
        tu_spec spec = {.n = N, .d = D, .layout = lay ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                        .a_scale = 1.0, .with_w = true, .w_scale = 0.1,
                        .seed = 11 + (uint64_t)lay};
        tu_problem tp;
        tu_problem_make(&tp, &spec);
        tu_rng r;
        tu_seed(&r, 12);
        double x[D];
        for (int j = 0; j < D; ++j)
            x[j] = 0.5 * tu_normal(&r);
        int64_t cnt = 9000, *rows = malloc(sizeof(int64_t) * cnt);
        double *wt = malloc(sizeof(double) * cnt);
        assert_non_null(rows);
        assert_non_null(wt);
        for (int64_t k = 0; k < cnt; ++k) {
            rows[k] = (int64_t)(tu_uniform(&r) * N);
            wt[k] = 3.0 * tu_uniform(&r) - 1.0; /* both signs */
        }
        double H[4][D * D], Hs[4][D * D];
        int counts[4] = {1, 2, 2, 3};
        for (int run = 0; run < 4; ++run) {
            int old = smr_k_set_threads(counts[run]);
            smr_ws ws;
            assert_int_equal(smr_ws_init(&ws, &tp.p, true), SMR_OK);
            ws.nb = 512; /* many blocks, so that every thread has some */
            assert_int_equal(smr_obj_forward(&tp.p, x, &ws), SMR_OK);
            double kappa = smr_obj_hessian_parts(&tp.p, &ws);
            assert_int_equal(smr_obj_hessian_assemble(&tp.p, &ws, kappa, NULL, NULL, 0, 0.0, H[run], D), SMR_OK);
            assert_int_equal(smr_obj_hessian_assemble(&tp.p, &ws, kappa, rows, wt, cnt, 0.0, Hs[run], D), SMR_OK);
            assert_int_equal(openblas_get_num_threads(), counts[run]);
            smr_ws_free(&ws);
            smr_k_set_threads(old);
        }
        for (int run = 1; run < 4; ++run) {
            TU_CHECK(rel(D * D, H[run], H[0]) <= 1e-12, "layout %d, run %d: H %.3g", lay, run,
                     rel(D * D, H[run], H[0]));
            TU_CHECK(rel(D * D, Hs[run], Hs[0]) <= 1e-12, "layout %d, run %d: sampled H", lay, run);
        }
        assert_memory_equal(H[1], H[2], sizeof H[1]);
        assert_memory_equal(Hs[1], Hs[2], sizeof Hs[1]);
        /* and the one-thread Hessian is the derivative of the gradient */
        double Hfd[D * D];
        tu_fd_hessian(&tp.p, x, 1e-4, Hfd);
        TU_CHECK(rel(D * D, H[2], Hfd) <= 1e-6, "layout %d: threaded H vs FD %.3g", lay,
                 rel(D * D, H[2], Hfd));
        free(rows);
        free(wt);
        tu_problem_free(&tp);
    }
}

/* d <= 16: the register kernel forms [p q] = A^T [f v] in the assembly's
 * pass, each thread into its own part, added in order (hessian.c) */
#define DS 13
static void test_hessian_small_threads(void **state)
{
    (void)state;
    for (int lay = 0; lay < 2; ++lay) {
        tu_spec spec = {.n = N, .d = DS, .layout = lay ? SMR_COL_MAJOR : SMR_ROW_MAJOR,
                        .lda_pad = 2, .a_scale = 1.0, .with_w = true, .w_scale = 0.1,
                        .seed = 41 + (uint64_t)lay};
        tu_problem tp;
        tu_problem_make(&tp, &spec);
        tu_rng r;
        tu_seed(&r, 42);
        double x[DS], H[4][DS * DS], pq[4][2 * DS];
        for (int j = 0; j < DS; ++j)
            x[j] = 0.5 * tu_normal(&r);
        int counts[4] = {1, 2, 2, 3};
        for (int run = 0; run < 4; ++run) {
            int old = smr_k_set_threads(counts[run]);
            smr_ws ws;
            assert_int_equal(smr_ws_init(&ws, &tp.p, true), SMR_OK);
            ws.nb = 512;
            assert_int_equal(smr_obj_forward(&tp.p, x, &ws), SMR_OK);
            assert_int_equal(smr_obj_hessian(&tp.p, &ws, 0.0, H[run], DS), SMR_OK);
            memcpy(pq[run], ws.dk, sizeof pq[run]);
            if (run == 0) { /* p, q against the separate product A^T [f v] */
                double ref[2 * DS];
                smr_k_mul_t(&ws.A, 2, ws.nk, tp.p.n, ref, DS);
                TU_CHECK(rel(2 * DS, pq[0], ref) <= 1e-12, "layout %d: [p q] %.3g", lay,
                         rel(2 * DS, pq[0], ref));
            }
            smr_ws_free(&ws);
            smr_k_set_threads(old);
        }
        for (int run = 1; run < 4; ++run) {
            TU_CHECK(rel(DS * DS, H[run], H[0]) <= 1e-12, "layout %d, run %d: H %.3g", lay, run,
                     rel(DS * DS, H[run], H[0]));
            TU_CHECK(rel(2 * DS, pq[run], pq[0]) <= 1e-12, "layout %d, run %d: [p q]", lay, run);
        }
        assert_memory_equal(H[1], H[2], sizeof H[1]);
        assert_memory_equal(pq[1], pq[2], sizeof pq[1]);
        double Hfd[DS * DS];
        tu_fd_hessian(&tp.p, x, 1e-4, Hfd);
        TU_CHECK(rel(DS * DS, H[2], Hfd) <= 1e-6, "layout %d: threaded H vs FD %.3g", lay,
                 rel(DS * DS, H[2], Hfd));
        tu_problem_free(&tp);
    }
}

/*
 * The pool (src/kernels/parallel.c): one caller at a time uses its
 * workers, a concurrent caller starts threads of its own.  Two program
 * threads computing C = A^T (A X) at once, many times, on 2 threads each
 * (after a 3-thread call grew the pool beyond what they use), must get the
 * bits of the same product computed alone.
 */
typedef struct {
    const smr_problem *p;
    const double *X, *Cref;
    int mismatches;
} caller_arg;

static void *caller(void *v)
{
    caller_arg *a = v;
    double *Z = malloc(sizeof(double) * N * K), C[D * K];
    smr_mat A = smr_problem_mat(a->p);
    for (int rep = 0; rep < 20 && Z; ++rep) {
        smr_k_mul(&A, K, a->X, D, Z, a->p->n);
        smr_k_mul_t(&A, K, Z, a->p->n, C, D);
        a->mismatches += memcmp(C, a->Cref, sizeof C) != 0;
    }
    if (!Z)
        a->mismatches = -1;
    free(Z);
    return NULL;
}

static void test_concurrent_callers(void **state)
{
    (void)state;
    tu_spec spec = {.n = N, .d = D, .layout = SMR_ROW_MAJOR, .a_scale = 1.0, .seed = 21};
    tu_problem tp;
    tu_problem_make(&tp, &spec);
    tu_rng r;
    tu_seed(&r, 22);
    double X[D * K], Cref[D * K], C3[D * K], c1[D];
    for (int q = 0; q < D * K; ++q)
        X[q] = tu_normal(&r);
    double *Z = malloc(sizeof(double) * N * K), *z1 = malloc(sizeof(double) * N);
    assert_non_null(Z);
    assert_non_null(z1);
    products(&tp.p, 3, X, Z, C3, z1, c1); /* three parts: the pool has 2 workers */
    products(&tp.p, 2, X, Z, Cref, z1, c1);
    int old = smr_k_set_threads(2);
    caller_arg a[2] = {{&tp.p, X, Cref, 0}, {&tp.p, X, Cref, 0}};
    pthread_t th[2];
    for (int t = 0; t < 2; ++t)
        assert_int_equal(pthread_create(&th[t], NULL, caller, &a[t]), 0);
    for (int t = 0; t < 2; ++t)
        pthread_join(th[t], NULL);
    smr_k_set_threads(old);
    for (int t = 0; t < 2; ++t)
        TU_CHECK(a[t].mismatches == 0, "caller %d: %d of 20 products differ from the lone one",
                 t, a[t].mismatches);
    free(Z);
    free(z1);
    tu_problem_free(&tp);
}

/* The pool's own protocol (kernels/parallel.c): each part of each call runs
 * exactly once, in the call, whichever way the call finds the workers --
 * spinning on the call word (calls back to back), asleep (calls more than
 * the spin's 50 us apart) -- and whichever way the caller waits (a part
 * longer than the spin: the caller sleeps until the last part signals),
 * with part counts that change from call to call, so that a worker is left
 * out of some calls and must not take part in them. */
#define POOL_CALLS 3000
typedef struct {
    int T;
    _Atomic int ran[8];
    _Atomic int wrong_T;
    double busy; /* seconds part 1 takes */
} pool_call;

static void pool_part(void *v, int t, int T)
{
    pool_call *c = v;
    if (T != c->T || t < 0 || t >= 8)
        atomic_fetch_add(&c->wrong_T, 1);
    else
        atomic_fetch_add(&c->ran[t], 1);
    if (t == 1 && c->busy > 0) {
        double t0 = smr_k_now();
        while (smr_k_now() - t0 < c->busy)
            ;
    }
}

static void test_pool_calls(void **state)
{
    (void)state;
    static pool_call calls[POOL_CALLS];
    const int Ts[] = {2, 3, 4, 1, 2, 4, 3, 2};
    int bad_now = 0;
    for (int k = 0; k < POOL_CALLS; ++k) {
        pool_call *c = &calls[k];
        c->T = Ts[k % 8];
        c->busy = k % 50 == 7 ? 2e-4 : 0.0;
        if (k % 10 == 5) { /* let the workers fall asleep */
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        smr_k_parallel(c->T, pool_part, c);
        for (int t = 0; t < 8; ++t)
            bad_now += atomic_load(&c->ran[t]) != (t < c->T);
        bad_now += atomic_load(&c->wrong_T) != 0;
    }
    /* and no part of an earlier call ran late */
    int bad_after = 0;
    for (int k = 0; k < POOL_CALLS; ++k)
        for (int t = 0; t < 8; ++t)
            bad_after += atomic_load(&calls[k].ran[t]) != (t < calls[k].T);
    TU_CHECK(bad_now == 0 && bad_after == 0,
             "%d part counts wrong at the calls' return, %d at the end", bad_now, bad_after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_products),
        cmocka_unit_test(test_hessian_threads),
        cmocka_unit_test(test_hessian_small_threads),
        cmocka_unit_test(test_concurrent_callers),
        cmocka_unit_test(test_pool_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
