/*
 * system.c -- a monotonic clock.  (The thread count, the other thing the
 * library asks of its environment, lives with the threads in parallel.c.)
 */
#define _POSIX_C_SOURCE 199309L
#include "kernels.h"

#include <time.h>

double smr_k_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
