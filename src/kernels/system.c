/*
 * system.c -- the two things the library asks of its environment: a
 * monotonic clock, and the thread count.  The count is kept where OpenBLAS
 * keeps its own (openblas_set_num_threads): it is the one number both the
 * library's threads (parallel.c) and OpenBLAS read, so the threads option
 * sets both; the library runs OpenBLAS at one thread inside its own parts.
 */
#define _POSIX_C_SOURCE 199309L
#include "kernels.h"

#include <cblas.h>
#include <time.h>

double smr_k_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int smr_k_set_threads(int threads)
{
    int old = openblas_get_num_threads();
    if (threads > 0)
        openblas_set_num_threads(threads);
    return old;
}
